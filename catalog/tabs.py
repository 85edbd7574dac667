"""The catalog's own entity tabs, registered through the same mechanism plugins use."""

from __future__ import annotations

import json

import yaml

from catalog.graph import DEFAULT_TYPES, build_graph
from catalog.relations_view import RELATION_LABELS, grouped_relations
from plugins.tabs import EntityTab

API_KINDS = ("api",)


def overview(request, entity) -> dict:
    errors = list(entity.errors.all()[:100])
    return {"relation_groups": grouped_relations(entity.ref, request.user), "errors": errors}


def graph(request, entity) -> dict:
    try:
        depth = max(1, min(4, int(request.GET.get("depth", 1))))
    except ValueError:
        depth = 1
    chosen = tuple(t for t in request.GET.getlist("rel") if t in RELATION_LABELS) or DEFAULT_TYPES
    return {
        "graph": build_graph(entity.ref, depth=depth, types=chosen, user=request.user),
        "depth": depth,
        "relation_choices": [(t, RELATION_LABELS[t], t in chosen) for t in RELATION_LABELS],
    }


def api_definition(request, entity) -> dict:
    definition = entity.spec.get("definition")
    text = definition if isinstance(definition, str) else json.dumps(definition, indent=2)
    api_type = str(entity.spec.get("type", "")).lower()
    parsed = None
    if api_type in ("openapi", "asyncapi"):
        try:
            parsed = yaml.safe_load(text) if len(text) < 2_000_000 else None
        except yaml.YAMLError:
            parsed = None
    channels = []
    if api_type == "asyncapi" and isinstance(parsed, dict):
        for name, channel in (parsed.get("channels") or {}).items():
            channel = channel if isinstance(channel, dict) else {}
            operations = [op for op in ("publish", "subscribe", "send", "receive") if op in channel]
            channels.append({"name": name, "operations": operations,
                             "description": channel.get("description", "")})  # fmt: skip
    return {
        "api_type": api_type,
        "definition_text": text,
        "definition_json": json.dumps(parsed) if api_type == "openapi" and isinstance(parsed, dict) else "",
        "channels": channels,
        "asyncapi_info": parsed.get("info", {}) if isinstance(parsed, dict) else {},
    }


def raw(request, entity) -> dict:
    from catalog.shapes import entity_to_backstage

    document = entity_to_backstage(entity)
    return {"raw_yaml": yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)}


def has_definition(entity) -> bool:
    return "definition" in entity.spec


BUILTIN_TABS = [
    EntityTab("overview", "Overview", "catalog/tabs/overview.html", overview, weight=0),
    EntityTab("graph", "Dependencies", "catalog/tabs/graph.html", graph, weight=10),
    EntityTab(
        "definition",
        "Definition",
        "catalog/tabs/definition.html",
        api_definition,
        kinds=API_KINDS,
        weight=20,
        visible=has_definition,
    ),
    EntityTab("raw", "YAML", "catalog/tabs/raw.html", raw, weight=900),
]
