"""SSO configuration from the environment, the password switch with break-glass, and mapping rule checks."""

from __future__ import annotations

import re

import pytest
from allauth.socialaccount.models import SocialApp
from django.contrib.auth import get_user_model

from portal.auth.mapping import RuleError, RuleSpec, apply_rules, normalize_group_ref, validate_rule
from portal.auth.providers import ProviderConfigError, build_providers, oidc_apps
from portal.models import GroupMappingRule
from portal.settings.env import env

# --- Providers from environment variables -----------------------------------------------------------


def test_one_oidc_provider_from_callboard_oidc_variables(monkeypatch):
    monkeypatch.setenv("CALLBOARD_OIDC_SERVER_URL", "https://keycloak.example.com/realms/acme")
    monkeypatch.setenv("CALLBOARD_OIDC_CLIENT_ID", "callboard")
    monkeypatch.setenv("CALLBOARD_OIDC_CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("CALLBOARD_OIDC_NAME", "Keycloak")
    monkeypatch.setenv("CALLBOARD_OIDC_ANNOTATION", "keycloak.org/username")
    monkeypatch.setenv("CALLBOARD_OIDC_ANNOTATION_CLAIM", "preferred_username")
    monkeypatch.setenv("GITHUB_CLIENT_ID", "gh-id")
    monkeypatch.setenv("GITHUB_URL", "https://github.example.com/")
    monkeypatch.setenv("MICROSOFT_CLIENT_ID", "ms-id")
    monkeypatch.setenv("MICROSOFT_TENANT", "contoso.onmicrosoft.com")
    providers, apps = build_providers(env)
    (app,) = providers["openid_connect"]["APPS"]
    assert app["provider_id"] == "oidc" and app["name"] == "Keycloak" and app["secret"] == "s3cret"
    assert app["settings"]["server_url"] == "https://keycloak.example.com/realms/acme"
    assert app["settings"]["annotation"] == "keycloak.org/username"
    assert providers["github"]["GITHUB_URL"] == "https://github.example.com"
    assert providers["github"]["APPS"][0]["client_id"] == "gh-id"
    assert providers["microsoft"]["APPS"][0]["settings"]["tenant"] == "contoso.onmicrosoft.com"
    assert "APPS" not in providers["gitlab"]  # not configured: no button, but admins may add one
    assert "allauth.socialaccount.providers.openid_connect" in apps and not providers.get("saml", {}).get("APPS")


def test_several_oidc_providers_from_json():
    apps = oidc_apps(
        None,
        '[{"id": "okta", "name": "Okta", "server_url": "https://acme.okta.com", "client_id": "a", "secret": "b",'
        ' "groups_claim": "groups", "scopes": "openid email profile groups"},'
        ' {"id": "entra", "server_url": "https://login.microsoftonline.com/t/v2.0", "client_id": "c"}]',
    )
    assert [a["provider_id"] for a in apps] == ["okta", "entra"]
    assert apps[0]["settings"]["scope"] == ["openid", "email", "profile", "groups"]
    assert apps[1]["name"] == "Entra"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "CALLBOARD_OIDC_PROVIDERS is not valid JSON"),
        ('{"id": "x"}', "must be a JSON list"),
        ('[{"id": "x", "client_id": "c"}]', "CALLBOARD_OIDC_PROVIDERS[0]: missing server_url"),
        ('[{"id": "a b", "server_url": "https://x", "client_id": "c"}]', "may only hold letters"),
        ('[{"id": "x", "server_url": "javascript:alert(1)", "client_id": "c"}]', "must be an http(s) URL"),
        ('[{"id": "x", "server_url": "https://a", "client_id": "c"}, {"id": "x", "server_url": "https://b",'
         ' "client_id": "d"}]', "unique: x"),
    ],
)  # fmt: skip
def test_bad_oidc_json_is_refused_with_a_located_message(value, message):
    with pytest.raises(ProviderConfigError, match=re.escape(message)):
        oidc_apps(None, value)


# --- Local accounts on/off ------------------------------------------------------------------------


@pytest.fixture
def keycloak_app(db):
    return SocialApp.objects.create(
        provider="openid_connect", provider_id="keycloak", name="Keycloak", client_id="cb",
        settings={"server_url": "https://keycloak.example.com/realms/acme"},
    )  # fmt: skip


def test_login_page_lists_admin_configured_providers_with_the_password_form(client, keycloak_app):
    page = client.get("/accounts/login/").content.decode()
    assert "Continue with Keycloak" in page and 'action="/accounts/oidc/keycloak/login/' in page
    assert 'name="password"' in page


