"""Background jobs: dispatched after commit, recorded in JobRun, logic kept in services.

A Celery task body is three lines: open a JobRun, call a service function, record the outcome::

    @shared_task(name="catalog.refresh_location")
    def refresh_location(location_id: str) -> None:
        with job_run("catalog.refresh_location", location_id) as job:
            job.result = refresh.refresh_location(location_id)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from celery import Task
from django.db import transaction
from django.utils import timezone

from portal.models import JobRun

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, *args) -> None:
    """Send ``task`` with primary-key arguments once the current transaction commits."""
    transaction.on_commit(lambda: task.delay(*args))


@contextmanager
def job_run(name: str, object_repr: str = "") -> Iterator[JobRun]:
    """Record one job execution: running → succeeded/failed, with the error in its log."""
    job = JobRun.objects.create(
        name=name, object_repr=str(object_repr)[:300], status=JobRun.Status.RUNNING, started_at=timezone.now()
    )
    try:
        yield job
    except Exception as exc:
        job.status = JobRun.Status.FAILED
        job.append_log(f"{type(exc).__name__}: {exc}")
        logger.exception("Job %s (%s) failed", name, object_repr)
        raise
    else:
        job.status = JobRun.Status.SUCCEEDED
    finally:
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at", "log", "result"])
