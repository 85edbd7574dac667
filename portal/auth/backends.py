"""Password authentication that obeys CALLBOARD_LOCAL_LOGIN (with a break-glass for superusers).

Only ``authenticate`` (checking a password) is restricted: sessions created by SSO keep working, since
``get_user`` is untouched.
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend


def password_login_allowed(user) -> bool:
    """Local accounts on: everyone. Off: only superusers, and only while break-glass is on."""
    if settings.LOCAL_LOGIN:
        return True
    return bool(settings.BREAK_GLASS_LOGIN and user.is_superuser)


class LocalLoginSwitch:
    """Refuses a password check's user unless ``password_login_allowed``."""

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        return user if user is not None and password_login_allowed(user) else None


class PasswordBackend(LocalLoginSwitch, ModelBackend):
    """Django's username/password backend (the admin's login form uses it)."""


class AllauthPasswordBackend(LocalLoginSwitch, AuthenticationBackend):
    """allauth's backend (username or email plus password) for the portal's login page."""
