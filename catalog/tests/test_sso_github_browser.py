"""A real GitHub Enterprise sign-in in Chromium: teams → mapping rule → Group → what the person owns.

The local forge (portal/testing/forge.py) speaks GitHub Enterprise Server's OAuth and REST endpoints on
127.0.0.1; allauth's github provider points at it through GITHUB_URL. Nothing is patched.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from catalog.tests.sso_org import load_org
from portal.models import GroupMappingRule, Identity, LoginEvent
from portal.testing.browser import shot, sign_in
from portal.testing.forge import Forge, ForgeUser, point_provider_at, run_forge

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_ID, CLIENT_SECRET = "callboard-ghe", "ghe-secret-0123456789"


@pytest.fixture
def ghe(settings, allow_tmp):
    teams = [("Acme", "payments"), ("Acme", "platform"), ("other-org", "readers")]
    users = {
        "sam": ForgeUser("sam", "sam@example.com", 7, teams=teams),
        "octocat": ForgeUser("octocat", "octo@example.com", 8, teams=teams, teams_mode="403"),
    }
    forge = Forge(CLIENT_ID, CLIENT_SECRET, users)
    with run_forge(forge):
        point_provider_at(settings, "github", forge)
        load_org(allow_tmp)
        GroupMappingRule.objects.create(
            match_type="regex", pattern=r"acme/(?P<team>.+)", target="group:default/{team}", provider="github"
        )
        yield forge


def test_github_teams_map_to_groups_and_ownership(page, live_server, ghe):
    ghe.person = "sam"
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Continue with GitHub").click()
    page.wait_for_url(f"{live_server.url}/")
    shot(page, "github-teams-home")
    body = page.locator("main").inner_text()
    assert "Checkout" in body  # team acme/payments → group:default/payments owns it
    assert "Deploy Bot" in body  # team acme/platform (second page of /user/teams) → platform
    assert "Engineering Handbook" in body  # parent of both teams

    user = get_user_model().objects.get(username="sam")
    identity = Identity.objects.get(user=user)
    assert identity.entity_ref == "user:default/sam"
    assert identity.claim_groups == ["acme/payments", "acme/platform", "other-org/readers"]

    get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-12345")
    page.context.clear_cookies()
    event = LoginEvent.objects.get(user=user)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/portal/loginevent/{event.pk}/change/")
    sign_in(page, "root", "pw-root-12345")
    page.wait_for_selector(".explainer")
    text = page.locator(".explainer").inner_text()
    assert "GitHub teams" in text and "fetched" in text
    assert f"GET {ghe.url}/api/v3/user/teams" in text
    assert "3 team(s) on 2 page(s)" in text
    assert "IdP group 'acme/payments' (GitHub teams) via rule" in text
    assert "IdP groups no rule matched: other-org/readers" in text
    shot(page, "github-teams-explainer")


def test_refused_team_lookup_signs_in_and_the_explainer_says_why(page, live_server, ghe):
    ghe.person = "octocat"  # GitHub answers 403 on /user/teams (an app without read:org)
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Continue with GitHub").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "Deploy Bot" in page.locator("main").inner_text()  # octo's catalog membership still counts

    user = get_user_model().objects.get(username="octocat")
    event = LoginEvent.objects.get(user=user)
    get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-12345")
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/portal/loginevent/{event.pk}/change/")
    sign_in(page, "root", "pw-root-12345")
    text = page.locator(".explainer").inner_text()
    assert "failed" in text
    assert "teams not fetched: 403 Forbidden: Resource not accessible by integration" in text
    shot(page, "github-teams-explainer-failed")
