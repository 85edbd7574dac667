"""What the API, the CLI and the entity tab show: per scorecard that applies, the level and every rule."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from catalog.models import Entity
from catalog.models.entities import entity_path
from scorecards.cel import uses_facts
from scorecards.definitions import enable_on
from scorecards.models import EntityScore, RuleResult


def scorecards_tab(entity_ref: str) -> str:
    """The path of the entity's Scorecards tab ("" if no path can name it)."""
    kind, _, rest = entity_ref.partition(":")
    namespace, _, name = rest.partition("/")
    return entity_path(namespace, kind, name, "entity_tab", "scorecards")


def data_time(entity: Entity) -> datetime | None:
    """When the facts rules read were collected: the catalog's last read of the entity's source."""
    checked = entity.location.last_checked_at if entity.location_id else None
    return checked or entity.updated_at


def _age(now: datetime, at: datetime | None) -> int | None:
    return max(0, int((now - at).total_seconds())) if at else None


def entity_report(entity: Entity, *, now: datetime | None = None) -> dict:
    """The API document for one entity (three queries).

    A rule's ``dataAt`` is when the oldest fact it read was collected (rules calling fact helpers), else when
    the catalog read the entity. A rule whose ``enableOn`` is still ahead has ``counted: false``."""
    now = now or timezone.now()
    data_at = data_time(entity)
    age = _age(now, data_at)
    scores = list(EntityScore.objects.filter(entity_ref=entity.ref).select_related("scorecard")
                  .order_by("scorecard__ref"))  # fmt: skip
    results = {(r.scorecard_id, r.rule_id): r for r in RuleResult.objects.filter(entity_ref=entity.ref)}
    cards = []
    for score in scores:
        card = score.scorecard
        levels = card.levels
        reached = levels.index(score.level) if score.level in levels else -1
        rules = []
        for rule in card.rules:
            result = results.get((card.pk, rule.get("id")))
            from_facts = result is not None and result.data_at and uses_facts(rule.get("expression", ""))
            rule_at = result.data_at if from_facts else data_at
            starts = enable_on(rule)
            rules.append({
                "id": rule.get("id"),
                "level": rule.get("level"),
                "description": rule.get("description", ""),
                "remediation": rule.get("remediation", ""),
                "result": result.status if result else None,
                "reason": result.reason if result else "not evaluated yet",
                "since": result.changed_at.isoformat() if result else None,
                "dataAt": rule_at.isoformat() if rule_at else None,
                "dataAgeSeconds": _age(now, rule_at),
                "enableOn": starts.isoformat() if starts else None,
                "counted": starts is None or starts <= now.date(),
            })  # fmt: skip
        cards.append({
            "scorecard": card.ref,
            "title": card.title or card.name,
            "owner": card.spec.get("owner", ""),
            "levels": levels,
            "level": score.level or None,
            "nextLevel": levels[reached + 1] if reached + 1 < len(levels) else None,
            "points": score.passed,
            "total": score.total,
            "percentage": round(100 * score.passed / score.total) if score.total else 100,
            "since": score.changed_at.isoformat(),
            "dataAt": data_at.isoformat() if data_at else None,
            "dataAgeSeconds": age,
            "rules": rules,
        })  # fmt: skip
    return {"entityRef": entity.ref, "scorecards": cards}
