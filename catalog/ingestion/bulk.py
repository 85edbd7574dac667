"""Fast bulk inserts for the catalog's high-volume rows (entities, relations and search rows).

The ORM's bulk_create builds a model instance and prepares every value: for the ~500k rows of a
10k-component catalog that costs most of the ingest time. Here rows are plain tuples: PostgreSQL gets
``COPY``, SQLite a single ``executemany``. New entities take the same path with ids reserved first
(their relation and search rows need them): bulk_create compiles SQL per value (a quarter of SQLite's
ingest), and on PostgreSQL sends ``UNNEST`` arrays quoted in Python, JSON bodies included. Changed
entities are updated the same way (``update_rows``): bulk_update builds a ``CASE WHEN`` per column and
row, which made updating every entity of a location cost 4.6 times its first ingestion.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.db import connection, transaction

#: SQLite page cache for a refresh's write transaction (KiB): random index inserts stay in memory.
SQLITE_WRITE_CACHE_KIB = 65_536


@contextmanager
def write_cache() -> Iterator[None]:
    """A larger SQLite page cache while a refresh writes (the connection's own is 2 MiB); restored after."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[tuple], *, skip_conflicts: bool = False) -> None:
    """Insert plain rows. ``skip_conflicts``: a row that would break a unique constraint is left out
    (``ON CONFLICT DO NOTHING``; slower than PostgreSQL's ``COPY``, which fails whole)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not skip_conflicts:
            with connection.wrap_database_errors:  # psycopg's errors as Django's (IntegrityError, ...)
                _copy(cursor.cursor, _copy_statement(table, columns), rows)
            return
        column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
        placeholders = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {connection.ops.quote_name(table)} ({column_list}) VALUES ({placeholders})"  # noqa: S608
            + (" ON CONFLICT DO NOTHING" if skip_conflicts else ""),
            list(rows),
        )


def update_rows(table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Set ``columns`` of existing rows from plain tuples ``(id, *values)``, in a constant number of
    statements: SQLite one ``executemany`` of one prepared ``UPDATE``; PostgreSQL ``COPY`` into a
    temporary table, then one ``UPDATE … FROM`` it."""
    if not rows:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
            cursor.executemany(
                f"UPDATE {quote(table)} SET {assignments} WHERE id = %s",  # noqa: S608
                [(*row[1:], row[0]) for row in rows],
            )
            return
        staging = quote(f"{table}_update")
        column_list = ", ".join(quote(c) for c in ["id", *columns])
        assignments = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in columns)
        with transaction.atomic(savepoint=False):  # the staging table lives in the caller's transaction
            cursor.execute(
                f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {column_list} FROM {quote(table)} WITH NO DATA"
            )
            _copy(cursor.cursor, f"COPY {staging} ({column_list}) FROM STDIN", rows)
            cursor.execute(f"UPDATE {quote(table)} AS t SET {assignments} FROM {staging} AS s WHERE t.id = s.id")  # noqa: S608
            cursor.execute(f"DROP TABLE {staging}")


class BackgroundCopy:
    """PostgreSQL: ``COPY`` rows on a thread, inside the caller's transaction, while the caller goes on.

    The database then inserts (and indexes) one batch while the refresh prepares the next. psycopg
    holds the connection's lock for a whole ``COPY``, so any query the caller sends meanwhile waits for
    it. ``wait`` joins the thread and raises what it raised: call it before using the results or ending
    the transaction. Other databases insert at once.
    """

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def insert(self, jobs: list[tuple[str, Sequence[str], list[tuple]]]) -> None:
        """Insert each (table, columns, rows); on PostgreSQL in the background."""
        self.wait()
        if connection.vendor != "postgresql":
            for table, columns, rows in jobs:
                insert_rows(table, columns, rows)
            return
        raw = connection.connection
        # Statements are written here: Django's ``connection`` is per thread.
        statements = [(_copy_statement(table, columns), rows) for table, columns, rows in jobs]

        def run() -> None:
            try:
                with raw.cursor() as cursor:
                    for statement, rows in statements:
                        _copy(cursor, statement, rows)
            except BaseException as exc:  # handed to the caller by wait()
                self._error = exc

        self._thread = threading.Thread(target=run, name="catalog-copy", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error


def _copy_statement(table: str, columns: Sequence[str]) -> str:
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    return f"COPY {connection.ops.quote_name(table)} ({column_list}) FROM STDIN"


def _copy(cursor, statement: str, rows: Iterable[tuple]) -> None:
    """PostgreSQL ``COPY`` of ``rows`` through a psycopg cursor."""
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def reserve_ids(table: str, column: str, count: int) -> list[int]:
    """``count`` unused ids for ``table`` (PostgreSQL: from its sequence; SQLite: above the highest id and
    the AUTOINCREMENT counter; call inside the write transaction, which SQLite holds alone)."""
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
