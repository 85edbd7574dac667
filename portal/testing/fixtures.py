"""Fixtures every app's tests can use: users, API clients with tokens, query-count assertions."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from portal.models import ApiToken


@pytest.fixture(autouse=True, scope="session")
def _cache_cleaned_after_the_run():
    """Leave no keys behind on a shared cache server (only this session's prefix; see settings/test.py)."""
    yield
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (the database is rolled back; the cache is not)."""
    from django.core.cache import cache

    from portal.versions import forget_all

    cache.clear()
    forget_all()


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("dev", "dev@example.com", "pw-dev-12345")


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-12345")


@pytest.fixture
def api_client(user) -> APIClient:
    """An API client authenticated with a real bearer token of ``user``."""
    _, raw = ApiToken.issue(user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def logged_in_client(client, user):
    client.force_login(user)
    return client
