"""What the catalog adds to the registry at start-up: menu items and entity tabs."""

from __future__ import annotations

from plugins.navigation import MenuItem, register_menu_item
from plugins.registry import registry
from plugins.tabs import register_entity_tab
from portal.access import actions


def register() -> None:
    from catalog.tabs import BUILTIN_TABS

    register_menu_item(MenuItem("Home", "catalog:home", weight=0))
    register_menu_item(MenuItem("Catalog", "catalog:entity_list", weight=10))
    register_menu_item(MenuItem("Register", "catalog:register", weight=90, action=actions.LOCATION_REGISTER))
    existing = {tab.slug for tab in registry["entity_tabs"]}
    for tab in BUILTIN_TABS:
        if tab.slug not in existing:
            register_entity_tab(tab)


def track_audited_models() -> None:
    """Ownership overrides and catalog rules are governance: every change goes to the audit log."""
    from catalog.models import CatalogRule, EntityOverride
    from portal.audit import track

    track(EntityOverride, label="catalog.override", exclude=["updated_at"])
    track(CatalogRule, label="catalog.rule")
