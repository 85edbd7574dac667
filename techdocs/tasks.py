"""Thin Celery wrappers around techdocs.builder and techdocs.sync."""

from __future__ import annotations

from celery import shared_task

from portal.jobs import job_run
from techdocs import builder, sync


@shared_task(name="techdocs.build", time_limit=3600)
def build_docs(entity_ref: str, force: bool = False) -> dict:
    with job_run("techdocs.build", entity_ref) as job:
        job.result = builder.build(entity_ref, force=force).as_dict()
    return job.result


@shared_task(name="techdocs.sync_location")
def sync_location(location_id: str) -> int:
    """A location was read anew: queue builds for its documented entities whose docs may have changed."""
    return sync.queue_builds(sync.stale_refs(sync.documented(location_id=location_id)))
