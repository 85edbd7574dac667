"""Password authentication that obeys CALLBOARD_LOCAL_LOGIN (with a break-glass for superusers).

Only ``authenticate`` (checking a password) is restricted: sessions created by SSO keep working, since
``get_user`` does not ask about passwords. ``get_user`` (run on every request with a session) answers
from this process's memory until any user changes (``USERS`` is bumped on every save or delete of a
user, their groups or their permissions), so a signed-in request spends no query on it.
"""

from __future__ import annotations

import copy

from allauth.account.auth_backends import AuthenticationBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from portal.versions import VersionCounter

USERS = VersionCounter("auth:users")


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


def remembered_user(user_id):
    """The active user with this id, or None: from memory until any user changes.

    Each call gets its own copy, so nothing a request caches on it leaks to the next.
    """
    user = USERS.recent("users", str(user_id), lambda: ModelBackend().get_user(user_id))
    return copy.copy(user) if user is not None else None


class RememberedUsers:
    """``get_user`` from memory (``remembered_user``)."""

    def get_user(self, user_id):
        return remembered_user(user_id)


class PasswordBackend(RememberedUsers, LocalLoginSwitch, ModelBackend):
    """Django's username/password backend (the admin's login form uses it)."""


class AllauthPasswordBackend(RememberedUsers, LocalLoginSwitch, AuthenticationBackend):
    """allauth's backend (username or email plus password) for the portal's login page."""
