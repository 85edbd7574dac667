"""Tasks only the tests' workers load (settings/test.py CELERY_IMPORTS): jobs whose pace a test controls."""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import shared_task

from portal.jobs import job_run


@shared_task(name="portal.testing.wait_for_file")
def wait_for_file(path: str, timeout: float = 300) -> dict:
    """A job that writes ``<path>.started`` and then waits until ``path`` exists (or ``timeout`` passes)."""
    with job_run("portal.testing.wait_for_file", path) as job:
        Path(f"{path}.started").write_text(str(os.getpid()))
        deadline = time.monotonic() + timeout
        while not Path(path).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} did not appear")
            time.sleep(0.05)
        job.result = {"pid": os.getpid()}
    return job.result


@shared_task(name="portal.testing.database_session")
def database_session() -> dict:
    """A job that records which database session ran it (PostgreSQL's backend pid; SQLite's connection object)."""
    from django.db import connection

    with job_run("portal.testing.database_session") as job:
        connection.ensure_connection()
        raw = connection.connection
        job.result = {"session": raw.info.backend_pid if connection.vendor == "postgresql" else id(raw)}
    return job.result
