"""Entity-page tabs: one mechanism for core apps and plugins alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from plugins.registry import registry

ALL_KINDS = ("*",)


@dataclass(frozen=True)
class EntityTab:
    """A tab on the entity page.

    ``render(request, entity) -> dict`` returns the template context for ``template``; ``kinds`` lists
    the entity kinds (lower-case) the tab applies to, or ``("*",)``; ``visible(entity) -> bool`` hides
    the tab when it has nothing to show.
    """

    slug: str
    label: str
    template: str
    render: Callable[[Any, Any], dict]
    kinds: tuple[str, ...] = ALL_KINDS
    weight: int = 100
    visible: Callable[[Any], bool] | None = field(default=None)

    def applies_to(self, entity) -> bool:
        if "*" not in self.kinds and entity.kind.lower() not in self.kinds:
            return False
        return self.visible is None or bool(self.visible(entity))


def register_entity_tab(tab: EntityTab) -> EntityTab:
    """Add a tab; a second tab with the same slug replaces nothing and fails loudly."""
    if any(existing.slug == tab.slug for existing in registry["entity_tabs"]):
        raise ValueError(f"An entity tab with slug {tab.slug!r} is already registered")
    registry["entity_tabs"].append(tab)
    return tab


def tabs_for(entity) -> list[EntityTab]:
    tabs = [tab for tab in registry["entity_tabs"] if tab.applies_to(entity)]
    return sorted(tabs, key=lambda tab: (tab.weight, tab.label))
