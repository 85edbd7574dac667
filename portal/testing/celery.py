"""A real Celery worker process for tests, on the configured broker and the test database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from portal.celery import app

T = TypeVar("T")


def test_database_url() -> str:
    """The URL of the database this test process uses (pytest-django's test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}@" if db["USER"] else ""
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # field 4, after "pid (comm) state"
                    children.append(int(entry.name))
    return children


def descendant_pids(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in child_pids(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def is_running(pid: int) -> bool:
    """False once ``pid`` has exited (a zombie counts as exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(condition: Callable[[], T], timeout: float = 60, what: str = "condition") -> T:
    """Poll ``condition`` until it returns something truthy; fail after a generous ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


@dataclass
class WorkerProcess:
    """A running ``celery -A portal worker``: its queue, node name, process and output so far."""

    queue: str
    name: str
    proc: subprocess.Popen
    output: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def pool_children(self) -> list[int]:
        return [pid for pid in child_pids(self.pid) if is_running(pid)]

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once, as when its host or container dies."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=15)

    def log(self) -> str:
        return "".join(self.output)


def worker_env(extra_env: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": test_database_url(),
        "CALLBOARD_DATA_DIR": str(settings.DATA_DIR),
        **(extra_env or {}),
    }


@contextmanager
def worker_process(
    extra_env: dict[str, str] | None = None,
    *,
    pool: str | None = None,
    concurrency: int = 1,
    queue: str | None = None,
    timeout: float = 60,
    quiet: bool = False,
) -> Iterator[WorkerProcess]:
    """Start ``celery -A portal worker`` on a private queue (or ``queue``) and stop it, children and all, after.

    Without ``pool`` the worker runs the pool ``serve`` and the image start (settings.CELERY_WORKER_POOL);
    ``quiet`` drops heartbeat, gossip and mingle for a faster start. Within the block tasks are sent for real
    (not eagerly) to this worker: those the test process sends without a queue (its live server's too) as
    well as ``apply_async(queue=worker.queue)``.
    """
    queue = queue or f"test-{uuid.uuid4().hex[:8]}"
    name = f"{queue}-{uuid.uuid4().hex[:4]}@{socket.gethostname()}"
    cmd = [sys.executable, "-m", "celery", "-A", "portal", "worker", "-l", "info", "--concurrency", str(concurrency),
           "-Q", queue, "--hostname", name]  # fmt: skip
    if pool:
        cmd += ["--pool", pool]
    if quiet:
        cmd += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
    proc = subprocess.Popen(
        cmd, env=worker_env(extra_env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group: stopped with its pool children, whatever happens
    )  # fmt: skip
    worker = WorkerProcess(queue=queue, name=name, proc=proc)
    ready = threading.Event()

    def drain() -> None:  # keep reading so the worker never blocks on a full pipe
        for line in proc.stdout or []:
            worker.output.append(line)
            if "ready." in line:
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    was_eager, default_queue = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue  # read at each send (celery.app.routes.Router.route)
    try:
        if not ready.wait(timeout):
            raise RuntimeError("Celery worker did not become ready:\n" + "".join(worker.output[-40:]))
        yield worker
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = was_eager, default_queue
        stop_group(proc)


def stop_group(proc: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM the process group ``proc`` leads, then SIGKILL whatever of it is left (no orphans)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextmanager
def celery_worker(extra_env: dict[str, str] | None = None, *, timeout: float = 60) -> Iterator[str]:
    """A solo-pool worker on a private queue; yields the queue name (see :func:`worker_process`)."""
    with worker_process(extra_env, pool="solo", quiet=True, timeout=timeout) as worker:
        yield worker.queue
