"""Values every page template can use: the navigation menu from the registry."""

from __future__ import annotations

from django.conf import settings

from plugins.registry import registry


def navigation(request) -> dict:
    items = sorted(registry["menu_items"], key=lambda item: item.weight)
    return {"portal_menu": items, "portal_debug": settings.DEBUG}
