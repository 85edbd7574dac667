"""What the scaffolder adds to the registry at start-up: its menu item."""

from __future__ import annotations

from plugins.navigation import MenuItem, register_menu_item


def register() -> None:
    register_menu_item(MenuItem("Create", "scaffolder:gallery", weight=20))
