"""The home page's "Scorecard fixes": failing rules of what I own, the ones blocking my next level first."""

import pytest
from django.contrib.auth import get_user_model

from catalog.ownership import person
from portal.notifications import notify
from scorecards import evaluator
from scorecards.home import my_fixes

pytestmark = pytest.mark.django_db


def user(name: str):
    row = get_user_model().objects.create_user(name, f"{name}@example.com", "pw-12345-long")
    person(row)
    return row


def test_my_fixes_lists_failing_rules_of_owned_entities_most_urgent_first(scored_org, django_assert_max_num_queries):
    evaluator.evaluate()
    pat = user("pat")
    with django_assert_max_num_queries(7):  # + the initiatives that give deadlines
        fixes = my_fixes(pat)
    # ledger (Bronze) fails described (Silver: blocks its next level) then docs (Gold); checkout is Gold.
    assert [(f.entity_ref, f.rule_id, f.gap) for f in fixes] == [
        ("component:default/ledger", "described", 1), ("component:default/ledger", "docs", 2)]
    assert fixes[0].url == "/catalog/default/component/ledger/scorecards/" and fixes[0].level == "Bronze"
    assert my_fixes(user("olga")) == []


def test_the_home_panel_shows_fixes_and_unread_notifications(scored_org, client):
    evaluator.evaluate()
    pat = user("pat")
    notify([pat], category="scorecards.level-dropped", title="x")
    client.force_login(pat)
    page = client.get("/").content.decode()
    assert 'id="scorecard-fixes"' in page and "blocks Silver" in page and "1 unread notification" in page
    client.force_login(user("olga"))
    assert 'id="scorecard-fixes"' not in client.get("/").content.decode()
