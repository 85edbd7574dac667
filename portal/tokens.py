"""Who may see, issue and revoke which API tokens: your own, plus service accounts' with the permission."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from portal.models import ApiToken

MANAGE_SERVICE_TOKENS = "portal.manage_service_tokens"

# (form value, label, days); None days means no expiry.
EXPIRY_CHOICES: list[tuple[str, str, int | None]] = [
    ("7", "7 days", 7),
    ("30", "30 days", 30),
    ("90", "90 days", 90),
    ("365", "1 year", 365),
    ("never", "No expiry", None),
]
DEFAULT_EXPIRY = "30"


def expiry_from_choice(choice: str) -> datetime | None:
    days = {value: days for value, _, days in EXPIRY_CHOICES}[choice]
    return None if days is None else timezone.now() + timedelta(days=days)


def manages_service_accounts(user) -> bool:
    return user.has_perm(MANAGE_SERVICE_TOKENS)


def token_owners(user) -> QuerySet:
    """Users whose tokens ``user`` may issue and revoke: themselves, and service accounts with the permission."""
    users = get_user_model().objects.filter(pk=user.pk)
    if manages_service_accounts(user):
        users = users | get_user_model().objects.filter(service_account__isnull=False)
    return users.order_by("username")


def visible_tokens(user) -> QuerySet:
    """The tokens on ``user``'s API tokens page, with their owner in the same query."""
    return ApiToken.objects.filter(user__in=token_owners(user)).select_related("user", "user__service_account")


def may_manage(user, token: ApiToken) -> bool:
    return token.user_id == user.pk or (manages_service_accounts(user) and hasattr(token.user, "service_account"))
