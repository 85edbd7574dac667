"""Background jobs: dispatched after commit, recorded in JobRun, logic kept in services.

A Celery task body is three lines: open a JobRun, call a service function, record the outcome::

    @shared_task(name="catalog.refresh_location")
    def refresh_location(location_id: str) -> None:
        with job_run("catalog.refresh_location", location_id) as job:
            job.result = refresh.refresh_location(location_id)

Inside a worker, the JobRun also records the Celery message (task, arguments, queue) and a heartbeat that
a thread refreshes every ``JOB_HEARTBEAT_INTERVAL`` seconds. If the worker dies (killed, OOM, host lost),
:func:`sweep_lost_jobs` (run by beat) marks a job whose heartbeat stopped for ``JOB_LOST_AFTER`` seconds
failed and sends its message again, so the work is redone within a bound on either broker. The same
message delivered twice (Redis's visibility timeout, a pool child lost mid-task) runs at most until its
JobRun has finished (portal/celerytask.py). docs/deploy.md says what is guaranteed.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from celery import Task, current_app, current_task
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max, TextField, Value
from django.db.models.functions import Concat
from django.utils import timezone

from portal.models import JobRun

logger = logging.getLogger(__name__)

HEARTBEAT_JOB = "portal.worker_heartbeat"  # one JobRun per worker, updated in place
_UNREAD = object()


class JobAbandoned(Exception):
    """A job whose worker was lost more than ``JOB_MAX_ATTEMPTS`` times; it is not run again."""


def enqueue_on_commit(task: Task, *args) -> None:
    """Send ``task`` with primary-key arguments once the current transaction commits."""
    transaction.on_commit(lambda: task.delay(*args))


def _worker_request():
    """The Celery request being executed by a real worker in this process, or None (eager, or no task)."""
    task = current_task
    request = getattr(task, "request", None) if task else None
    if request is None or not request.id or request.is_eager:
        return None
    return request


def _start(name: str, object_repr: str) -> JobRun:
    now = timezone.now()
    request = _worker_request()
    if request is None:
        return JobRun.objects.create(
            name=name, object_repr=str(object_repr)[:300], status=JobRun.Status.RUNNING, started_at=now
        )
    # The row PortalTask read to decide whether to run this message (portal/celerytask.py), used once.
    job = request.__dict__.pop("job_run_row", _UNREAD)
    if job is _UNREAD:
        job = JobRun.objects.filter(task_id=request.id).first()
    if job is None:
        job = JobRun(name=name, object_repr=str(object_repr)[:300], task_id=request.id)
    elif job.status != JobRun.Status.PENDING:  # the same message again: its worker was lost mid-task
        job.attempt += 1
        job.append_log(f"Delivered again after the worker running it ({job.worker}) was lost")
    job.task_call = {
        "task": request.task,
        "args": list(request.args or ()),
        "kwargs": dict(request.kwargs or {}),
        "queue": (request.delivery_info or {}).get("routing_key"),
    }
    job.worker = request.hostname or ""
    job.status, job.started_at, job.finished_at, job.heartbeat_at = JobRun.Status.RUNNING, now, None, now
    job.save()
    return job


def _beat_until(stop: threading.Event, job_id: int) -> None:
    """Refresh the job's heartbeat until ``stop`` is set (a thread beside the job, its own connection)."""
    try:
        while not stop.wait(settings.JOB_HEARTBEAT_INTERVAL):
            try:
                JobRun.objects.filter(pk=job_id, status=JobRun.Status.RUNNING).update(heartbeat_at=timezone.now())
            except DatabaseError as exc:  # e.g. SQLite busy during a long write: try again next time
                logger.warning("Job %s: heartbeat not recorded (%s)", job_id, exc)
    finally:
        connection.close()


