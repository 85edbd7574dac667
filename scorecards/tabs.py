"""The entity page's Scorecards tab, registered through the same mechanism plugins use."""

from __future__ import annotations

from plugins.api import EntityTab, register_entity_tab
from scorecards.models import EntityScore, Exemption, Scorecard


def render(request, entity) -> dict:
    from scorecards.report import entity_report

    if entity.location_id:
        entity = type(entity).objects.select_related("location").get(pk=entity.pk)
    from scorecards.exemptions import may_request

    report = entity_report(entity)
    latest = latest_exemptions(entity.ref)
    cards = dict(Scorecard.objects.filter(ref__in=[c["scorecard"] for c in report["scorecards"]])
                 .values_list("ref", "pk"))  # fmt: skip
    for card in report["scorecards"]:
        card["age"] = human_age(card["dataAgeSeconds"])
        card["namespace"], _, card["name"] = card["scorecard"].partition(":")[2].partition("/")  # for its page link
        card["pk"] = cards.get(card["scorecard"])
        for rule in card["rules"]:
            rule["since_text"] = (rule["since"] or "")[:16].replace("T", " ")
            rule["exemption"] = latest.get((card["pk"], rule["id"]))
            rule["age"] = human_age(rule["dataAgeSeconds"])
    return {"report": report, "may_request": may_request(request.user, entity)}


def latest_exemptions(entity_ref: str) -> dict[tuple[int, str], Exemption]:
    """The newest exemption (pending, approved, denied or expired) per (scorecard, rule) of one entity."""
    found: dict[tuple[int, str], Exemption] = {}
    for row in Exemption.objects.filter(entity_ref=entity_ref).order_by("requested_at", "pk"):
        found[row.scorecard_id, row.rule_id] = row
    return found


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
