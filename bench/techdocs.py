#!/usr/bin/env python3
"""TechDocs benchmark: build time, the cost of a refresh whose docs did not change, page serving, and a
burst of builds on a real worker. Prints figures; record them in docs/benchmarks.md.

    .venv/bin/python bench/techdocs.py                      # SQLite and the embedded broker, fresh temp dir
    .venv/bin/python bench/techdocs.py --entities 1000 --burst 20

1. A generated site of --pages pages (headings, tables, code, admonitions, images) built by ``builder.build``.
2. --entities documented entities whose sites are published at the repository's commit; a new commit that
   does not touch the docs is refreshed, and every entity's docs checked as a refresh does: how many
   mkdocs runs that starts (the target is none) and what the check costs.
3. The Docs tab of a page, served in process: p50/p95 over --requests requests.
4. --burst builds queued at once on a real Celery worker (concurrency 2): all finish, none lost, the worker's
   peak RSS (its pool children included).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    return parser.parse_args()


def setup_django(workdir: Path) -> None:
    os.environ["CALLBOARD_DATA_DIR"] = str(workdir / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.base"
    os.environ["CATALOG_ALLOWED_PATHS"] = str(workdir)
    os.environ["TECHDOCS_BUILD_ON_REFRESH"] = "false"  # the bench drives the checks itself
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


PAGE = """# Page {i}

Some text about part {i} of the system, with **bold**, `code` and a [link](page-{j}.md).

## Overview

| Field | Value |
|---|---|
| id | {i} |
| owner | team-{i} |

!!! note "Remember"
    Admonitions render through techdocs-core.

## Usage

```python
def handler_{i}(event):
    return {{"page": {i}}}
```

### Details

