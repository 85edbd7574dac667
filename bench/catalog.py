#!/usr/bin/env python3
"""Catalog benchmark: ingest a synthetic Backstage org, check it, and print the figures.

    .venv/bin/python bench/catalog.py --components 10000            # SQLite in a fresh temp dir
    .venv/bin/python bench/catalog.py --components 10000 --postgres postgres://callboard:callboard@127.0.0.1/postgres

The org comes from ../shared/bench/gen_catalog.py (same shape as the Backstage measurements in
docs/benchmarks.md). Prints: wall time to fully related entities, entities/s, peak RSS, database size,
p50/p95/p99 of by-name, filtered list (50), by-query with full text and facets, the CPU cost of a
refresh in which nothing changed, an update refresh in which every entity changed, and reads by
concurrent clients (each with a bearer token that is due to record its use) while a refresh writes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT.parent / "shared" / "bench" / "gen_catalog.py"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--components", type=int, default=10_000)
    parser.add_argument("--data", help="an existing gen_catalog.py output folder (skips generation)")
    parser.add_argument("--generator", type=Path, default=GENERATOR, help="gen_catalog.py (from a worktree elsewhere)")
    parser.add_argument("--postgres", help="server URL; the bench creates and drops database --database")
    parser.add_argument("--database", "--database-name", default="callboard_bench",
                        help="the bench's PostgreSQL database (on a shared server, one per person)")  # fmt: skip
    parser.add_argument("--redis", help="use this Redis as the cache, as a PostgreSQL deployment does")
    parser.add_argument("--requests", type=int, default=300, help="requests per latency figure")
    parser.add_argument("--workdir", help="keep the database here; a second run with --reuse skips the ingest")
    parser.add_argument("--reuse", action="store_true", help="measure queries on the database in --workdir")
    parser.add_argument("--no-http", action="store_true", help="skip the figures measured through gunicorn")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients reading during a refresh")
    parser.add_argument("--only-during-refresh", action="store_true", help="with --reuse: only reads during a refresh")
    return parser.parse_args()


def generate(components: int, out: Path, generator: Path = GENERATOR) -> Path:
    if not generator.exists():
        sys.exit(f"{generator} not found: pass --generator, or --data with a gen_catalog.py output folder")
    subprocess.run([sys.executable, str(generator), "--components", str(components), "--out", str(out)], check=True)
    return out


def setup_django(
    workdir: Path,
    postgres: str | None,
    reuse: bool = False,
    redis: str | None = None,
    database: str = "callboard_bench",
) -> str | None:
    os.environ["CALLBOARD_DATA_DIR"] = str(workdir / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.base"
    if redis:
        os.environ["REDIS_URL"] = redis
    else:
        os.environ.pop("REDIS_URL", None)
    os.environ["CATALOG_ALLOWED_PATHS"] = str(workdir)
    bench_url = None
    if postgres:
        import psycopg
        from psycopg import sql

        with psycopg.connect(postgres, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
            if not (reuse and exists):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(database)))
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        bench_url = postgres.rsplit("/", 1)[0] + "/" + database
        os.environ["DATABASE_URL"] = bench_url
    else:
        os.environ.pop("DATABASE_URL", None)
        if not reuse:  # a workdir used before must not turn the ingest into an unchanged refresh
            for leftover in (workdir / "var").glob("callboard.sqlite3*"):
                leftover.unlink()
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return bench_url


def machine_speed() -> float:
    """Seconds for a fixed pure-Python loop: figures from different days or machines compare through it."""
    start, total = time.perf_counter(), 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return f"p50 {pick(0.50):6.2f} ms  p95 {pick(0.95):6.2f} ms  p99 {pick(0.99):6.2f} ms"


def paged(client, first_url: str, pages: int) -> list[float]:
    """Follow the Link header page after page, as a client paging through a filtered list does."""
    samples, url = [], first_url
    for _ in range(pages):
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
        link = response.get("Link", "")
        url = link[1 : link.index(">")] if link else first_url
    return samples


def paged_query(client, body: dict, pages: int) -> list[float]:
    """POST /entities/by-query page after page, following nextCursor as Backstage's client does."""
    samples, request = [], body
    for _ in range(pages):
        start = time.perf_counter()
        response = client.post("/api/catalog/entities/by-query", request, content_type="application/json")
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (request, response.status_code, response.content[:300])
        cursor = response.json()["pageInfo"].get("nextCursor")
        request = {"cursor": cursor} if cursor else body
    return samples


