"""Backstage's filter predicates (spec section 7.5, the ``query`` of the POST endpoints), parsed apart from
where they are applied, as ``filter_syntax.py`` does for ``filter=``.

A predicate is ``{"$all": [...]}``, ``{"$any": [...]}``, ``{"$not": p}`` or an object of field conditions
(ANDed): a primitive (case-insensitive equality, numbers and booleans compared as the strings JavaScript
prints), ``{"$exists": bool}``, ``{"$in": [primitives]}``, ``{"$hasPrefix": str}`` or ``{"$contains": x}``
(a primitive: equality with one element of an array; on ``relations``, ``{type, targetRef?}``). The same
lower-cased search rows as ``filter=`` underneath. An empty ``$any`` matches nothing; ``{}`` and an empty
``$all`` match everything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from catalog.filter_syntax import QueryError
from catalog.ingestion.yamlsafe import mapping_key

MAX_DEPTH = 32
MAX_NODES = 1_000


@dataclass(frozen=True)
class Field:
    """One condition on a search-row key: ``values`` (lower-cased, any of them), ``exists`` or ``prefix``."""

    key: str
    values: tuple[str, ...] | None = None
    exists: bool | None = None
    prefix: str | None = None


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class NotOf:
    part: Node


Node = Field | AllOf | AnyOf | NotOf


def _text(value, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return mapping_key(value)  # as JavaScript's String(): 1.0 -> "1"
    if isinstance(value, str):
        return value
    raise QueryError(f"Invalid filter predicate at {where}: expected a string, number or boolean, got {_show(value)}")


def _show(value) -> str:
    return json.dumps(value)[:200]


def parse(predicate) -> Node:
    """The JSON predicate as a tree of nodes; a QueryError (400) says where it is malformed."""
    count = [0]
    return _node(predicate, "query", 0, count)


def _node(value, where: str, depth: int, count: list[int]) -> Node:
    count[0] += 1
    if depth > MAX_DEPTH or count[0] > MAX_NODES:
        raise QueryError(f"Filter predicate too large at {where}")
    if not isinstance(value, dict):
        raise QueryError(
            f"Invalid filter predicate at {where}: expected an object, got {_show(value)}; wrap a value in a field "
            'expression, e.g. {"kind": "component"}'
        )
    for op in ("$all", "$any", "$not"):
        if op in value:
            if len(value) != 1:
                raise QueryError(f"Invalid filter predicate at {where}: {op} must be the only key of its object")
            inner = value[op]
            if op == "$not":
                return NotOf(_node(inner, f"{where}.$not", depth + 1, count))
            if not isinstance(inner, list):
                raise QueryError(f"Invalid filter predicate at {where}: {op} takes an array")
            parts = tuple(_node(p, f"{where}.{op}[{i}]", depth + 1, count) for i, p in enumerate(inner))
            return AllOf(parts) if op == "$all" else AnyOf(parts)
    fields = []
    for key, condition in value.items():
        if not isinstance(key, str) or key.startswith("$") or not key:
            raise QueryError(f"Invalid filter predicate at {where}: unknown operator {key!r}")
        fields.append(_field(key.lower(), condition, f"{where}.{key}"))
    return fields[0] if len(fields) == 1 else AllOf(tuple(fields))


def _field(key: str, condition, where: str) -> Node:
    if not isinstance(condition, dict):
        return Field(key, values=(_text(condition, where).lower(),))
    if len(condition) != 1:
        raise QueryError(f"Invalid filter predicate at {where}: a value operator object has exactly one key")
    ((op, operand),) = condition.items()
    if op == "$exists":
        if not isinstance(operand, bool):
            raise QueryError(f"Invalid filter predicate at {where}.$exists: expected true or false")
        return Field(key, exists=operand)
    if op == "$in":
        if not isinstance(operand, list):
            raise QueryError(f"Invalid filter predicate at {where}.$in: expected an array")
        return Field(key, values=tuple(_text(v, f"{where}.$in[{i}]").lower() for i, v in enumerate(operand)))
    if op == "$hasPrefix":
        if not isinstance(operand, str):
            raise QueryError(f"Invalid filter predicate at {where}.$hasPrefix: expected a string")
        return Field(key, prefix=operand.lower())
    if op == "$contains":
        if not isinstance(operand, dict):
            return Field(key, values=(_text(operand, f"{where}.$contains").lower(),))
        if key == "relations":
            return _relation(operand, f"{where}.$contains")
        raise QueryError(f"Invalid filter predicate at {where}.$contains: objects are supported only for relations")
    raise QueryError(f"Invalid filter predicate at {where}: unknown operator {op!r}")


def _relation(target: dict, where: str) -> Field:
    """``{"relations": {"$contains": {"type": "ownedBy", "targetRef": ...}}}`` → ``relations.ownedby``."""
    fields = {str(k).lower(): v for k, v in target.items()}
    kind, ref = fields.pop("type", None), fields.pop("targetref", None)
    if not isinstance(kind, str) or fields:
        raise QueryError(f"Invalid filter predicate at {where}: relations take {{type, targetRef?}}")
    key = f"relations.{kind.lower()}"
    if ref is None:
        return Field(key, exists=True)
    if isinstance(ref, dict) and set(ref) == {"$in"} and isinstance(ref["$in"], list):
        return Field(key, values=tuple(_text(v, f"{where}.targetRef").lower() for v in ref["$in"]))
    return Field(key, values=(_text(ref, f"{where}.targetRef").lower(),))


def as_filters(node: Node) -> list[dict[str, list[str] | None]] | None:
    """The predicate as ``filter=`` conditions (ORed dicts of ANDed key conditions, as ``parse_filter`` gives),
    where it can be said that way; None where it cannot (a negation, a prefix, an empty ``$any``, one key
    twice in a conjunction, or an ``$any`` inside an ``$all``). ``[]`` means everything."""
    alternatives = node.parts if isinstance(node, AnyOf) else (node,)
    if isinstance(node, AnyOf) and not node.parts:
        return None  # matches nothing; filter= cannot say that
    filters = []
    for alternative in alternatives:
        conjunction = _conjunction(alternative)
        if conjunction is None:
            return None
        if not conjunction:
            return []  # one alternative matches everything
        filters.append(conjunction)
    return filters


def _conjunction(node: Node) -> dict[str, list[str] | None] | None:
    parts = node.parts if isinstance(node, AllOf) else (node,)
    conditions: dict[str, list[str] | None] = {}
    for part in parts:
        if isinstance(part, AllOf):
            inner = _conjunction(part)
            if inner is None or set(inner) & set(conditions):
                return None
            conditions.update(inner)
            continue
        if not isinstance(part, Field) or part.prefix is not None or part.exists is False or part.key in conditions:
            return None
        if part.values is not None and not part.values:
            return None  # $in [] matches nothing
        conditions[part.key] = list(part.values) if part.values is not None else None
    return conditions


def filter_strings(filters: list[dict[str, list[str] | None]]) -> list[str] | None:
    """Conditions from ``as_filters`` written as ``filter=`` values (for the facet snapshots and caches, which
    read that syntax); None where a key or value cannot be written in it (a comma, an ``=`` in a key,
    surrounding spaces)."""
    out = []
    for conditions in filters:
        parts = []
        for key, values in conditions.items():
            if "," in key or "=" in key or key != key.strip() or not key:
                return None
            if values is None:
                parts.append(key)
                continue
            for value in values:
                if "," in value or value != value.strip():
                    return None
                parts.append(f"{key}={value}")
        out.append(",".join(parts))
    return out
