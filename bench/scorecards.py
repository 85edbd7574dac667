#!/usr/bin/env python3
"""Scorecards benchmark: N components, one scorecard of 20 rules, evaluated through the real evaluator.

    .venv/bin/python bench/scorecards.py --components 2000          # SQLite in a fresh temp dir

Prints: ingest time (not the subject), the first full evaluation (every result new), a repeat (nothing
changed: no writes), one entity re-evaluated (p50/p95 of 20), and the rows written. Figures go in
docs/scorecards.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEAMS = 40

RULES = [
    ("lifecycle-set", "Bronze", "has(entity.spec.lifecycle)"),
    ("lifecycle-known", "Bronze", 'lifecycle_in(entity, ["production", "experimental", "deprecated"])'),
    ("owner-group", "Bronze", "owner_is_group(entity)"),
    ("described", "Bronze", "has_description(entity)"),
    ("tagged", "Bronze", "has(entity.metadata.tags) && size(entity.metadata.tags) > 0"),
    ("system", "Silver", "has_system(entity)"),
    ("team-of-two", "Silver", "owner_members(entity) >= 2"),
    ("slug", "Silver", 'has_annotation(entity, "github.com/project-slug")'),
    ("techdocs", "Silver", "has_techdocs(entity)"),
    ("name-kebab", "Silver", 'entity.metadata.name.matches("^[a-z0-9-]+$")'),
    ("not-deprecated", "Silver", 'entity.spec.lifecycle != "deprecated"'),
    ("has-relations", "Silver", "size(entity.relations) > 0"),
    ("pagerduty", "Gold", 'has_annotation(entity, "pagerduty.com/service-id")'),
    ("k8s", "Gold", 'has_annotation(entity, "backstage.io/kubernetes-id")'),
    ("links", "Gold", "has(entity.metadata.links) && size(entity.metadata.links) > 0"),
    ("python-or-go", "Gold", 'entity.metadata.tags.exists(t, t in ["python", "go"])'),
    ("depends", "Gold", 'entity.relations.exists(r, r.type == "dependsOn")'),
    ("production", "Gold", 'lifecycle_in(entity, ["production"])'),
    ("short-name", "Gold", "size(entity.metadata.name) <= 40"),
    ("system-prefix", "Gold", 'has(entity.spec.system) && entity.spec.system.startsWith("sys-")'),
]


def write_org(folder: Path, components: int) -> Path:
    docs = []
    for t in range(TEAMS):
        members = ", ".join(f"u{t}-{m}" for m in range(t % 4))
        docs.append(f"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {{name: team-{t}}}\n"
                    f"spec: {{type: team, children: [], members: [{members}]}}\n")  # fmt: skip
        for m in range(t % 4):
            docs.append(f"apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {{name: u{t}-{m}}}\n"
                        f"spec: {{memberOf: [team-{t}]}}\n")  # fmt: skip
    lifecycles = ["production", "experimental", "deprecated"]
    for i in range(components):
        annotations = {"github.com/project-slug": f"acme/svc-{i}"} if i % 2 else {}
        if i % 5 == 0:
            annotations["backstage.io/techdocs-ref"] = "dir:."
        if i % 7 == 0:
            annotations["pagerduty.com/service-id"] = f"P{i}"
        description = f", description: Service {i}" if i % 3 else ""
        system = f", system: sys-{i % 50}" if i % 4 else ""
        depends = f", dependsOn: [component:svc-{i - 1}]" if i % 6 and i else ""
        docs.append(
            f"apiVersion: backstage.io/v1alpha1\nkind: Component\n"
            f"metadata: {{name: svc-{i}, tags: [{['python', 'go', 'java'][i % 3]}]{description}, "
            f"annotations: {annotations!r}}}\n"
            f"spec: {{type: service, lifecycle: {lifecycles[i % 3]}, owner: team-{i % (TEAMS + 3)}{system}{depends}}}\n"
        )
    rules = "".join(f"    - {{id: {rid}, level: {level}, expression: '{expr}', description: {rid}}}\n"
                    for rid, level, expr in RULES)  # fmt: skip
    docs.append("apiVersion: callboard.dev/v1alpha1\nkind: Scorecard\nmetadata: {name: bench}\nspec:\n"
                "  owner: group:default/team-0\n  appliesTo: 'entity.kind == \"Component\"'\n"
                f"  levels: [Bronze, Silver, Gold]\n  rules:\n{rules}")  # fmt: skip
    path = folder / "catalog-info.yaml"
    path.write_text("---\n".join(docs))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--components", type=int, default=2000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="scorecards-bench-"))
    os.environ["CALLBOARD_DATA_DIR"] = str(workdir / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.base"
    os.environ["CATALOG_ALLOWED_PATHS"] = str(workdir)
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from catalog.ingestion.refresh import refresh_location, register_location
    from scorecards import evaluator
    from scorecards.models import EntityScore, RuleResult, Transition

    path = write_org(workdir, args.components)
    start = time.perf_counter()
    refresh_location(register_location(str(path), type="file").pk)
    print(f"ingest {args.components} components: {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    first = evaluator.evaluate()
    print(f"first evaluation, {len(RULES)} rules x {first.scores} entities: {time.perf_counter() - start:.2f} s "
          f"({first.written} rows written, {first.transitions} transitions)")  # fmt: skip
    start = time.perf_counter()
    again = evaluator.evaluate()
    print(f"repeat evaluation (nothing changed): {time.perf_counter() - start:.2f} s ({again.written} written)")
    samples = []
    for i in range(20):
        start = time.perf_counter()
        evaluator.evaluate([f"component:default/svc-{i * 37 % args.components}"])
        samples.append(time.perf_counter() - start)
    samples.sort()
    print(f"one entity re-evaluated: p50 {samples[10] * 1000:.0f} ms, p95 {samples[18] * 1000:.0f} ms")
    print(f"rows: {RuleResult.objects.count()} results, {EntityScore.objects.count()} scores, "
          f"{Transition.objects.count()} transitions")  # fmt: skip


if __name__ == "__main__":
    main()
