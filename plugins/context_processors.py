"""Values every page template can use: the navigation menu from the registry."""

from __future__ import annotations

from django.conf import settings

from plugins.registry import registry
from portal.access import decide


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    items = [
        item
        for item in sorted(registry["menu_items"], key=lambda item: item.weight)
        if not item.action or decide(user, item.action).allowed
    ]
    return {"portal_menu": items, "portal_debug": settings.DEBUG}
