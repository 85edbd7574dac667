"""Thin Celery wrappers around catalog.ingestion.refresh."""

from __future__ import annotations

from celery import shared_task

from catalog import facets, identity
from catalog.ingestion import refresh
from portal.jobs import enqueue_on_commit, job_run


@shared_task(name="catalog.refresh_location")
def refresh_location(location_id: str, force: bool = False) -> dict:
    with job_run("catalog.refresh_location", location_id) as job:
        result = refresh.refresh_location(location_id, force=force)
        job.result = result.as_dict()
    if result.changed:
        facets.warm()  # the next catalog page finds its facet counts ready
    return job.result


@shared_task(name="catalog.refresh_due_locations")
def refresh_due_locations() -> int:
    """Beat's periodic entry: queue every location whose refresh is due, and prune old orphans."""
    due = refresh.due_locations()
    for location_id in due:
        refresh_location.delay(location_id)
    refresh.delete_expired_orphans()
    return len(due)


def schedule_refresh(location_id, *, force: bool = False) -> None:
    """Queue a refresh once the current transaction commits."""
    enqueue_on_commit(refresh_location, str(location_id), force)


@shared_task(name="catalog.refresh_identities")
def refresh_identities() -> int:
    """Recompute every person's ownership after the catalog or the group mapping rules changed."""
    with job_run("catalog.refresh_identities") as job:
        job.result = {"identities": identity.refresh_pending_identities()}
    return job.result["identities"]
