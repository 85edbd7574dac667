"""Day two: which entities each template created, from which version of it, and which are behind.

Every ``entityRef`` a step outputs (``catalog:register`` and plugin actions alike) is recorded as a
``CreatedEntity`` with the task's template ref, version and values (secret fields were never stored).
Entities created elsewhere (Backstage, or before Callboard) count too when their descriptor carries
``backstage.io/source-template`` (``catalog:write`` writes it, with ``callboard.dev/template-version``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from catalog import permissions
from catalog.models import Entity, SearchRow
from scaffolder.models import CreatedEntity, Task

SOURCE_TEMPLATE = "backstage.io/source-template"
TEMPLATE_VERSION = "callboard.dev/template-version"
UNKNOWN = ""  # the version of an annotated entity without a version annotation


def task_version(task: Task) -> str:
    return task.template_version or task.template_etag


def current_version(template: Entity) -> str:
    """The version a task started now would record (see ``service.create_task``)."""
    return (template.location.version if template.location_id else "") or template.etag


def record(task: Task, entity_refs: Iterable[Any]) -> int:
    """Record the entities a step of ``task`` reported creating; returns how many were new."""
    refs = sorted({str(r).lower() for r in entity_refs if isinstance(r, str) and r})
    new = 0
    for ref in refs:
        _, created = CreatedEntity.objects.get_or_create(
            task=task, entity_ref=ref,
            defaults={"template_ref": task.template_ref, "template_version": task_version(task),
                      "template_etag": task.template_etag, "values": task.values},
        )  # fmt: skip
        new += created
    return new


def refs_in(outputs: dict[str, Any]) -> list[str]:
    """The ``entityRef`` outputs of one step (a list of them for ``each`` steps)."""
    value = outputs.get("entityRef")
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def template_census(template: Entity, user=None) -> list[dict[str, Any]]:
    """``[{version, count, behind, latest, entities: [...]}]``, newest version first.

    ``behind`` is true for every version but the template's current one. With ``user``, only entities the
    person may read are listed and counted."""
    latest = current_version(template)
    rows = list(CreatedEntity.objects.filter(template_ref=template.ref).select_related("task"))
    recorded = {row.entity_ref for row in rows}
    annotated = Entity.objects.filter(
        pk__in=SearchRow.objects.filter(key=f"metadata.annotations.{SOURCE_TEMPLATE}", value=template.ref.lower())
        .values("entity_id")
    ).exclude(ref__in=recorded)  # fmt: skip
    entities = Entity.objects.filter(ref__in=recorded)
    if user is not None:
        entities, annotated = permissions.readable(entities, user), permissions.readable(annotated, user)
    known = {e.ref: e for e in entities}
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:  # newest first
        entity = known.get(row.entity_ref)
        if user is not None and entity is None:
            continue  # gone from the catalog, or not readable: only who may see it learns it existed
        groups.setdefault(row.template_version, []).append(_item(row.entity_ref, entity, row))
    for entity in annotated:
        version = str((entity.body.get("metadata", {}).get("annotations") or {}).get(TEMPLATE_VERSION) or UNKNOWN)
        groups.setdefault(version, []).append(_item(entity.ref, entity, None))
    census = [
        {"version": version, "count": len(items), "latest": version == latest,
         "behind": version != latest, "entities": items}
        for version, items in groups.items()
    ]  # fmt: skip
    census.sort(key=lambda group: (not group["latest"], _newest(group)))
    return census


def _item(ref: str, entity: Entity | None, row: CreatedEntity | None) -> dict[str, Any]:
    metadata = entity.body.get("metadata", {}) if entity else {}
    return {
        "ref": ref,
        "url": entity.get_absolute_url() if entity else "",
        "title": metadata.get("title") or metadata.get("name") or ref.partition("/")[2],
        "owner": entity.owner_ref if entity else "",
        "inCatalog": entity is not None,
        "taskId": str(row.task_id) if row else None,
        "createdBy": row.task.created_by_ref if row else "",
        "createdAt": row.created_at if row else None,
        "values": row.values if row else {},
    }


def _newest(group: dict[str, Any]) -> float:
    """Sort key: versions whose newest entity is newer come first (negated timestamp)."""
    stamps = [item["createdAt"].timestamp() for item in group["entities"] if item["createdAt"]]
    return -max(stamps) if stamps else 0.0