def timed_facets(client, bodies: list[dict]) -> list[float]:
    samples = []
    for body in bodies:
        start = time.perf_counter()
        response = client.post("/api/catalog/entity-facets", body, content_type="application/json")
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (body, response.status_code, response.content[:300])
    return samples


def timed(client, urls: list[str]) -> list[float]:
    samples = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return samples


@dataclass
class HttpAnswer:
    status_code: int
    headers: dict[str, str]
    content: bytes

    def get(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)


class HttpClient:
    """The test client's ``get`` over real HTTP, a new connection per request (gunicorn's sync workers
    close each one)."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port, self.headers = port, {"Host": "127.0.0.1", **headers}

    def get(self, url: str) -> HttpAnswer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", url, headers=self.headers)
            response = connection.getresponse()
            return HttpAnswer(response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()


def gunicorn(workers: int = 1) -> tuple[subprocess.Popen, int]:
    """Gunicorn sync workers (one by default) on this bench's database and cache, as ``make run`` and the
    image serve.

    They serve a socket bound here on an OS-assigned port and inherited, so no other process can take the
    port first; the first request waits in the socket's backlog until a worker is up."""
    from portal.testing.webserver import gunicorn_command, listening_socket, status

    sock = listening_socket()
    server = subprocess.Popen(gunicorn_command(sock, workers=workers), cwd=ROOT, env=os.environ.copy(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              pass_fds=[sock.fileno()])  # fmt: skip
    port = sock.getsockname()[1]
    sock.close()
    for _ in range(600):  # any answer means the worker is up
        if server.poll() is not None:
            break
        try:
            status(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("gunicorn did not start")


def check_expected(data: Path) -> tuple[int, int]:
    """Compare every entity's relations with expected.json; returns (entities checked, mismatches)."""
    from catalog.models import Relation

    expected = json.loads((data / "expected.json").read_text())["relations"]
    actual: dict[str, set[str]] = {}
    for source, relation_type, target in Relation.objects.values_list("source_ref", "type", "target_ref").iterator(
        chunk_size=20_000
    ):
        actual.setdefault(source, set()).add(f"{relation_type}|{target}")
    mismatches = sum(1 for ref, rels in expected.items() if set(rels) != actual.get(ref, set()))
    return len(expected), mismatches


def children_cpu() -> float:
    """CPU seconds of this process's finished children (the parse helper)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def backend_cpu() -> float | None:
    """CPU seconds spent by this connection's PostgreSQL backend (same machine only; else None)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def cpu_figure(python_cpu: float, database_before: float | None, database_after: float | None) -> str:
    if database_before is None or database_after is None:
        return f"{python_cpu:.2f} s CPU in Python (database CPU not readable)"
    database = database_after - database_before
    return f"{python_cpu + database:.2f} s CPU ({python_cpu:.2f} Python + {database:.2f} database)"


def database_size(bench_url: str | None, workdir: Path) -> int:
    from django.db import connection

    if bench_url:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in (workdir / "var").glob("callboard.sqlite3*"))


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="callboard-bench-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        data = Path(args.data).resolve() if args.data else generate(args.components, workdir / "org", args.generator)
        if args.data:
            os.environ["CATALOG_ALLOWED_PATHS"] = str(data)
        bench_url = setup_django(workdir, args.postgres, args.reuse, args.redis, args.database)
        if args.data:
            from django.conf import settings

            settings.CATALOG_ALLOWED_PATHS = [str(data)]
        from catalog.ingestion.refresh import refresh_location, register_location
        from catalog.models import Entity, Relation, SearchRow

        location = register_location(str(data / "catalog-info.yaml"), type="file")
        if args.reuse and Entity.objects.exists():
            print("reusing the ingested database in", workdir)
            if not args.only_during_refresh:
                measure(args, location)
            if not (args.no_http or args.data):
                reads_during_refresh(args, data, location)
            return
        children_before = children_cpu()
        db_cpu, cpu, start = backend_cpu(), time.process_time(), time.perf_counter()
        result = refresh_location(location.pk)
        ingest = time.perf_counter() - start
        ingest_cpu = cpu_figure(time.process_time() - cpu, db_cpu, backend_cpu())
        ingest_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the check below
        helper_cpu = children_cpu() - children_before
        entities = Entity.objects.count()
        checked, mismatches = check_expected(data)
        cache_kind = "Redis" if args.redis else "files"
        print(f"database:        {'PostgreSQL' if bench_url else 'SQLite'}, cache: {cache_kind}")
        print(f"machine speed:   {machine_speed():.2f} s for 10M pure-Python additions (lower is faster)")
        print(f"ingested:        {entities} entities, {Relation.objects.count()} relation rows, "
              f"{SearchRow.objects.count()} search rows, {result.summary.errors} errors")  # fmt: skip
        print(f"relations check: {checked - mismatches}/{checked} entities match expected.json")
        print(f"ingest wall:     {ingest:.2f} s  ({entities / ingest:.0f} entities/s)")
        helper_part = f" + {helper_cpu:.2f} s in the parse helper process" if result.helper_rss_kb else ""
        print(f"ingest CPU:      {ingest_cpu}{helper_part}  (steady on a busy machine, unlike wall time)")
        helper = (
            f" + {result.helper_rss_kb / 1024:.0f} MB parse helper process"
            if result.helper_rss_kb
            else " (no helper process)"
        )
        print(f"peak RSS:        {ingest_rss_mb:.0f} MB{helper}")
        print(f"database size:   {database_size(bench_url, workdir) / 1e6:.0f} MB")

        db_cpu, cpu, wall = backend_cpu(), time.process_time(), time.perf_counter()
        unchanged = refresh_location(location.pk)
        print(f"unchanged refresh: {cpu_figure(time.process_time() - cpu, db_cpu, backend_cpu())}, "
              f"{time.perf_counter() - wall:.3f} s wall (changed={unchanged.changed})")  # fmt: skip
        if args.data:
            print("update refresh:  skipped (--data: the bench does not edit your files)")
        else:
            change_every_entity(data, "r2")
            children_before = children_cpu()
            db_cpu, cpu, wall = backend_cpu(), time.process_time(), time.perf_counter()
            updated = refresh_location(location.pk)
            update = time.perf_counter() - wall
            update_cpu = cpu_figure(time.process_time() - cpu, db_cpu, backend_cpu())
            helper_part = f" + {children_cpu() - children_before:.2f} s in the helper" if updated.helper_rss_kb else ""
            print(f"update refresh:  {update:.2f} s wall, {update / ingest:.2f}x the ingest "
                  f"({updated.summary.updated} updated: every entity changed), {update_cpu}{helper_part}")  # fmt: skip
        from catalog import facets

        wall = time.perf_counter()
        facets.warm()
        print(f"facet snapshots: {time.perf_counter() - wall:.2f} s wall (the worker builds them after a change)")

        measure(args, location)
        if not (args.no_http or args.data):
            reads_during_refresh(args, data, location)
        if bench_url:
            from django.db import connections

            connections.close_all()


def by_name_url(name: str) -> str:
    return f"/api/catalog/entities/by-name/component/default/{name}"


def measure(args, location) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from catalog.models import Entity
    from portal.models import ApiToken

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True})
    ApiToken.objects.filter(user=user, name="bench").delete()
    _, secret = ApiToken.issue(user, name="bench", scopes=["catalog:read"])
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {secret}")  # automation: a token
    browser = Client(HTTP_HOST="127.0.0.1")  # a person: a session in the cache
    browser.force_login(user)
    n = args.requests
    run = time.time_ns()  # "a new query each time" stays new when --reuse meets the cache of an earlier run
    names = list(Entity.objects.filter(kind="Component").values_list("name", flat=True)[: 3 * n])
    by_name = [by_name_url(names[i % len(names)]) for i in range(n)]
    db_cpu, cpu = backend_cpu(), time.process_time()
    samples = timed(client, by_name)
    print("by-name:        ", percentiles(samples), " (a bearer token; each name once: every read misses the memory)")
    python_ms, after = (time.process_time() - cpu) * 1000 / n, backend_cpu()
    database_ms = (after - db_cpu) * 1000 / n if after is not None and db_cpu is not None else float("nan")
    print(f"  CPU per read:  {python_ms + database_ms:.2f} ms ({python_ms:.2f} Python + {database_ms:.2f} database)")
    print("by-name again:  ", percentiles(timed(client, by_name)), " (the same names: answered from memory)")
    signed_in = [by_name_url(names[(n + i) % len(names)]) for i in range(n)]
    print("by-name session:", percentiles(timed(browser, signed_in)), " (signed in: a session from the cache)")
    filtered = "/api/catalog/entities?filter=kind=component,spec.lifecycle=production&limit=50"
    print("filtered list:  ", percentiles(paged(client, filtered, n)), " (paging with the Link cursor)")
    print(
        "  with offsets: ",
        percentiles(timed(client, [f"{filtered}&offset={i * 50}" for i in range(n)])),
        " (offset 0 to",
        (n - 1) * 50,
        ")",
    )
    print(
        "by-query text:  ",
        percentiles(
            timed(
                client,
                [
                    f"/api/catalog/entities/by-query?limit=50&fullTextFilterTerm={names[i % len(names)][-4:]}"
                    "&fullTextFilterFields=metadata.name"
                    for i in range(n)
                ],
            )
        ),
    )
    print("facets:         ", percentiles(timed(client, ["/api/catalog/entity-facets?facet=spec.type"] * n)))
    print(
        "facets new query:",
        percentiles(timed(client, [f"/api/catalog/entity-facets?facet=spec.type&nocache={run}-{i}" for i in range(n)])),
        " (per-version snapshot)",
    )
    print(
        "facets+kind:    ",
        percentiles(
            timed(
                client,
                [f"/api/catalog/entity-facets?facet=spec.type&filter=kind=component&x={run}-{i}" for i in range(n)],
            )
        ),
    )
    print(
        "facets tags:    ",
        percentiles(timed(client, [f"/api/catalog/entity-facets?facet=metadata.tags&x={run}-{i}" for i in range(n)])),
        " (by kind: the tag snapshot)",
    )
    lifecycle = "/api/catalog/entity-facets?facet=spec.type&filter=spec.lifecycle=production"
    print(
        "facets+lifecycle:",
        percentiles(timed(client, [f"{lifecycle}&x={run}-{i}" for i in range(n)])),
        " (a filter on columns: the snapshot's cells)",
    )
    live = "/api/catalog/entity-facets?facet=spec.type&filter=metadata.tags=java"
    print(
        "facets+tag:     ",
        percentiles(timed(client, [f"{live}&x={run}-{i}" for i in range(min(n, 20))])),
        " (within one tag: the tag snapshot)",
    )
    # Predicates (POST, as Backstage's client sends them). Each request names one more, absent lifecycle so that
    # it is a new question (no cached answer) with the same result.
    not_experimental = {"$all": [{"kind": "component"}, {"$not": {"spec.lifecycle": "experimental"}}]}
    print(
        "by-query pred.: ",
        percentiles(paged_query(client, {"query": not_experimental, "limit": 50, "totalItems": "exclude"}, n)),
        " ($not; paging with nextCursor)",
    )
    production = [{"kind": "component", "spec.lifecycle": {"$in": ["production", f"x{run}-{i}"]}} for i in range(n)]
    print(
        "facets pred.:   ",
        percentiles(timed_facets(client, [{"facets": ["spec.type"], "query": q} for q in production])),
        " (said as a filter: the snapshot, as facets+lifecycle)",
    )
    negated = [
        {"$all": [{"kind": "component"}, {"$not": {"spec.lifecycle": {"$in": ["experimental", f"x{run}-{i}"]}}}]}
        for i in range(min(n, 50))
    ]
    print(
        "facets pred. $not:",
        percentiles(timed_facets(client, [{"facets": ["spec.type"], "query": q} for q in negated])),
        " (columns only: the snapshot's cells)",
    )
    print(
        "facets pred. tags:",
        percentiles(timed_facets(client, [{"facets": ["metadata.tags"], "query": q} for q in negated])),
        " ($not: counted live)",
    )
    print("UI list page:   ", percentiles(timed(browser, ["/catalog/?kind=Component"] * min(n, 50))))
    pages = [f"/catalog/?kind=Component&after=component:default/{names[i % len(names)]}" for i in range(min(n, 50))]
    print("UI list paging: ", percentiles(timed(browser, pages)), " (later pages share the first one's counts)")
    print(
        "UI list filters:",
        percentiles(timed(browser, [f"/catalog/?kind=Component&lifecycle=production&x={run}-{i}" for i in range(10)])),
        " (new filters each time: counts from the snapshots)",
    )
    if not args.no_http:
        over_http(secret, names[2 * n :] or names, n, filtered)


