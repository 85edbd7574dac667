"""Version counters for cached, derived data (catalog answers, access rules).

A counter lives in the shared cache and is bumped when its data changes. Each process reads it at most
every ``ttl`` seconds and keeps small derived values (the override map, the access rules) in memory per
version, so a warm request spends no cache round trip on them. A bump in this process is seen at once;
a bump in another process (the worker) within ``ttl``. Counters start at the current time in
milliseconds, so a flushed cache never reuses a version number that processes still hold values for.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from django.core.cache import cache

_counters: list[VersionCounter] = []


class VersionCounter:
    def __init__(self, key: str, *, ttl: float = 0.5, timeout: int = 3600) -> None:
        self.key, self.ttl, self.timeout = key, ttl, timeout
        self._value: int | None = None
        self._expires = 0.0
        self._local: dict[str, tuple[int, Any]] = {}
        self._lru: dict[str, tuple[int, OrderedDict[Hashable, Any]]] = {}
        self._lru_lock = threading.Lock()  # threaded servers share one process's memory
        _counters.append(self)

    def get(self) -> int:
        now = time.monotonic()
        if self._value is not None and now < self._expires:
            return self._value
        version = cache.get(self.key)
        if version is None:
            cache.add(self.key, int(time.time() * 1000), timeout=None)
            version = cache.get(self.key) or int(time.time() * 1000)
        self._value, self._expires = int(version), now + self.ttl
        return self._value

    def bump(self) -> int:
        try:
            version = cache.incr(self.key)
        except ValueError:
            version = int(time.time() * 1000)
            cache.set(self.key, version, timeout=None)
        self._value, self._expires = int(version), time.monotonic() + self.ttl
        return self._value

    def memo(self, name: str, build: Callable[[], Any]) -> Any:
        """``build()`` once per version: from this process's memory, else the shared cache, else built."""
        version = self.get()
        held = self._local.get(name)
        if held is not None and held[0] == version:
            return held[1]
        shared_key = f"{self.key}:{name}:{version}"
        value = cache.get(shared_key)
        if value is None:
            value = build()
            cache.set(shared_key, value, self.timeout)
        self._local[name] = (version, value)
        return value

    def recent(self, name: str, key: Hashable, build: Callable[[], Any], *, size: int = 2000) -> Any:
        """``build()`` once per key and version, kept in this process only: the ``size`` most recently used.

        For many small answers read often (an entity by name, the signed-in user): a hit costs no round
        trip at all, a miss only ``build()``. ``None`` is not kept.
        """
        version = self.get()
        with self._lru_lock:
            held = self._lru.get(name)
            if held is None or held[0] != version:
                held = self._lru[name] = (version, OrderedDict())
            values = held[1]
            if key in values:
                values.move_to_end(key)
                return values[key]
        value = build()
        if value is not None:
            with self._lru_lock:
                values[key] = value
                if len(values) > size:
                    values.popitem(last=False)
        return value

    def forget(self) -> None:
        self._value, self._expires, self._local, self._lru = None, 0.0, {}, {}


def forget_all() -> None:
    """Drop every process-local value (tests call this when they clear the cache)."""
    for counter in _counters:
        counter.forget()
