"""Fast bulk inserts for the catalog's high-volume rows (relations and search rows).

The ORM's bulk_create builds a model instance and prepares every value: for the ~500k rows of a
10k-component catalog that costs most of the ingest time. Here rows are plain tuples: PostgreSQL gets
``COPY``, SQLite a single ``executemany``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection


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
