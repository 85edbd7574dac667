"""How the generic engine learns about the catalog without importing it.

``catalog`` fills these at start-up (``AppConfig.ready``): who a person is in the catalog (their identity
refs: User entity, groups, parent groups) and how an entity ref becomes a Target. Until they are set, a
person has no identity refs and no entity ref resolves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_identity_provider: Callable[[Any], set[str]] | None = None
_target_resolver: Callable[[str], Any] | None = None
_targets_resolver: Callable[[list[str]], dict[str, Any]] | None = None


def set_identity_provider(provider: Callable[[Any], set[str]]) -> None:
    global _identity_provider
    _identity_provider = provider


def set_target_resolver(resolver: Callable[[str], Any], many: Callable[[list[str]], dict[str, Any]]) -> None:
    """``resolver(ref) -> Target | None``, raising ValueError on a malformed ref; ``many(refs)`` answers
    ``{ref: Target | None}`` for a batch in one go (a malformed ref is None)."""
    global _target_resolver, _targets_resolver
    _target_resolver, _targets_resolver = resolver, many


def identity_refs(user) -> set[str]:
    if _identity_provider is None or not (user and user.is_authenticated):
        return set()
    return {ref.lower() for ref in _identity_provider(user)}


def resolve_target(ref: str):
    if _target_resolver is None:
        return None
    return _target_resolver(ref)


def resolve_targets(refs: list[str]) -> dict[str, Any]:
    if _targets_resolver is None or not refs:
        return dict.fromkeys(refs)
    return _targets_resolver(refs)
