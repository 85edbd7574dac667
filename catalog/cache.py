"""A catalog-wide version number: bumped whenever a refresh changes something, used in cache keys."""

from __future__ import annotations

import hashlib

from django.core.cache import cache

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
