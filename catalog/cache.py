"""A catalog-wide version number: bumped whenever a refresh changes something, used in cache keys."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

T = TypeVar("T")

VERSION_KEY = "catalog:version"


def catalog_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY) or 1
    return int(version)


def bump_catalog_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def versioned_key(prefix: str, *parts: str) -> str:
    """A cache key that changes when the catalog changes."""
    digest = hashlib.sha1("\x1f".join(parts).encode()).hexdigest()  # noqa: S324 - a cache key
    return f"{prefix}:{catalog_version()}:{digest}"


def per_version(key: str, build: Callable[[], T], timeout: int = 3600) -> T:
    """``build()`` once per catalog version (for small catalog-wide facts such as the override map)."""
    full_key = f"{key}:{catalog_version()}"
    value = cache.get(full_key)
    if value is None:
        value = build()
        cache.set(full_key, value, timeout)
    return value
