"""Scorecard pages: the index, one scorecard, one initiative, one team; and the README badges."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import get_object_or_404, render

from catalog.permissions import hidden_refs
from portal import clock
from scorecards import badges, charts, initiatives, overview
from scorecards.history import NONE, distribution_as_of, trend
from scorecards.models import Initiative, Scorecard

TREND_DAYS = 30


def index(request):
    """Every scorecard with its distribution of levels, and every initiative with its progress."""
    cards = []
    for card in Scorecard.objects.order_by("title", "name"):
        summary = overview.scorecard_summary(card, request.user)
        summary["bar"] = charts.distribution_bar(card.levels, summary["distribution"])
        cards.append(summary)
    states = [initiatives.progress(i) for i in Initiative.objects.select_related("scorecard")]
    return render(request, "scorecards/index.html", {"cards": cards, "initiatives": states})


def scorecard_page(request, namespace: str, name: str):
    card = get_object_or_404(Scorecard, ref=f"scorecard:{namespace}/{name}".lower())
    summary = overview.scorecard_summary(card, request.user)
    rows = summary["rows"]
    level = request.GET.get("level", "")
    team = request.GET.get("team", "")
    shown = [r for r in rows if (not level or r.level == level) and (not team or r.team == team)]
    now = clock.now()
    refs = None if not overview.readable_refs_q(request.user) else {r.entity.ref for r in rows}
    series = trend(card, days=TREND_DAYS, now=now, refs=refs)
    context = {
        **summary, "shown": shown, "level": level, "team": team, "none": NONE,
        "bar": charts.distribution_bar(card.levels, summary["distribution"]),
        "trend": charts.trend_chart(card.levels, series), "trend_days": TREND_DAYS,
        "month_ago": distribution_as_of(card, now - timedelta(days=TREND_DAYS), refs=refs),
        "rules": overview.rule_pass_rates(card, request.user),
        "legend": [{"level": lv, "label": "no level" if lv == NONE else lv, "count": n,
                    "colour": charts.level_colour(card.levels, lv)} for lv, n in summary["distribution"].items()],
        "initiatives": card.initiatives.all(),
    }  # fmt: skip
    template = "scorecards/_entities.html" if request.htmx and request.htmx.target == "entities" else None
    return render(request, template or "scorecards/scorecard.html", context)


def initiative_page(request, slug: str):
    initiative = get_object_or_404(Initiative.objects.select_related("scorecard"), slug=slug)
    state = initiatives.progress(initiative)
    hidden = hidden_refs([e.ref for e in state.left], request.user)
    chart = charts.burnup_chart(state.burnup, total=state.total, start=initiative.starts_at.date(),
                                deadline=initiative.deadline)  # fmt: skip
    return render(request, "scorecards/initiative.html", {
        "initiative": initiative, "state": state, "burnup": chart,
        "left": [e for e in state.left if e.ref not in hidden], "hidden": len(hidden),
    })  # fmt: skip


def team_page(request, namespace: str, name: str):
    return render(request, "scorecards/team.html", team_context(request, f"group:{namespace}/{name}".lower()))


def team_context(request, group_ref: str) -> dict:
    """The team page's content; also the Scorecards tab of a Group entity."""
    entities = overview.team_entities(group_ref, request.user)
    card_ids = {c["card"].pk for e in entities for c in e.cards}
    refs = {e.entity.ref for e in entities}
    affecting = []
    for initiative in Initiative.objects.filter(scorecard__in=card_ids).select_related("scorecard"):
        state = initiatives.progress(initiative)
        mine = [e for e in state.entities if e.ref in refs]
        if mine:
            affecting.append({"state": state, "total": len(mine), "done": sum(e.done for e in mine)})
    fixes = sum(len(c["fixes"]) for e in entities for c in e.cards)
    return {"group_ref": group_ref, "title": overview.team_title(group_ref), "entities": entities,
            "initiatives": affecting, "fix_count": fixes}  # fmt: skip


@login_not_required  # READMEs load badges without a session; badges.badge_for decides who sees what
def badge(request, kind: str, namespace: str, name: str, scorecard: str):
    """``/badges/scorecards/{kind}/{namespace}/{name}/{scorecard}.svg`` (docs/scorecards.md#badges)."""
    answer = badges.badge_for(request, f"{kind}:{namespace}/{name}".lower(), namespace.lower(), scorecard)
    return badges.response(*answer)
