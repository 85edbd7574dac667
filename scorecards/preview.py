"""Blast radius: which entities would change level if a scorecard's definition became ``row`` (edited, not
saved). Evaluates it against the current catalog with the evaluator's own batching and scoring, and writes
nothing (tested: no INSERT, UPDATE or DELETE)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from catalog.models import Entity
from scorecards import evaluator
from scorecards.definitions import compile_scorecard
from scorecards.models import EntityScore, Scorecard

NOT_APPLYING = None


@dataclass(frozen=True)
class LevelChange:
    entity_ref: str
    before: str | None  # None: the scorecard does not apply today; "": applies, no level reached
    after: str | None

    def describe(self, value: str | None) -> str:
        return "not scored" if value is None else value or "no level"


@dataclass
class BlastRadius:
    entities: int = 0  # entities the edited definition applies to
    changes: list[LevelChange] = field(default_factory=list)
    errors: int = 0  # entities for which appliesTo errored (treated as not applying)


def blast_radius(row: Scorecard, *, now: datetime | None = None) -> BlastRadius:
    """Compare the level every valid entity would reach under ``row`` with the level stored for it now."""
    now = now or timezone.now()
    card = compile_scorecard(row)
    facts = evaluator.catalog_facts()
    exemptions = evaluator.active_exemptions(now) if row.pk else {}
    stored = dict(EntityScore.objects.filter(scorecard_id=row.pk).values_list("entity_ref", "level")) if row.pk else {}
    out, summary = BlastRadius(), evaluator.Summary()
    queryset = Entity.objects.filter(valid=True).order_by("ref")
    for batch in evaluator._batches(queryset, None):
        verdicts = {v.entity_ref: v.level for v in evaluator._evaluate_batch(batch, [card], facts, exemptions, summary)}
        for entity in batch:
            before, after = stored.get(entity.ref, NOT_APPLYING), verdicts.get(entity.ref, NOT_APPLYING)
            if before != after:
                out.changes.append(LevelChange(entity.ref, before, after))
    out.entities, out.errors = summary.scores, summary.applies_errors
    return out