@contextmanager
def job_run(name: str, object_repr: str = "") -> Iterator[JobRun]:
    """Record one job execution: running → succeeded/failed, with the error in its log."""
    job = _start(name, object_repr)
    if job.attempt > settings.JOB_MAX_ATTEMPTS:
        job.status, job.finished_at = JobRun.Status.FAILED, timezone.now()
        job.append_log(f"Not run again: its worker was lost {job.attempt - 1} times")
        job.save(update_fields=["status", "finished_at", "log"])
        raise JobAbandoned(f"{name} {object_repr}: worker lost {job.attempt - 1} times")
    stop = threading.Event()
    if job.task_id:
        threading.Thread(target=_beat_until, args=(stop, job.pk), name=f"jobrun-{job.pk}", daemon=True).start()
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
        stop.set()
        job.finished_at = timezone.now()
        fields = ["status", "finished_at", "log", "result"]
        if job.task_id:
            job.heartbeat_at = job.finished_at
            fields.append("heartbeat_at")
        job.save(update_fields=fields)


def sweep_lost_jobs(*, now: datetime | None = None) -> list[JobRun]:
    """Mark running jobs whose heartbeat stopped ``JOB_LOST_AFTER`` s ago failed, and send each again.

    Returns the jobs sent again (the new PENDING JobRun of each). A job that has used ``JOB_MAX_ATTEMPTS``
    is only marked failed. The original message, should the broker deliver it again later, is dropped.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.JOB_LOST_AFTER)
    lost = JobRun.objects.filter(status=JobRun.Status.RUNNING, heartbeat_at__lt=cutoff).exclude(task_id="")
    sent: list[JobRun] = []
    for job in lost:
        call = job.task_call or {}
        again = bool(call.get("task")) and job.attempt < settings.JOB_MAX_ATTEMPTS
        line = f"{now:%H:%M:%S} Worker {job.worker} lost: no heartbeat since {job.heartbeat_at:%H:%M:%S}"
        line += f"; sent again (attempt {job.attempt + 1})\n" if again else "; not sent again\n"
        with transaction.atomic():
            claimed = JobRun.objects.filter(pk=job.pk, status=JobRun.Status.RUNNING, heartbeat_at__lt=cutoff).update(
                status=JobRun.Status.FAILED, finished_at=now, log=Concat("log", Value(line, output_field=TextField()))
            )
            if not claimed:
                continue
            if not again:
                logger.error("Job %s (%s) lost its worker %s; not sent again", job.name, job.object_repr, job.worker)
                continue
            retry = JobRun.objects.create(
                name=job.name, object_repr=job.object_repr, task_id=str(uuid.uuid4()), task_call=call,
                attempt=job.attempt + 1, log=f"{now:%H:%M:%S} Sent again: JobRun {job.pk} lost its worker\n",
            )  # fmt: skip
            transaction.on_commit(lambda retry=retry: _send(retry))
        logger.warning("Job %s (%s) lost its worker %s; sent again as %s", job.name, job.object_repr, job.worker,
                       retry.task_id)  # fmt: skip
        sent.append(retry)
    return sent


def _send(job: JobRun) -> None:
    call = job.task_call
    options = {"queue": call["queue"]} if call.get("queue") else {}
    current_app.send_task(call["task"], args=call.get("args", []), kwargs=call.get("kwargs", {}),
                          task_id=job.task_id, **options)  # fmt: skip


def record_worker_heartbeat(worker: str) -> None:
    """Note that ``worker`` just completed a heartbeat task (its pool takes and runs work)."""
    now = timezone.now()
    JobRun.objects.update_or_create(
        name=HEARTBEAT_JOB, object_repr=worker[:300],
        defaults={"status": JobRun.Status.SUCCEEDED, "worker": worker, "started_at": now, "finished_at": now,
                  "heartbeat_at": now},
    )  # fmt: skip


def last_sign_of_life(worker: str | None = None) -> datetime | None:
    """When a worker (any, or the one named) last completed a heartbeat task or beat for a running job."""
    runs = JobRun.objects.filter(worker=worker) if worker else JobRun.objects.all()
    return runs.aggregate(last=Max("heartbeat_at"))["last"]


def worker_problem(*, now: datetime | None = None) -> str | None:
    """None when workers showed a sign of life within ``WORKER_STALE_AFTER`` s (or none ever ran)."""
    last = last_sign_of_life()
    if last is None:
        return None  # a fresh installation: no worker has reported yet
    silent = ((now or timezone.now()) - last).total_seconds()
    if silent <= settings.WORKER_STALE_AFTER:
        return None
    return (
        f"no worker has completed a heartbeat task or a job for {silent:.0f} s "
        f"(bound {settings.WORKER_STALE_AFTER} s): workers or beat are down or stuck"
    )
