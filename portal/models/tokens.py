"""API tokens: random secrets shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from portal import clock

TOKEN_PREFIX = "cb_"  # noqa: S105 - a prefix, not a secret


class TokenScope(models.TextChoices):
    CATALOG_READ = "catalog:read", "Read the catalog"
    CATALOG_WRITE = "catalog:write", "Register, refresh and unregister"
    SCAFFOLDER_RUN = "scaffolder:run", "Run software templates"
    TECHDOCS_WRITE = "techdocs:write", "Publish docs"
    SCORECARDS_WRITE = "scorecards:write", "Write scorecard results"
    ADMIN = "admin", "Everything the user may do"


def digest(raw_token: str) -> str:
    """The stored form of a token. Tokens are 256-bit random, so an unsalted hash is enough."""
    return hashlib.sha256(raw_token.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the REST API, acting as its user, limited to its scopes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text="First characters, to recognise it.")
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.hint}… ({self.user})"

    @classmethod
    def issue(
        cls,
        user,
        *,
        name: str = "",
        scopes: list[str] | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[ApiToken, str]:
        """Create a token; returns the row and the raw secret, which is never stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            key_digest=digest(raw),
            hint=raw[:10],
            scopes=list(scopes if scopes is not None else [TokenScope.ADMIN]),
            expires_at=expires_at,
        )
        return token, raw

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > clock.now()

    def has_scope(self, scope: str) -> bool:
        return TokenScope.ADMIN in self.scopes or scope in self.scopes

    def revoke(self) -> bool:
        """Revoke the token (saved, so the audit log sees it); False when it already was."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
        return True

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.is_active else "expired"


class ServiceAccount(models.Model):
    """Marks a user as a non-human account (CI jobs, bots) that signs in only with API tokens.

    Admins create service accounts in the Django admin; the user gets no usable password. People with the
    ``portal.manage_service_tokens`` permission issue and revoke their tokens on the API tokens page.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_account")
    description = models.TextField(blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        permissions = [("manage_service_tokens", "Can issue and revoke service-account tokens")]

    def __str__(self) -> str:
        return f"{self.user.get_username()} (service account)"
