"""The home page's "Scorecard fixes" panel: the failing rules of what the signed-in person owns (directly or
through their groups), most urgent first, and their unread notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from catalog.models import Entity
from catalog.ownership import identity_refs
from catalog.permissions import readable
from plugins.api import HomePanel, register_home_panel
from portal.notifications import unread_count
from scorecards.models import EntityScore, RuleResult, Status
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
    deadline: datetime | None = None  # initiatives will set this; earliest first when present

    def urgency(self) -> tuple:
        """Sort key: a deadline first (soonest first), then the rules that block the next level, lower levels
        before higher ones. Extend here when initiatives give deadlines."""
        return (self.deadline is None, self.deadline or FAR_FUTURE, self.gap, self.rule_level, self.entity_ref)


def my_fixes(user, *, limit: int | None = None) -> list[Fix]:
    """The rules that fail (or error) on the entities ``user`` may read and owns, most urgent first (four queries)."""
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
            rule_index - reached, scorecards_tab(result.entity_ref),
        ))  # fmt: skip
    fixes.sort(key=Fix.urgency)
    return fixes[:limit] if limit else fixes


def fixes_panel(request, owner_refs: set[str]) -> dict | None:
    fixes = my_fixes(request.user) if owner_refs else []
    unread = unread_count(request.user)
    if not fixes and not unread:
        return None
    return {"fixes": fixes[:15], "more": max(0, len(fixes) - 15), "unread": unread}


def register_home_panels() -> None:
    register_home_panel(HomePanel("scorecards", "scorecards/home_panel.html", fixes_panel, weight=15))
