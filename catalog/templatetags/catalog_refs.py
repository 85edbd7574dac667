"""Template filters for entity refs."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def short_ref(ref: str) -> str:
    """``group:default/team-a`` → ``team-a``; other namespaces keep theirs (Backstage's humanised form)."""
    if not ref:
        return ""
    _, _, rest = ref.partition(":")
    namespace, _, name = rest.partition("/")
    return name if namespace == "default" else rest


SAFE_SCHEMES = ("http://", "https://", "mailto:")


@register.filter
def safe_url(url) -> str:
    """Only http(s) and mailto links become hrefs: descriptors may carry ``javascript:`` URLs."""
    text = str(url or "").strip()
    return text if text.lower().startswith(SAFE_SCHEMES) else "#unsafe-link-removed"
