"""Fast bulk inserts for the catalog's high-volume rows (entities, relations and search rows).

The ORM's bulk_create builds a model instance and prepares every value: for the ~500k rows of a
10k-component catalog that costs most of the ingest time. Here rows are plain tuples: PostgreSQL gets
``COPY``, SQLite a single ``executemany``. Entities are model instances (their ids are needed for their
rows); on PostgreSQL they too go through ``COPY``, with ids drawn from the table's sequence first,
because bulk_create's ``UNNEST`` arrays are quoted in Python, JSON bodies included, which cost more
than everything else the database is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models

BATCH = 1000


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quoted} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {quoted} ({column_list}) VALUES ({placeholders})", list(rows))  # noqa: S608


def insert_instances(model: type[models.Model], objs: list[models.Model]) -> None:
    """bulk_create, with each object's id set afterwards."""
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=BATCH)
        return
    if not objs:
        return
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
    fields = meta.concrete_fields
    insert_rows(
        meta.db_table,
        [field.column for field in fields],
        ([field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields] for obj in objs),
    )
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias
