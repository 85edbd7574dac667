"""The entity page's Scorecards tab, registered through the same mechanism plugins use."""

from __future__ import annotations

from plugins.api import EntityTab, register_entity_tab
from scorecards.models import EntityScore


def render(request, entity) -> dict:
    from scorecards.report import entity_report

    if entity.location_id:
        entity = type(entity).objects.select_related("location").get(pk=entity.pk)
    return {"report": entity_report(entity)}


def has_scores(entity) -> bool:
    return EntityScore.objects.filter(entity_ref=entity.ref).exists()


TAB = EntityTab("scorecards", "Scorecards", "scorecards/tab.html", render, weight=30, visible=has_scores)


def register_tabs() -> None:
    register_entity_tab(TAB)
