"""A real Celery worker process for tests, on the configured broker and the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from portal.celery import app


def test_database_url() -> str:
    """The URL of the database this test process uses (pytest-django's test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}@" if db["USER"] else ""
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def celery_worker(extra_env: dict[str, str] | None = None, *, timeout: float = 60) -> Iterator[str]:
    """Start ``celery -A portal worker`` on a private queue; yields the queue name, stops the worker after.

    Within the block tasks are sent for real (not eagerly) to this worker: those the test process sends
    without a queue (its live server's too) as well as ``apply_async(queue=queue)``.
    """
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": test_database_url(),
        "CALLBOARD_DATA_DIR": str(settings.DATA_DIR),
        **(extra_env or {}),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-l", "info", "--concurrency", "1",
         "--pool", "solo", "-Q", queue, "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    ready = threading.Event()
    output: list[str] = []

    def drain() -> None:  # keep reading so the worker never blocks on a full pipe
        for line in proc.stdout or []:
            output.append(line)
            if "ready." in line:
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    was_eager, default_queue = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue  # read at each send (celery.app.routes.Router.route)
    try:
        if not ready.wait(timeout):
            raise RuntimeError("Celery worker did not become ready:\n" + "".join(output[-40:]))
        yield queue
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = was_eager, default_queue
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
