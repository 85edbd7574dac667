"""/api/scorecards/: scorecards, history as of a date, teams, initiatives (read, write with scope and action)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model

from portal import clock
from portal.access import actions
from portal.models import Role
from portal.testing.access import grant, token_client
from scorecards import evaluator
from scorecards.models import Initiative, Scorecard

pytestmark = pytest.mark.django_db

CARD = "scorecard:default/production-readiness"


@pytest.fixture
def card(scored_org):
    evaluator.evaluate(now=clock.now() - timedelta(days=2))
    return Scorecard.objects.get(ref=CARD)


@pytest.fixture
def user():
    return get_user_model().objects.create_user("viewer", "viewer@example.com", "pw")


@pytest.fixture
def writer(user):
    role = Role.objects.create(slug="initiatives", name="Initiative writer", actions=[actions.INITIATIVE_WRITE])
    grant(role.slug, user=user)
    return token_client(user, scopes=["catalog:read", "scorecards:write"])


def test_scorecards_with_their_distribution(card, user, django_assert_max_num_queries):
    api = token_client(user, scopes=["catalog:read"])
    api.get("/api/scorecards/scorecards")
    with django_assert_max_num_queries(8):
        [item] = api.get("/api/scorecards/scorecards").json()["items"]
    assert item["scorecard"] == CARD and item["entities"] == 3
    assert item["distribution"] == {"-": 1, "Bronze": 1, "Silver": 0, "Gold": 1}
    with django_assert_max_num_queries(10):
        detail = api.get("/api/scorecards/scorecards/default/production-readiness", {"days": 3}).json()
    assert [t["team"] for t in detail["teams"]] == ["group:default/payments", "group:default/ghosts"]
    assert detail["teams"][0]["levels"] == {"-": 0, "Bronze": 1, "Silver": 0, "Gold": 1}
    assert {r["id"]: r["passed"] for r in detail["rulesPassing"]} == {"lifecycle-set": 3, "owner-is-group": 2,
                                                                      "described": 1, "docs": 1}  # fmt: skip
    assert [t["levels"]["Gold"] for t in detail["trend"]] == [1, 1, 1]
    assert api.get("/api/scorecards/scorecards/default/production-readiness", {"days": "x"}).status_code == 400
    assert api.get("/api/scorecards/scorecards/default/nope").status_code == 404


def test_history_as_of_a_date_for_an_entity_a_team_and_everyone(card, user):
    api = token_client(user, scopes=["catalog:read"])
    url = "/api/scorecards/scorecards/default/production-readiness/as-of"
    before = (clock.now() - timedelta(days=5)).date().isoformat()
    assert api.get(url, {"at": before}).json()["distribution"] == {"-": 0, "Bronze": 0, "Silver": 0, "Gold": 0}
    now = api.get(url, {"at": clock.now().isoformat()}).json()
    assert now["distribution"] == {"-": 1, "Bronze": 1, "Silver": 0, "Gold": 1} and now["entities"] == 3
    team = api.get(url, {"at": clock.now().date().isoformat(), "team": "group:default/payments"}).json()
    assert team["distribution"] == {"-": 0, "Bronze": 1, "Silver": 0, "Gold": 1}
    assert (
        api.get(url, {"at": clock.now().isoformat(), "entity": "component:default/ledger"}).json()["level"] == "Bronze"
    )
    bad = api.get(url, {"at": "yesterday"})
    assert bad.status_code == 400 and "is not an ISO date" in bad.json()["at"]


def test_a_team_summary_names_what_to_fix_next(card, user):
    body = token_client(user, scopes=["catalog:read"]).get("/api/scorecards/teams/default/payments").json()
    ledger = next(e for e in body["entities"] if e["entityRef"] == "component:default/ledger")
    [score] = ledger["scorecards"]
    assert score["level"] == "Bronze" and [f["id"] for f in score["nextFixes"]] == ["described"]


def test_initiatives_are_written_with_the_scope_and_the_action(card, user, writer):
    body = {"slug": "silver", "title": "Silver", "scorecard": CARD, "target_level": "Silver",
            "owner": "Group:default/Payments", "deadline": (clock.now() + timedelta(days=3)).date().isoformat(),
            "starts_at": (clock.now() - timedelta(days=2)).isoformat()}  # fmt: skip
    reader = token_client(user, scopes=["catalog:read"])
    assert reader.post("/api/scorecards/initiatives", body, format="json").status_code == 403  # no scope
    outsider = get_user_model().objects.create_user("outsider", "o@example.com", "pw")
    denied = token_client(outsider, scopes=["scorecards:write"]).post(
        "/api/scorecards/initiatives", body, format="json"
    )
    assert denied.status_code == 403 and "scorecards.initiative.write" in denied.json()["detail"]
    created = writer.post("/api/scorecards/initiatives", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["owner"] == "group:default/payments" and created.json()["source"] == "admin"
    wrong = writer.patch("/api/scorecards/initiatives/silver", {"target_level": "Platinum"}, format="json")
    assert wrong.status_code == 400 and "not a level of" in wrong.json()["target_level"][0]
    assert writer.patch("/api/scorecards/initiatives/silver", {"title": "Silver!"}, format="json").status_code == 200
    [listed] = reader.get("/api/scorecards/initiatives").json()
    assert listed["title"] == "Silver!"
    progress = reader.get("/api/scorecards/initiatives/silver/progress").json()
    assert (progress["total"], progress["done"], progress["daysLeft"], progress["overdue"]) == (3, 1, 3, False)
    assert [d["done"] for d in progress["burnup"]] == [1, 1, 1]
    assert {e["entityRef"] for e in progress["left"]} == {"component:default/ledger", "component:default/orphan-svc"}
    assert writer.delete("/api/scorecards/initiatives/silver").status_code == 204
    assert not Initiative.objects.exists()


def test_catalog_initiatives_are_read_only_in_the_api(card, user, writer):
    Initiative.objects.create(slug="yaml", title="From YAML", scorecard=card, target_level="Gold", owner="group:x",
                              starts_at=clock.now(), deadline=clock.now().date(), source="catalog",
                              entity_ref="initiative:default/yaml")  # fmt: skip
    refused = writer.patch("/api/scorecards/initiatives/yaml", {"title": "x"}, format="json")
    assert refused.status_code == 400 and "change it in its YAML" in refused.json()["detail"]


def test_the_endpoints_are_in_the_openapi_schema(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/scorecards/scorecards", "/api/scorecards/scorecards/{namespace}/{name}/as-of",
                 "/api/scorecards/teams/{namespace}/{name}",
                 "/api/scorecards/initiatives/{slug}/progress"):  # fmt: skip
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/scorecards/initiatives"]
