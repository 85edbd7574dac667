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
