"""API tokens: hashed at rest, shown once, scoped, expiring, revocable; `token create` prints only it."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from portal import clock
from portal.models import ApiToken
from portal.models.tokens import digest

pytestmark = pytest.mark.django_db


def test_token_is_stored_hashed(user):
    token, raw = ApiToken.issue(user)
    assert raw.startswith("cb_")
    assert token.key_digest == digest(raw)
    assert raw not in (token.key_digest, token.hint)
    assert not ApiToken.objects.filter(key_digest=raw).exists()


def test_token_create_command_prints_only_the_token(user):
    out = StringIO()
    call_command("token", "create", user.username, "--scopes", "catalog:read", stdout=out)
    raw = out.getvalue().strip()
    assert "\n" not in raw and raw.startswith("cb_")
    token = ApiToken.objects.get(key_digest=digest(raw))
    assert token.scopes == ["catalog:read"]


def test_bearer_token_authenticates(user):
    _, raw = ApiToken.issue(user)
    client = APIClient()
    assert client.get("/api/v1/catalog/entities/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/catalog/entities/").status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize("change", ["revoked", "expired"])
def test_revoked_or_expired_token_is_refused(user, change):
    token, raw = ApiToken.issue(user)
    if change == "revoked":
        token.revoked_at = timezone.now()
    else:
        token.expires_at = timezone.now() - timedelta(minutes=1)
    token.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/v1/catalog/entities/")
    assert response.status_code == 401


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_known_token_costs_no_query(user):
    _, raw = ApiToken.issue(user)
    client = _bearer(raw)
    assert client.get("/api/catalog/entities?limit=1").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/catalog/entities?limit=1").status_code == 200
    assert not [q for q in queries.captured_queries if "apitoken" in q["sql"] or "auth_user" in q["sql"]]


@pytest.mark.parametrize("change", ["revoke", "delete", "deactivate user", "delete user"])
def test_a_remembered_token_is_refused_as_soon_as_it_changes(user, change):
    token, raw = ApiToken.issue(user)
    client = _bearer(raw)
    assert client.get("/api/catalog/entities?limit=1").status_code == 200
    version = cache.get("auth:tokens")
    if change == "revoke":
        token.revoke()
        assert cache.get("auth:tokens") != version  # other processes see it within half a second
    elif change == "delete":
        token.delete()
    elif change == "deactivate user":
        user.is_active = False
        user.save()
    else:
        user.delete()
    assert client.get("/api/catalog/entities?limit=1").status_code == 401


def test_a_remembered_token_expires_on_time(user):
    """Expiry is checked on every request against the clock, not only when the token is first read."""
    _, raw = ApiToken.issue(user, expires_at=timezone.now() + timedelta(hours=1))
    client = _bearer(raw)
    assert client.get("/api/catalog/entities?limit=1").status_code == 200
    with clock.shifted(timedelta(minutes=59)):
        assert client.get("/api/catalog/entities?limit=1").status_code == 200
    with clock.shifted(timedelta(hours=1, seconds=1)):
        assert client.get("/api/catalog/entities?limit=1").status_code == 401
    assert client.get("/api/catalog/entities?limit=1").status_code == 200


def test_last_use_is_written_once_a_minute_not_per_request(user):
    token, raw = ApiToken.issue(user)
    client = _bearer(raw)
    client.get("/api/catalog/entities?limit=1")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/catalog/entities?limit=1")
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first


def test_scope_limits_writes(user):
    _, raw = ApiToken.issue(user, scopes=["catalog:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/catalog/entities").status_code == 200
    response = client.post("/api/catalog/refresh", {"entityRef": "component:x"}, format="json")
    assert response.status_code == 403
    assert "catalog:write" in response.json()["error"]["message"]


def test_token_revoke_and_expiry_options(user):
    out = StringIO()
    call_command("token", "create", user.username, "--expires", "1d", stdout=out)
    token = ApiToken.objects.get()
    assert token.expires_at > timezone.now() + timedelta(hours=23)
    call_command("token", "revoke", token.hint, stdout=StringIO())
    token.refresh_from_db()
    assert token.revoked_at is not None
