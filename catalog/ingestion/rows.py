"""What the database stores for one processed entity, computed wherever the entity was processed.

Pure (no Django): the parse helper process (:mod:`.offload`) computes these beside parsing, so the
process that writes the database only copies them into rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .envelope import content_hash
from .refs import RefError, parse_ref, ref_problem
from .search import MAX_KEY_LENGTH, MAX_VALUE_LENGTH

URL_ANNOTATIONS = ("backstage.io/view-url", "backstage.io/edit-url")
REJECTED_URL = "https://backstage.io/annotation-rejected-for-security-reasons"


@dataclass(slots=True)
class EntityRow:
    """An entity's stored form: listing columns, the body as JSON text, its search rows and hashes."""

    columns: dict[str, Any]
    body_json: str
    etag: str
    digest: str = ""  # "" for an entity that failed processing (it keeps its last good body)
    search: list[tuple[str, str | None]] = field(default_factory=list)


def apply_annotations(entity: dict, forced: dict[str, str], defaults: dict[str, str]) -> dict[str, str]:
    """Set the location annotations Backstage's catalog sets (spec section 5); returns what changed.

    ``forced`` always win (where the entity was read from); ``defaults`` fill in only what the
    descriptor did not say (source, view and edit URLs). ``javascript:`` view/edit URLs are replaced.
    """
    metadata = entity.setdefault("metadata", {})
    if not isinstance(metadata.get("annotations"), dict):
        metadata["annotations"] = {}
    annotations = metadata["annotations"]
    before = dict(annotations)
    annotations.update(forced)
    for key, value in defaults.items():
        annotations.setdefault(key, value)
    for key in URL_ANNOTATIONS:
        if str(annotations.get(key, "")).strip().lower().startswith("javascript:"):
            annotations[key] = REJECTED_URL
    return {k: v for k, v in annotations.items() if before.get(k) != v}


def prepare(entities: list, forced: dict[str, str], defaults: dict[str, str]) -> list[EntityRow]:
    """Annotate each of a file's ProcessedEntities (``apply_annotations``) and return their rows, in order."""
    return [entity_row(processed, apply_annotations(processed.entity, forced, defaults)) for processed in entities]


def entity_row(processed, added: dict[str, str]) -> EntityRow:
    """The row of a ProcessedEntity whose location annotations (``added``) are already applied."""
    entity = processed.entity
    body_json = json.dumps(entity)
    if not processed.valid:
        return EntityRow(_minimal_columns(processed), body_json, content_hash(entity)[:40])
    digest = _digest(processed.hash, added)
    return EntityRow(_columns(processed), body_json, digest[:40], digest, _search(processed.search, added))


def _digest(core_hash: str, added: dict[str, str]) -> str:
    """The core's content hash, extended with the location annotations added after it ran."""
    if not added:
        return core_hash
    extra = json.dumps(added, sort_keys=True)
    return hashlib.sha1(f"{core_hash}\x1f{extra}".encode()).hexdigest()  # noqa: S324 - change detection


def _search(rows: list[tuple[str, str | None]], added: dict[str, str]) -> list[tuple[str, str | None]]:
    """The descriptor core's search rows plus rows for the location annotations added after it ran."""
    rows = list(rows)
    for key, value in added.items():
        row_key = f"metadata.annotations.{key}".lower()
        if len(row_key) <= MAX_KEY_LENGTH:
            rows.append((row_key, value.lower() if len(value) <= MAX_VALUE_LENGTH else None))
    return rows


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _columns(processed) -> dict[str, Any]:
    entity = processed.entity
    metadata = entity.get("metadata") or {}
    spec = entity.get("spec") if isinstance(entity.get("spec"), dict) else {}
    ref = str(processed.ref)
    relations = processed.relations
    owner = next((t for s, typ, t in relations if s == ref and typ == "ownedBy"), "")
    system = next((t for s, typ, t in relations if s == ref and typ == "partOf" and t.startswith("system:")), "")
    tags = metadata.get("tags") if isinstance(metadata.get("tags"), list) else []
    return {
        "kind": str(entity.get("kind", ""))[:63],
        "namespace": str(metadata.get("namespace") or "default")[:63],
        "name": str(metadata.get("name", ""))[:253],
        "api_version": str(entity.get("apiVersion", ""))[:253],
        "title": str(metadata.get("title") or "")[:300],
        "description": str(metadata.get("description") or ""),
        "spec_type": _text(spec.get("type"))[:200],
        "lifecycle": _text(spec.get("lifecycle"))[:200],
        "owner_ref": owner,
        "system_ref": system,
        "tags": [t for t in tags if isinstance(t, str)],
    }


def _minimal_columns(processed) -> dict[str, Any]:
    """Columns of an entity that failed processing: enough for its owners to find it and its errors."""
    metadata = processed.entity.get("metadata") if isinstance(processed.entity.get("metadata"), dict) else {}
    spec = processed.entity.get("spec") if isinstance(processed.entity.get("spec"), dict) else {}
    return {
        "kind": processed.ref.kind,
        "namespace": processed.ref.namespace,
        "name": processed.ref.name,
        "owner_ref": _best_effort_owner(spec.get("owner"), processed.ref.namespace),
        "api_version": str(processed.entity.get("apiVersion", ""))[:253],
        "title": str(metadata.get("title") or "")[:300],
        "description": str(metadata.get("description") or ""),
        "spec_type": "",
        "lifecycle": "",
        "system_ref": "",
        "tags": [],
    }


def _best_effort_owner(value, namespace: str) -> str:
    if not isinstance(value, str) or not value:
        return ""
    try:
        ref = parse_ref(value, default_kind="Group", default_namespace=namespace)
    except RefError:
        return ""
    return "" if ref_problem(ref) else ref.key[:400]
