"""Workers that lose a pool child, or die mid-task, recover within a bound (issue 12, defect 4 and scale-out).

Real ``celery -A portal worker`` processes with the pool ``serve`` and the image start, on Redis when
REDIS_URL is set and on the filesystem broker otherwise; their processes are killed for real.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from portal import jobs
from portal.models import JobRun
from portal.tasks import worker_heartbeat
from portal.testing.celery import (
    child_pids,
    descendant_pids,
    is_running,
    stop_group,
    wait_until,
    worker_process,
)
from portal.testing.celery import test_database_url as database_url
from portal.testing.tasks import wait_for_file

pytestmark = pytest.mark.worker


def heartbeat_of(worker_name: str):
    return JobRun.objects.filter(name=jobs.HEARTBEAT_JOB, worker=worker_name).values_list("heartbeat_at", flat=True)


def first_heartbeat(worker):
    """The worker's first completed heartbeat. Its start is not what the test is about (a loaded CI machine
    once took over 60 s): the heartbeat is sent again every 15 s for 3 minutes, and the log is shown if none ran."""
    for _ in range(12):
        worker_heartbeat.apply_async(queue=worker.queue)
        with contextlib.suppress(AssertionError):
            return wait_until(lambda: heartbeat_of(worker.name).first(), timeout=15, what="a first task")
    raise AssertionError("The worker ran no task at all:\n" + worker.log())


@pytest.mark.parametrize("concurrency", [1, 2])
@pytest.mark.django_db(transaction=True)
def test_worker_runs_tasks_after_its_idle_pool_children_are_killed(concurrency):
    """Before the fix, on the filesystem broker, the replacement child blocked for good on the queue lock."""
    with worker_process(concurrency=concurrency) as worker:
        before = first_heartbeat(worker)
        children = wait_until(lambda: len(worker.pool_children()) == concurrency and worker.pool_children(),
                              what="the pool children")  # fmt: skip
        for pid in children:  # idle: each waits for a job, one of them inside the job queue's lock
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: len(set(worker.pool_children()) - set(children)) == concurrency, what="replacements")
        worker_heartbeat.apply_async(queue=worker.queue)
        try:
            wait_until(lambda: heartbeat_of(worker.name).first() > before, timeout=60, what="a task after the kill")
        except AssertionError:
            raise AssertionError("The worker did not run a task after losing its pool:\n" + worker.log()) from None


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_is_killed_is_marked_failed_and_run_again(settings, tmp_path):
    settings.JOB_LOST_AFTER = 3  # the sweeper runs here, in the test process
    env = {"CALLBOARD_JOB_HEARTBEAT_INTERVAL": "1"}
    gate = tmp_path / "gate"
    with worker_process(env) as first:
        wait_for_file.apply_async(args=[str(gate)], queue=first.queue)
        wait_until(lambda: Path(f"{gate}.started").exists(), what="the job to start")
        lost = wait_until(lambda: JobRun.objects.filter(name="portal.testing.wait_for_file", heartbeat_at__isnull=False)
                          .first(), what="a heartbeat")  # fmt: skip
        first.kill()  # the worker and its pool child, mid-task
    gate.touch()
    with worker_process(env, queue=first.queue) as second:
        retries = wait_until(jobs.sweep_lost_jobs, timeout=60, what="the sweeper to find the lost job")
        assert [r.task_call["args"] for r in retries] == [[str(gate)]]
        retry = wait_until(lambda: JobRun.objects.filter(pk=retries[0].pk, status=JobRun.Status.SUCCEEDED).first(),
                           what="the job to run again")  # fmt: skip
        lost.refresh_from_db()
        assert lost.status == JobRun.Status.FAILED
        assert f"Worker {first.name} lost" in lost.log
        assert (retry.attempt, retry.worker, retry.task_call) == (2, second.name, lost.task_call)

        # The lost job's message delivered again later (Redis, after its visibility timeout) is not run again.
        wait_for_file.apply_async(args=[str(gate)], queue=second.queue, task_id=lost.task_id)
        worker_heartbeat.apply_async(queue=second.queue)
        wait_until(lambda: heartbeat_of(second.name).exists(), what="the task sent after it")
    lost.refresh_from_db()
    assert lost.status == JobRun.Status.FAILED
    assert JobRun.objects.filter(name="portal.testing.wait_for_file").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_pool_child_is_killed_runs_again_in_the_same_jobrun(tmp_path):
    """The worker survives; acks-late puts the message back and its JobRun counts a second attempt."""
    gate = tmp_path / "gate"
    with worker_process({"CALLBOARD_JOB_HEARTBEAT_INTERVAL": "1"}) as worker:
        wait_for_file.apply_async(args=[str(gate)], queue=worker.queue)
        started = Path(f"{gate}.started")
        child = int(wait_until(lambda: started.exists() and started.read_text(), what="the job to start"))
        started.unlink()
        os.kill(child, signal.SIGKILL)
        wait_until(started.exists, what="the job to start again")
        gate.touch()
        job = wait_until(lambda: JobRun.objects.filter(status=JobRun.Status.SUCCEEDED).first(), what="the job to end")
    assert JobRun.objects.count() == 1
    assert job.attempt == 2
    assert "Delivered again" in job.log


@pytest.mark.django_db
def test_sweeper_fails_lost_jobs_and_sends_them_again_up_to_the_limit(settings, django_capture_on_commit_callbacks):
    settings.JOB_LOST_AFTER, settings.JOB_MAX_ATTEMPTS = 120, 3
    now = timezone.now()
    call = {"task": "portal.testing.wait_for_file", "args": ["/x"], "kwargs": {}, "queue": "q"}

    def running(heartbeat_ago: int, **fields) -> JobRun:
        fields = {"task_id": f"t{heartbeat_ago}{fields.get('attempt', 1)}", "task_call": call, **fields}
        return JobRun.objects.create(name="j", status=JobRun.Status.RUNNING, worker="w@h",
                                     heartbeat_at=now - timedelta(seconds=heartbeat_ago), **fields)  # fmt: skip

    lost, alive, last_try = running(121), running(119), running(600, attempt=3)
    outside_worker = running(600, task_id="")  # run by a command, not a worker: no heartbeat to miss
    with django_capture_on_commit_callbacks() as sends:
        retries = jobs.sweep_lost_jobs(now=now)
    assert len(retries) == len(sends) == 1
    assert (retries[0].status, retries[0].attempt, retries[0].task_call) == (JobRun.Status.PENDING, 2, call)
    for job, status in [(lost, "failed"), (alive, "running"), (last_try, "failed"), (outside_worker, "running")]:
        job.refresh_from_db()
        assert job.status == status
    assert "sent again (attempt 2)" in lost.log
    assert "not sent again" in last_try.log
    assert jobs.sweep_lost_jobs(now=now) == []  # already handled


@pytest.mark.django_db
def test_healthz_reports_workers_without_a_recent_heartbeat(client, settings):
    settings.WORKER_STALE_AFTER = 180
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}  # no worker has reported yet
    jobs.record_worker_heartbeat("w1@host")
    assert client.get("/healthz?strict=1").json() == {"status": "ok", "database": "ok"}
    JobRun.objects.filter(name=jobs.HEARTBEAT_JOB).update(heartbeat_at=timezone.now() - timedelta(seconds=400))
    response = client.get("/healthz")
    assert response.status_code == 200  # web itself is fine: a load balancer keeps it in rotation
    body = response.json()
    assert body["status"] == "degraded"
    assert "no worker has completed a heartbeat task or a job for 400 s (bound 180 s)" in body["worker"]
    assert client.get("/healthz?strict=1").status_code == 503
    # A long job that keeps beating counts as a sign of life.
    JobRun.objects.create(name="j", status=JobRun.Status.RUNNING, task_id="t", heartbeat_at=timezone.now())
    assert client.get("/healthz?strict=1").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_serve_restarts_a_worker_whose_pool_is_stuck(tmp_path):
    """A stopped pool child stands for any wedge: tasks are received, none completes, ping still answers."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.base",
        "DATABASE_URL": database_url(),
        "CALLBOARD_DATA_DIR": str(tmp_path / "data"),  # its own broker folder and beat schedule
        "CALLBOARD_WORKER_HEARTBEAT_INTERVAL": "1",
        "CALLBOARD_WORKER_STALE_AFTER": "15",
        "CALLBOARD_JOB_LOST_AFTER": "600",
    }
    cmd = [sys.executable, "manage.py", "serve", "--port", "0", "--workers", "1", "--concurrency", "1"]
    serve = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "serve.log").open("w"),
                             start_new_session=True)  # fmt: skip
    seen: set[int] = set()
    try:
        name = f"serve-{serve.pid}@"

        def worker_main() -> int | None:
            for pid in child_pids(serve.pid):
                seen.update([pid, *descendant_pids(pid)])
                try:
                    args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                except OSError:  # it just exited
                    continue
                if b"celery" in args and b"worker" in args and is_running(pid):
                    return pid
            return None

        def heartbeat() -> object:
            return JobRun.objects.filter(name=jobs.HEARTBEAT_JOB, worker__startswith=name).values_list(
                "heartbeat_at", flat=True).first()  # fmt: skip

        first_beat = wait_until(heartbeat, timeout=120, what="serve's worker to beat")
        first = wait_until(worker_main, what="serve's worker")
        child = wait_until(lambda: child_pids(first), what="its pool child")[0]
        os.kill(child, signal.SIGSTOP)
        second = wait_until(lambda: (pid := worker_main()) != first and pid, timeout=120, what="a new worker")
        wait_until(lambda: heartbeat() > first_beat, timeout=120, what="the new worker to beat")
        assert second != first
        assert "worker was silent for" in (tmp_path / "serve.log").read_text()
    finally:
        seen.update(descendant_pids(serve.pid))
        stop_group(serve, grace=30)
        for pid in seen:
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)
