"""A second Callboard web process for tests, and listening sockets that no other process can take.

``listening_socket()`` binds port 0 (the OS picks a free port) and listens before any server starts; the
server process inherits the socket itself (``pass_fds``), so no other process can take the port between
choosing it and serving on it, as happened with "find a free port, close it, let the server bind it".
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A socket bound to ``host`` (an OS-assigned port unless ``port``) and listening, inheritable by a child."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def gunicorn_command(sock: socket.socket, *, workers: int = 1) -> list[str]:
    """gunicorn serving Callboard on the inherited ``sock`` (start it with ``pass_fds=[sock.fileno()]``)."""
    return [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"fd://{sock.fileno()}",
            "--workers", str(workers), "--no-control-socket"]  # fmt: skip


def status(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> int:
    """The HTTP status of a GET (no redirects followed for errors: 4xx and 5xx are returned, not raised)."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - always http://127.0.0.1
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@contextmanager
def web_process(extra_env: dict[str, str] | None = None, *, timeout: float = 60) -> Iterator[str]:
    """gunicorn (one sync worker) on this test run's database and cache; yields its base URL.

    It sees only committed rows: use it from ``transactional_db`` tests. The test cache prefix travels
    through the environment (portal/settings/test.py); on the embedded configuration pass
    ``CALLBOARD_TEST_CONFIGURED_CACHE=1`` to share the data dir's file cache instead of per-process memory.
    """
    from portal.testing.celery import test_database_url

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": test_database_url(),
        "CALLBOARD_DATA_DIR": str(settings.DATA_DIR),
        **(extra_env or {}),
    }
    sock = listening_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    log = Path(settings.DATA_DIR) / f"web-{sock.getsockname()[1]}.log"
    with log.open("w") as out:
        process = subprocess.Popen(gunicorn_command(sock), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   pass_fds=[sock.fileno()])  # fmt: skip
    sock.close()  # the child holds it now
    try:
        deadline = time.monotonic() + timeout
        while True:  # any answer means it serves (/healthz may say 503 while no worker runs)
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the web process did not start:\n{log.read_text()[-3000:]}")
            try:
                status(f"{base}/healthz", timeout=5)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.unlink(missing_ok=True)
