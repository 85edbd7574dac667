"""The API tokens page: list own tokens, create (secret shown once), revoke with confirmation; service-account
tokens for people with the permission; nobody else's tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.models import ApiToken, ServiceAccount
from portal.models.tokens import digest

pytestmark = pytest.mark.django_db


def create(client, owner, **overrides):
    data = {"name": "ci", "scopes": ["catalog:read"], "expiry": "30", "owner": owner.pk, **overrides}
    return client.post("/accounts/tokens/", data)


@pytest.fixture
def service_account(db):
    bot = get_user_model().objects.create_user("ci-bot")
    bot.set_unusable_password()
    bot.save()
    ServiceAccount.objects.create(user=bot, description="CI")
    return bot


@pytest.fixture
def manager(user):
    user.user_permissions.add(Permission.objects.get(codename="manage_service_tokens"))
    return get_user_model().objects.get(pk=user.pk)  # fresh: permissions are cached on the instance


def test_page_is_in_the_user_menu_and_lists_only_own_tokens(logged_in_client, user, admin_user):
    ApiToken.issue(user, name="mine")
    ApiToken.issue(admin_user, name="someone-elses")
    html = logged_in_client.get("/").content.decode()
    assert 'href="/accounts/tokens/"' in html
    page = logged_in_client.get("/accounts/tokens/").content.decode()
    assert "mine" in page and "someone-elses" not in page


def test_create_shows_the_secret_exactly_once(logged_in_client, user):
    response = create(logged_in_client, user, scopes=["catalog:read", "scaffolder:run"], expiry="7")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secret = html.split('id="new-token-secret" class="secret">')[1].split("<")[0]
    token = ApiToken.objects.get(key_digest=digest(secret))
    assert token.user == user and token.name == "ci" and token.scopes == ["catalog:read", "scaffolder:run"]
    assert timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert "only time it is shown" in html and 'data-copy-target="new-token-secret"' in html
    again = logged_in_client.get("/accounts/tokens/").content.decode()
    assert secret not in again and token.hint in again


def test_create_with_htmx_returns_the_panel_only(logged_in_client, user):
    response = logged_in_client.post(
        "/accounts/tokens/", {"name": "x", "scopes": ["admin"], "expiry": "never", "owner": user.pk},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="tokens-panel"') and "<html" not in html
    assert ApiToken.objects.get(name="x").expires_at is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"scopes": []}, "Choose at least one scope."),
        ({"scopes": ["root"]}, "Select a valid choice. root is not one of the available choices."),
        ({"name": ""}, "This field is required."),
        ({"expiry": "forever"}, "Select a valid choice."),
    ],
)
def test_invalid_forms_say_what_is_wrong(logged_in_client, user, overrides, message):
    response = create(logged_in_client, user, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiToken.objects.exists()


def test_cannot_create_tokens_for_someone_else(logged_in_client, user, admin_user, service_account):
    for other in (admin_user, service_account):
        assert create(logged_in_client, other).status_code == 400
    assert not ApiToken.objects.exists()


def test_revoke_asks_first_then_revokes(logged_in_client, user):
    token, _ = ApiToken.issue(user, name="old")
    confirm = logged_in_client.get(f"/accounts/tokens/{token.pk}/revoke/")
    assert "Revoke this token?" in confirm.content.decode()
    logged_in_client.post(f"/accounts/tokens/{token.pk}/revoke/")  # no confirmation: asks again
    token.refresh_from_db()
    assert token.revoked_at is None
    response = logged_in_client.post(f"/accounts/tokens/{token.pk}/revoke/", {"confirm": "yes"}, follow=True)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "Revoked token “old”." in response.content.decode()


def test_revoke_with_htmx_returns_the_row(logged_in_client, user):
    token, _ = ApiToken.issue(user, name="old")
    assert 'hx-confirm="Revoke the token “old”?' in logged_in_client.get("/accounts/tokens/").content.decode()
    response = logged_in_client.post(f"/accounts/tokens/{token.pk}/revoke/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="token-{token.pk}"') and "revoked" in html


def test_cannot_see_or_revoke_someone_elses_token(logged_in_client, admin_user, service_account):
    for owner in (admin_user, service_account):
        token, _ = ApiToken.issue(owner)
        assert logged_in_client.get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
        assert logged_in_client.post(f"/accounts/tokens/{token.pk}/revoke/", {"confirm": "yes"}).status_code == 404
        token.refresh_from_db()
        assert token.revoked_at is None


def test_managers_issue_and_revoke_service_account_tokens(client, manager, service_account, admin_user):
    client.force_login(manager)
    page = client.get("/accounts/tokens/").content.decode()
    assert "ci-bot (service account)" in page
    assert create(client, service_account, name="deployer").status_code == 200
    token = ApiToken.objects.get(name="deployer")
    assert token.user == service_account
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/", {"confirm": "yes"}).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert create(client, admin_user).status_code == 400  # people are not service accounts


def test_list_query_count_does_not_grow(logged_in_client, user):
    from portal.access import current_policy

    current_policy()  # access rules (the menu asks them) are cached until they change
    ApiToken.issue(user)
    logged_in_client.get("/accounts/tokens/")  # the signed-in user is read once, then remembered
    with CaptureQueriesContext(connection) as one:
        logged_in_client.get("/accounts/tokens/")
    for n in range(10):
        token, _ = ApiToken.issue(user, name=f"t{n}")
        if n % 2:
            token.revoke()
    with CaptureQueriesContext(connection) as many:
        response = logged_in_client.get("/accounts/tokens/")
    assert response.content.decode().count("badge error") == 5
    assert len(many.captured_queries) == len(one.captured_queries)


def test_service_account_cannot_sign_in_with_a_password(client, service_account):
    response = client.post("/accounts/login/", {"login": "ci-bot", "password": ""})
    assert "_auth_user_id" not in client.session and response.status_code == 200
