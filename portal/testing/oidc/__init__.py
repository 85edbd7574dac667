"""A real OpenID Connect identity provider for tests: django-oauth-toolkit in its own Django process.

``run_provider(...)`` starts ``python -m portal.testing.oidc.server`` (its own settings module, its own
SQLite file), waits until it answers, yields its issuer base URL and stops it by PID. People sign in on its
own login form; their IdP groups travel in the ``groups`` claim. Nothing in the login flow is patched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from portal.testing.webserver import listening_socket


@dataclass
class IdpUser:
    username: str
    password: str
    email: str = ""
    first_name: str = ""
    groups: list[str] = field(default_factory=list)


@dataclass
class IdpConfig:
    port: int  # 0: the OS picks one, and run_provider sets it
    host: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    users: list[IdpUser]
    db_path: str = ""
    fd: int = -1  # the listening socket the IdP process inherits (set by run_provider)


@contextmanager
def run_provider(config: IdpConfig, workdir: Path, timeout: float = 60) -> Iterator[str]:
    """Serve the IdP on ``http://HOST:PORT``; yields the allauth ``server_url`` (``…/o``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    # Bound and listening here, inherited by the IdP: no other process can take the port meanwhile.
    sock = listening_socket("127.0.0.1" if config.host == "localhost" else config.host, config.port)
    config.port, config.fd = sock.getsockname()[1], sock.fileno()
    config.db_path = config.db_path or str(workdir / "idp.sqlite3")
    config_file = workdir / "idp.json"
    config_file.write_text(json.dumps({**asdict(config), "users": [asdict(u) for u in config.users]}))
    log = (workdir / "idp.log").open("w")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.testing.oidc.settings", "IDP_CONFIG": str(config_file)}
    root = Path(__file__).resolve().parents[3]
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.testing.oidc.server"],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        pass_fds=[sock.fileno()],
    )
    sock.close()  # the IdP holds it now
    base = f"http://{config.host}:{config.port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the test IdP exited: {(workdir / 'idp.log').read_text()[-2000:]}")
            try:
                discovery = f"{base}/o/.well-known/openid-configuration"  # always http://127.0.0.1 or localhost
                with urllib.request.urlopen(discovery, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test IdP did not start: {(workdir / 'idp.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield f"{base}/o"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
