"""A catalog-wide version number: bumped whenever a refresh changes something, used in cache keys."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from portal.versions import VersionCounter

T = TypeVar("T")

VERSION = VersionCounter("catalog:version")
RECENT_PER_PROCESS = 5000  # shaped entities (a few kB each) kept per process for by-name reads


def catalog_version() -> int:
    return VERSION.get()


def bump_catalog_version() -> None:
    VERSION.bump()


def versioned_key(prefix: str, *parts: str) -> str:
    """A cache key that changes when the catalog changes."""
    digest = hashlib.sha1("\x1f".join(parts).encode()).hexdigest()  # noqa: S324 - a cache key
    return f"{prefix}:{catalog_version()}:{digest}"


def per_version(key: str, build: Callable[[], T]) -> T:
    """``build()`` once per catalog version (small catalog-wide facts such as the override map)."""
    return VERSION.memo(key, build)


def per_version_recent(name: str, key: str, build: Callable[[], T]) -> T:
    """``build()`` once per key and catalog version, the most recently used kept in this process."""
    return VERSION.recent(name, key, build, size=RECENT_PER_PROCESS)
