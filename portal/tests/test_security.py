"""Security points: CSRF on every state-changing endpoint, cookie flags, headers, sign-in rate limits and
open-redirect-safe ``next=``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView

from portal.api.authentication import BearerTokenAuthentication
from portal.models import ApiToken

pytestmark = pytest.mark.django_db

COMPONENT = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: web}\nspec: {type: service}\n"


@pytest.fixture
def entity_location(allow_tmp):
    path = allow_tmp / "catalog-info.yaml"
    path.write_text(COMPONENT)
    # Through the CLI: portal (and its tests) may not import catalog.
    call_command("catalog", "register", str(path), stdout=StringIO())
    return path


def csrf_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def csrf_token(client: Client, url: str = "/accounts/login/") -> str:
    """Load a page that renders a form, so the CSRF cookie is set; its value is a valid token."""
    client.get(url)
    return client.cookies["csrftoken"].value


# --- CSRF ---------------------------------------------------------------------------------------------


def _state_changing_posts(user, token_pk: int) -> list[tuple[str, dict]]:
    return [
        ("/accounts/logout/", {}),
        ("/catalog/default/component/web/star/", {}),
        ("/catalog/register/", {"target": "/nowhere/catalog-info.yaml", "action": "import"}),
        ("/accounts/tokens/", {"name": "ci", "scopes": ["catalog:read"], "expiry": "30", "owner": user.pk}),
        (f"/accounts/tokens/{token_pk}/revoke/", {"confirm": "yes"}),
        ("/admin/auth/group/add/", {"name": "hackers"}),
        ("/api/catalog/refresh", {"entityRef": "component:default/web"}),
        ("/api/catalog/locations", {"type": "url", "target": "https://github.com/o/r/blob/main/c.yaml"}),
    ]


def test_every_post_without_csrf_token_is_refused(admin_user, entity_location):
    token, _ = ApiToken.issue(admin_user, name="victim")
    client = csrf_client(admin_user)
    for url, data in _state_changing_posts(admin_user, token.pk):
        response = client.post(url, data)
        assert response.status_code == 403, f"{url} answered {response.status_code} without a CSRF token"
    token.refresh_from_db()
    assert token.revoked_at is None
    assert not ApiToken.objects.filter(name="ci").exists()


def test_the_same_posts_with_the_token_go_through(admin_user, entity_location):
    token, _ = ApiToken.issue(admin_user, name="victim")
    client = csrf_client(admin_user)
    secret = csrf_token(client, "/accounts/tokens/")
    for url, data in _state_changing_posts(admin_user, token.pk):
        if url == "/accounts/logout/":
            continue  # would end the session the rest needs
        response = client.post(url, data, HTTP_X_CSRFTOKEN=secret)
        # Served, not merely "not 403": a 500 (or any refusal) is a failure too.
        assert response.status_code < 400, f"{url} answered {response.status_code} with a valid CSRF token"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiToken.objects.filter(name="ci").exists()
    assert Group.objects.filter(name="hackers").exists()
    response = client.post("/accounts/logout/", {}, HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_login_form_needs_the_csrf_token(user):
    client = csrf_client()
    data = {"login": "dev", "password": "pw-dev-12345"}
    assert client.post("/accounts/login/", data).status_code == 403
    data["csrfmiddlewaretoken"] = csrf_token(client)
    assert client.post("/accounts/login/", data).status_code == 302


def test_session_authenticated_api_enforces_csrf_but_bearer_tokens_need_none(user, entity_location, settings):
    settings.CALLBOARD_DEFAULT_ROLE = "contributor"  # contributors may refresh any entity
    client = csrf_client(user)
    body = {"entityRef": "component:default/web"}
    response = client.post("/api/catalog/refresh", body, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.content.decode()
    _, raw = ApiToken.issue(user, scopes=["catalog:write"])
    bearer = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert bearer.post("/api/catalog/refresh", body, content_type="application/json").status_code == 200


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


# Views that opt out of Django's CSRF middleware, and why that is safe.
CSRF_EXEMPT_ALLOWED = {
    "catalog.api.backstage.views.PushWebhookView": "called by GitHub/GitLab, authenticated by the shared secret",
    "allauth.socialaccount.providers.google.views.LoginByTokenView": "Google posts a signed ID token; allauth "
    "verifies its signature and Google's g_csrf_token double-submit cookie",
    "allauth.socialaccount.providers.saml.views.ACSView": "the IdP posts the SAML Response from its own site; "
    "python3-saml verifies its signature, audience and destination, and allauth only signs in when it answers an "
    "AuthnRequest started in this browser's session (IdP-initiated sign-in is refused)",
    "allauth.socialaccount.providers.saml.views.SLSView": "SAML single logout messages from the IdP, validated "
    "by python3-saml; the most a forged one could do is sign the person out",
}


def test_no_view_is_csrf_exempt_without_a_reason():
    """DRF views are exempt from the middleware but enforce CSRF in SessionAuthentication; anything else
    exempt must be listed above."""
    offenders = []
    for route, callback in _walk(get_resolver().url_patterns):
        if not getattr(callback, "csrf_exempt", False):
            continue
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        name = f"{callback.__module__}.{getattr(view_class, '__name__', callback.__name__)}"
        if name in CSRF_EXEMPT_ALLOWED:
            continue
        if view_class is not None and issubclass(view_class, APIView):
            # Cookie sessions only through DRF's SessionAuthentication, which enforces CSRF itself.
            authenticators = view_class().get_authenticators()
            if all(isinstance(a, SessionAuthentication | BearerTokenAuthentication) for a in authenticators):
                continue
        offenders.append(f"{route} ({name})")
    assert not offenders, f"CSRF-exempt views without a reason: {offenders}"


# --- Cookies and headers ------------------------------------------------------------------------------


def _settings_with_env(**env) -> dict:
    """Import the settings in a fresh interpreter with these environment variables (as a deployment would)."""
    code = (
        "import json, django.conf; from portal.settings import base as s; "
        "print(json.dumps({k: getattr(s, k, None) for k in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', 'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE']}))"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CALLBOARD_") or k == "CALLBOARD_DATA_DIR"}
    environ.update(env)
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_https_setting_makes_cookies_secure_and_sends_hsts():
    plain = _settings_with_env()
    assert plain["SESSION_COOKIE_SECURE"] is False and plain["SECURE_HSTS_SECONDS"] == 0
    assert plain["SESSION_COOKIE_HTTPONLY"] is True and plain["SESSION_COOKIE_SAMESITE"] == "Lax"
    https = _settings_with_env(CALLBOARD_HTTPS="true", CALLBOARD_BEHIND_TLS_PROXY="true")
    assert https["SESSION_COOKIE_SECURE"] is True and https["CSRF_COOKIE_SECURE"] is True
    assert https["SECURE_HSTS_SECONDS"] == 31536000
    assert https["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_session_cookie_flags_on_login(user, settings):
    client = Client()
    response = client.post("/accounts/login/", {"login": "dev", "password": "pw-dev-12345"})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    response = Client().post("/accounts/login/", {"login": "dev", "password": "pw-dev-12345"}, secure=True)
    assert response.cookies["sessionid"]["secure"]


def test_security_headers(logged_in_client, user, settings):
    response = logged_in_client.get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert "Strict-Transport-Security" not in response  # plain HTTP: no HSTS
    settings.SECURE_HSTS_SECONDS = 31536000
    https = Client()  # a new client: SecurityMiddleware reads its settings when it is created
    https.force_login(user)
    assert https.get("/", secure=True)["Strict-Transport-Security"] == "max-age=31536000"


def test_csp_can_be_turned_off(logged_in_client, settings):
    settings.CONTENT_SECURITY_POLICY = ""
    assert "Content-Security-Policy" not in logged_in_client.get("/")


# --- Sign-in rate limits ------------------------------------------------------------------------------


def _login(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post("/accounts/login/", {"login": username, "password": password}, REMOTE_ADDR=ip)


def test_failed_logins_per_account_are_limited(user):
    client = Client()
    for _ in range(5):
        response = _login(client, "dev", "wrong")
        assert response.status_code == 200
        assert "not correct" in response.content.decode()
    response = _login(client, "dev", "wrong")
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    # Even the right password is refused while the limit holds, from another address too.
    response = _login(client, "dev", "pw-dev-12345", ip="10.0.0.2")
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failed_logins_per_address_are_limited(db):
    for n in range(10):
        get_user_model().objects.create_user(f"u{n}", password="right-pw-123")
    get_user_model().objects.create_user("victim", password="right-pw-123")
    client = Client()
    for n in range(10):
        assert "not correct" in _login(client, f"u{n}", "wrong").content.decode()
    response = _login(client, "victim", "right-pw-123")
    assert "Too many failed login attempts" in response.content.decode()
    assert _login(Client(), "victim", "right-pw-123", ip="10.9.9.9").status_code == 302


def test_login_limit_is_configurable_and_answers_429(user, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "2/m/ip"}
    client = Client()
    assert _login(client, "dev", "wrong").status_code == 200
    assert _login(client, "dev", "wrong").status_code == 200
    response = _login(client, "dev", "pw-dev-12345")
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()


# --- next= --------------------------------------------------------------------------------------------

EVIL_NEXT = [
    "https://evil.example",
    "https://evil.example/accounts/login/",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:evil.example",
    " //evil.example",
    "/\t/evil.example",
    "https://127.0.0.1.evil.example/",
]


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_login_never_redirects_off_site(user, target):
    response = Client().post(f"/accounts/login/?next={target}", {"login": "dev", "password": "pw-dev-12345",
                                                                  "next": target})  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_logout_never_redirects_off_site(logged_in_client, target):
    response = logged_in_client.post("/accounts/logout/", {"next": target})
    assert response.status_code == 302
    assert response["Location"].startswith("/") and not response["Location"].startswith(("//", "/\\"))


def test_login_honours_a_local_next(user):
    response = Client().post("/accounts/login/", {"login": "dev", "password": "pw-dev-12345", "next": "/catalog/"})
    assert response["Location"] == "/catalog/"


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_admin_login_hands_over_to_allauth_with_a_safe_next(client, target):
    response = client.get("/admin/login/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_admin_sign_in_goes_through_allauth(admin_user):
    client = Client()
    response = client.get("/admin/")
    assert response["Location"].startswith("/admin/login/")
    response = client.get(response["Location"])
    assert response["Location"] == "/accounts/login/?next=/admin/"
    response = client.post(response["Location"], {"login": "root", "password": "pw-root-12345"})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_signed_in_non_staff_gets_a_clear_refusal_not_a_loop(logged_in_client):
    response = logged_in_client.get("/admin/", follow=True)
    assert response.status_code == 403


def test_behind_a_proxy_limits_and_audit_use_the_forwarded_address(db, settings):
    settings.BEHIND_TLS_PROXY = True
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for n in range(10):
        get_user_model().objects.create_user(f"u{n}", password="right-pw-123")
    get_user_model().objects.create_user("other", password="right-pw-123")
    client = Client()
    for n in range(10):
        client.post("/accounts/login/", {"login": f"u{n}", "password": "wrong"}, REMOTE_ADDR="10.0.0.254",
                    HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.9")  # fmt: skip
    refused = Client().post("/accounts/login/", {"login": "other", "password": "right-pw-123"},
                            REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="203.0.113.9")  # fmt: skip
    assert "Too many failed login attempts" in refused.content.decode()
    # Another client behind the same proxy is not locked out with the attacker.
    other = Client()
    response = other.post("/accounts/login/", {"login": "other", "password": "right-pw-123"},
                          REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="198.51.100.20")  # fmt: skip
    assert response.status_code == 302
    other.post("/accounts/tokens/", {"name": "t", "scopes": ["catalog:read"], "expiry": "7",
                                     "owner": get_user_model().objects.get(username="other").pk},
               REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="198.51.100.20")  # fmt: skip
    from portal.models import AuditEvent

    assert AuditEvent.objects.get(action="token.created").ip == "198.51.100.20"
