"""Root pytest configuration: shared fixtures and the browser launch arguments."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # pytest-django live_server beside Playwright
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

pytest_plugins = ["portal.testing.fixtures", "catalog.tests.fixtures", "scorecards.tests.fixtures"]

SHARED = Path(__file__).resolve().parent.parent / "shared"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (Backstage spec, corpus, bench generator); tests that need it skip without it."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present beside the repository (Backstage corpus and tools)")
    return SHARED


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium, or run scripts/services.sh)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    }  # fmt: skip


@pytest.fixture(autouse=True)
def _no_csp_violations(request):
    """Browser tests fail when a page breaks the Content-Security-Policy (a blocked script or style)."""
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)  # fmt: skip
    yield
    # Redoc's bundle shows a "powered by" logo from its CDN; blocking it changes nothing else on the page.
    violations = [v for v in violations if "https://cdn.redoc.ly/" not in v]
    assert not violations, f"Content-Security-Policy violations: {violations}"
