"""`Authorization: Bearer <token>` for the REST API.

Tokens are looked up in this process's memory until any token changes (``TOKENS`` is bumped on every
save or delete of a token), and their users likewise (``remembered_user``), so a request with a known
token spends no query on authentication. Revocation and expiry are checked on every request; another
process sees a revocation within the version counter's half second, as it sees a deactivated user.
"""

from __future__ import annotations

import copy
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from portal.auth.backends import remembered_user
from portal.bookkeeping import best_effort
from portal.models import ApiToken
from portal.models.tokens import digest
from portal.versions import VersionCounter

TOKENS = VersionCounter("auth:tokens")

# last_used_at is written at most this often per token, so reads do not turn into writes; and never waited
# for: while another process writes (a refresh on SQLite), it is skipped until a request gets in.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Token contains invalid characters.") from exc
        key_digest = digest(raw)
        known = TOKENS.recent("tokens", key_digest, lambda: ApiToken.objects.filter(key_digest=key_digest).first())
        user = remembered_user(known.user_id) if known is not None and known.is_active else None
        if user is None:  # unknown, revoked or expired token, or an inactive or deleted user
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        now = timezone.now()
        if known.last_used_at is None or now - known.last_used_at > LAST_USED_RESOLUTION:
            # No signal: the memory stays.
            used = lambda: ApiToken.objects.filter(pk=known.pk).update(last_used_at=now)  # noqa: E731
            if best_effort(used, "a token's last use", atomic=False) is not None:
                known.last_used_at = now
        token = copy.copy(known)
        token.user = user
        return user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
