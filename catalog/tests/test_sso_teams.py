"""GitHub teams and GitLab groups at sign-in, against local servers speaking their documented endpoints.

Nothing is patched: allauth's views run with Django's test client, the redirects are followed to the local
GitHub Enterprise / GitLab stand-in (portal/testing/forge.py) and back, and the token exchange, user, email
and teams requests all go over HTTP to it.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from catalog.identity import refresh_identities
from catalog.tests.sso_org import load_org
from portal.models import GroupMappingRule, Identity, LoginEvent
from portal.testing.forge import Forge, ForgeUser, point_provider_at, run_forge, sign_in_through

pytestmark = pytest.mark.django_db

CLIENT_ID, CLIENT_SECRET = "callboard-forge", "forge-secret-0123456789"


def people() -> dict[str, ForgeUser]:
    """Everyone is in the same teams; how the teams endpoint behaves differs (see portal/testing/forge.py)."""
    teams = [("Acme", "payments"), ("Acme", "platform"), ("other-org", "readers")]
    modes = [("sam", "ok"), ("nora", "403"), ("fifi", "500"), ("slowpoke", "slow"), ("eve", "offsite")]
    modes.append(("rita", "ratelimit"))
    groups = ["acme", "acme/platform"]
    return {
        login: ForgeUser(login, f"{login}@example.com", uid, teams=teams, groups=groups, teams_mode=mode)
        for uid, (login, mode) in enumerate(modes, start=1)
    }


@pytest.fixture
def forge():
    with run_forge(Forge(CLIENT_ID, CLIENT_SECRET, people(), slow_seconds=1.5)) as running:
        yield running


@pytest.fixture
def github(settings, forge, allow_tmp):
    """The github provider as GITHUB_URL/GITHUB_CLIENT_ID would set it, pointed at the local forge."""
    point_provider_at(settings, "github", forge)
    settings.SSO_TEAMS_TIMEOUT = 0.5
    load_org(allow_tmp)
    GroupMappingRule.objects.create(match_type="regex", pattern=r"acme/(?P<team>.+)", target="group:default/{team}")
    return forge


def test_github_teams_become_groups_and_ownership(client, github):
    response = sign_in_through(client, "github", github, "sam")
    assert response.status_code == 302 and response["Location"] == "/"

    identity = Identity.objects.get(user__username="sam")
    assert identity.entity_ref == "user:default/sam"
    assert identity.claim_groups == ["acme/payments", "acme/platform", "other-org/readers"]
    assert identity.mapped_group_refs == ["group:default/payments", "group:default/platform"]
    assert {"group:default/payments", "group:default/platform", "group:default/engineering"} <= set(
        identity.ownership_refs
    )
    teams = identity.claims["teams"]
    assert teams["status"] == "fetched" and teams["source"] == "GitHub teams"
    assert teams["detail"].startswith("3 team(s) on 2 page(s)")
    # The documented pagination: per_page=100 first, then the Link header's next page.
    asked = [r for r in github.requests if r.startswith("GET /api/v3/user/teams")]
    assert asked == ["GET /api/v3/user/teams?per_page=100", "GET /api/v3/user/teams?per_page=2&page=2"]
    rule_rows = {g["ref"]: g["detail"] for g in identity.trace["groups"] if g["source"] == "rule"}
    assert rule_rows["group:default/payments"].startswith("IdP group 'acme/payments' (GitHub teams) via rule")

    # A catalog refresh recomputes from the stored claims: GitHub is not asked again.
    before = len(github.requests)
    assert refresh_identities() == 1
    assert len(github.requests) == before
    assert Identity.objects.get(user__username="sam").mapped_group_refs == identity.mapped_group_refs


@pytest.mark.parametrize(
    ("login", "expected"),
    [
        ("nora", "teams not fetched: 403 Forbidden: Resource not accessible by integration; "
                 "listing teams needs the read:org scope"),
        ("rita", "teams not fetched: 403 Forbidden: rate limited (reset 1700000000)"),
        ("fifi", "teams not fetched: 500 Internal Server Error: <html>Internal Server Error</html>"),
        ("slowpoke", "teams not fetched: timed out after 0.5s"),
        ("eve", "teams not fetched: refused to follow 'http://127.0.0.2:9/api/v3/user/teams?per_page=2&page=2'"),
    ],
)  # fmt: skip
def test_a_failed_team_lookup_never_blocks_sign_in(client, github, login, expected):
    response = sign_in_through(client, "github", github, login)
    assert response.status_code == 302 and response["Location"] == "/"
    user = get_user_model().objects.get(username=login)
    assert client.get("/").wsgi_request.user == user

    event = LoginEvent.objects.get(user=user)
    teams = event.claims["teams"]
    assert teams["status"] == "failed"
    assert teams["detail"].startswith(expected), teams["detail"]
    assert event.claims["groups"] == [] and teams["groups"] == []


def test_pages_are_capped_and_odd_items_skipped(client, github):
    many = ForgeUser("max", "max@example.com", 99, teams=[("acme", f"t{i}") for i in range(12)])
    many.teams[0] = ("", "no-org")
    github.users["max"] = many
    github.per_page_cap = 1
    sign_in_through(client, "github", github, "max")
    teams = Identity.objects.get(user__username="max").claims["teams"]
    assert teams["status"] == "fetched"
    assert teams["groups"] == [f"acme/t{i}" for i in range(1, 10)]
    assert teams["detail"].startswith(
        "9 team(s) on 10 page(s); stopped after 10 pages; 1 item(s) without organization login or slug skipped"
    )


def test_team_lookup_can_be_switched_off(client, github, settings):
    settings.SOCIALACCOUNT_PROVIDERS["github"]["APPS"][0]["settings"] = {"teams": False}
    sign_in_through(client, "github", github, "sam")
    identity = Identity.objects.get(user__username="sam")
    assert identity.claims["teams"]["status"] == "off"
    assert identity.claim_groups == []
    assert not [r for r in github.requests if "/user/teams" in r]


@pytest.fixture
def gitlab(settings, forge, allow_tmp):
    point_provider_at(settings, "gitlab", forge)
    settings.SSO_TEAMS_TIMEOUT = 0.5
    load_org(allow_tmp)
    GroupMappingRule.objects.create(match_type="prefix", pattern="acme/", target="group:default/{rest}")
    return forge


def test_gitlab_groups_become_groups_and_ownership(client, gitlab):
    response = sign_in_through(client, "gitlab", gitlab, "sam")
    assert response.status_code == 302 and response["Location"] == "/"
    identity = Identity.objects.get(user__username="sam")
    assert identity.claims["teams"]["source"] == "GitLab groups"
    assert identity.claims["teams"]["status"] == "fetched"
    assert identity.claim_groups == ["acme", "acme/platform"]
    assert identity.mapped_group_refs == ["group:default/platform"]
    assert "group:default/engineering" in identity.ownership_refs
    assert "GET /oauth/userinfo" in gitlab.requests
    assert identity.trace["unmapped_claims"] == ["acme"]


def test_gitlab_userinfo_refused_still_signs_in(client, gitlab):
    response = sign_in_through(client, "gitlab", gitlab, "nora")
    assert response.status_code == 302 and response["Location"] == "/"
    teams = Identity.objects.get(user__username="nora").claims["teams"]
    assert teams["status"] == "failed"
    assert teams["detail"] == (
        "teams not fetched: 403 Forbidden: insufficient_scope; the groups claim needs the openid scope"
    )
