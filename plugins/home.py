"""Home-page panels: what each app adds to a person's "my stuff" (one mechanism for core apps and plugins)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from plugins.registry import registry


@dataclass(frozen=True)
class HomePanel:
    """A panel on the home page. ``render(request, owner_refs) -> dict | None`` returns its template context
    (``owner_refs``: the person's own ref and their groups'), or None to leave the panel out."""

    slug: str
    template: str
    render: Callable[[Any, set[str]], dict | None]
    weight: int = 100


def register_home_panel(panel: HomePanel) -> HomePanel:
    if any(existing.slug == panel.slug for existing in registry["home_panels"]):
        raise ValueError(f"A home panel with slug {panel.slug!r} is already registered")
    registry["home_panels"].append(panel)
    return panel


def panels_for(request, owner_refs: set[str]) -> list[tuple[HomePanel, dict]]:
    """The panels with something to show, in weight order, each with its context."""
    shown = []
    for panel in sorted(registry["home_panels"], key=lambda p: (p.weight, p.slug)):
        context = panel.render(request, owner_refs)
        if context is not None:
            shown.append((panel, context))
    return shown
