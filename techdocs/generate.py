"""Running ``mkdocs build`` on checked sources in the portal's sandbox (``portal/sandbox.py``): limits, a
timeout, no secrets and, where namespaces can be created, no network (``TECHDOCS_NETWORK_ISOLATION``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from portal import sandbox
from portal.sandbox import network_isolation_available  # noqa: F401 - kept importable from here


@dataclass
class GenerateResult:
    ok: bool
    log: str
    isolated: bool


def build_env(home: Path) -> dict[str, str]:
    """Nothing of the portal's environment: a repository's Markdown must not read a secret."""
    return sandbox.clean_env(home, {
        "NO_MKDOCS_2_WARNING": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "JAVA_TOOL_OPTIONS": "-Xmx256m -Xss2m -XX:+UseSerialGC -XX:TieredStopAtLevel=1",  # PlantUML, within RLIMIT_AS
    })  # fmt: skip


def run_mkdocs(config_file: Path, output_dir: Path, work_dir: Path) -> GenerateResult:
    """``mkdocs build`` of ``config_file`` into ``output_dir``; never raises for a failed build."""
    command = [sys.executable, "-m", "mkdocs", "build", "--clean", "-f", str(config_file), "-d", str(output_dir)]
    result = sandbox.run(
        command, work_dir, name="mkdocs build", timeout=settings.TECHDOCS_BUILD_TIMEOUT,
        timeout_setting="TECHDOCS_BUILD_TIMEOUT", memory_mb=settings.TECHDOCS_BUILD_MEMORY_MB,
        isolate_network=settings.TECHDOCS_NETWORK_ISOLATION, env=build_env(work_dir),
    )  # fmt: skip
    return GenerateResult(result.ok, result.log, result.isolated)
