"""What the API, the CLI and the entity tab show: per scorecard that applies, the level and every rule."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from catalog.models import Entity
from catalog.models.entities import entity_path
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


def entity_report(entity: Entity, *, now: datetime | None = None) -> dict:
    """The API document for one entity (three queries)."""
    now = now or timezone.now()
    data_at = data_time(entity)
    age = max(0, int((now - data_at).total_seconds())) if data_at else None
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
            rules.append({
                "id": rule.get("id"),
                "level": rule.get("level"),
                "description": rule.get("description", ""),
                "remediation": rule.get("remediation", ""),
                "result": result.status if result else None,
                "reason": result.reason if result else "not evaluated yet",
                "since": result.changed_at.isoformat() if result else None,
                "dataAt": data_at.isoformat() if data_at else None,
                "dataAgeSeconds": age,
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