def over_http(secret: str, names: list[str], n: int, filtered: str) -> None:
    """The two latency targets again through gunicorn: what a client on this machine waits for, with the
    connection set up and torn down, HTTP parsed on both sides, and the client's own CPU on the same cores."""
    server, port = gunicorn()
    try:
        client = HttpClient(port, {"Authorization": f"Bearer {secret}"})
        timed(client, ["/healthz", by_name_url(names[0])])  # warm-up
        by_name = [by_name_url(names[i % len(names)]) for i in range(n)]
        print("over HTTP (gunicorn, one sync worker, a new connection per request):")
        print("  by-name:      ", percentiles(timed(client, by_name)), " (a bearer token; each name once)")
        print("  filtered list:", percentiles(paged(client, filtered, n)), " (paging with the Link cursor)")
    finally:
        server.terminate()
        server.wait()


def change_every_entity(data: Path, revision: str) -> None:
    """Give every entity of the generated org a new label value: an update refresh rewrites them all."""
    for path in data.glob("*.yaml"):
        text = re.sub(r"metadata:\n(  labels:\n    bench-revision: \w+\n)?",
                      f"metadata:\n  labels:\n    bench-revision: {revision}\n", path.read_text())  # fmt: skip
        path.write_text(text)


def reads_during_refresh(args, data: Path, location) -> None:
    """``--clients`` threads read by name and filtered lists through gunicorn (two sync workers), first
    alone, then while a ``manage.py catalog refresh`` process rewrites every entity. Each client has a
    fresh token, so its first reads are due to record the token's last use (a write)."""
    from django.contrib.auth import get_user_model

    from catalog.models import Entity
    from portal.models import ApiToken

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True})
    names = list(Entity.objects.filter(kind="Component").values_list("name", flat=True)[:2000])
    filtered = "/api/catalog/entities?filter=kind=component,spec.lifecycle=production&limit=50"
    urls = [by_name_url(name) if i % 4 else f"{filtered}&offset={i % 40 * 50}" for i, name in enumerate(names)]

    def run(stop: threading.Event, tokens: list[str]) -> tuple[list[float], int, float]:
        samples: list[float] = []
        errors = [0]
        lock = threading.Lock()

        def client(secret: str, offset: int) -> None:
            http = HttpClient(port, {"Authorization": f"Bearer {secret}"})
            i = offset
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    ok = http.get(urls[i % len(urls)]).status_code == 200
                except OSError:
                    ok = False
                with lock:
                    samples.append(time.perf_counter() - start)
                    errors[0] += not ok
                i += 7

        threads = [threading.Thread(target=client, args=(t, n * 101)) for n, t in enumerate(tokens)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return samples, errors[0], time.perf_counter() - began

    def fresh_tokens() -> list[str]:
        return [ApiToken.issue(user, name=f"bench-{i}", scopes=["catalog:read"])[1] for i in range(args.clients)]

    def report(label: str, samples: list[float], errors: int, seconds: float) -> None:
        print(f"  {label} {len(samples) / seconds:5.0f} req/s, {errors} errors, {percentiles(samples)}")

    change_every_entity(data, f"r{time.time_ns()}")
    server, port = gunicorn(workers=2)
    try:
        warm = HttpClient(port, {"Authorization": f"Bearer {fresh_tokens()[0]}"})
        for url in urls[:40]:  # both workers connect, prepare and load their caches before anything is measured
            warm.get(url)
        print(f"reads during a refresh ({args.clients} clients, by-name and filtered lists, gunicorn 2 sync workers):")
        stop = threading.Event()
        threading.Timer(10, stop.set).start()
        report("alone:          ", *run(stop, fresh_tokens()))
        stop, tokens = threading.Event(), fresh_tokens()
        command = [sys.executable, "manage.py", "catalog", "refresh", location.target, "--force"]
        refresh = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL)
        began = time.perf_counter()
        waiter = threading.Thread(target=lambda: (refresh.wait(), stop.set()))
        waiter.start()
        samples, errors, seconds = run(stop, tokens)
        waiter.join()
        report("during refresh: ", samples, errors, seconds)
        print(f"  the refresh (every entity changed, its own process) took {time.perf_counter() - began:.1f} s, "
              f"exit {refresh.returncode}")  # fmt: skip
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
