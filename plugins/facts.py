"""Scorecard fact collectors as plugins (and the core) declare them; the scorecards app runs them.

A collector reads one entity (and, unless ``needs_repository`` is False, its repository at the current
commit) and returns facts: ``{key: JSON value}``. Scorecard rules read them through helper functions
(docs/scorecards.md#facts). The collector receives a :class:`FactSource`; raising an exception records an
``error`` fact for that collector and entity (its message is shown), it never stops a collection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from plugins.registry import registry


class FactSource(Protocol):
    """What a collector may read. Paths are relative to the entity's source directory (where its
    ``catalog-info.yaml`` lives); reading never leaves the repository and never follows a symbolic link."""

    entity_ref: str
    entity: Mapping[str, Any]  # the catalog's stored descriptor (metadata, spec)
    commit: str  # "" when the collector does not need the repository
    directory: str  # the entity's directory in the repository ("." for its root)
    committed_at: int  # seconds since the epoch, 0 without a repository
    wanted_paths: tuple[str, ...]  # the paths scorecard rules name (file_exists, file_matches)
    text_paths: frozenset[str]  # those whose text rules read (file_matches)

    def kind(self, path: str) -> str:
        """``file``, ``link``, ``directory``, ``other`` or ``missing``."""

    def read(self, path: str, max_bytes: int) -> bytes:
        """The file's bytes; an exception (missing, a link, larger than ``max_bytes``) says why not."""


@dataclass(frozen=True)
class FactCollector:
    name: str
    collect: Callable[[FactSource], Mapping[str, Any]]
    description: str = ""
    needs_repository: bool = True  # False: collected at every collection, without reading git


def register_fact_collector(collector: FactCollector, *, replace: bool = False) -> FactCollector:
    """Add ``collector`` to ``registry["fact_collectors"]``; a name already taken is refused unless ``replace``."""
    store = registry["fact_collectors"]
    if not collector.name or not isinstance(collector.name, str):
        raise ValueError("A fact collector needs a name")
    if collector.name in store and not replace and store[collector.name] is not collector:
        raise ValueError(f"Fact collector {collector.name!r} is already registered")
    store[collector.name] = collector
    return collector
