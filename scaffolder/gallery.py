"""The template gallery and the template page: which templates a person sees, their filters, their runs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max
from django.http import QueryDict

from catalog import permissions
from catalog.ingestion.refs import RefError, parse_ref
from catalog.models import Entity
from catalog.models.entities import entity_path
from scaffolder import forms, service, sources
from scaffolder.models import Task

FILTERS = (("type", "Type"), ("tag", "Tags"), ("owner", "Owner"))


@dataclass
class Gallery:
    templates: list[Entity]
    total: int
    facets: list[dict[str, Any]]
    q: str
    chosen: dict[str, str]


def readable_templates(user):
    return permissions.readable(Entity.objects.filter(kind__iexact="template"), user)


def _facet_values(entity: Entity, param: str) -> list[str]:
    if param == "type":
        return [entity.spec_type] if entity.spec_type else []
    if param == "owner":
        return [entity.owner_ref] if entity.owner_ref else []
    return [t for t in entity.tags or [] if isinstance(t, str)]


def _matches_text(entity: Entity, q: str) -> bool:
    words = q.lower().split()
    text = " ".join([entity.name, entity.title, entity.description, entity.spec_type, *map(str, entity.tags or [])])
    return all(word in text.lower() for word in words)


def gallery(user, params: QueryDict) -> Gallery:
    """Readable templates filtered by ``q`` (words in name, title, description, type, tags), ``type``,
    ``tag`` and ``owner``; facet counts are over the templates the other filters leave. Each template's
    ``may_run`` says whether the person may run it (one query for all)."""
    rows = list(readable_templates(user).only(
        "id", "ref", "kind", "namespace", "name", "title", "description", "spec_type", "owner_ref", "tags"
    ).order_by("title", "name"))  # fmt: skip
    q = params.get("q", "").strip()
    chosen = {param: params.get(param, "").strip() for param, _ in FILTERS if params.get(param, "").strip()}

    def keep(entity: Entity, skip: str = "") -> bool:
        if q and not _matches_text(entity, q):
            return False
        return all(value.lower() in [v.lower() for v in _facet_values(entity, param)]
                   for param, value in chosen.items() if param != skip)  # fmt: skip

    facets = []
    for param, label in FILTERS:
        counts = Counter(v for e in rows if keep(e, skip=param) for v in _facet_values(e, param))
        items = []
        for value, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:30]:
            query = params.copy()
            on = chosen.get(param, "").lower() == value.lower()
            query[param] = "" if on else value
            items.append({"value": value, "count": count, "on": on, "query": query.urlencode()})
        facets.append({"param": param, "label": label, "items": items})
    templates = [e for e in rows if keep(e)]
    runnable = set(permissions.allowed(readable_templates(user), user, permissions.TEMPLATE_RUN).values_list(
        "ref", flat=True))  # fmt: skip
    for entity in templates:
        entity.owner_url = owner_link(entity.owner_ref)
        entity.may_run = entity.ref in runnable
    return Gallery(templates, len(rows), facets, q, chosen)


def owner_link(owner_ref: str) -> str:
    """The owner's entity page (Backstage's default kind for a template owner is Group)."""
    try:
        ref = parse_ref(owner_ref, default_kind="group")
    except RefError:
        return ""
    return entity_path(ref.namespace, ref.kind, ref.name)


def run_stats(entity: Entity) -> dict[str, Any]:
    """How often the template ran: its task count and the last run's time."""
    return Task.objects.filter(template_ref=entity.ref).aggregate(count=Count("id"), last=Max("created_at"))


def parameter_summary(entity: Entity) -> list[dict[str, Any]]:
    """Per parameter page: title, description and each top-level field's title, description, required."""
    spec = sources.ordered_spec(entity)
    pages = []
    for number, page in enumerate(service.parameter_pages(spec), 1):
        properties, required, _ = forms.resolve(page, {})
        fields = [
            {"name": name, "title": str(prop.get("title") or name), "description": str(prop.get("description") or ""),
             "required": name in required, "kind": str(prop.get("ui:field") or prop.get("type") or "")}
            for name, prop in properties.items()
        ]  # fmt: skip
        conditional = isinstance(page.get("if"), str)
        pages.append({"number": number, "title": str(page.get("title") or f"Page {number}"),
                      "description": str(page.get("description") or ""), "fields": fields,
                      "conditional": conditional})  # fmt: skip
    return pages
