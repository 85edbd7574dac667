"""Template context for the sign-in pages: which ways in are open."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.conf import settings


def sign_in_options(request) -> dict:
    if not request.path_info.startswith("/accounts/"):
        return {}
    return {
        "local_login": settings.LOCAL_LOGIN,
        "break_glass_requested": bool(
            not settings.LOCAL_LOGIN and settings.BREAK_GLASS_LOGIN and "break-glass" in request.GET
        ),
        "signup_open": get_adapter(request).is_open_for_signup(request),
    }
