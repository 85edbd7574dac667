"""The suite runs on the cache the configuration names, and clearing it touches only its own keys."""

import pytest
from django.core.cache import caches

from portal.rediscache import RedisCache


def test_the_suite_uses_redis_when_redis_url_is_set(settings):
    if not settings.REDIS_URL:
        pytest.skip("embedded configuration: per-process memory (the cross-process tests use the file cache)")
    assert isinstance(caches["default"], RedisCache)
    assert caches["default"].key_prefix == settings.CONFIGURED_CACHES["default"]["KEY_PREFIX"]


def test_clear_deletes_only_this_prefix(settings):
    """Not FLUSHDB: the Celery broker's queues and other test runs share the Redis database."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    cache = caches["default"]
    client = cache._cache.get_client(write=True)
    others = [f"{cache.key_prefix}x:1:neighbour", "_kombu.test-queue", ":1:unprefixed"]
    try:
        for key in others:
            client.set(key, b"1", ex=60)
        cache.set("mine", 1)
        cache.clear()
        assert cache.get("mine") is None
        assert [client.exists(key) for key in others] == [1, 1, 1]
    finally:
        client.delete(*others)