def test_local_accounts_off_shows_only_sso_and_refuses_passwords(client, settings, user, keycloak_app):
    settings.LOCAL_LOGIN = False
    page = client.get("/accounts/login/").content.decode()
    assert "Continue with Keycloak" in page and 'name="password"' not in page
    assert "Password sign-in is switched off" in page
    response = client.post("/accounts/login/", {"login": "dev", "password": "pw-dev-12345"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    # The admin's own form is not a way around it: it hands over to the portal's sign-in page.
    response = client.post("/admin/login/", {"username": "dev", "password": "pw-dev-12345"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_break_glass_lets_superusers_in_with_a_password(client, settings, admin_user, keycloak_app):
    settings.LOCAL_LOGIN = False
    page = client.get("/accounts/login/?break-glass=1").content.decode()
    assert "Break-glass sign-in" in page and 'name="password"' in page
    response = client.post("/accounts/login/?break-glass=1", {"login": "root", "password": "pw-root-12345"})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(admin_user.pk)


def test_break_glass_can_be_switched_off_too(client, settings, admin_user):
    settings.LOCAL_LOGIN = False
    settings.BREAK_GLASS_LOGIN = False
    client.post("/accounts/login/", {"login": "root", "password": "pw-root-12345"})
    assert "_auth_user_id" not in client.session
    assert 'name="password"' not in client.get("/accounts/login/?break-glass=1").content.decode()


def test_sso_sessions_survive_the_password_switch(client, settings, user):
    client.force_login(user)  # as an SSO login does: no password checked
    settings.LOCAL_LOGIN = False
    assert client.get("/").status_code == 200


# --- Mapping rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("payments", "group:default/payments"), ("ops/SRE", "group:ops/sre"), ("Group:default/a.b", "group:default/a.b")],
)
def test_group_refs_are_normalised(value, expected):
    assert normalize_group_ref(value) == expected


@pytest.mark.parametrize(
    ("match_type", "pattern", "target", "message"),
    [
        ("regex", "team-(", "group:default/{1}", "pattern: not a valid regular expression"),
        ("regex", "team-(.*)", "group:default/{2}", r"unknown placeholder\(s\) \{2\}"),
        ("prefix", "team-", "group:default/{team}", r"offers \{match\}, \{rest\}"),
        ("exact", "admins", "user:default/root", "can only target groups"),
        ("exact", "admins", "group:default/has space", "not a valid entity name"),
        ("exact", "admins", "group:default/{match!r}", "must be a plain name"),
        ("exact", "admins", "group:default/{", "write literal braces"),
        ("exact", "", "group:default/a", "pattern: give the IdP group name"),
        ("glob", "a*", "group:default/a", "match type must be"),
    ],
)
def test_rule_validation_explains_what_is_wrong(match_type, pattern, target, message):
    with pytest.raises(RuleError, match=message):
        validate_rule(match_type, pattern, target)


def test_rule_types_and_substitutions():
    rules = [
        RuleSpec("exact", "Platform Admins", "platform"),
        RuleSpec("prefix", "team-", "group:default/{rest}"),
        RuleSpec("regex", r"(?P<dept>[a-z]+)\.(?P<team>[a-z]+)", "group:{dept}/{team}"),
        RuleSpec("regex", r"squad-(\d+)", "group:default/squad-{1}"),
    ]
    mapped, rejected = apply_rules(["Platform Admins", "team-web", "team-", "eng.search", "squad-7", "other"], rules)
    assert [(m.claim, m.ref) for m in mapped] == [
        ("Platform Admins", "group:default/platform"),
        ("team-web", "group:default/web"),
        ("eng.search", "group:eng/search"),
        ("squad-7", "group:default/squad-7"),
    ]
    assert rejected == []


def test_admin_form_shows_rule_errors_and_normalises_targets(client, admin_user):
    client.force_login(admin_user)
    url = "/admin/portal/groupmappingrule/add/"
    data = {"position": 10, "match_type": "regex", "pattern": "team-(", "target": "group:default/x", "enabled": "on"}
    page = client.post(url, data).content.decode()
    assert "not a valid regular expression" in page
    page = client.post(url, data | {"pattern": "team-(.+)", "target": "user:default/{1}"}).content.decode()
    assert "can only target groups" in page
    assert not GroupMappingRule.objects.exists()
    response = client.post(url, data | {"match_type": "exact", "pattern": "SRE", "target": "Ops/SRE"})
    assert response.status_code == 302
    assert GroupMappingRule.objects.get().target == "group:ops/sre"


def test_admin_can_open_identity_and_rule_lists(client, admin_user):
    client.force_login(admin_user)
    for url in ["/admin/portal/identity/?review=needs", "/admin/portal/loginevent/", "/admin/portal/groupmappingrule/"]:
        assert client.get(url).status_code == 200, url
    assert get_user_model().objects.count() == 1


# --- GitHub teams / GitLab groups settings ------------------------------------------------------------


def test_team_lookup_switches_and_github_provider_class(monkeypatch):
    providers, _ = build_providers(env)
    assert providers["github"]["TEAMS"] is True and providers["gitlab"]["TEAMS"] is True
    assert "read:org" in providers["github"]["SCOPE"] and "openid" in providers["gitlab"]["SCOPE"]
    assert providers["github"]["provider_class"] == "portal.auth.github.provider.GitHubProvider"
    monkeypatch.setenv("CALLBOARD_GITHUB_TEAMS", "false")
    monkeypatch.setenv("CALLBOARD_GITLAB_GROUPS", "no")
    providers, _ = build_providers(env)
    assert providers["github"]["TEAMS"] is False and providers["gitlab"]["TEAMS"] is False


def test_github_and_gitlab_urls_per_app_then_provider_then_public(settings):
    from types import SimpleNamespace

    from portal.auth.teams import github_urls, gitlab_url, teams_enabled

    settings.SOCIALACCOUNT_PROVIDERS = {"github": {"TEAMS": False}, "gitlab": {"GITLAB_URL": "https://git.acme.io"}}
    public = SimpleNamespace(settings={})
    assert github_urls(public) == {"web": "https://github.com", "api": "https://api.github.com"}
    ghe = SimpleNamespace(settings={"github_url": "https://ghe.acme.io/", "teams": "on"})
    assert github_urls(ghe) == {"web": "https://ghe.acme.io", "api": "https://ghe.acme.io/api/v3"}
    assert gitlab_url(public) == "https://git.acme.io"
    assert gitlab_url(SimpleNamespace(settings={"gitlab_url": "https://gl.example"})) == "https://gl.example"
    assert not teams_enabled("github", public) and teams_enabled("github", ghe)
    assert teams_enabled("gitlab", public)
