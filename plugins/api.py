"""The public import surface for plugin authors. Anything not re-exported here is private."""

from plugins.navigation import MenuItem, register_menu_item
from plugins.registry import registry
from plugins.scaffolder import ScaffolderAction, register_scaffolder_action
from plugins.tabs import EntityTab, register_entity_tab

API_VERSION = 1

__all__ = [
    "API_VERSION",
    "EntityTab",
    "MenuItem",
    "ScaffolderAction",
    "register_entity_tab",
    "register_menu_item",
    "register_scaffolder_action",
    "registry",
]
