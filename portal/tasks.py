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


@shared_task(name="portal.deliver_notification", bind=True)
def deliver_notification(self, delivery_id: int) -> str:
    """Send one notification delivery through apprise; retried with back-off, then marked failed."""
    from django.conf import settings

    from portal.notifications import delivery, service

    try:
        return service.deliver(delivery_id)
    except delivery.DeliveryFailed as exc:
        if self.request.retries >= settings.NOTIFICATIONS_MAX_RETRIES:
            service.give_up(delivery_id)
            return "failed"
        raise self.retry(exc=exc, countdown=settings.NOTIFICATIONS_RETRY_DELAY * 2**self.request.retries) from exc
    except delivery.UnsafeUrl:
        service.give_up(delivery_id)  # retrying cannot make a refused URL acceptable
        return "refused"
