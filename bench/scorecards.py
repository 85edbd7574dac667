#!/usr/bin/env python3
"""Scorecards benchmark: N components, one scorecard of 20 rules, evaluated through the real evaluator.

    .venv/bin/python bench/scorecards.py --components 10000               # SQLite in a fresh temp dir
    .venv/bin/python bench/scorecards.py --components 10000 --postgres    # a fresh database beside DATABASE_URL's

Two of the 20 rules read collected facts (``file_exists``, ``dependency_satisfies``): the facts are written
straight into the table (collecting 10k repositories is not what this measures). Prints: ingest time (not
the subject), the first full evaluation (every result new), a repeat (nothing changed: no writes), one entity
re-evaluated (p50/p95 of 20), the rows written, then ``--days`` simulated days of churn: each day
``--churn`` of the entities change (a description, an on-call annotation, a dependency bumped) and are
re-evaluated as a refresh would; the history's growth is reported in rows and bytes. Figures go in
docs/benchmarks.md.
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
    ("readme", "Gold", 'file_exists(entity, "README.md")'),
    ("depends", "Gold", 'entity.relations.exists(r, r.type == "dependsOn")'),
    ("production", "Gold", 'lifecycle_in(entity, ["production"])'),
    ("django-5", "Gold", '!has(entity.metadata.tags) || !("python" in entity.metadata.tags) || '
                         'dependency_satisfies(entity, "django", ">=5.0")'),
    ("system-prefix", "Gold", 'has(entity.spec.system) && entity.spec.system.startsWith("sys-")'),
]


def write_org(folder: Path, components: int) -> list[Path]:
    """The org in files of at most 1,000 components (a descriptor file is limited to 1 MiB)."""
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
    paths = []
    for start in range(0, len(docs), 1000):
        path = folder / f"catalog-info-{start // 1000}.yaml"
        path.write_text("---\n".join(docs[start : start + 1000]))
        paths.append(path)
    return paths


def fresh_postgres() -> None:
    """Point DATABASE_URL at a new, empty database named after its own with ``_bench`` (dropped first)."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    base, _, name = url.rpartition("/")
    bench = f"{name}_bench"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench}"')
        conn.execute(f'CREATE DATABASE "{bench}"')
    os.environ["DATABASE_URL"] = f"{base}/{bench}"


def write_facts(components: int, now) -> None:
    from scorecards.models import Fact

    rows = []
    for i in range(components):
        ref = f"component:default/svc-{i}"
        readme = {"kind": "file" if i % 4 else "missing"}
        deps = {"pypi": {"django": "==5.1.4" if i % 3 else "==4.2.16"}, "npm": {}, "go": {}, "errors": []}
        rows += [Fact(entity_ref=ref, collector="files", key="file:README.md", value=readme, commit="a" * 40,
                      collected_at=now),
                 Fact(entity_ref=ref, collector="dependencies", key="dependencies", value=deps, commit="a" * 40,
                      collected_at=now)]  # fmt: skip
    Fact.objects.bulk_create(rows, batch_size=2000)


def churn(day: int, share: float, components: int, now) -> list[str]:
    """Change ``share`` of the components (a different slice each day): what a day of pushes does."""
    import random

    from catalog.models import Entity
    from scorecards.models import Fact

    rng = random.Random(day)
    picked = rng.sample(range(components), max(1, int(components * share)))
    refs = [f"component:default/svc-{i}" for i in picked]
    entities = list(Entity.objects.filter(ref__in=refs).only("id", "body"))
    for entity in entities:
        metadata = entity.body["metadata"]
        annotations = metadata.setdefault("annotations", {})
        if rng.random() < 0.5:
            metadata.pop("description", None) if metadata.get("description") else metadata.update(description="x")
        if "pagerduty.com/service-id" in annotations:
            annotations.pop("pagerduty.com/service-id")
        else:
            annotations["pagerduty.com/service-id"] = "P1"
    Entity.objects.bulk_update(entities, ["body"])
    facts = list(Fact.objects.filter(entity_ref__in=refs[: len(refs) // 4], collector="dependencies"))
    for fact in facts:
        fact.value = {**fact.value, "pypi": {"django": "==5.2.1"}}
        fact.collected_at = now
    Fact.objects.bulk_update(facts, ["value", "collected_at"])
    return refs


def table_bytes(tables: list[str]) -> int | None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT SUM(pg_total_relation_size(t::regclass)) FROM unnest(%s::text[]) t", [tables])
            return int(cursor.fetchone()[0])
        marks = ",".join("%s" for _ in tables)
        try:  # SQLite: the dbstat table (tables and their indexes), when the library has it
            query = f"SELECT SUM(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name IN ({marks}))"  # noqa: E501, S608 - placeholders only
            cursor.execute(query, tables)
            return int(cursor.fetchone()[0] or 0)
        except Exception:
            return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--components", type=int, default=2000)
    parser.add_argument("--postgres", action="store_true", help="a fresh database beside DATABASE_URL's")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--churn", type=float, default=0.02, help="share of entities changed per day")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="scorecards-bench-"))
    os.environ["CALLBOARD_DATA_DIR"] = str(workdir / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.base"
    os.environ["CATALOG_ALLOWED_PATHS"] = str(workdir)
    os.environ.pop("REDIS_URL", None)
    if args.postgres:
        fresh_postgres()
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from catalog.ingestion.refresh import refresh_location, register_location
    from scorecards import evaluator
    from scorecards.models import EntityScore, RuleResult, Transition

    print(f"database: {connection.vendor}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    paths = write_org(workdir, args.components)
    start = time.perf_counter()
    for path in paths:
        refresh_location(register_location(str(path), type="file").pk)
    print(f"ingest {args.components} components: {time.perf_counter() - start:.1f} s")
    write_facts(args.components, timezone.now())

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
        with CaptureQueriesContext(connection) as queries:
            evaluator.evaluate([f"component:default/svc-{i * 37 % args.components}"])
        samples.append(time.perf_counter() - start)
    samples.sort()
    print(f"one entity re-evaluated: p50 {samples[10] * 1000:.0f} ms, p95 {samples[18] * 1000:.0f} ms "
          f"({len(queries.captured_queries)} queries)")  # fmt: skip
    print(f"rows: {RuleResult.objects.count()} results, {EntityScore.objects.count()} scores, "
          f"{Transition.objects.count()} transitions")  # fmt: skip

    history = ["scorecards_transition"]
    current = ["scorecards_ruleresult", "scorecards_entityscore", "scorecards_fact"]
    rows_before, bytes_before = Transition.objects.count(), table_bytes(history)
    day0 = timezone.now()
    start = time.perf_counter()
    for day in range(1, args.days + 1):
        now = day0 + timedelta(days=day)
        refs = churn(day, args.churn, args.components, now)
        evaluator.evaluate(refs, now=now, sync=False)
    rows_after, bytes_after = Transition.objects.count(), table_bytes(history)
    grown = rows_after - rows_before
    per_10k = 10_000 / args.components
    print(f"{args.days} days at {args.churn:.0%} churn a day ({time.perf_counter() - start:.1f} s): "
          f"+{grown} transitions, {grown * per_10k:.0f} per 10k entities")  # fmt: skip
    if bytes_before is not None and bytes_after is not None:
        print(f"history bytes: {bytes_before} -> {bytes_after} (+{bytes_after - bytes_before}, "
              f"{(bytes_after - bytes_before) * per_10k / 1024:.0f} KiB per 10k entities per {args.days} days); "
              f"current results, scores and facts: {table_bytes(current)} bytes")  # fmt: skip


if __name__ == "__main__":
    main()
