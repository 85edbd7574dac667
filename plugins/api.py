"""The public import surface for plugin authors. Anything not re-exported here is private."""

from plugins.facts import FactCollector, FactSource, register_fact_collector
from plugins.home import HomePanel, register_home_panel
from plugins.navigation import MenuItem, register_menu_item
from plugins.registry import registry
from plugins.scaffolder import ScaffolderAction, register_scaffolder_action
from plugins.search import SearchDocument, index_documents, register_search_indexer
from plugins.tabs import EntityTab, register_entity_tab

API_VERSION = 1

__all__ = [
    "API_VERSION", "EntityTab", "FactCollector", "FactSource", "HomePanel", "MenuItem", "ScaffolderAction",
    "SearchDocument", "index_documents", "register_entity_tab", "register_fact_collector", "register_home_panel",
    "register_menu_item", "register_scaffolder_action", "register_search_indexer", "registry",
]  # fmt: skip
