"""Entities in Backstage's JSON shape (spec section 7.2), built in bulk without N+1 queries."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable

from catalog.cache import per_version
from catalog.models import Entity, EntityOverride, ProcessingError, Relation

ORPHAN_ANNOTATION = "backstage.io/orphan"

#: The columns shaping reads, plus the small ones permission checks use; lists load ``only()`` these.
SHAPE_FIELDS = ("id", "uid", "ref", "kind", "namespace", "name", "api_version", "spec_type", "lifecycle",
                "owner_ref", "body", "etag", "generation", "error_count", "orphaned_at", "location_id")  # fmt: skip


def for_shaping(queryset):
    """Only the columns shaping reads, with each entity's relations brought along in the same query."""
    return queryset.only(*SHAPE_FIELDS).with_relations_json()


def entities_to_backstage(entities: Iterable[Entity], *, with_relations: bool = True) -> list[dict]:
    """Shape many entities with at most two queries in all (relations, errors); overrides come cached.

    Entities annotated by ``with_relations_json()`` bring their relations along and cost no query.
    """
    entities = list(entities)
    refs = [e.ref for e in entities]
    relations: dict[str, set[tuple[str, str]]] = defaultdict(set)
    if with_relations and refs:
        missing = []
        for entity in entities:
            if hasattr(entity, "relations_json"):
                relations[entity.ref] = {tuple(pair) for pair in _json_pairs(entity.relations_json)}
            else:
                missing.append(entity.ref)
        if missing:
            rows = Relation.objects.filter(source_ref__in=missing).values_list("source_ref", "type", "target_ref")
            for source, relation_type, target in rows:
                relations[source].add((relation_type, target))
    errors: dict[int, list[dict]] = defaultdict(list)
    with_errors = [e.id for e in entities if e.error_count]
    if with_errors:
        for error in ProcessingError.objects.filter(entity_id__in=with_errors):
            errors[error.entity_id].append(error.as_status_item())
    overrides = override_map() if refs else {}
    return [
        _shape(entity, relations.get(entity.ref, set()), errors.get(entity.id, []), overrides.get(entity.ref))
        for entity in entities
    ]


def override_map() -> dict[str, dict]:
    """Every governance override by entity ref; few rows, cached until the catalog (or an override) changes."""
    return per_version("catalog:overrides", lambda: {o.entity_ref: o.as_dict() for o in EntityOverride.objects.all()})


def _json_pairs(value) -> list:
    if not value:
        return []
    return json.loads(value) if isinstance(value, str | bytes) else value


def entity_to_backstage(entity: Entity) -> dict:
    return entities_to_backstage([entity])[0]


def _shape(entity: Entity, relations, status_items: list[dict], override: dict | None) -> dict:
    body = entity.body or {}
    metadata = dict(body.get("metadata") or {})
    metadata["uid"] = str(entity.uid)
    metadata["etag"] = entity.etag
    metadata["generation"] = entity.generation
    if entity.orphaned_at is not None:
        metadata["annotations"] = {**(metadata.get("annotations") or {}), ORPHAN_ANNOTATION: "true"}
    shaped = {"apiVersion": body.get("apiVersion", entity.api_version), "kind": body.get("kind", entity.kind),
              "metadata": metadata}  # fmt: skip
    if "spec" in body:
        shaped["spec"] = body["spec"]
    shaped["relations"] = [{"type": t, "targetRef": target} for t, target in sorted(relations)]
    if status_items:
        shaped["status"] = {"items": status_items}
    if override:
        shaped["overrides"] = override
    return shaped
