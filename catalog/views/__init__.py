"""Catalog pages: home, entity list, entity page and its tabs, registering a location."""

from catalog.views.entities import entity_detail, entity_list, entity_tab, toggle_star
from catalog.views.home import home
from catalog.views.register import register_location

__all__ = ["entity_detail", "entity_list", "entity_tab", "home", "register_location", "toggle_star"]
