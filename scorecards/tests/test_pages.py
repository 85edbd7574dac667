"""The scorecard pages: index, scorecard, initiative, team (and the Group tab); what they show, who sees what,
and how many queries they cost."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from portal import clock
from scorecards import evaluator
from scorecards.models import Initiative, Scorecard

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(scored_org):
    evaluator.evaluate()
    return Scorecard.objects.get(name="production-readiness")


@pytest.fixture
def silver(card):
    return Initiative.objects.create(slug="silver", title="Silver for payments", scorecard=card, target_level="Silver",
                                     owner="group:default/payments", starts_at=clock.now() - timedelta(days=3),
                                     deadline=clock.now().date() + timedelta(days=5))  # fmt: skip


@pytest.fixture
def client():
    user = get_user_model().objects.create_user("viewer", "viewer@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_the_index_lists_scorecards_with_levels_and_initiatives(client, silver, django_assert_max_num_queries):
    client.get("/scorecards/")  # warms the access policy cache
    with django_assert_max_num_queries(14):
        page = client.get("/scorecards/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'href="/scorecards/default/production-readiness/"' in html and "<svg" in html
    assert 'data-initiative="silver"' in html and "1 of 3 done (33%)" in html and "5 days left" in html
    assert 'href="/scorecards/"' in html  # the top bar's item


def test_the_scorecard_page_shows_levels_teams_trend_rules_and_filters(client, card, django_assert_max_num_queries):
    url = "/scorecards/default/production-readiness/"
    client.get(url)
    with django_assert_max_num_queries(14):
        page = client.get(url)
    html = page.content.decode()
    assert 'id="trend"' in html and html.count("<svg") >= 2
    assert 'data-team="group:default/payments"' in html and 'href="/scorecards/teams/default/payments/"' in html
    assert 'data-rule="owner-is-group"' in html and "67%</strong> pass (2 of 3)" in html
    assert html.count("data-entity=") == 3
    gold = client.get(url, {"level": "Gold"}).content.decode()
    assert gold.count("data-entity=") == 1 and 'data-entity="component:default/checkout"' in gold
    ghosts = client.get(url, {"team": "group:default/ghosts"}, headers={"HX-Request": "true", "HX-Target": "entities"})
    body = ghosts.content.decode()
    assert "<html" not in body and body.count("data-entity=") == 1 and "orphan-svc" in body
    assert client.get("/scorecards/default/nope/").status_code == 404


def test_the_initiative_page_shows_target_deadline_burnup_and_what_is_left(client, silver, card):
    html = client.get("/scorecards/initiatives/silver/").content.decode()
    assert "1 of 3</strong> done (33%)" in html and "5 days left" in html and 'id="overdue"' not in html
    assert 'class="done"' in html and 'class="deadline"' in html
    assert 'data-entity="component:default/orphan-svc"' in html and 'data-entity="component:default/ledger"' in html
    assert 'data-team="group:default/ghosts"' in html and "failing" not in html
    assert '<a href="/scorecards/teams/default/payments/">group:default/payments</a>' in html
    Initiative.objects.filter(pk=silver.pk).update(deadline=date(2026, 1, 1))
    assert 'id="overdue"' in client.get("/scorecards/initiatives/silver/").content.decode()
    assert client.get("/scorecards/initiatives/nope/").status_code == 404


def test_the_team_page_and_the_group_tab_show_levels_and_what_to_fix_next(
    client, silver, django_assert_max_num_queries
):
    client.get("/scorecards/teams/default/payments/")
    with django_assert_max_num_queries(12):
        html = client.get("/scorecards/teams/default/payments/").content.decode()
    assert 'data-entity="component:default/ledger"' in html and 'data-entity="component:default/checkout"' in html
    assert 'data-rule="described"' in html and "For <strong>Silver</strong>" in html  # ledger's next step
    assert 'data-initiative="silver"' in html and "1 of this team's 2 done" in html
    tab = client.get("/catalog/default/group/payments/team-scorecards/")
    assert tab.status_code == 200 and 'data-entity="component:default/ledger"' in tab.content.decode()


def test_hidden_entities_are_left_out_of_every_page(client, silver, settings):
    settings.CALLBOARD_DEFAULT_ROLE = "none"
    html = client.get("/scorecards/default/production-readiness/").content.decode()
    assert "data-entity=" not in html and "No entities" in html
    assert "data-entity=" not in client.get("/scorecards/teams/default/payments/").content.decode()
    page = client.get("/scorecards/initiatives/silver/").content.decode()
    assert "orphan-svc" not in page and "Only entities you may not see are left." in page


def test_the_entity_tab_links_to_the_scorecard_page(client, card):
    html = client.get("/catalog/default/component/ledger/scorecards/").content.decode()
    assert '<a href="/scorecards/default/production-readiness/">Production readiness</a>' in html


def test_pages_need_a_session(card):
    assert Client().get("/scorecards/").status_code == 302
