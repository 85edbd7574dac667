"""Run web, Celery worker and Celery beat together in the foreground; Ctrl-C stops all three.

The worker is supervised: when it exits, or when it has shown no sign of life (a heartbeat task or a job
heartbeat, portal/jobs.py) for ``WORKER_STALE_AFTER`` seconds, it is stopped and started again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection
from django.utils import timezone

from portal.jobs import last_sign_of_life

RESTARTS_PER_MINUTE = 5  # a worker that keeps dying faster than this stops serve instead of looping


def worker_name() -> str:
    """This serve's worker node name: its heartbeats and jobs are recorded under it."""
    return f"serve-{os.getpid()}@{socket.gethostname()}"


def process_commands(host: str, port: int, workers: int, concurrency: int) -> dict[str, list[str]]:
    """The three command lines; docker/entrypoint.sh runs the same programs."""
    beat_schedule = settings.CELERY_BEAT_SCHEDULE_FILENAME
    return {
        "web": [
            sys.executable, "-m", "gunicorn", "portal.wsgi:application",
            "--bind", f"{host}:{port}", "--workers", str(workers), "--access-logfile", "-",
            "--no-control-socket",  # gunicorn 27's default socket is one per user: two serves would share it
        ],
        "worker": [
            sys.executable, "-m", "celery", "-A", "portal", "worker", "-l", "info",
            "--concurrency", str(concurrency), "-Q", "callboard", "--hostname", worker_name(),
        ],
        "beat": [sys.executable, "-m", "celery", "-A", "portal", "beat", "-l", "info", "--schedule", beat_schedule],
    }  # fmt: skip


def signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Signal the process group ``proc`` leads (started with ``start_new_session``): it and its children."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def stop_processes(procs: list[subprocess.Popen], grace: float) -> None:
    """SIGTERM each process group, wait up to ``grace`` seconds, then SIGKILL the groups (pool children too)."""
    for proc in procs:
        signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    for proc in procs:
        signal_group(proc, signal.SIGKILL)
        proc.wait()


class WorkerWatch:
    """Decides when serve's worker must be restarted: it exited, or it stopped showing signs of life."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started_at = timezone.now()
        self.next_check = 0.0

    def restarted(self) -> None:
        self.started_at = timezone.now()

    def stuck_for(self) -> float | None:
        """Seconds without a sign of life when over the bound (checked every few seconds), else None."""
        if time.monotonic() < self.next_check:
            return None
        self.next_check = time.monotonic() + max(1.0, min(15.0, settings.WORKER_STALE_AFTER / 4))
        try:
            last = last_sign_of_life(self.name)
        except DatabaseError:
            connection.close()
            return None  # the database is unreachable: not the worker's fault
        since = max(filter(None, [last, self.started_at]))
        silent = (timezone.now() - since).total_seconds()
        return silent if silent > settings.WORKER_STALE_AFTER else None


class Command(BaseCommand):
    help = "Serve Callboard: gunicorn web + Celery worker + Celery beat, stopped together; the worker is supervised."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--concurrency", type=int, default=0, help="Celery worker processes")

    def handle(self, *args, host: str, port: int, workers: int, concurrency: int, **options):
        sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        concurrency = concurrency or (1 if sqlite else 2)
        commands = process_commands(host, port, workers, concurrency)
        procs: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for name, cmd in commands.items():
            procs[name] = subprocess.Popen(cmd, start_new_session=True)
        watch = WorkerWatch(commands["worker"][commands["worker"].index("--hostname") + 1])
        restarts: list[float] = []
        self.stdout.write(
            self.style.SUCCESS(f"Callboard is starting on http://{host}:{port}/ (web, worker, beat). Ctrl-C stops.")
        )
        exit_code = 0
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None and name != "worker":
                        self.stderr.write(f"{name} exited with code {proc.returncode}; stopping the others.")
                        exit_code = proc.returncode or 1
                        stopping = True
                        break
                if stopping:
                    break
                exited = procs["worker"].poll()
                stuck = None if exited is not None else watch.stuck_for()
                if exited is not None or stuck is not None:
                    restarts = [t for t in restarts if t > time.monotonic() - 60] + [time.monotonic()]
                    if len(restarts) > RESTARTS_PER_MINUTE:
                        self.stderr.write("worker keeps failing; stopping the others.")
                        exit_code, stopping = 1, True
                        break
                    why = f"exited with code {exited}" if exited is not None else f"was silent for {stuck:.0f} s"
                    self.stderr.write(f"worker {why}; restarting it.")
                    stop_processes([procs["worker"]], grace=10)
                    procs["worker"] = subprocess.Popen(commands["worker"], start_new_session=True)
                    watch.restarted()
                time.sleep(0.5)
        finally:
            stop_processes(list(procs.values()), grace=15)
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)
