"""Thin Celery wrapper: the engine does the work (scaffolder/engine.py)."""

from __future__ import annotations

from celery import shared_task

from portal.jobs import job_run
from scaffolder import engine


@shared_task(name="scaffolder.run_task")
def run_task(task_id: str) -> str:
    """Run a scaffolder task; a second delivery of the same task does nothing (it is no longer open)."""
    with job_run("scaffolder.run_task", task_id) as job:
        task = engine.run_task(task_id, job=job)
        job.result = {"task": str(task.pk), "status": task.status}
    return task.status


@shared_task(name="scaffolder.fail_stale_tasks")
def fail_stale_tasks() -> int:
    """Beat's periodic entry: a task still "processing" longer than any run may last has lost its worker
    (the hard time limit has passed, and the lost-job sweeper's bound after it): mark it failed."""
    from datetime import timedelta

    from django.conf import settings

    return engine.fail_stale_tasks(timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + settings.JOB_LOST_AFTER))
