"""Run web, Celery worker and Celery beat together in the foreground; Ctrl-C stops all three."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


def process_commands(host: str, port: int, workers: int, concurrency: int) -> dict[str, list[str]]:
    """The three command lines; docker/entrypoint.sh runs the same programs."""
    beat_schedule = settings.CELERY_BEAT_SCHEDULE_FILENAME
    return {
        "web": [
            sys.executable, "-m", "gunicorn", "portal.wsgi:application",
            "--bind", f"{host}:{port}", "--workers", str(workers), "--access-logfile", "-",
        ],
        "worker": [
            sys.executable, "-m", "celery", "-A", "portal", "worker", "-l", "info",
            "--concurrency", str(concurrency), "-Q", "callboard",
        ],
        "beat": [sys.executable, "-m", "celery", "-A", "portal", "beat", "-l", "info", "--schedule", beat_schedule],
    }  # fmt: skip


class Command(BaseCommand):
    help = "Serve Callboard: gunicorn web + Celery worker + Celery beat, stopped together."

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
        self.stdout.write(
            self.style.SUCCESS(f"Callboard is starting on http://{host}:{port}/ (web, worker, beat). Ctrl-C stops.")
        )
        exit_code = 0
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with code {proc.returncode}; stopping the others.")
                        exit_code = proc.returncode or 1
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)
