"""Template filters for the task pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def took(started, finished) -> str:
    """How long from ``started`` to ``finished``: ``420 ms``, ``3.2 s``, ``2 min 5 s``."""
    if not started or not finished:
        return ""
    seconds = max((finished - started).total_seconds(), 0)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s"
