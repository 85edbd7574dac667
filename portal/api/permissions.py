"""Default API permission: logged in (or anonymous read when enabled), and token scopes honoured."""

from __future__ import annotations

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission

from portal.models import ApiToken


class PortalAccess(BasePermission):
    """Authenticated users may use the API; tokens only within their scopes.

    Views name the scopes they need with ``scope_read`` and ``scope_write`` (e.g. ``catalog:read``), and
    ``post_reads = True`` where POST only reads.
    """

    message = "Authentication credentials were not provided or lack the scope this endpoint needs."

    def has_permission(self, request, view) -> bool:
        # A view whose POST only reads (a query in a body, as Backstage's by-refs and by-query) says so.
        safe = request.method in SAFE_METHODS or (request.method == "POST" and getattr(view, "post_reads", False))
        if not (request.user and request.user.is_authenticated):
            return bool(safe and settings.ANONYMOUS_READ and getattr(view, "allow_anonymous_read", True))
        if isinstance(request.auth, ApiToken):
            scope = getattr(view, "scope_read" if safe else "scope_write", None)
            if scope and not request.auth.has_scope(scope):
                self.message = f"This token lacks the '{scope}' scope."
                return False
        return True
