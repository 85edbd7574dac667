"""Failed sign-ins in the audit log (wrong password, the failed-sign-in limit, SSO callback errors) and the
sign-up link that only shows when sign-up is open. Everything goes through the real sign-in views."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail

from portal.auth.providers import oidc_app
from portal.models import AuditEvent
from portal.testing.oidc import IdpConfig, run_provider

pytestmark = pytest.mark.django_db

PASSWORD = "wrong-Pa55word-xyz"
IDP_SECRET = "a-long-test-client-secret-0123456789"


def failures(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_wrong_password_is_audited_with_name_ip_and_provider_but_no_password(client, user):
    response = client.post("/accounts/login/", {"login": "dev", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    (event,) = failures("auth.login_failed")
    assert (event.actor, event.actor_repr, event.target_type, event.target_repr) == (None, "anonymous", "auth.login",
                                                                                   "dev")  # fmt: skip
    assert event.ip == "10.1.2.3" and event.changes == {"login": "dev", "provider": "password"}
    assert PASSWORD not in json.dumps(event.changes) and PASSWORD not in str(event)
    # An unknown account and an email address are recorded the same way (no lookup, no enumeration).
    client.post("/accounts/login/", {"login": "Nobody@Example.com", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert failures("auth.login_failed")[-1].target_repr == "Nobody@Example.com"
    # A successful sign-in is not a failure.
    client.post("/accounts/login/", {"login": "dev", "password": "pw-dev-12345"}, REMOTE_ADDR="10.1.2.3")
    assert "_auth_user_id" in client.session and len(failures("auth.login_failed")) == 2


def test_the_failed_sign_in_limit_is_audited_as_a_refusal(client, settings, user):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "2/m/key"}
    for _ in range(3):
        response = client.post("/accounts/login/", {"login": "dev", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9")
    assert "Too many failed login attempts" in response.content.decode()
    assert len(failures("auth.login_failed")) == 2
    (refused,) = failures("auth.login_rate_limited")
    assert refused.target_repr == "dev" and refused.ip == "10.9.9.9" and refused.changes["provider"] == "password"
    # Even the right password is refused (and audited) while the limit holds.
    client.post("/accounts/login/", {"login": "dev", "password": "pw-dev-12345"}, REMOTE_ADDR="10.9.9.9")
    assert "_auth_user_id" not in client.session and len(failures("auth.login_rate_limited")) == 2


def test_failed_sign_ins_show_in_the_admin_audit_log(client, admin_client, user):
    client.post("/accounts/login/", {"login": "dev", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    page = admin_client.get("/admin/portal/auditevent/?action=auth.login_failed").content.decode()
    assert "auth.login_failed" in page and "10.1.2.3" in page and ">dev<" in page
    assert "dev" in admin_client.get("/admin/portal/auditevent/?q=dev").content.decode()


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    """The real test IdP (django-oauth-toolkit in its own process); the portal is the test client."""
    config = IdpConfig(port=0, host="127.0.0.1", client_id="callboard-test", client_secret=IDP_SECRET,
                       redirect_uris=["http://testserver/accounts/oidc/corp/login/callback/"], users=[])  # fmt: skip
    with run_provider(config, tmp_path_factory.mktemp("idp")) as server_url:
        yield server_url


@pytest.fixture
def corp_sso(settings, idp):
    app = oidc_app({"id": "corp", "name": "Corp", "server_url": idp, "client_id": "callboard-test",
                    "secret": IDP_SECRET}, where="test")  # fmt: skip
    settings.SOCIALACCOUNT_PROVIDERS = {**settings.SOCIALACCOUNT_PROVIDERS,
                                        "openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": [app]}}  # fmt: skip


def start_sso(client) -> str:
    """Press "Continue with Corp": allauth reads the IdP's discovery document and redirects there; the state."""
    response = client.post("/accounts/oidc/corp/login/")
    assert response.status_code == 302 and response["Location"].startswith("http://127.0.0.1:")
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def test_sso_callback_errors_are_audited_with_provider_and_error_code(client, corp_sso):
    callback = "/accounts/oidc/corp/login/callback/"
    # The person pressed "deny" at the IdP, which sends them back with error=access_denied.
    state = start_sso(client)
    response = client.get(f"{callback}?error=access_denied&state={state}", REMOTE_ADDR="10.4.4.4")
    assert "_auth_user_id" not in client.session
    (event,) = failures("auth.sso_failed")
    assert event.ip == "10.4.4.4" and event.target_type == "auth.login"
    assert event.changes == {"login": "", "provider": "corp", "error": "cancelled"}
    # The IdP refuses the code in the token exchange (a stale or forged code).
    state = start_sso(client)
    response = client.get(f"{callback}?code=not-a-real-code&state={state}", REMOTE_ADDR="10.4.4.4")
    assert response.status_code == 401 and "_auth_user_id" not in client.session
    event = failures("auth.sso_failed")[-1]
    assert event.changes == {"login": "", "provider": "corp", "error": "unknown", "exception": "OAuth2Error"}
    assert "not-a-real-code" not in json.dumps(event.changes)
    # A callback whose state this browser never started (a replayed redirect).
    client.get(f"{callback}?code=abc&state=forged", REMOTE_ADDR="10.4.4.4")
    assert failures("auth.sso_failed")[-1].changes["error"] == "unknown" and len(failures("auth.sso_failed")) == 3


@pytest.mark.parametrize("open_signup", [False, True])
def test_sign_up_link_only_when_sign_up_is_open(client, settings, open_signup):
    settings.ACCOUNT_ALLOW_SIGNUP = open_signup
    page = client.get("/accounts/login/").content.decode()
    assert ('href="/accounts/signup/"' in page) is open_signup
    assert ("Create an account" in page) is open_signup


def test_no_sign_up_link_when_password_sign_in_is_off(client, settings):
    settings.ACCOUNT_ALLOW_SIGNUP = True
    settings.LOCAL_LOGIN = False
    assert "/accounts/signup/" not in client.get("/accounts/login/").content.decode()


@pytest.mark.parametrize("open_signup", [False, True])
def test_unknown_account_reset_mail_offers_sign_up_only_when_open(client, settings, open_signup):
    """allauth mails "no account with this address" after a reset request; its sign-up link follows the switch."""
    settings.ACCOUNT_ALLOW_SIGNUP = open_signup
    client.post("/accounts/password/reset/", {"email": "stranger@example.com"})
    (message,) = mail.outbox
    assert ("/accounts/signup/" in message.body) is open_signup
    assert ("ask a platform administrator" in message.body) is not open_signup
