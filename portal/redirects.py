"""One rule for ``next=`` and other return URLs: only paths on this site, never another host or scheme."""

from __future__ import annotations

from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme


def is_safe_url(url: str, request) -> bool:
    """True for same-site URLs only. Rejects ``https://evil.example``, ``//evil.example``, ``/\\evil.example``,
    ``javascript:`` and anything with control characters."""
    if not url or any(ord(ch) < 32 for ch in url):
        return False
    return url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure() or settings.HTTPS
    )


def safe_next(request, default: str = "/") -> str:
    """The request's ``next`` (POST, then GET) when it is safe, otherwise ``default``."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    return url if is_safe_url(url, request) else default
