"""Running ``mkdocs build`` on checked sources: a subprocess with limits, no secrets and no network.

What is enforced, and where:
- always: a temporary directory per build, an environment with nothing of Callboard's (no SECRET_KEY,
  DATABASE_URL or tokens: only PATH, HOME in the build dir, locale), a wall-clock timeout that kills the
  whole process group, and resource limits set in the child before mkdocs starts (address space, CPU
  seconds, size of any file written, open files);
- on Linux where network namespaces can be created (root, or unprivileged user namespaces enabled): no
  network at all (``unshare --net``); elsewhere the build runs with the host's network and the log says so.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

UNSHARE = shutil.which("unshare")


@dataclass
class GenerateResult:
    ok: bool
    log: str
    isolated: bool


@functools.cache
def network_isolation_available() -> bool:
    if not UNSHARE or not sys.platform.startswith("linux"):
        return False
    for prefix in ([UNSHARE, "--net", "--"], [UNSHARE, "--user", "--map-root-user", "--net", "--"]):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                _PREFIX[:] = prefix
                return True
        except (OSError, subprocess.TimeoutExpired):
            continue
    return False


_PREFIX: list[str] = []


def _limits(memory_bytes: int, cpu_seconds: int, file_bytes: int) -> None:  # runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def build_env(home: Path) -> dict[str, str]:
    """Nothing of the portal's environment: a repository's Markdown must not read a secret."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "NO_MKDOCS_2_WARNING": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "JAVA_TOOL_OPTIONS": "-Xmx256m -Xss2m -XX:+UseSerialGC -XX:TieredStopAtLevel=1",  # PlantUML, within RLIMIT_AS
    }


def run_mkdocs(config_file: Path, output_dir: Path, work_dir: Path) -> GenerateResult:
    """``mkdocs build`` of ``config_file`` into ``output_dir``; never raises for a failed build."""
    isolated = settings.TECHDOCS_NETWORK_ISOLATION and network_isolation_available()
    command = [sys.executable, "-m", "mkdocs", "build", "--clean", "-f", str(config_file), "-d", str(output_dir)]
    if isolated:
        command = [*_PREFIX, *command]
    memory = settings.TECHDOCS_BUILD_MEMORY_MB * 1024 * 1024
    preexec = functools.partial(_limits, memory, settings.TECHDOCS_BUILD_TIMEOUT, 200 * 1024 * 1024)
    try:
        process = subprocess.Popen(
            command, cwd=work_dir, env=build_env(work_dir), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=preexec,
        )  # fmt: skip
    except OSError as exc:
        return GenerateResult(False, f"could not start mkdocs: {exc}", isolated)
    try:
        out, _ = process.communicate(timeout=settings.TECHDOCS_BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        text = out.decode("utf-8", "replace")[-20_000:]
        return GenerateResult(False, f"{text}\nmkdocs build took longer than {settings.TECHDOCS_BUILD_TIMEOUT} s "
                              "(TECHDOCS_BUILD_TIMEOUT) and was stopped", isolated)  # fmt: skip
    text = out.decode("utf-8", "replace")[-20_000:]
    if process.returncode != 0:
        if process.returncode < 0:
            text += f"\nmkdocs was stopped by signal {-process.returncode} (a memory or CPU limit?)"
        return GenerateResult(False, text, isolated)
    return GenerateResult(True, text, isolated)
