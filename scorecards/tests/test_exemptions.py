"""Exemptions: an approved, unexpired one makes the rule 'exempt' (counted as passing) for that entity only."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from scorecards import evaluator
from scorecards.models import EntityScore, Exemption, RuleResult, Scorecard, Transition

pytestmark = pytest.mark.django_db

LEDGER = "component:default/ledger"


def result(ref: str, rule: str) -> tuple[str, str]:
    row = RuleResult.objects.get(entity_ref=ref, rule_id=rule)
    return row.status, row.reason


def exemption(**fields) -> Exemption:
    card = Scorecard.objects.get()
    values = {"scorecard": card, "entity_ref": LEDGER, "rule_id": "described", "reason": "Docs move next quarter",
              "requested_by": "pat"} | fields  # fmt: skip
    row = Exemption(**values)
    row.full_clean()
    row.save()
    return row


def test_an_approved_exemption_counts_as_passing_for_that_entity_only(scored_org):
    evaluator.evaluate()
    now = timezone.now()
    exemption(approved_by="lead", approved_at=now, expires_at=now + timedelta(days=30))
    evaluator.evaluate()
    status, reason = result(LEDGER, "described")
    assert status == "exempt" and "approved by lead: Docs move next quarter" in reason
    assert EntityScore.objects.get(entity_ref=LEDGER).level == "Silver"
    assert result("component:default/orphan-svc", "described")[0] == "failed"
    last = Transition.objects.filter(entity_ref=LEDGER, rule_id="described").order_by("pk").last()
    assert (last.before, last.after) == ("failed", "exempt")


def test_unapproved_and_expired_exemptions_do_not_count(scored_org):
    evaluator.evaluate()
    exemption()  # requested, not approved
    exemption(rule_id="docs", approved_by="lead", approved_at=timezone.now(),
              expires_at=timezone.now() - timedelta(minutes=1))  # fmt: skip
    evaluator.evaluate()
    assert result(LEDGER, "described")[0] == "failed" and result(LEDGER, "docs")[0] == "failed"


def test_an_exemption_names_a_rule_of_its_scorecard(scored_org):
    evaluator.evaluate()
    with pytest.raises(ValidationError, match="is not a rule of scorecard:default/production-readiness"):
        exemption(rule_id="no-such-rule")


def test_the_admin_approves_with_the_approvers_name(scored_org, client):
    evaluator.evaluate()
    row = exemption()
    admin = get_user_model().objects.create_superuser("lead", "lead@example.com", "pw")
    client.force_login(admin)
    response = client.post("/admin/scorecards/exemption/", {"action": "approve", "_selected_action": [row.pk]})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.approved_by == "lead" and row.approved_at is not None
    evaluator.evaluate()
    assert result(LEDGER, "described")[0] == "exempt"
