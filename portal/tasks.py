"""Thin Celery tasks for the workers' own health (portal/jobs.py)."""

from __future__ import annotations

from celery import shared_task

from portal import jobs


@shared_task(name="portal.worker_heartbeat", bind=True)
def worker_heartbeat(self) -> None:
    """Sent by beat: proves that a worker's pool takes and completes tasks (/healthz, `serve`)."""
    jobs.record_worker_heartbeat(self.request.hostname or "unknown")


@shared_task(name="portal.sweep_lost_jobs")
def sweep_lost_jobs() -> int:
    """Sent by beat: jobs whose worker stopped beating are marked failed and sent again."""
    return len(jobs.sweep_lost_jobs())
