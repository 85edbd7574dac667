"""API tokens: hashed at rest, shown once, scoped, expiring, revocable; `token create` prints only it."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

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
