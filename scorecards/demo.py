"""The demo organisation's scorecard data that no YAML can hold: one approved exemption.

The demo's scorecards and initiatives are YAML in ``demo/repos/engineering-standards``; an exemption is a
decision people make in Callboard, so ``manage.py demo load`` (``catalog.events.demo_loaded``) adds one:
the timetable service's on-call rule, waived for 60 days, which lifts it from Silver to Gold.
"""

from __future__ import annotations

from datetime import timedelta

from portal import clock
from scorecards.definitions import sync_from_catalog
from scorecards.models import Exemption, Scorecard

SCORECARD = "scorecard:default/production-readiness"
ENTITY = "component:default/timetable-service"
RULE = "on-call"
REASON = ("Paged through the journeys team's shared rota until the PagerDuty service is set up "
          "(tracked in the team's board).")  # fmt: skip


def add_demo_exemption(sender=None, **kwargs) -> Exemption | None:
    """Receiver of ``demo_loaded``: the approved exemption, once (nothing when the demo has no such rule)."""
    sync_from_catalog()
    card = Scorecard.objects.filter(ref=SCORECARD).first()
    if card is None or not any(rule.get("id") == RULE for rule in card.rules):
        return None
    now = clock.now()
    row, _ = Exemption.objects.get_or_create(
        scorecard=card, entity_ref=ENTITY, rule_id=RULE,
        defaults={"reason": REASON, "requested_by": "ana-silva", "approved_by": "admin", "approved_at": now,
                  "expires_at": now + timedelta(days=60)},
    )  # fmt: skip
    return row
