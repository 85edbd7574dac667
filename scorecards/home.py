"""The home page's "Scorecard fixes" panel: the failing rules of what the signed-in person owns (directly or
through their groups), most urgent first, and their unread notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from catalog.models import Entity
from catalog.ownership import identity_refs
from catalog.permissions import readable
from plugins.api import HomePanel, register_home_panel
from portal import clock
from portal.notifications import unread_count
from scorecards.models import EntityScore, Initiative, RuleResult, Status
from scorecards.report import scorecards_tab

MAX_OWNED = 500
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass
class Fix:
    entity_ref: str
    entity_name: str
    scorecard: str
    rule_id: str
    description: str
    remediation: str
    rule_level: str
    level: str  # the level the entity has now ("" for none)
    status: str
    reason: str
    gap: int  # levels between the one reached and the rule's: 1 means it blocks the next level
    url: str
    deadline: datetime | None = None  # the earliest deadline of the initiatives that need this rule
    initiative: str = ""  # that initiative's title
    scorecard_id: int = 0

    def urgency(self) -> tuple:
        """Sort key: a deadline first (soonest first), then the rules that block the next level, lower levels
        before higher ones."""
        return (self.deadline is None, self.deadline or FAR_FUTURE, self.gap, self.rule_level, self.entity_ref)


def my_fixes(user, *, limit: int | None = None) -> list[Fix]:
    """The rules that fail (or error) on the entities ``user`` may read and owns, most urgent first
    (five queries, plus one per initiative with an appliesTo)."""
    refs = identity_refs(user)
    if not refs:
        return []
    owned = readable(Entity.objects.owned_by(refs), user).only("ref", "name", "title", "namespace", "kind")
    names = {e.ref: e.display_name for e in owned.order_by("ref")[:MAX_OWNED]}
    if not names:
        return []
    scores = EntityScore.objects.filter(entity_ref__in=names).values_list("scorecard_id", "entity_ref", "level")
    levels = {(card, ref): level for card, ref, level in scores}
    failing = (RuleResult.objects.filter(entity_ref__in=names, status__in=[Status.FAILED, Status.ERROR])
               .select_related("scorecard"))  # fmt: skip
    fixes = []
    for result in failing:
        card = result.scorecard
        rule = next((r for r in card.rules if r.get("id") == result.rule_id), None)
        if rule is None:
            continue
        order = card.levels
        level = levels.get((card.pk, result.entity_ref), "")
        reached = order.index(level) if level in order else -1
        rule_index = order.index(rule["level"]) if rule.get("level") in order else len(order)
        fixes.append(Fix(
            result.entity_ref, names[result.entity_ref], str(card), result.rule_id, rule.get("description", ""),
            rule.get("remediation", ""), rule.get("level", ""), level, result.status, result.reason,
            rule_index - reached, scorecards_tab(result.entity_ref), scorecard_id=card.pk,
        ))  # fmt: skip
    add_deadlines(fixes, levels=_rules_by_card(failing))
    fixes.sort(key=Fix.urgency)
    return fixes[:limit] if limit else fixes


def _rules_by_card(failing) -> dict[int, dict[str, dict]]:
    return {result.scorecard_id: {r.get("id"): r for r in result.scorecard.rules} for result in failing}


def add_deadlines(fixes: list[Fix], *, levels: dict[int, dict[str, dict]]) -> None:
    """Give each fix the earliest deadline of the initiatives that need its rule passed on its entity
    (one query for the initiatives, and one per initiative with an ``applies_to`` to check the scope)."""
    from scorecards.initiatives import covers, in_scope

    by_card: dict[int, list[Fix]] = {}
    for fix in fixes:
        by_card.setdefault(fix.scorecard_id, []).append(fix)
    if not by_card:
        return
    for initiative in Initiative.objects.filter(scorecard_id__in=list(by_card)).select_related("scorecard"):
        mine = by_card[initiative.scorecard_id]
        refs = {f.entity_ref for f in mine}
        if initiative.applies_to.strip():
            refs = {e.ref for e in in_scope(initiative, refs)}
        due = datetime.combine(initiative.deadline, time.max, tzinfo=UTC)
        rules = levels.get(initiative.scorecard_id, {})
        for fix in mine:
            rule = rules.get(fix.rule_id)
            needed = fix.entity_ref in refs and rule is not None and covers(initiative, rule)
            if needed and (fix.deadline is None or due < fix.deadline):
                fix.deadline, fix.initiative = due, initiative.title


def fixes_panel(request, owner_refs: set[str]) -> dict | None:
    fixes = my_fixes(request.user) if owner_refs else []
    unread = unread_count(request.user)
    if not fixes and not unread:
        return None
    return {"fixes": fixes[:15], "more": max(0, len(fixes) - 15), "unread": unread, "now": clock.now()}


def register_home_panels() -> None:
    register_home_panel(HomePanel("scorecards", "scorecards/home_panel.html", fixes_panel, weight=15))
