"""Entities in Backstage's JSON shape (spec section 7.2), built in bulk without N+1 queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from catalog.models import Entity, EntityOverride, ProcessingError, Relation

ORPHAN_ANNOTATION = "backstage.io/orphan"


def entities_to_backstage(entities: Iterable[Entity], *, with_relations: bool = True) -> list[dict]:
    """Shape many entities with three queries in all (relations, errors, overrides)."""
    entities = list(entities)
    refs = [e.ref for e in entities]
    relations: dict[str, set[tuple[str, str]]] = defaultdict(set)
    if with_relations and refs:
        rows = Relation.objects.filter(source_ref__in=refs).values_list("source_ref", "type", "target_ref")
        for source, relation_type, target in rows:
            relations[source].add((relation_type, target))
    errors: dict[int, list[dict]] = defaultdict(list)
    with_errors = [e.id for e in entities if e.error_count]
    if with_errors:
        for error in ProcessingError.objects.filter(entity_id__in=with_errors):
            errors[error.entity_id].append(error.as_status_item())
    overrides = {o.entity_ref: o.as_dict() for o in EntityOverride.objects.filter(entity_ref__in=refs)} if refs else {}
    return [
        _shape(entity, relations.get(entity.ref, set()), errors.get(entity.id, []), overrides.get(entity.ref))
        for entity in entities
    ]


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
