"""Push -> new score, end to end on a running Callboard with the demo loaded (`make run`).

    .venv/bin/python bench/push_to_score.py --token cb_... [--base http://127.0.0.1:8000] [--runs 4]

Clones the demo's timetable-service repository (from the data dir's local remote), then, each run, renames
the README's "## Runbook" heading (or back), commits, pushes and asks the catalog to refresh the entity
(`POST /api/catalog/refresh`, what a push webhook does), and polls `GET /api/scorecards/entities/...` every
100 ms until the `runbook` rule (a fact read from the repository) flips. Prints each run's seconds from the
push to the new result. The token needs the catalog:read and catalog:write scopes. The issue's bound: 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ENTITY = "component/default/timetable-service"
RULE = "runbook"


def call(base: str, token: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310
        base + path, data=json.dumps(body).encode() if body is not None else None, method="POST" if body else "GET",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - --base is http(s), the user's
        text = answer.read()
    return json.loads(text) if text else {}


def result(base: str, token: str) -> str | None:
    for card in call(base, token, f"/api/scorecards/entities/{ENTITY}")["scorecards"]:
        for rule in card["rules"]:
            if rule["id"] == RULE:
                return rule["result"]
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    parser.add_argument("--runs", type=int, default=4)
    default_dir = os.environ.get("CALLBOARD_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var"))
    parser.add_argument("--data-dir", default=default_dir)
    args = parser.parse_args()
    remote = Path(args.data_dir) / "repos" / "demo" / "timetable-service.git"
    if not remote.is_dir():
        sys.exit(f"{remote} is not there: load the demo first (make run, or manage.py demo load)")
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(["git", "clone", "-q", str(remote), work], check=True)
        subprocess.run(["git", "-C", work, "config", "user.email", "bench@example.com"], check=True)
        subprocess.run(["git", "-C", work, "config", "user.name", "bench"], check=True)
        readme = Path(work) / "README.md"
        times = []
        for _ in range(args.runs):
            before = result(args.base, args.token)
            text = readme.read_text()
            swap = ("## Runbook", "## Operations") if "## Runbook" in text else ("## Operations", "## Runbook")
            readme.write_text(text.replace(*swap))
            subprocess.run(["git", "-C", work, "commit", "-qam", f"README: {swap[1]}"], check=True)
            start = time.monotonic()
            subprocess.run(["git", "-C", work, "push", "-q"], check=True)
            call(args.base, args.token, "/api/catalog/refresh", {"entityRef": ENTITY.replace("/", ":", 1)})
            while (now := result(args.base, args.token)) == before and time.monotonic() - start < 120:
                time.sleep(0.1)
            times.append(time.monotonic() - start)
            print(f"push -> {RULE} {before} -> {now}: {times[-1]:.1f} s", flush=True)
        times.sort()
        print(f"median {times[len(times) // 2]:.1f} s, max {times[-1]:.1f} s over {len(times)} runs "
              f"(load average {os.getloadavg()[0]:.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
