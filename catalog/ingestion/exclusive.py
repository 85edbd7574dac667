"""One refresh per location at a time; requests that arrive meanwhile coalesce into one more pass.

Each location has a ``LocationRefresh`` row: idle, running, or running with a request for one more pass
(forced or not). A request (a ``catalog.refresh_location`` task) does one of three things:

- **skipped**: the location was refreshed after the request was made: a pass that completed, or the
  pass running now, started after it (a forced request needs a forced pass). A backlog of duplicate
  tasks (after a worker was stuck) thus costs one refresh per location;
- **coalesced**: a live pass is running: the request marks the row ``rerun`` (``rerun-forced``) and
  returns at once, without a worker slot waiting on the pass's row locks;
- **refreshed**: the request claims the row and runs passes until no request came in meanwhile.

Every change of the row is a compare-and-swap on (state, token), so two workers never both claim it,
on PostgreSQL or SQLite. A claim is dead, and the next request takes it over (with its pending rerun),
when its JobRun is no longer running (a stale-job sweeper marks the JobRun of a killed worker failed),
or when its pass started longer ago than ``CELERY_TASK_TIME_LIMIT`` (no task lives that long).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from catalog.ingestion import refresh
from catalog.ingestion.refresh import RefreshResult
from catalog.models import Location, LocationRefresh
from portal.models import JobRun

logger = logging.getLogger(__name__)

State = LocationRefresh.State
DEADLOCK = "40P01"  # PostgreSQL: two refreshes inserted the same refs in crossing orders; one is undone
SWAP_ATTEMPTS = 50  # each failed swap means another request changed the row: it made progress


@dataclass
class Claim:
    location_id: str
    token: str
    started_at: datetime
    forced: bool


@dataclass
class Outcome:
    location_id: str
    action: str  # "refreshed", "coalesced" or "skipped"
    passes: list[RefreshResult] = field(default_factory=list)
    message: str = ""

    @property
    def changed(self) -> bool:
        return any(result.changed for result in self.passes)

    def as_dict(self) -> dict:
        last = self.passes[-1].as_dict() if self.passes else {"location": self.location_id}
        return {**last, "outcome": self.action, "passes": len(self.passes), "note": self.message}


def refresh_exclusively(
    location_id, *, force: bool = False, requested_at: datetime | None = None, job_id: int | None = None
) -> Outcome:
    """Refresh the location unless a refresh that covers this request ran or runs (module docstring).
    ``requested_at``: when the request was made (None: now); ``job_id``: the JobRun running this."""
    location_id = str(location_id)
    if not Location.objects.filter(pk=location_id).exists():
        return Outcome(location_id, "skipped", message="the location is no longer registered")
    if requested_at is not None and _refreshed_since(location_id, requested_at, force):
        return Outcome(location_id, "skipped", message="refreshed since the request")
    claim, outcome = _claim(location_id, force, requested_at, job_id)
    if claim is None:
        return outcome
    try:
        while claim is not None:
            outcome.passes.append(_run_pass(claim))
            claim = _next_pass(claim)
    except BaseException:
        _release(claim)
        raise
    return outcome


def _refreshed_since(location_id: str, requested_at: datetime, force: bool) -> bool:
    """Did a pass that completed start after ``requested_at``? (``last_checked_at``: when the last
    completed refresh started; a forced request needs a forced pass.)"""
    if force:
        last = LocationRefresh.objects.filter(pk=location_id).values_list("last_forced_at", flat=True).first()
    else:
        last = Location.objects.filter(pk=location_id).values_list("last_checked_at", flat=True).first()
    return last is not None and last >= requested_at


def _claim(location_id: str, force: bool, requested_at, job_id) -> tuple[Claim | None, Outcome]:
    LocationRefresh.objects.get_or_create(location_id=location_id)
    for _ in range(SWAP_ATTEMPTS):
        row = LocationRefresh.objects.get(pk=location_id)
        now = timezone.now()
        if row.state != State.IDLE and not _dead(row, now):
            if requested_at is not None and requested_at <= row.started_at and (row.forced or not force):
                return None, Outcome(location_id, "skipped", message="the running pass started after the request")
            rerun = State.RERUN_FORCED if force or row.state == State.RERUN_FORCED else State.RERUN
            if _swap(row, state=rerun):
                return None, Outcome(location_id, "coalesced", message="one more pass follows the running one")
            continue
        if row.state != State.IDLE:
            logger.warning("Taking over the refresh of %s from a dead claim %s", location_id, row.token)
        # A dead claim's pass, and what was folded into it, is redone by this one.
        forced = force or (row.state != State.IDLE and (row.forced or row.state == State.RERUN_FORCED))
        token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        if _swap(row, state=State.RUNNING, token=token, job_id=job_id, started_at=now, forced=forced):
            return Claim(location_id, token, now, forced), Outcome(location_id, "refreshed")
    raise RuntimeError(f"could not claim the refresh of location {location_id}")


def _dead(row: LocationRefresh, now: datetime) -> bool:
    """A claim whose JobRun ended (a sweeper marks a killed worker's job failed), or whose pass started
    longer ago than the hard task time limit, has no live holder."""
    if row.started_at is None or row.started_at < now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT):
        return True
    return row.job_id is not None and not JobRun.objects.filter(pk=row.job_id, status=JobRun.Status.RUNNING).exists()


def _swap(row: LocationRefresh, **changes) -> bool:
    """Change the row only if nobody else has since it was read."""
    return bool(LocationRefresh.objects.filter(pk=row.pk, state=row.state, token=row.token).update(**changes))


def _run_pass(claim: Claim) -> RefreshResult:
    try:
        return refresh.refresh_location(claim.location_id, force=claim.forced)
    except Exception as exc:
        if DEADLOCK not in (getattr(exc, "sqlstate", None), getattr(exc.__cause__, "sqlstate", None)):
            raise
    # The other refresh committed by now: this pass records its refs as conflicts (writer.py).
    logger.warning("Refresh of %s was undone by a deadlock with another refresh; running it again", claim.location_id)
    return refresh.refresh_location(claim.location_id, force=claim.forced)


def _next_pass(claim: Claim) -> Claim | None:
    """After a completed pass: go idle, or, when requests came in meanwhile, renew the claim for one
    more pass (forced if any of them was)."""
    done = {"last_forced_at": claim.started_at} if claim.forced else {}
    for _ in range(SWAP_ATTEMPTS):
        row = LocationRefresh.objects.filter(pk=claim.location_id, token=claim.token).first()
        if row is None:  # taken over as dead meanwhile: the new holder refreshes
            return None
        if row.state == State.RUNNING:
            if _swap(row, state=State.IDLE, token="", job_id=None, started_at=None, forced=False, **done):
                return None
            continue
        now, forced = timezone.now(), row.state == State.RERUN_FORCED
        if _swap(row, state=State.RUNNING, started_at=now, forced=forced, **done):
            return replace(claim, started_at=now, forced=forced)
    raise RuntimeError(f"could not finish the refresh of location {claim.location_id}")


def _release(claim: Claim | None) -> None:
    """A pass failed: let the next request in. (What was folded into it waits for the next request or
    beat's next refresh of the location: a failed pass does not move ``next_refresh_at``.)"""
    if claim is not None:
        LocationRefresh.objects.filter(pk=claim.location_id, token=claim.token).update(
            state=State.IDLE, token="", job_id=None, started_at=None, forced=False
        )
