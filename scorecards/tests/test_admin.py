"""Scorecards written in the Django admin are validated as the catalog validates them; catalog ones are read-only."""

import json

import pytest
from django.contrib.auth import get_user_model

from scorecards.models import Scorecard
from scorecards.tests.fixtures import ORG, SCORECARD, load

pytestmark = pytest.mark.django_db

SPEC = {
    "owner": "group:default/payments",
    "appliesTo": 'entity.kind == "Component"',
    "levels": ["Bronze"],
    "rules": [{"id": "described", "level": "Bronze", "expression": "has_description(entity)", "description": "D"}],
}


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def post(client, spec, name="admin-card"):
    data = {"namespace": "default", "name": name, "title": "", "description": "", "spec": json.dumps(spec)}
    return client.post("/admin/scorecards/scorecard/add/", data)


def test_a_valid_scorecard_is_saved(admin_client):
    response = post(admin_client, SPEC)
    assert response.status_code == 302, response.content.decode()[:2000]
    card = Scorecard.objects.get()
    assert card.ref == "scorecard:default/admin-card" and card.source == Scorecard.Source.ADMIN


def test_an_invalid_expression_is_refused_on_save_with_its_position(admin_client):
    spec = {**SPEC, "rules": [{**SPEC["rules"][0], "expression": "has_description(entity) &&"}]}
    response = post(admin_client, spec)
    assert response.status_code == 200
    page = response.content.decode()
    assert "spec.rules[0].expression is not a valid CEL expression: line 1, column 27" in page
    assert not Scorecard.objects.exists()


def test_a_rule_level_outside_the_levels_is_refused(admin_client):
    spec = {**SPEC, "rules": [{**SPEC["rules"][0], "level": "Gold"}]}
    page = post(admin_client, spec).content.decode()
    assert "spec.rules[0].level" in page and "is not one of spec.levels" in page


def test_catalog_scorecards_are_mirrored_read_only(admin_client, allow_tmp):
    from scorecards.definitions import sync_from_catalog

    load(allow_tmp, ORG, SCORECARD)
    assert sync_from_catalog() == 1
    assert sync_from_catalog() == 0  # unchanged: nothing written
    card = Scorecard.objects.get(ref="scorecard:default/production-readiness")
    assert card.source == Scorecard.Source.CATALOG and card.title == "Production readiness"
    page = admin_client.get(f"/admin/scorecards/scorecard/{card.pk}/change/").content.decode()
    assert 'name="spec"' not in page  # shown, not editable
    assert admin_client.post(f"/admin/scorecards/scorecard/{card.pk}/delete/", {"post": "yes"}).status_code == 403


def test_a_ref_already_taken_is_refused(admin_client):
    assert post(admin_client, SPEC).status_code == 302
    page = post(admin_client, SPEC).content.decode()
    assert "scorecard:default/admin-card already exists" in page
    assert Scorecard.objects.count() == 1
