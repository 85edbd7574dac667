"""The entity page's Scorecards tab, registered through the same mechanism plugins use."""

from __future__ import annotations

from plugins.api import EntityTab, register_entity_tab
from scorecards.models import EntityScore


def render(request, entity) -> dict:
    from scorecards.report import entity_report

    if entity.location_id:
        entity = type(entity).objects.select_related("location").get(pk=entity.pk)
    report = entity_report(entity)
    for card in report["scorecards"]:
        card["age"] = human_age(card["dataAgeSeconds"])
        for rule in card["rules"]:
            rule["since_text"] = (rule["since"] or "")[:16].replace("T", " ")
            rule["age"] = human_age(rule["dataAgeSeconds"])
    return {"report": report}


def human_age(seconds: int | None) -> str:
    if seconds is None:
        return "unknown"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def has_scores(entity) -> bool:
    return EntityScore.objects.filter(entity_ref=entity.ref).exists()


TAB = EntityTab("scorecards", "Scorecards", "scorecards/tab.html", render, weight=30, visible=has_scores)


def register_tabs() -> None:
    register_entity_tab(TAB)
