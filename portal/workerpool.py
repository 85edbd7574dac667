"""Celery's prefork pool, made to survive a pool child killed while it holds a queue lock.

Without an event loop (kombu's filesystem broker), Celery runs billiard's blocking pool: every child reads
jobs from one shared pipe under one process-shared lock, and an idle child waits *inside* that lock. A child
killed by a signal (``kill -9``, the OOM killer) never releases it, so its replacement and every other child
block on it for good: tasks are received and never run (issue 12, defect 4). Here each lock remembers the
pid holding it, and when the pool reaps a child that died holding one, it releases it for the others.

The event-loop pool used with Redis gives each child its own pipes and no shared lock; it is left as is.
Selected for every worker by ``CELERY_WORKER_POOL`` (settings); ``celery worker --pool`` still overrides.
"""

from __future__ import annotations

import logging
import os

from billiard.pool import Pool as BlockingPool
from celery.concurrency import prefork

logger = logging.getLogger(__name__)


class HolderTrackingLock:
    """A process-shared lock that records which pid holds it, so the pool can free it if that pid dies."""

    def __init__(self, ctx) -> None:
        self._lock = ctx.Lock()
        self._holder = ctx.RawValue("i", 0)

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        acquired = self._lock.acquire(block, timeout) if timeout is not None else self._lock.acquire(block)
        if acquired:
            self._holder.value = os.getpid()
        return acquired

    def release(self) -> None:
        self._holder.value = 0
        self._lock.release()

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()

    def release_if_held_by(self, pid: int) -> bool:
        """Release the lock for a dead process that still holds it; True when it did."""
        if pid and self._holder.value == pid:
            self.release()
            return True
        return False


class RecoveringPool(BlockingPool):
    """billiard's blocking pool whose shared queue locks are freed when the child holding them dies."""

    def _setup_queues(self) -> None:
        super()._setup_queues()
        # Children read jobs under the in-queue's read lock and send results under the out-queue's write lock.
        self._inqueue._rlock = HolderTrackingLock(self._ctx)
        self._outqueue._wlock = HolderTrackingLock(self._ctx)

    def _join_exited_workers(self, shutdown: bool = False):
        exited = [w.pid for w in self._pool if w._popen is not None and w.exitcode is not None]
        cleaned = super()._join_exited_workers(shutdown)
        for pid in exited:
            for name, lock in (("job queue", self._inqueue._rlock), ("result queue", self._outqueue._wlock)):
                if lock.release_if_held_by(pid):
                    logger.warning("Pool child %s died holding the %s lock; released it", pid, name)
        return cleaned


class TaskPool(prefork.TaskPool):
    """Celery's prefork pool with :class:`RecoveringPool` when there is no event loop."""

    BlockingPool = RecoveringPool
