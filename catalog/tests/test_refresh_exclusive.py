"""One refresh per location at a time (catalog/ingestion/exclusive.py), with real Celery workers.

A location read over git smart HTTP is held at a gate: its refresh stops in its first request (the
``ls-remote`` of the change check, outside any transaction) until the test opens the gate, so "while a
refresh runs" is a state the test waits for, not a timing bet.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connections
from django.utils import timezone

from catalog.ingestion.refresh import refresh_location as refresh_now
from catalog.ingestion.refresh import register_location
from catalog.models import Entity, Location, LocationRefresh
from catalog.tasks import refresh_location
from portal.models import JobRun
from portal.testing.celery import celery_worker
from portal.testing.githttp import _handler
from portal.testing.gitrepos import make_repo
from portal.testing.httpserver import serve_http

pytestmark = pytest.mark.django_db(transaction=True)

State = LocationRefresh.State
COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {{name: {name}, description: {description}}}
spec: {{type: service, lifecycle: production, owner: team-a}}
"""
WORKER_ENV = {"CATALOG_ALLOWED_HOSTS": "127.0.0.1", "CATALOG_GITHUB_HOSTS": "127.0.0.1"}


class Gate:
    """Holds the first ``info/refs`` request made once armed, until opened."""

    def __init__(self) -> None:
        self.armed = False
        self.arrived = threading.Event()
        self.opened = threading.Event()
        self._lock = threading.Lock()

    def hold(self, path: str) -> None:
        with self._lock:
            held = self.armed and "info/refs" in path and not self.arrived.is_set()
            if held:
                self.arrived.set()
        if held:
            self.opened.wait(120)


@pytest.fixture
def served(allow_tmp, settings):
    """A git HTTP server with two repositories, the gate in front of it, and a base URL."""
    root = allow_tmp / "served"
    for name in ("billing", "other"):
        make_repo(root / "acme" / f"{name}.git", {"catalog-info.yaml": _component(name, "v1")})
    settings.CATALOG_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.CATALOG_GITHUB_HOSTS = ["127.0.0.1"]
    gate = Gate()

    class GatedGit(_handler(root)):
        def do_GET(self) -> None:
            gate.hold(self.path)
            super().do_GET()

    with serve_http(GatedGit) as base:
        try:
            yield root, base, gate
        finally:
            gate.opened.set()


def _component(name: str, description: str) -> str:
    return COMPONENT.format(name=name, description=description)


def _location(base: str, name: str) -> Location:
    location = register_location(f"{base}/acme/{name}/blob/main/catalog-info.yaml")
    assert refresh_now(location.pk).status == Location.Status.OK
    return location


def _wait(condition: Callable[[], object], what: str, timeout: float = 90) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _jobs(location: Location):
    return JobRun.objects.filter(name="catalog.refresh_location", object_repr=str(location.pk)).order_by("id")


def _finished(location: Location, count: int):
    jobs = list(_jobs(location).exclude(status=JobRun.Status.RUNNING))
    return jobs if len(jobs) >= count else None


def _now() -> str:
    return timezone.now().isoformat()


@pytest.mark.worker
def test_requests_during_a_refresh_coalesce_into_one_more_pass(served):
    root, base, gate = served
    billing, other = _location(base, "billing"), _location(base, "other")
    make_repo(root / "acme" / "billing.git", {"catalog-info.yaml": _component("billing", "v2")})
    gate.armed = True
    with celery_worker(WORKER_ENV) as first, celery_worker(WORKER_ENV) as second:
        refresh_location.apply_async(args=[str(billing.pk), False, _now()], queue=first)
        assert gate.arrived.wait(90), "the first refresh never reached the server"
        assert LocationRefresh.objects.get(pk=billing.pk).state == State.RUNNING
        for _ in range(3):  # three forced requests while it runs: each returns at once
            refresh_location.apply_async(args=[str(billing.pk), True, _now()], queue=second)
        coalesced = _wait(lambda: _finished(billing, 3), "three coalesced requests")
        assert [job.result["outcome"] for job in coalesced] == ["coalesced"] * 3
        assert LocationRefresh.objects.get(pk=billing.pk).state == State.RERUN_FORCED
        # Another location refreshes meanwhile, on the other worker.
        refresh_location.apply_async(args=[str(other.pk), True, _now()], queue=second)
        (done,) = _wait(lambda: _finished(other, 1), "the other location's refresh")
        assert (done.result["outcome"], done.result["passes"]) == ("refreshed", 1)
        assert _jobs(billing).filter(status=JobRun.Status.RUNNING).count() == 1  # still held at the gate
        gate.opened.set()
        jobs = _wait(lambda: _finished(billing, 4), "the running refresh")
    running = jobs[0]
    assert running.status == JobRun.Status.SUCCEEDED, running.log
    assert (running.result["outcome"], running.result["passes"]) == ("refreshed", 2)  # exactly one follow-up
    assert Entity.objects.get(ref="component:default/billing").description == "v2"
    state = LocationRefresh.objects.get(pk=billing.pk)
    assert (state.state, state.token, state.last_forced_at is not None) == (State.IDLE, "", True)


