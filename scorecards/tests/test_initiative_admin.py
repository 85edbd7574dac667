"""Initiatives in the admin: validated against their scorecard on save; catalog ones read-only; audited."""

import pytest
from django.contrib.auth import get_user_model

from portal import clock
from portal.models import AuditEvent
from scorecards import evaluator
from scorecards.models import Initiative, Scorecard
from scorecards.tests.fixtures import ORG, SCORECARD, load
from scorecards.tests.test_initiatives import INITIATIVE

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    return client


def post(client, card, **fields):
    now = clock.now()
    data = {"slug": "silver", "title": "Silver", "description": "", "scorecard": card.pk, "target_level": "Silver",
            "rule_ids": "[]", "applies_to": "", "owner": "Group:default/Payments",
            "starts_at_0": now.strftime("%Y-%m-%d"), "starts_at_1": now.strftime("%H:%M:%S"),
            "deadline": now.strftime("%Y-%m-%d")} | fields  # fmt: skip
    return client.post("/admin/scorecards/initiative/add/", data)


def test_an_initiative_is_written_in_the_admin_validated_and_audited(admin_client, scored_org):
    evaluator.evaluate()
    card = Scorecard.objects.get()
    refused = post(admin_client, card, target_level="Platinum")
    assert refused.status_code == 200 and "is not a level of scorecard:default/production-readiness" in (
        refused.content.decode())  # fmt: skip
    assert post(admin_client, card).status_code == 302
    row = Initiative.objects.get()
    assert row.owner == "group:default/payments" and row.source == "admin"
    assert AuditEvent.objects.filter(action__startswith="scorecards.initiative").exists()
    assert admin_client.get("/admin/scorecards/initiative/").status_code == 200


def test_catalog_initiatives_are_read_only(admin_client, allow_tmp):
    load(allow_tmp, ORG, SCORECARD, INITIATIVE)
    evaluator.evaluate()
    row = Initiative.objects.get()
    page = admin_client.get(f"/admin/scorecards/initiative/{row.pk}/change/").content.decode()
    assert 'name="title"' not in page and "Silver by the new year" in page
    assert admin_client.get(f"/admin/scorecards/initiative/{row.pk}/delete/").status_code == 403
