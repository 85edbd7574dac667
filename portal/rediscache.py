"""Django's Redis cache, minus a new ``redis.Redis`` object per cache call.

Django's client builds a fresh ``redis.Redis`` for every get and set; with redis-py 5 and later that
constructor registers ~170 response callbacks, which costs more CPU than the round trip itself. A
``redis.Redis`` is safe to share between threads (each command borrows a pooled connection), so one is
kept per connection pool.
"""

from __future__ import annotations

import re

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def clear(self) -> bool:
        """Delete this cache's keys only, not the whole database (Django's ``FLUSHDB``).

        The Celery broker's queues live in the same Redis database (``REDIS_URL`` is both), and test
        runs on a shared server keep their keys under their own ``KEY_PREFIX``.
        """
        client = self._cache.get_client(write=True)
        prefix = re.sub(r"([*?\[\]\\])", r"\\\1", self.key_prefix)  # keys are "<prefix>:<version>:<key>"
        pattern = f"{prefix}:*"
        keys = list(client.scan_iter(match=pattern, count=1000))
        for start in range(0, len(keys), 1000):
            client.unlink(*keys[start : start + 1000])
        return True
