"""Backstage's ``filter=``, ``fields=`` and ``order=`` query syntax, applied to Callboard's tables."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from catalog import facets
from catalog.filter_syntax import QueryError, parse_filter
from catalog.models import Entity, SearchRow
from catalog.querysets import iexact_any, kind_range

__all__ = ["QueryError", "apply_filters", "full_text", "parse_fields", "parse_filter", "parse_order", "project"]

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
    any_of = Q()
    for value in filters:
        conditions = parse_filter(value)
        correlated = conditions.get("kind") is not None
        all_of = Q()
        for key, values in conditions.items():
            all_of &= _condition(key, values, correlated=correlated)
        any_of |= all_of
    return queryset.filter(any_of)


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
