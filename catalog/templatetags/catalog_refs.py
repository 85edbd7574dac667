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
