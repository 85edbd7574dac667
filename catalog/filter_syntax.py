"""Backstage's ``filter=`` syntax (spec section 7.2): parsed apart from where it is applied."""

from __future__ import annotations


class QueryError(ValueError):
    """Bad query syntax; becomes a 400 InputError."""


def parse_filter(value: str) -> dict[str, list[str] | None]:
    """One ``filter`` value → {key: [values] or None for "key exists"}; conditions are ANDed."""
    conditions: dict[str, list[str] | None] = {}
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, raw = part.partition("=")
        key = key.strip().lower()
        if not key:
            raise QueryError(f"Invalid filter condition {part!r}: missing key")
        if not sep:
            conditions.setdefault(key, None)
            continue
        existing = conditions.get(key)
        conditions[key] = [*(existing or []), raw.strip().lower()]
    return conditions
