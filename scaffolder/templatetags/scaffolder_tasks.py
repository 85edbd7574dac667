"""Template filters for the task pages."""

from __future__ import annotations

import markdown
import nh3
from django import template
from django.utils.safestring import mark_safe

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


# An output text's content is Markdown, as Backstage renders it; cleaned to these tags (no script, no style).
TEXT_TAGS = {"p", "br", "strong", "em", "code", "pre", "a", "ul", "ol", "li", "blockquote", "h3", "h4", "h5", "h6",
             "table", "thead", "tbody", "tr", "th", "td", "hr"}  # fmt: skip


@register.filter
def output_markdown(text) -> str:
    """A task output text's Markdown as cleaned HTML (links open outside, http(s) and mailto only)."""
    html = markdown.markdown(str(text or ""), extensions=["fenced_code", "tables"], output_format="html")
    cleaned = nh3.clean(html, tags=TEXT_TAGS, attributes={"a": {"href", "title"}},
                        url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")  # fmt: skip
    return mark_safe(cleaned)  # noqa: S308 (cleaned by nh3 to the tags above)
