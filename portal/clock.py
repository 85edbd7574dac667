"""The clock token expiry is read from: ``now()``, which tests move forward with ``shifted()``.

Expiry tests then need no ``sleep()`` (a one-second token checked after 1.1 s fails on a loaded machine).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.utils import timezone

_offset = timedelta(0)


def now() -> datetime:
    return timezone.now() + _offset


@contextmanager
def shifted(delta: timedelta) -> Iterator[None]:
    """Within the block ``now()`` is ``delta`` later, in this process (for tests)."""
    global _offset
    previous = _offset
    _offset = previous + delta
    try:
        yield
    finally:
        _offset = previous
