"""Django's Redis cache, minus a new ``redis.Redis`` object per cache call.

Django's client builds a fresh ``redis.Redis`` for every get and set; with redis-py 5 and later that
constructor registers ~170 response callbacks, which costs more CPU than the round trip itself. A
``redis.Redis`` is safe to share between threads (each command borrows a pooled connection), so one is
kept per connection pool.
"""

from __future__ import annotations

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
