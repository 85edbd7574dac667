"""Template filters for entity refs."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from catalog.models.entities import entity_path

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


@register.simple_tag
def entity_url(entity, view: str = "entity", *args) -> str:
    """``{% entity_url entity "entity_tab" "graph" %}``: the path of one of the entity's views (see
    ``entity_path``), "" when the entity cannot have one."""
    return entity_path(entity.namespace, entity.kind, entity.name, view, *args)


@register.filter
def entity_link(entity) -> str:
    """A link to the entity's page with its display name, or the name as text when it cannot have a page."""
    url = entity.get_absolute_url()
    if url:
        return format_html('<a href="{}">{}</a>', url, entity.display_name)
    return format_html('<span title="{} has no page">{}</span>', entity.ref, entity.display_name)
