"""Template helpers for the template form."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join

register = template.Library()


@register.filter
def html_attrs(attrs: dict) -> str:
    """``{"required": True, "maxlength": 50}`` → `` required maxlength="50"`` (escaped)."""
    flags = [(name,) for name, value in attrs.items() if value is True]
    pairs = [(name, value) for name, value in attrs.items() if value not in (True, False, None)]
    return format_html_join("", " {}", flags) + format_html_join("", ' {}="{}"', pairs)
