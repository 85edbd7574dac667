"""Top navigation entries."""

from __future__ import annotations

from dataclasses import dataclass

from plugins.registry import registry


@dataclass(frozen=True)
class MenuItem:
    """A link in the top navigation. ``url_name`` is resolved when the page renders, never at import."""

    label: str
    url_name: str
    weight: int = 100
    staff_only: bool = False
    action: str = ""  # shown only to people allowed this (target-less) action, e.g. catalog.location.register


def register_menu_item(item: MenuItem) -> MenuItem:
    if any(existing.url_name == item.url_name for existing in registry["menu_items"]):
        return item
    registry["menu_items"].append(item)
    return item
