"""Bookkeeping writes made while answering a read: a token's last use, a visit, a first identity.

On SQLite one connection writes at a time, and a catalog refresh holds the write lock while it writes a
group of files (catalog/ingestion/writer.py). A read must never wait for that: ``best_effort`` runs such
a write with SQLite's busy timeout at zero, so a locked database refuses it at once, and skips it (the
next request tries again). On PostgreSQL these writes lock only their own rows, which no refresh holds,
and run unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TypeVar

from django.db import OperationalError, connection, transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")


def best_effort(write: Callable[[], T], what: str, *, atomic: bool = True) -> T | None:
    """``write()``'s result, or None when SQLite is locked by another writer right now (nothing written).

    ``atomic``: run several statements as one transaction (a single statement needs none)."""
    try:
        with _no_busy_wait(), transaction.atomic(savepoint=False) if atomic else nullcontext():
            return write()
    except OperationalError as exc:
        if connection.vendor != "sqlite" or "locked" not in str(exc):
            raise
        logger.info("Skipped %s: the database is locked by another writer", what)
        return None


@contextmanager
def _no_busy_wait() -> Iterator[None]:
    """SQLite: a statement that needs the write lock fails at once instead of waiting for it. Set on the
    driver's connection (a connection setting, not a query of the request's)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:  # a transaction here holds the lock
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(before)}")
