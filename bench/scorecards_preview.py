#!/usr/bin/env python3
"""Blast-radius preview benchmark: N components, the scorecards bench's 20-rule scorecard written in the admin,
evaluated once, then previewed with one rule edited (what the admin's Preview button runs in its request).

    .venv/bin/python bench/scorecards_preview.py --components 2000          # SQLite in a fresh temp dir

Prints the preview's time (p50 of 3), its query count, and how many entities would change level.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--components", type=int, default=2000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="scorecards-preview-bench-"))
    os.environ["CALLBOARD_DATA_DIR"] = str(workdir / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.base"
    os.environ["CATALOG_ALLOWED_PATHS"] = str(workdir)
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    from bench.scorecards import write_org
    from catalog.ingestion.refresh import refresh_location, register_location
    from catalog.models import Entity
    from scorecards import evaluator
    from scorecards.models import Scorecard
    from scorecards.preview import blast_radius

    path = write_org(workdir, args.components)
    refresh_location(register_location(str(path), type="file").pk)
    catalog_card = Entity.objects.get(kind="Scorecard")
    Scorecard.objects.create(name="admin-copy", spec=catalog_card.body["spec"])
    evaluator.evaluate()
    edited = Scorecard.objects.get(name="admin-copy")
    rules = edited.spec["rules"]
    edited.spec = {**edited.spec, "rules": [{**rules[0], "expression": "false"}, *rules[1:]]}
    samples = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            result = blast_radius(edited)
            samples.append(time.perf_counter() - start)
    samples.sort()
    print(f"preview, {len(rules)} rules x {result.entities} entities: p50 {samples[1]:.2f} s "
          f"(min {samples[0]:.2f}, max {samples[2]:.2f}), {len(queries.captured_queries)} queries, "
          f"{len(result.changes)} would change level")  # fmt: skip


if __name__ == "__main__":
    main()