- one
- two
- three
"""


def site_files(pages: int, name: str) -> dict[str, str]:
    nav = "\n".join(f"  - Page {i}: page-{i}.md" for i in range(pages))
    files = {
        "mkdocs.yml": f"site_name: {name}\nnav:\n  - Home: index.md\n{nav}\nplugins:\n  - techdocs-core\n",
        "docs/index.md": f"# {name}\n\nGenerated for the benchmark.\n",
    }
    for i in range(pages):
        files[f"docs/page-{i}.md"] = PAGE.format(i=i, j=(i + 1) % pages)
    return files


def descriptor(names: list[str]) -> str:
    return "".join(
        f"---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {n}\n  annotations:\n"
        f"    backstage.io/techdocs-ref: dir:.\nspec: {{type: service, lifecycle: production, owner: team-a}}\n"
        for n in names
    )


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return f"p50 {at(0.5):.1f} ms, p95 {at(0.95):.1f} ms, p99 {at(0.99):.1f} ms"


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="callboard-bench-docs-") as tmp:
        workdir = Path(tmp)
        setup_django(workdir)
        from catalog.ingestion.refresh import refresh_location, register_location
        from portal.testing.gitrepos import git_target, make_repo
        from techdocs import builder

        print(f"TechDocs benchmark ({os.cpu_count()} cores)")
        # 1. One generated site.
        bare = workdir / "site.git"
        files = site_files(args.pages, "Bench site")
        make_repo(bare, {**files, "catalog-info.yaml": descriptor(["bench-site"])})
        refresh_location(register_location(git_target(bare), type="url").pk)
        started = time.monotonic()
        outcome = builder.build("component:default/bench-site")
        print(f"1. {args.pages}-page site: {outcome.result} in {time.monotonic() - started:.1f} s ({outcome.message})")

        # 2. Many documented entities, a new commit that leaves their docs alone.
        check_unchanged(args, workdir, files)

        # 3. Serving the Docs tab.
        serve(args)

        # 4. A burst of builds on a real worker.
        burst(args, workdir)


def check_unchanged(args, workdir: Path, files: dict[str, str]) -> None:
    from django.utils import timezone

    from catalog.ingestion.refresh import refresh_location, register_location
    from catalog.models import Entity
    from portal.testing.gitrepos import git_target, make_repo
    from techdocs import builder, sync
    from techdocs.models import DocSite

    bare = workdir / "many.git"
    names = [f"svc-{i:04d}" for i in range(args.entities)]
    small = {"mkdocs.yml": "site_name: Shared\nplugins:\n  - techdocs-core\n", "docs/index.md": "# Shared\n"}
    sha = make_repo(bare, {**small, "catalog-info.yaml": descriptor(names)})
    location = register_location(git_target(bare), type="url")
    refresh_location(location.pk)
    # Publish one real build, then record every other site as built from the same sources, as a past
    # build of each would have left it (a thousand real builds would take the better part of an hour).
    first = f"component:default/{names[0]}"
    assert builder.build(first).result == "built"
    model = DocSite.objects.get(entity_ref=first)
    DocSite.objects.bulk_create([
        DocSite(entity_ref=f"component:default/{n}", namespace="default", kind="component", name=n,
                status=DocSite.Status.OK, source_hash=model.source_hash, attempted_hash=model.attempted_hash,
                etag=sha, published_at=timezone.now())
        for n in names[1:]
    ])  # fmt: skip
    make_repo(bare, {**small, "catalog-info.yaml": descriptor(names), "src/app.py": "print('code')\n"})
    started = time.monotonic()
    refresh_location(location.pk)
    documented = sync.documented(location_id=str(location.pk))
    stale = sync.stale_refs(documented)
    results = [builder.build(ref).result for ref in stale]
    elapsed = time.monotonic() - started
    built = results.count("built")
    print(f"2. {args.entities} documented entities, a new commit without docs changes: {len(documented)} checked, "
          f"{len(stale)} build jobs and {built} mkdocs runs started, {elapsed:.1f} s for the refresh and every "
          "check")  # fmt: skip
    assert Entity.objects.count() >= args.entities


def serve(args) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-pw-12345")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = "/catalog/default/component/bench-site/docs/page-7/"
    assert client.get(url).status_code == 200
    samples = []
    for _ in range(args.requests):
        started = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200
    print(f"3. Docs tab page: {percentiles(samples)} ({args.requests} requests, in process)")


def burst(args, workdir: Path) -> None:
    from django.conf import settings

    from catalog.ingestion.refresh import refresh_location, register_location
    from portal.testing.gitrepos import git_target, make_repo
    from techdocs.models import DocSite
    from techdocs.tasks import build_docs

    bare = workdir / "burst.git"
    names = [f"burst-{i:02d}" for i in range(args.burst)]
    make_repo(bare, {**site_files(10, "Burst"), "catalog-info.yaml": descriptor(names)})
    refresh_location(register_location(git_target(bare), type="url").pk)
    env = {**os.environ, "CALLBOARD_DATA_DIR": str(settings.DATA_DIR)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-l", "warning", "--concurrency", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        started = time.monotonic()
        for name in names:
            build_docs.delay(f"component:default/{name}")
        peak = 0
        refs = [f"component:default/{n}" for n in names]
        while time.monotonic() - started < 1800:
            peak = max(peak, tree_rss_kb(worker.pid))
            done = DocSite.objects.filter(entity_ref__in=refs, status=DocSite.Status.OK).count()
            if done == len(refs):
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        failed = DocSite.objects.filter(entity_ref__in=refs).exclude(status=DocSite.Status.OK).count()
        print(f"4. {len(refs)} builds queued at once: {done} published, {failed} not, in {elapsed:.0f} s; "
              f"worker peak RSS {peak / 1024:.0f} MB (all its processes)")  # fmt: skip
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
    print(f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its descendants (from /proc), in KiB."""
    total = 0
    try:
        out = subprocess.run(["ps", "-o", "pid=,ppid=,rss=", "-A"], capture_output=True, text=True).stdout
    except OSError:
        return 0
    children: dict[int, list[tuple[int, int]]] = {}
    for line in out.splitlines():
        p, pp, rss = (int(x) for x in line.split())
        children.setdefault(pp, []).append((p, rss))
    rss_of = {p: rss for group in children.values() for p, rss in group}
    stack = [pid]
    while stack:
        current = stack.pop()
        total += rss_of.get(current, 0)
        stack.extend(p for p, _ in children.get(current, []))
    return total


if __name__ == "__main__":
    main()