@pytest.mark.worker
def test_a_backlog_of_duplicate_tasks_collapses_to_one_refresh_per_location(served):
    _, base, _ = served
    locations = [_location(base, "billing"), _location(base, "other")]
    with celery_worker(WORKER_ENV) as queue:
        for force, copies in ((False, 5), (True, 3)):  # duplicates, then forced duplicates
            queued = _now()  # every task of this round was queued before any of them ran
            for _ in range(copies):
                for location in locations:
                    refresh_location.apply_async(args=[str(location.pk), force, queued], queue=queue)
            for location in locations:
                jobs = _wait(lambda location=location, n=copies: _finished(location, n), "the backlog")
                assert sorted((job.result["outcome"], job.result["passes"]) for job in jobs) == [
                    ("refreshed", 1),
                    *[("skipped", 0)] * (copies - 1),
                ]
                _jobs(location).delete()


@pytest.mark.worker
def test_a_worker_killed_mid_refresh_does_not_hold_the_location(served, settings):
    root, base, gate = served
    billing = _location(base, "billing")
    make_repo(root / "acme" / "billing.git", {"catalog-info.yaml": _component("billing", "v2")})
    gate.armed = True
    with celery_worker(WORKER_ENV) as queue:
        refresh_location.apply_async(args=[str(billing.pk), True, _now()], queue=queue)
        assert gate.arrived.wait(90)
        token = LocationRefresh.objects.get(pk=billing.pk).token
        os.kill(int(token.split(":")[1]), signal.SIGKILL)  # the solo pool runs the task in the worker itself
    gate.opened.set()
    # Its JobRun still says running and its claim is young: the claim holds, a request coalesces.
    assert refresh_location.apply(args=[str(billing.pk), False, _now()]).get()["outcome"] == "coalesced"
    # A claim older than the hard task time limit has no live holder: the next request takes over,
    # forced as the dead pass was.
    settings.CELERY_TASK_TIME_LIMIT = 0
    result = refresh_location.apply(args=[str(billing.pk), False, _now()]).get()
    assert (result["outcome"], result["passes"], result["updated"]) == ("refreshed", 1, 1)
    state = LocationRefresh.objects.get(pk=billing.pk)
    assert (state.state, state.last_forced_at is not None) == (State.IDLE, True)


def test_a_claim_whose_job_ended_is_taken_over(served):
    """A stale-job sweeper marks a dead worker's JobRun failed: its claim is free at once; and when the
    holder was not dead after all, its end does not clobber the new holder's claim."""
    root, base, gate = served
    billing = _location(base, "billing")
    make_repo(root / "acme" / "billing.git", {"catalog-info.yaml": _component("billing", "v2")})
    gate.armed = True
    results: list = []

    def hold() -> None:
        try:
            results.append(refresh_location.apply(args=[str(billing.pk), False, _now()]).get())
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert gate.arrived.wait(90)
    held = LocationRefresh.objects.get(pk=billing.pk)
    JobRun.objects.filter(pk=held.job_id).update(status=JobRun.Status.FAILED)  # what the sweeper does
    taken = refresh_location.apply(args=[str(billing.pk), False, _now()]).get()  # passes the gate: held once
    assert (taken["outcome"], taken["passes"], taken["updated"]) == ("refreshed", 1, 1)
    assert thread.is_alive()  # the first holder is still at the gate
    gate.opened.set()
    thread.join(60)
    assert [(r["outcome"], r["passes"]) for r in results] == [("refreshed", 1)]
    assert LocationRefresh.objects.get(pk=billing.pk).state == State.IDLE


def test_a_location_deleted_during_its_refresh_stays_deleted(served):
    """DELETE /locations/{id} while the location refreshes: the refresh's last save used to write the
    location back (an UPDATE of no row became an INSERT), with the entities it had just written."""
    root, base, gate = served
    billing = _location(base, "billing")
    make_repo(root / "acme" / "billing.git", {"catalog-info.yaml": _component("billing", "v2")})
    gate.armed = True
    outcome: list = []

    def refresh() -> None:
        try:
            outcome.append(refresh_now(billing.pk, force=True))
        finally:
            connections.close_all()

    thread = threading.Thread(target=refresh)
    thread.start()
    assert gate.arrived.wait(90), "the refresh never reached the server"
    Location.objects.filter(pk=billing.pk).delete()  # as DELETE /locations/{id} does, committed
    gate.opened.set()
    thread.join(120)
    assert not thread.is_alive()
    assert outcome and outcome[0].status == "deleted"
    assert not Location.objects.filter(pk=billing.pk).exists()
    assert not Entity.objects.filter(ref="component:default/billing").exists()
