"""Flattened, lower-cased (key, value) search rows used by catalog filters (spec 7.3)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .refs import DEFAULT_NAMESPACE, ref_of
from .yamlsafe import mapping_key

MAX_KEY_LENGTH = 200
MAX_VALUE_LENGTH = 200

SearchRow = tuple[str, str | None]

#: Paths that are never indexed as trees (the first three are added explicitly below).
_SKIPPED = frozenset({"metadata.name", "metadata.namespace", "metadata.uid", "metadata.etag",
                      "relations", "status", "attachments"})  # fmt: skip


def _text(value: Any) -> str | None:
    """Backstage's ``String(value)``: booleans as true/false, numbers like JavaScript prints them."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return mapping_key(value)
    return None  # not a JSON scalar (only reachable for special keys of an invalid entity)


def flatten(
    entity: dict[str, Any],
    relations: Iterable[tuple[str, str, str]],
    self_ref: str | None = None,
    *,
    keep_case: bool = False,
) -> tuple[list[SearchRow], list[str]]:
    """Search rows plus the raw keys that collide when lower-cased (Backstage refuses those entities)."""
    rows: dict[SearchRow, None] = {}
    raw_keys: set[str] = set()

    def add(key: str, value: Any) -> None:
        raw_keys.add(key)
        key = key.lower()
        if len(key) > MAX_KEY_LENGTH:
            return
        if type(value) is not str:
            value = _text(value)
        if value is not None:
            if len(value) > MAX_VALUE_LENGTH:
                value = None
            elif not keep_case:
                value = value.lower()
        rows[(key, value)] = None

    def visit(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                child_path = f"{path}.{key}" if path else key
                if child_path not in _SKIPPED:
                    visit(child_path, child)
        elif isinstance(value, list):
            for item in value:
                visit(path, item)
                if isinstance(item, str):
                    add(f"{path}.{item}", True)
        else:
            add(path, value)

    visit("", entity)
    metadata = entity.get("metadata") or {}
    add("metadata.name", metadata.get("name"))
    add("metadata.namespace", metadata.get("namespace") or DEFAULT_NAMESPACE)
    if metadata.get("uid") is not None:
        add("metadata.uid", metadata["uid"])
    for source, rel_type, target in relations:
        if self_ref is None:
            self_ref = ref_of(entity).key
        if source == self_ref:
            add(f"relations.{rel_type}", target)

    conflicts: list[str] = []
    if len(raw_keys) != len({key.lower() for key in raw_keys}):
        first: dict[str, str] = {}
        for key in sorted(raw_keys):
            if first.setdefault(key.lower(), key) != key:
                conflicts.append(key)
    return list(rows), conflicts


def search_rows(
    entity: dict[str, Any], relations: Iterable[tuple[str, str, str]] = (), *, keep_case: bool = False
) -> list[SearchRow]:
    """Every (key, value) row for filtering, deduplicated, in a stable order.

    Keys are dotted, lower-cased leaf paths of the whole entity (``spec.type``,
    ``metadata.annotations.backstage.io/techdocs-ref``); array elements share their array's path and each
    string element ``x`` of array ``p`` also yields ``p.x = "true"``; ``relations.<type>`` = target ref for the
    relations whose source is this entity; ``metadata.name``, ``metadata.namespace`` (default filled in) and
    ``metadata.uid`` (when present) are always there; ``status``, ``relations``, ``attachments`` and
    ``metadata.etag`` are not indexed. Keys over 200 characters are dropped, values over 200 characters and
    null leaves are stored as ``None``.

    With ``keep_case`` the values keep their original case (Backstage's ``original_value``, which facets
    count, spec 7.6); keys are lower-cased either way.
    """
    return flatten(entity, relations, keep_case=keep_case)[0]
