"""A real SSO sign-in in Chromium: a django-oauth-toolkit OIDC provider in its own process on 127.0.0.1/localhost.

Nothing is patched: allauth fetches the provider's discovery document, sends the browser to its authorize
endpoint, exchanges the code (with PKCE) and reads userinfo, whose ``groups`` claim the mapping rules turn
into catalog teams.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from catalog.tests.sso_org import assert_owns_through_teams, load_org
from portal.auth.providers import oidc_app
from portal.models import GroupMappingRule, Identity, LoginEvent
from portal.testing.browser import shot, sign_in, sign_in_with_idp
from portal.testing.oidc import IdpConfig, IdpUser, run_provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLIENT_ID, CLIENT_SECRET = "callboard-test", "a-long-test-client-secret-0123456789"


@pytest.fixture(scope="module")
def idp(live_server, tmp_path_factory):
    """The IdP on the other host name than the portal, so their cookies never mix."""
    portal_host = urlsplit(live_server.url).hostname
    host = "127.0.0.1" if portal_host == "localhost" else "localhost"
    config = IdpConfig(
        port=0,
        host=host,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[f"{live_server.url}/accounts/oidc/acme/login/callback/"],
        users=[
            IdpUser("pat", "idp-pass-pat", "pat@example.com", "Pat", ["team-platform", "all-staff"]),
            IdpUser("newbie", "idp-pass-new", "newbie@example.com", "Nova", ["team-platform"]),
        ],
    )
    with run_provider(config, tmp_path_factory.mktemp("idp")) as server_url:
        yield server_url


@pytest.fixture
def sso(settings, idp, allow_tmp):
    """Configure the provider exactly as CALLBOARD_OIDC_* would, load the org and one mapping rule."""
    app = oidc_app(
        {"id": "acme", "name": "Acme SSO", "server_url": idp, "client_id": CLIENT_ID, "secret": CLIENT_SECRET,
         "scopes": "openid profile email groups"},
        where="test",
    )  # fmt: skip
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": [app]},
    }
    load_org(allow_tmp)
    GroupMappingRule.objects.create(match_type="prefix", pattern="team-", target="group:default/{rest}")


def sign_in_with_sso(page, base_url: str, username: str, password: str) -> None:
    sign_in_with_idp(page, base_url, "Continue with Acme SSO", username, password)
    assert page.url == f"{base_url}/"


def test_sso_sign_in_maps_idp_groups_to_teams_and_ownership(page, live_server, sso):
    page.goto(f"{live_server.url}/accounts/login/")
    shot(page, "sso-login")
    sign_in_with_sso(page, live_server.url, "pat", "idp-pass-pat")
    shot(page, "sso-home")
    stored = Identity.objects.get(user__email="pat@example.com")
    assert_owns_through_teams(page, stored)
    assert stored.provider == "acme" and stored.claim_groups == ["all-staff", "team-platform"]


def test_person_missing_from_the_catalog_gets_in_and_is_flagged(page, live_server, sso):
    sign_in_with_sso(page, live_server.url, "newbie", "idp-pass-new")
    body = page.locator("main").inner_text()
    assert "not linked to a User entity" in body
    assert "Deploy Bot" in body  # their team still comes from the IdP group
    shot(page, "sso-home-unmatched")
    user = get_user_model().objects.get(email="newbie@example.com")
    assert Identity.objects.get(user=user).needs_review

    # An admin finds them under "needs review" and reads the login explainer.
    get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-12345")
    page.context.clear_cookies()
    # /admin/login/ hands over to the portal's sign-in page (same rate limits, same SSO buttons).
    page.goto(f"{live_server.url}/admin/login/?next=/admin/portal/identity/%3Freview%3Dneeds")
    sign_in(page, "root", "pw-root-12345")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    assert "needs review" in rows.first.inner_text()
    shot(page, "sso-admin-needs-review")
    event = LoginEvent.objects.get(user=user)
    page.goto(f"{live_server.url}/admin/portal/loginevent/{event.pk}/change/")
    text = page.locator(".explainer").inner_text()
    assert "Not matched to a catalog User" in text
    assert "no User entity has spec.profile.email = newbie@example.com" in text
    assert "team-platform" in text and "group:default/platform" in text
    shot(page, "sso-explainer-unmatched")
