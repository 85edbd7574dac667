"""Fast bulk inserts for the catalog's high-volume rows (entities, relations and search rows).

The ORM's bulk_create builds a model instance and prepares every value: for the ~500k rows of a
10k-component catalog that costs most of the ingest time. Here rows are plain tuples: PostgreSQL gets
``COPY``, SQLite a single ``executemany``. Entities are model instances (their ids are needed for their
rows); they take the same path with ids reserved first: bulk_create compiles SQL per value (a quarter
of SQLite's ingest), and on PostgreSQL sends ``UNNEST`` arrays quoted in Python, JSON bodies included,
which cost more than everything else the database is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models, transaction

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
    """bulk_create without the ORM's per-value SQL compilation; each object's id is set.

    Ids are reserved first (PostgreSQL: from the table's sequence; SQLite: above the highest id and the
    AUTOINCREMENT counter, inside the write transaction, which SQLite holds alone), then the rows go
    through ``insert_rows``.
    """
    if not objs:
        return
    if connection.vendor not in ("postgresql", "sqlite"):
        model._default_manager.bulk_create(objs, batch_size=BATCH)
        return
    meta = model._meta
    with transaction.atomic():
        ids = _reserve_ids(meta.db_table, meta.pk.column, len(objs))
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


def _reserve_ids(table: str, column: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return [row[0] for row in cursor.fetchall()]
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX({connection.ops.quote_name(column)}), 0) FROM {quoted}")  # noqa: S608
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
        return list(range(start, start + count))
