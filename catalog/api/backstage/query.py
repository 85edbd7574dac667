"""Backstage's ``filter=``, ``fields=`` and ``order=`` query syntax, applied to Callboard's tables."""

from __future__ import annotations

import operator
import uuid
from functools import reduce

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from catalog import facets, predicates
from catalog.filter_syntax import QueryError, parse_filter
from catalog.models import Entity, SearchRow
from catalog.querysets import iexact_any, kind_range

__all__ = ["QueryError", "apply_filters", "apply_predicate", "full_text", "location_predicate", "parse_fields",
           "parse_filter", "parse_order", "project"]  # fmt: skip

# Keys with a column of their own are matched on the column (indexed), the rest on search rows.
COLUMN_KEYS = {"metadata.name": "name"}
# Full text on these keys reads the column (trigram-indexed on PostgreSQL, and never cut at 200 characters).
TEXT_COLUMNS = {"metadata.name": "name", "metadata.title": "title", "metadata.description": "description"}
ORDER_COLUMNS = {
    "kind": "kind", "metadata.name": "name", "metadata.namespace": "namespace", "metadata.title": "title",
    "spec.type": "spec_type", "spec.lifecycle": "lifecycle", "spec.owner": "owner_ref", "metadata.uid": "uid",
}  # fmt: skip


def _condition(key: str, values: list[str] | None, *, correlated: bool) -> Q:
    if key == "kind" and values is not None:
        return kind_range(values)
    if key in COLUMN_KEYS and values is not None:
        return iexact_any(COLUMN_KEYS[key], values)
    if correlated and values and all(values) and (spellings := facets.column_spellings(key, values)) is not None:
        # Inside a kind range, a column that agrees with the search rows (facets.py) is compared in the row
        # itself, without probing the search rows. Comparing the column's exact values (not its upper
        # case) lets the planner use the column's statistics. Entities that never processed have columns
        # but no search rows.
        return Q(valid=True, **{f"{facets.FACET_COLUMNS[key]}__in": spellings}) if spellings else Q(pk__in=[])
    rows = SearchRow.objects.filter(key=key)
    if values is not None:
        rows = rows.filter(value__in=values)
    if correlated:
        # Inside a kind range the walk is bounded: checking each row through the covering
        # (key, value, entity) index beats materialising every matching id.
        return Q(Exists(rows.filter(entity=OuterRef("pk"))))
    return Q(id__in=rows.values("entity_id"))


def full_text(term: str, fields: list[str]) -> Q:
    """Case-insensitive substring match of ``term`` in any of ``fields`` (Backstage's ``LIKE %term%``)."""
    q = Q()
    row_keys = []
    for field in fields:
        if field in TEXT_COLUMNS:
            q |= Q(**{f"{TEXT_COLUMNS[field]}__icontains": term})
        else:
            row_keys.append(field)
    if row_keys:
        rows = SearchRow.objects.filter(key__in=row_keys, value__contains=term.lower())
        q |= Q(id__in=rows.values("entity_id"))
    return q


def apply_filters(queryset: QuerySet[Entity], filters: list[str]) -> QuerySet[Entity]:
    """Several ``filter`` parameters are ORed; the conditions inside one are ANDed."""
    if not filters:
        return queryset
    return queryset.filter(_any_of([parse_filter(value) for value in filters]))


def _any_of(filters: list[dict[str, list[str] | None]]) -> Q:
    any_of = Q()
    for conditions in filters:
        correlated = conditions.get("kind") is not None
        all_of = Q()
        for key, values in conditions.items():
            all_of &= _condition(key, values, correlated=correlated)
        any_of |= all_of
    return any_of


NOTHING = Q(pk__in=[])


def apply_predicate(queryset: QuerySet[Entity], node: predicates.Node) -> QuerySet[Entity]:
    """A parsed predicate (``catalog/predicates.py``) as one WHERE clause: where it says what a ``filter=``
    list can, exactly the conditions ``apply_filters`` builds; otherwise the same conditions combined with
    NOT, OR and prefixes."""
    filters = predicates.as_filters(node)
    if filters is not None:
        return queryset.filter(_any_of(filters)) if filters else queryset
    return queryset.filter(_predicate_q(node, correlated=False))


def _predicate_q(node: predicates.Node, *, correlated: bool) -> Q:
    if isinstance(node, predicates.Field):
        if node.prefix is not None:
            rows = SearchRow.objects.filter(key=node.key, value__startswith=node.prefix)
            return Q(id__in=rows.values("entity_id"))
        if node.values is not None and not node.values:
            return NOTHING  # $in []
        has = _condition(node.key, list(node.values) if node.values is not None else None, correlated=correlated)
        return ~has if node.exists is False else has
    if isinstance(node, predicates.NotOf):
        inner = _predicate_q(node.part, correlated=correlated)
        return NOTHING if not inner else ~inner  # {$not: {}}: everything negated
    if isinstance(node, predicates.AnyOf):
        if not node.parts:
            return NOTHING
        q = Q()
        for part in node.parts:
            part_q = _predicate_q(part, correlated=correlated)
            if not part_q:
                return Q()  # one alternative matches everything
            q |= part_q
        return q
    # $all: inside a kind range, the other conditions are checked row by row (as apply_filters does).
    inner_correlated = correlated or any(
        isinstance(p, predicates.Field) and p.key == "kind" and p.values for p in node.parts
    )
    q = Q()
    for part in node.parts:
        q &= _predicate_q(part, correlated=inner_correlated)
    return q


LOCATION_FIELDS = ("id", "type", "target")


def location_predicate(node: predicates.Node) -> Q:
    """A predicate on registered locations' ``id``, ``type`` and ``target``, compared ignoring case. Other keys
    never exist (``$exists: false`` holds, anything else does not)."""
    if isinstance(node, predicates.NotOf):
        inner = location_predicate(node.part)
        return NOTHING if not inner else ~inner
    if isinstance(node, predicates.AnyOf | predicates.AllOf):
        parts = [location_predicate(p) for p in node.parts]
        if isinstance(node, predicates.AnyOf):
            if not parts:
                return NOTHING
            if any(not p for p in parts):
                return Q()
            return reduce(operator.or_, parts)
        return reduce(operator.and_, parts, Q())
    known = node.key in LOCATION_FIELDS
    if node.exists is not None:
        return Q() if node.exists == known else NOTHING
    if not known:
        return NOTHING
    if node.prefix is not None:
        return Q(**{f"{node.key}__istartswith": node.prefix})
    if node.key == "id":
        ids = [v for v in node.values or () if _is_uuid(v)]
        return Q(id__in=ids) if ids else NOTHING
    return iexact_any(node.key, node.values) if node.values else NOTHING


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def parse_fields(values: list[str]) -> list[list[str]] | None:
    """``fields=a.b,c`` → [['a','b'], ['c']]; None means all fields."""
    fields = [f.strip() for value in values for f in value.split(",") if f.strip()]
    if not fields:
        return None
    for field in fields:
        if "[" in field:
            raise QueryError("Array type fields are not supported")
    return [field.split(".") for field in fields]


def project(entity: dict, fields: list[list[str]] | None) -> dict:
    """Keep only the requested paths. Keys containing dots (annotation keys) are matched greedily."""
    if fields is None:
        return entity
    out: dict = {}
    for parts in fields:
        _copy_path(entity, out, parts)
    return out


def _copy_path(source, target: dict, parts: list[str]) -> None:
    if not isinstance(source, dict) or not parts:
        return
    for size in range(len(parts), 0, -1):
        key = ".".join(parts[:size])
        if key in source:
            rest = parts[size:]
            if not rest:
                target[key] = source[key]
            elif isinstance(source[key], dict):
                child = target.setdefault(key, {})
                _copy_path(source[key], child, rest)
            return


def parse_order(values: list[str]) -> list:
    """``order=asc:metadata.name`` (repeatable) → Django order_by() terms; unknown fields are refused.

    Values compare lower-cased, as Backstage's do (``ana`` before ``Artist-Lookup``); uids are lower-case.
    """
    terms = []
    for value in values:
        direction, _, field = value.partition(":")
        if not field:
            direction, field = "asc", direction
        if direction not in ("asc", "desc"):
            raise QueryError(f"Invalid order {value!r}: use asc:<field> or desc:<field>")
        column = ORDER_COLUMNS.get(field.lower())
        if column is None:
            raise QueryError(f"Ordering by {field!r} is not supported; use one of {', '.join(ORDER_COLUMNS)}")
        expression = F(column) if column == "uid" else Lower(column)
        terms.append(expression.desc() if direction == "desc" else expression.asc())
    return terms
