"""Blast radius: what an edited definition would change, computed without writing anything."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scorecards import evaluator
from scorecards.models import EntityScore, Scorecard, Transition
from scorecards.preview import blast_radius

pytestmark = pytest.mark.django_db

SPEC = {
    "owner": "group:default/payments",
    "appliesTo": 'entity.kind == "Component"',
    "levels": ["Bronze", "Silver"],
    "rules": [
        {"id": "lifecycle", "level": "Bronze", "expression": "has(entity.spec.lifecycle)", "description": "Lifecycle"},
        {"id": "system", "level": "Silver", "expression": "has_system(entity)", "description": "In a system"},
    ],
}


@pytest.fixture
def admin_card(scored_org):
    card = Scorecard.objects.create(name="basics", title="Basics", spec=SPEC)
    evaluator.evaluate()
    return card


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_an_edited_rule_lists_the_entities_whose_level_would_change_and_writes_nothing(admin_card):
    assert EntityScore.objects.get(scorecard=admin_card, entity_ref="component:default/checkout").level == "Silver"
    edited = Scorecard.objects.get(pk=admin_card.pk)
    edited.spec = {**SPEC, "rules": [SPEC["rules"][0], {**SPEC["rules"][1], "expression": "false"}]}
    transitions = Transition.objects.count()
    with CaptureQueriesContext(connection) as queries:
        result = blast_radius(edited)
    assert writes(queries.captured_queries) == []
    changes = [(c.entity_ref, c.before, c.after) for c in result.changes]
    assert changes == [("component:default/checkout", "Silver", "Bronze")]
    assert result.entities == 4 and Transition.objects.count() == transitions
    narrowed = Scorecard.objects.get(pk=admin_card.pk)
    narrowed.spec = {**SPEC, "appliesTo": 'entity.spec.type == "website"'}
    changed = {c.entity_ref: (c.before, c.after) for c in blast_radius(narrowed).changes}
    assert changed["component:default/checkout"] == ("Silver", None)  # would no longer apply
    assert "component:default/site" not in changed


def test_a_new_scorecard_previews_every_entity_it_would_score(scored_org):
    evaluator.evaluate()
    result = blast_radius(Scorecard(name="new", spec=SPEC))
    names = {c.entity_ref.split("/")[1] for c in result.changes}
    assert names == {"checkout", "ledger", "orphan-svc", "site"}
    assert all(c.before is None for c in result.changes)


def test_the_admin_preview_button_answers_with_the_list(admin_card, admin_client):
    spec = {**SPEC, "rules": [SPEC["rules"][0], {**SPEC["rules"][1], "expression": "false"}]}
    form = {"namespace": "default", "name": "basics", "title": "Basics", "description": "", "spec": json.dumps(spec)}
    response = admin_client.post(f"/admin/scorecards/scorecard/{admin_card.pk}/preview/", form, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and "1 entity would change level" in page
    assert "component:default/checkout" in page and "Silver" in page and "Bronze" in page
    bad = admin_client.post(f"/admin/scorecards/scorecard/{admin_card.pk}/preview/",
                            {**form, "spec": json.dumps({**spec, "appliesTo": "entity.kind =="})})  # fmt: skip
    assert "Fix these first" in bad.content.decode() and "appliesTo" in bad.content.decode()
    assert Scorecard.objects.get(pk=admin_card.pk).spec == SPEC  # nothing saved
    change = admin_client.get(f"/admin/scorecards/scorecard/{admin_card.pk}/change/").content.decode()
    assert "Preview level changes" in change
    assert admin_client.get(f"/admin/scorecards/scorecard/{admin_card.pk}/preview/").status_code == 400  # POST only


def test_a_catalog_scorecard_offers_what_if_on_an_edited_copy(scored_org, admin_client):
    evaluator.evaluate()
    card = Scorecard.objects.get(source="catalog")
    change = admin_client.get(f"/admin/scorecards/scorecard/{card.pk}/change/").content.decode()
    assert "What if" in change and "has_techdocs(entity)" in change
    spec = {**card.spec, "rules": [r for r in card.spec["rules"] if r["id"] != "described"]}  # drop a Silver rule
    form = {"whatif_spec": json.dumps(spec)}
    page = admin_client.post(f"/admin/scorecards/scorecard/{card.pk}/preview/", form).content.decode()
    assert "1 entity would change level" in page and "component:default/ledger" in page  # Bronze -> Silver
    assert Scorecard.objects.get(pk=card.pk).spec == card.spec
