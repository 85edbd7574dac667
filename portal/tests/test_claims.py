"""Claims from allauth's own SocialLogin objects, as its providers build them from an IdP's answer."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialApp
from django.test import RequestFactory

from portal.auth.claims import claims_from_sociallogin, local_claims

pytestmark = pytest.mark.django_db


def sociallogin_for(app: SocialApp, data: dict):
    """What allauth's callback view builds from the provider's response (no network involved)."""
    request = RequestFactory().get("/")
    provider = app.get_provider(request)
    return provider.sociallogin_from_response(request, data)


def test_github_login_becomes_the_user_login_annotation():
    app = SocialApp.objects.create(provider="github", name="GitHub", client_id="x")
    claims = claims_from_sociallogin(sociallogin_for(app, {"id": 1, "login": "OctoCat", "email": "Octo@Example.com"}))
    assert claims["provider"] == "github" and claims["provider_kind"] == "github"
    assert claims["email"] == "octo@example.com"
    assert claims["annotations"] == {"github.com/user-login": "OctoCat"}


def test_gitlab_username_becomes_its_annotation():
    app = SocialApp.objects.create(provider="gitlab", name="GitLab", client_id="x")
    claims = claims_from_sociallogin(sociallogin_for(app, {"id": 7, "username": "jdoe", "email": "j@example.com"}))
    assert claims["annotations"] == {"gitlab.com/user-login": "jdoe"}


def test_oidc_groups_claim_path_and_configured_annotation():
    app = SocialApp.objects.create(
        provider="openid_connect", provider_id="keycloak", name="Keycloak", client_id="x",
        settings={"server_url": "https://sso.example.com/realms/a", "groups_claim": "realm_access.roles",
                  "annotation": "keycloak.org/username", "annotation_claim": "preferred_username"},
    )  # fmt: skip
    data = {
        "id_token": {"sub": "abc", "preferred_username": "kim"},
        "userinfo": {"sub": "abc", "email": "Kim@example.com", "email_verified": True,
                     "realm_access": {"roles": ["team-a", "team-a", 3]}},
    }
    claims = claims_from_sociallogin(sociallogin_for(app, data))
    assert claims["provider"] == "keycloak" and claims["provider_kind"] == "openid_connect"
    assert claims["groups"] == ["team-a"]  # deduplicated, non-strings dropped
    assert claims["annotations"] == {"keycloak.org/username": "kim"}
    assert claims["email"] == "kim@example.com" and claims["emails"] == ["kim@example.com"]


def test_local_claims(user):
    assert local_claims(user)["username"] == "dev" and local_claims(user)["provider"] == "local"
