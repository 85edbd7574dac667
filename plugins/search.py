"""The search hook: apps hand documents to every registered indexer; the search app will be one of them.

Producers call ``index_documents(source, entity_ref, documents)`` whenever what they publish changes (all
documents of that entity from that source, replacing the previous set); indexers register with
``register_search_indexer(name, indexer)``. Until an indexer is registered, nothing is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from plugins.registry import registry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchDocument:
    """One searchable page: where it is (a portal URL), its title, headings and text, and its entity."""

    source: str  # "techdocs", …
    entity_ref: str
    url: str
    title: str
    text: str
    headings: tuple[str, ...] = field(default_factory=tuple)


Indexer = Callable[[str, str, Sequence[SearchDocument]], None]


def register_search_indexer(name: str, indexer: Indexer) -> Indexer:
    registry["search"][name] = indexer
    return indexer


def index_documents(source: str, entity_ref: str, documents: Sequence[SearchDocument]) -> None:
    """Replace what ``source`` published for ``entity_ref`` in every indexer; an indexer's error is logged."""
    for name, indexer in list(registry["search"].items()):
        try:
            indexer(source, entity_ref, documents)
        except Exception:
            logger.exception("Search indexer %s failed for %s from %s", name, entity_ref, source)
