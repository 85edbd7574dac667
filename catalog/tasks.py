"""Thin Celery wrappers around catalog.ingestion.refresh."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from catalog import facets, identity
from catalog.ingestion import exclusive, refresh
from portal.jobs import job_run


@shared_task(name="catalog.refresh_location")
def refresh_location(location_id: str, force: bool = False, requested_at: str | None = None) -> dict:
    """``requested_at`` (ISO 8601): when the refresh was asked for; a refresh that started later covers it."""
    with job_run("catalog.refresh_location", location_id) as job:
        when = datetime.fromisoformat(requested_at) if requested_at else None
        outcome = exclusive.refresh_exclusively(location_id, force=force, requested_at=when, job_id=job.pk)
        job.result = outcome.as_dict()
    if outcome.changed:
        facets.warm()  # the next catalog page finds its facet counts ready
    return job.result


@shared_task(name="catalog.refresh_due_locations")
def refresh_due_locations() -> int:
    """Beat's periodic entry: queue every location whose refresh is due, and prune old orphans."""
    due = refresh.due_locations()
    for location_id in due:
        refresh_location.delay(location_id, False, timezone.now().isoformat())
    refresh.delete_expired_orphans()
    return len(due)


def schedule_refresh(location_id, *, force: bool = False) -> None:
    """Queue a refresh once the current transaction commits (stamped then: what it committed is covered)."""
    transaction.on_commit(lambda: refresh_location.delay(str(location_id), force, timezone.now().isoformat()))


@shared_task(name="catalog.refresh_identities")
def refresh_identities() -> int:
    """Recompute every person's ownership after the catalog or the group mapping rules changed."""
    with job_run("catalog.refresh_identities") as job:
        job.result = {"identities": identity.refresh_pending_identities()}
    return job.result["identities"]
