"""The one registry. Its stores are fixed when it is created: a typo fails loudly.

Stores (documented in docs/development/registry.md):
- ``entity_tabs``: EntityTab objects, drawn on entity pages for the kinds they name.
- ``menu_items``: MenuItem objects for the top navigation.
- ``home_panels``: HomePanel objects drawn on the home page.
- ``scaffolder_actions``: ScaffolderAction objects by id (``plugins.scaffolder.register_scaffolder_action``).
- ``fact_collectors``: FactCollector objects by name (``plugins.facts.register_fact_collector``).
- ``scorecard_checks``, ``search``, ``techdocs_preprocessors``, ``periodic_jobs``: reserved for the apps that
  fill them.
"""

from __future__ import annotations

from typing import Any

STORES = (
    "entity_tabs",
    "menu_items",
    "scaffolder_actions",
    "scorecard_checks",
    "fact_collectors",
    "search",
    "techdocs_preprocessors",
    "periodic_jobs",
    "home_panels",
)


class Registry(dict):
    """A dict whose keys are fixed: stores can be read and filled, never added, replaced or removed."""

    def __getitem__(self, key: str) -> Any:
        try:
            return super().__getitem__(key)
        except KeyError as exc:
            raise KeyError(f"Unknown registry store {key!r}; stores are {', '.join(STORES)}") from exc

    def __setitem__(self, key: str, value: Any) -> None:
        raise TypeError("Registry stores cannot be replaced")

    def __delitem__(self, key: str) -> None:
        raise TypeError("Registry stores cannot be deleted")


registry = Registry()
for _store in STORES:
    dict.__setitem__(registry, _store, [] if _store in ("entity_tabs", "menu_items", "home_panels") else {})
