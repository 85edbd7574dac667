"""The deployment files: entrypoint modes, docker-compose.yml, Dockerfile and the shell scripts.

No Docker engine is needed: the entrypoint runs against stub ``python``/``gunicorn``/``celery``
executables that print their command line, and the YAML and Dockerfile are read as text.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
BASH = shutil.which("bash") or "/bin/bash"

STUB = """#!/bin/sh
echo "{name} $*"
echo "{name} pid=$$" >&2
"""


@pytest.mark.parametrize("script", ["docker/entrypoint.sh", ".ci/run", "scripts/services.sh"], ids=lambda s: s)
def test_shell_scripts_parse(script):
    result = subprocess.run([BASH, "-n", str(ROOT / script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_entrypoint_is_executable():
    assert os.access(ENTRYPOINT, os.X_OK), "the image runs docker/entrypoint.sh directly: chmod +x it"


@pytest.fixture
def stub_bin(tmp_path):
    """A directory of fake python/gunicorn/celery that print their argv (stdout) and pid (stderr)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python", "gunicorn", "celery"):
        path = bin_dir / name
        path.write_text(STUB.format(name=name))
        path.chmod(0o755)
    return bin_dir


def run_entrypoint(stub_bin, tmp_path, *args, **env):
    """Run the entrypoint with only the stubs and the system's tools on PATH; return (proc, out, err)."""
    environ = {
        "PATH": f"{stub_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CALLBOARD_DATA_DIR": str(tmp_path / "data"),
        **env,
    }
    proc = subprocess.Popen(
        [str(ENTRYPOINT), *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return proc, out.splitlines(), err


def exec_pid(err, name):
    """The pid a stub reported: equal to the entrypoint's own pid when the entrypoint exec'd it."""
    return int(re.findall(rf"^{name} pid=(\d+)$", err, flags=re.MULTILINE)[-1])


GUNICORN = "gunicorn portal.wsgi:application --bind 0.0.0.0:8000 --workers 3 --access-logfile -"


def test_web_migrates_then_execs_gunicorn(stub_bin, tmp_path):
    proc, out, err = run_entrypoint(stub_bin, tmp_path, "web")
    assert out == ["python manage.py migrate --noinput", GUNICORN]
    assert exec_pid(err, "gunicorn") == proc.pid  # exec: signals reach gunicorn
    assert exec_pid(err, "python") != proc.pid


def test_default_mode_is_web(stub_bin, tmp_path):
    _, out, _ = run_entrypoint(stub_bin, tmp_path)
    assert out == ["python manage.py migrate --noinput", GUNICORN]


def test_web_skip_migrate_and_concurrency(stub_bin, tmp_path):
    _, out, _ = run_entrypoint(stub_bin, tmp_path, "web", CALLBOARD_SKIP_MIGRATE="1", WEB_CONCURRENCY="5")
    assert out == [GUNICORN.replace("--workers 3", "--workers 5")]


def test_worker(stub_bin, tmp_path):
    proc, out, err = run_entrypoint(stub_bin, tmp_path, "worker")
    assert out == ["celery -A portal worker -l info --concurrency 2 -Q callboard"]
    assert exec_pid(err, "celery") == proc.pid


def test_worker_concurrency(stub_bin, tmp_path):
    _, out, _ = run_entrypoint(stub_bin, tmp_path, "worker", CELERY_CONCURRENCY="4")
    assert out == ["celery -A portal worker -l info --concurrency 4 -Q callboard"]


def test_beat_keeps_its_schedule_in_the_data_dir(stub_bin, tmp_path):
    proc, out, err = run_entrypoint(stub_bin, tmp_path, "beat")
    schedule = tmp_path / "data" / "celery" / "beat-schedule"
    assert out == [f"celery -A portal beat -l info --schedule {schedule}"]
    assert schedule.parent.is_dir()
    assert exec_pid(err, "celery") == proc.pid


def test_demo(stub_bin, tmp_path):
    _, out, _ = run_entrypoint(stub_bin, tmp_path, "demo")
    assert out == [
        "python manage.py migrate --noinput",
        "python manage.py demo load",
        "python manage.py ensure_admin",
    ]


def test_manage_passthrough(stub_bin, tmp_path):
    proc, out, err = run_entrypoint(stub_bin, tmp_path, "manage", "check", "--deploy")
    assert out == ["python manage.py check --deploy"]
    assert exec_pid(err, "python") == proc.pid


def test_anything_else_is_execd(stub_bin, tmp_path):
    proc, out, err = run_entrypoint(stub_bin, tmp_path, "celery", "-A", "portal", "inspect", "ping")
    assert out == ["celery -A portal inspect ping"]
    assert exec_pid(err, "celery") == proc.pid


class _Healthz(BaseHTTPRequestHandler):
    status = 200
    seen: list[tuple[str, str | None]] = []

    def do_GET(self):
        type(self).seen.append((self.path, self.headers.get("Host")))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def healthz_server():
    _Healthz.seen = []
    _Healthz.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_healthcheck(tmp_path, port, allowed_hosts):
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CALLBOARD_DATA_DIR": str(tmp_path / "data"),
        "CALLBOARD_HEALTHCHECK_PORT": str(port),
        "ALLOWED_HOSTS": allowed_hosts,
    }
    return subprocess.run(
        [str(ENTRYPOINT), "healthcheck"], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def test_healthcheck_gets_healthz_with_an_allowed_host(tmp_path, healthz_server):
    result = run_healthcheck(tmp_path, healthz_server.server_port, "*.internal,.example.com,localhost")
    assert result.returncode == 0, result.stderr
    assert _Healthz.seen == [("/healthz", "example.com")]


def test_healthcheck_fails_on_an_error_status(tmp_path, healthz_server):
    _Healthz.status = 503
    result = run_healthcheck(tmp_path, healthz_server.server_port, "")
    assert result.returncode != 0
    assert _Healthz.seen == [("/healthz", "localhost")]


# --- docker-compose.yml -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def _command(service):
    command = service.get("command")
    return command if isinstance(command, str) else " ".join(command or [])


def test_compose_has_exactly_one_beat(compose):
    services = compose["services"]
    beats = [name for name, svc in services.items() if _command(svc).split()[:1] == ["beat"]]
    assert beats == ["beat"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert "profiles" not in services["beat"]


def test_compose_processes_share_image_and_data_volume(compose):
    services = compose["services"]
    app = [services[name] for name in ("web", "worker", "beat", "demo")]
    assert len({(svc["image"], str(svc["build"])) for svc in app}) == 1
    for svc in app:
        assert "data:/data" in svc["volumes"]
        assert svc["environment"]["CALLBOARD_DATA_DIR"] == "/data"
    assert "data" in compose["volumes"]


def test_compose_services(compose):
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "demo"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "healthcheck" in services["postgres"]
    assert services["redis"]["image"].startswith("redis:7")
    assert _command(services["web"]) == "web"
    assert "8000" in str(services["web"]["ports"][0])
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert _command(services["worker"]) == "worker"
    assert services["worker"]["deploy"]["replicas"] == 2
    assert _command(services["demo"]) == "demo"
    assert services["demo"]["profiles"] == ["demo"]
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"):
        assert name in services["web"]["environment"]
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgres://")
    assert services["web"]["environment"]["REDIS_URL"].startswith("redis://redis:")


# --- Dockerfile ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile():
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _instructions(lines, keyword):
    return [line.split(None, 1)[1] for line in lines if line.split(None, 1)[0].upper() == keyword]


def test_dockerfile_runs_as_non_root(dockerfile):
    users = _instructions(dockerfile, "USER")
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert any("--uid 10001" in run for run in _instructions(dockerfile, "RUN"))


def test_dockerfile_entrypoint_and_command(dockerfile):
    assert _instructions(dockerfile, "FROM") == ["python:3.11-slim-bookworm"]
    assert _instructions(dockerfile, "ENTRYPOINT") == ['["/app/docker/entrypoint.sh"]']
    assert _instructions(dockerfile, "CMD") == ['["web"]']
    assert _instructions(dockerfile, "EXPOSE") == ["8000"]
    assert "/data" in _instructions(dockerfile, "VOLUME")[0]
    assert "healthcheck" in _instructions(dockerfile, "HEALTHCHECK")[0]
    assert any("collectstatic" in run for run in _instructions(dockerfile, "RUN"))


def test_dockerignore_keeps_local_state_out():
    entries = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var"} <= entries
