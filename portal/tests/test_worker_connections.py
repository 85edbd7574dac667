"""A worker keeps its database connection from one task to the next (as Django does between requests), replaces
a broken one, and reads a job's JobRun once before running it (portal/celerytask.py, portal/jobs.py).

Celery's Django fix-up closed the connection around every task: on PostgreSQL each task paid a new connection
and a cold backend, most of a short task's time (docs/benchmarks.md, the scaffolder's trivial template).
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import JobRun
from portal.testing.celery import wait_until, worker_process
from portal.testing.tasks import database_session


def session_of(task_id: str):
    job = JobRun.objects.filter(task_id=task_id, status=JobRun.Status.SUCCEEDED).first()
    return job and job.result["session"]


def run_on(worker) -> int:
    task_id = database_session.apply_async(queue=worker.queue).id
    return wait_until(lambda: session_of(task_id), what=f"the job {task_id}\n{worker.log()}")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_connection_between_tasks_and_replaces_a_broken_one():
    with worker_process(concurrency=1, quiet=True) as worker:
        first = run_on(worker)
        assert run_on(worker) == first == run_on(worker)
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:  # the server ends the worker's session (a restart, a failover)
            cursor.execute("SELECT pg_terminate_backend(%s)", [first])
            assert cursor.fetchone()[0] is True
        replaced = run_on(worker)  # the health check at the task's start found it broken and reconnected
        assert replaced != first
        assert run_on(worker) == replaced


def run_as_worker(task, task_id: str) -> None:
    """Run ``task`` in this process with the request a worker gives it (not eager, with an id)."""
    task.push_request(id=task_id, is_eager=False, hostname="worker@host", delivery_info={"routing_key": "callboard"},
                      args=[], kwargs={}, task=task.name)  # fmt: skip
    try:
        task()
    finally:
        task.pop_request()


@pytest.mark.django_db(transaction=True)
def test_a_job_reads_its_jobrun_once_and_a_repeat_delivery_once():
    task_id = str(uuid.uuid4())
    with CaptureQueriesContext(connection) as ran:
        run_as_worker(database_session, task_id)
    # whether it ran before (read once, for the repeat check and the JobRun), the JobRun, its end
    assert [q["sql"].split()[0] for q in ran] == ["SELECT", "INSERT", "UPDATE"], [q["sql"][:80] for q in ran]
    job = JobRun.objects.get(task_id=task_id)
    assert job.status == JobRun.Status.SUCCEEDED and job.worker == "worker@host" and job.attempt == 1
    assert job.task_call == {"task": "portal.testing.database_session", "args": [], "kwargs": {}, "queue": "callboard"}

    with CaptureQueriesContext(connection) as again:  # the same message delivered again: dropped after one read
        run_as_worker(database_session, task_id)
    assert len(again) == 1
    assert JobRun.objects.get(task_id=task_id).finished_at == job.finished_at


@pytest.mark.django_db(transaction=True)
def test_a_job_sent_again_by_the_sweeper_runs_in_its_pending_jobrun():
    pending = JobRun.objects.create(name="portal.testing.database_session", task_id=str(uuid.uuid4()), attempt=2)
    with CaptureQueriesContext(connection) as ran:
        run_as_worker(database_session, pending.task_id)
    assert [q["sql"].split()[0] for q in ran] == ["SELECT", "UPDATE", "UPDATE"], [q["sql"][:80] for q in ran]
    pending.refresh_from_db()
    assert pending.status == JobRun.Status.SUCCEEDED and pending.attempt == 2
