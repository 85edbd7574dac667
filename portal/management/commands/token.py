"""`manage.py token create USERNAME` prints a new API token (only the token) on stdout."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portal.models import ApiToken, TokenScope


def parse_expiry(value: str | None):
    """``30d``, ``12h`` or an ISO timestamp; None for no expiry."""
    if not value:
        return None
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if value[-1] in units and value[:-1].isdigit():
        return timezone.now() + timedelta(**{units[value[-1]]: int(value[:-1])})
    moment = parse_datetime(value)
    if moment is None:
        raise CommandError(f"--expires must look like 30d, 12h or an ISO timestamp, not {value!r}")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it (only the token).")
        create.add_argument("username")
        create.add_argument("--name", default="")
        create.add_argument(
            "--scopes",
            default=TokenScope.ADMIN.value,
            help=f"Comma-separated: {', '.join(TokenScope.values)} (default: admin)",
        )
        create.add_argument("--expires", help="e.g. 30d, 12h, or an ISO timestamp")
        listing = sub.add_parser("list", help="List a user's tokens (never the secrets).")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="Revoke a token by the hint shown in `list`.")
        revoke.add_argument("hint")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _user(self, username: str):
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}") from exc

    def _create(self, username: str, name: str, scopes: str, expires: str | None, **_):
        wanted = [s.strip() for s in scopes.split(",") if s.strip()]
        unknown = sorted(set(wanted) - set(TokenScope.values))
        if unknown:
            raise CommandError(f"Unknown scope(s): {', '.join(unknown)}")
        _, raw = ApiToken.issue(self._user(username), name=name, scopes=wanted, expires_at=parse_expiry(expires))
        self.stdout.write(raw)

    def _list(self, username: str, **_):
        for token in ApiToken.objects.filter(user=self._user(username)):
            state = "active" if token.is_active else "inactive"
            self.stdout.write(f"{token.hint}…\t{state}\t{','.join(token.scopes)}\t{token.name}")

    def _revoke(self, hint: str, **_):
        matching = ApiToken.objects.filter(hint__startswith=hint[:10], revoked_at__isnull=True)
        updated = sum(token.revoke() for token in matching)  # one save each, so the audit log sees them
        if not updated:
            raise CommandError(f"No active token starts with {hint!r}")
        self.stdout.write(f"Revoked {updated} token(s).")
