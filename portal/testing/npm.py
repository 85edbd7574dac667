"""npm packages for tests that drive Callboard with real JavaScript clients, installed once into a cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

#: Reused across runs and worktrees; CALLBOARD_NPM_CACHE moves it.
DEFAULT_DIR = Path.home() / ".cache" / "callboard-npm"


def npm_package(name: str, version: str, *, timeout: float = 300) -> tuple[Path | None, str]:
    """The install directory holding ``name@version`` (installing it there if needed), or (None, why not)."""
    if not shutil.which("node") or not shutil.which("npm"):
        return None, "node and npm are not installed (scripts/services.sh installs them)"
    root = Path(os.environ.get("CALLBOARD_NPM_CACHE") or DEFAULT_DIR) / f"{name.replace('/', '+')}@{version}"
    manifest = root / "node_modules" / name / "package.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("version") == version:
        return root, ""
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text('{"private": true}\n')
    try:
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(root), f"{name}@{version}"],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None, f"npm install {name}@{version} timed out (no network?)"
    if done.returncode != 0 or not manifest.exists():
        return None, f"npm install {name}@{version} failed (no network?): {done.stderr.strip()[-300:]}"
    return root, ""
