"""Catalog pages: home, entity list, entity page and its tabs, registering a location."""

from catalog.views.actions import edit_overrides, refresh_entity, unregister_entity
from catalog.views.entities import entity_detail, entity_list, entity_tab, toggle_star
from catalog.views.home import home
from catalog.views.register import register_location

__all__ = [
    "edit_overrides",
    "entity_detail",
    "entity_list",
    "entity_tab",
    "home",
    "refresh_entity",
    "register_location",
    "toggle_star",
    "unregister_entity",
]
