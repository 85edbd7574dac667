"""Entities in Backstage's shape, assembled as JSON text by the database.

A page of 50 entities spent most of its time in Python: decoding every JSON body, shaping it
(``catalog/shapes.py``) and encoding it again. For the common entity (valid, no processing errors, not
orphaned) the database builds the same document — ``apiVersion``, ``kind``,
``metadata`` with ``uid``, ``etag`` and ``generation``, ``spec``, ``relations`` sorted and without
duplicates — and the text is passed through undecoded. Every other entity is shaped in Python as before,
so the two paths agree (tested against each other in ``catalog/tests/test_shapes_sql.py``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import NamedTuple

from django.db import connection, models
from django.db.models.expressions import RawSQL

from catalog.models import Entity
from catalog.shapes import entities_to_backstage, for_shaping, override_map
from portal.prepared import prepared_cursor

_SQL = {
    "postgresql": """(
        jsonb_build_object(
            'apiVersion', catalog_entity.body -> 'apiVersion',
            'kind', catalog_entity.body -> 'kind',
            'metadata', (catalog_entity.body -> 'metadata') || jsonb_build_object(
                'uid', catalog_entity.uid::text, 'etag', catalog_entity.etag,
                'generation', catalog_entity.generation),
            'relations', COALESCE((
                SELECT jsonb_agg(jsonb_build_object('type', t.type, 'targetRef', t.target_ref)
                                 ORDER BY t.type COLLATE "C", t.target_ref COLLATE "C")
                FROM (SELECT DISTINCT r.type, r.target_ref FROM catalog_relation r
                      WHERE r.source_ref = catalog_entity.ref) t), '[]'::jsonb))
        || CASE WHEN catalog_entity.body ? 'spec'
                THEN jsonb_build_object('spec', catalog_entity.body -> 'spec') ELSE '{}'::jsonb END
    )::text""",
    "sqlite": """json_object(
        'apiVersion', json_extract(catalog_entity.body, '$.apiVersion'),
        'kind', json_extract(catalog_entity.body, '$.kind'),
        'metadata', json_set(json_extract(catalog_entity.body, '$.metadata'),
            '$.uid', lower(substr(catalog_entity.uid, 1, 8) || '-' || substr(catalog_entity.uid, 9, 4) || '-' ||
                           substr(catalog_entity.uid, 13, 4) || '-' || substr(catalog_entity.uid, 17, 4) || '-' ||
                           substr(catalog_entity.uid, 21)),
            '$.etag', catalog_entity.etag, '$.generation', catalog_entity.generation),
        'spec', json(json_extract(catalog_entity.body, '$.spec')),
        'relations', json(COALESCE((
            SELECT json_group_array(json_object('type', t.type, 'targetRef', t.target_ref))
            FROM (SELECT DISTINCT r.type, r.target_ref FROM catalog_relation r
                  WHERE r.source_ref = catalog_entity.ref ORDER BY 1, 2) t), '[]'))
    )""",
}
# SQLite's json_object keeps a null spec as "spec": null; only entities with a spec take that path there.
_SQLITE_HAS_SPEC = "json_type(catalog_entity.body, '$.spec') = 'object'"
_ROW_FIELDS = ("id", "ref", "valid", "error_count", "orphaned_at")


class ShapedRow(NamedTuple):
    """An entity row as ``with_shaped_json`` gives it."""

    id: int
    ref: str
    valid: bool
    error_count: int
    orphaned_at: object
    shaped_json: str | None


def supported() -> bool:
    return connection.vendor in _SQL


def _shaped_sql() -> str:
    sql = _SQL[connection.vendor]
    return f"CASE WHEN {_SQLITE_HAS_SPEC} THEN {sql} END" if connection.vendor == "sqlite" else sql


def with_shaped_json(queryset: models.QuerySet) -> models.QuerySet:
    """Rows (named tuples, no model instances) of what deciding the path needs, plus ``shaped_json``: the
    document as text (SQL, no input)."""
    shaped = RawSQL(_shaped_sql(), (), output_field=models.TextField())  # noqa: S611 - constant SQL, no input
    return queryset.annotate(shaped_json=shaped).values_list(*_ROW_FIELDS, "shaped_json", named=True)


def entity_json(queryset: models.QuerySet, ref: str) -> str:
    """The entity ``ref`` of ``queryset`` as one JSON document (raises ``Entity.DoesNotExist``)."""
    return items_json([with_shaped_json(queryset).get(ref=ref)])[1:-1]


@functools.cache
def _by_ref_sql(vendor: str) -> str:  # the vendor keys the cache; _shaped_sql() reads the same connection
    columns = ", ".join(connection.ops.quote_name(c) for c in _ROW_FIELDS)
    return f"SELECT {columns}, {_shaped_sql()} FROM catalog_entity WHERE catalog_entity.ref = %s"  # noqa: S608


def readable_entity_json(ref: str) -> str:
    """``entity_json`` for a reader who may read every entity: one fixed statement, no query building.

    By-name is the catalog's most frequent call; building and compiling its query was a third of its cost.
    PostgreSQL prepares the statement once per connection (``portal/prepared.py``).
    """
    with prepared_cursor() as cursor:
        cursor.execute(_by_ref_sql(connection.vendor), [ref])
        row = cursor.fetchone()
    if row is None:
        raise Entity.DoesNotExist(ref)
    return items_json([ShapedRow(*row)])[1:-1]


def items_json(rows: Sequence[ShapedRow]) -> str:
    """A JSON array of ``rows`` (annotated by ``with_shaped_json``) in Backstage's shape, in order."""
    overrides = override_map()
    texts: dict[int, str] = {}
    python_ids = []
    for row in rows:
        if row.shaped_json and row.valid and not row.error_count and row.orphaned_at is None:
            override = overrides.get(row.ref)
            # A governance override is one more top-level key, as shapes.py adds it: written into the object.
            texts[row.id] = f'{row.shaped_json[:-1]},"overrides":{json.dumps(override)}}}' if override else (
                row.shaped_json)  # fmt: skip
        else:
            python_ids.append(row.id)
    if python_ids:
        full = list(for_shaping(Entity.objects.filter(id__in=python_ids)))
        for entity, shaped in zip(full, entities_to_backstage(full), strict=True):
            texts[entity.id] = json.dumps(shaped, ensure_ascii=False, separators=(",", ":"))
    return "[" + ",".join(texts[row.id] for row in rows) + "]"
