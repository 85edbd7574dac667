"""Reading the history: what an entity's level (or a rule's result) was at a given time."""

from __future__ import annotations

from datetime import datetime

from scorecards.models import Scorecard, Transition


def as_of(scorecard: Scorecard, entity_ref: str, when: datetime, *, rule_id: str = "") -> str | None:
    """The level (``rule_id`` blank) or the rule's result at ``when``; None when it had none yet (or the
    scorecard did not apply then). ``"-"`` is the level of an entity that reached none."""
    last = (
        Transition.objects.filter(scorecard=scorecard, entity_ref=entity_ref.lower(), rule_id=rule_id, at__lte=when)
        .order_by("-at", "-pk")
        .values_list("after", flat=True)
        .first()
    )
    return last or None
