"""GET /api/scorecards/entities/{kind}/{namespace}/{name} and `manage.py scorecards evaluate`."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from portal.testing.access import token_client
from scorecards import evaluator

pytestmark = pytest.mark.django_db

URL = "/api/scorecards/entities/component/default/ledger"


@pytest.fixture
def user():
    return get_user_model().objects.create_user("outsider", "outsider@example.com", "pw")


def test_the_document_lists_level_rules_reasons_and_data_age(scored_org, user, django_assert_max_num_queries):
    evaluator.evaluate()
    api = token_client(user, scopes=["catalog:read"])
    api.get(URL)  # warms the access policy cache
    with django_assert_max_num_queries(8):
        response = api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["entityRef"] == "component:default/ledger"
    [card] = body["scorecards"]
    assert {k: card[k] for k in ("scorecard", "title", "level", "nextLevel", "points", "total", "percentage")} == {
        "scorecard": "scorecard:default/production-readiness", "title": "Production readiness", "level": "Bronze",
        "nextLevel": "Silver", "points": 2, "total": 4, "percentage": 50,
    }  # fmt: skip
    assert card["levels"] == ["Bronze", "Silver", "Gold"] and card["dataAt"] and card["dataAgeSeconds"] >= 0
    rules = {r["id"]: r for r in card["rules"]}
    assert [r["id"] for r in card["rules"]] == ["lifecycle-set", "owner-is-group", "described", "docs"]
    assert (
        rules["described"]["result"] == "failed" and rules["described"]["reason"] == "metadata.description is missing"
    )
    assert rules["lifecycle-set"]["remediation"] == "Add spec.lifecycle to catalog-info.yaml"
    assert set(rules["docs"]) == {"id", "level", "description", "remediation", "result", "reason", "since", "dataAt",
                                  "dataAgeSeconds", "enableOn", "counted"}  # fmt: skip


def test_entities_without_results_and_unknown_entities(scored_org, user):
    api = token_client(user, scopes=["catalog:read"])
    assert api.get("/api/scorecards/entities/component/default/site").json() == {
        "entityRef": "component:default/site", "scorecards": []}  # fmt: skip
    assert api.get("/api/scorecards/entities/component/default/nope").status_code == 404


def test_read_permission_follows_the_entity(scored_org, user, settings):
    evaluator.evaluate()
    settings.CALLBOARD_DEFAULT_ROLE = "none"  # the outsider owns nothing, so may read nothing
    api = token_client(user, scopes=["catalog:read"])
    assert api.get("/api/catalog/entities/by-name/component/default/ledger").status_code == 404
    assert api.get(URL).status_code == 404
    pat = get_user_model().objects.create_user("pat", "pat@example.com", "pw")  # user:default/pat, in payments
    assert token_client(pat, scopes=["catalog:read"]).get(URL).status_code == 200  # owners read their entities
    assert token_client(user, scopes=["scaffolder:run"]).get(URL).status_code == 403
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    assert token_client(admin).get(URL).status_code == 200


def test_the_command_evaluates_without_a_worker_and_prints_what_the_api_returns(scored_org, user):
    out, err = StringIO(), StringIO()
    call_command("scorecards", "evaluate", "--entity", "ledger", "--json", stdout=out, stderr=err)
    printed = json.loads(out.getvalue())
    api = token_client(user, scopes=["catalog:read"]).get(URL).json()
    for doc in (printed, api):
        for card in doc["scorecards"]:
            card.pop("dataAgeSeconds")
            for rule in card["rules"]:
                rule.pop("dataAgeSeconds")
    assert printed == api
    assert "Evaluated 1 entities" in err.getvalue()


def test_the_command_prints_every_entity_as_text(scored_org):
    out = StringIO()
    call_command("scorecards", "evaluate", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "component:default/checkout\n  scorecard:default/production-readiness: level Gold (4/4, 100%)" in text
    assert "    [FAIL] Bronze owner-is-group - the owner group:default/ghosts is not in the catalog" in text
    assert "component:default/site" not in text  # no scorecard applies


def test_the_command_refuses_an_unknown_entity(scored_org):
    with pytest.raises(CommandError, match="No entity component:default/nope"):
        call_command("scorecards", "evaluate", "--entity", "component:default/nope")
