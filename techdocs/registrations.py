"""What TechDocs adds to the portal through the plugin registry: the Docs tab and the docs home."""

from __future__ import annotations

from plugins.api import EntityTab, MenuItem, register_entity_tab, register_menu_item


def register() -> None:
    from techdocs import reader

    register_entity_tab(
        EntityTab("docs", "Docs", "techdocs/tab.html", reader.docs_tab, weight=15, visible=reader.tab_visible)
    )
    register_menu_item(MenuItem("Docs", "techdocs:home", weight=20))
