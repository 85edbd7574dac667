"""Refreshing locations: the service that Celery tasks, the CLI, the API and webhooks all call."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog.cache import bump_catalog_version
from catalog.events import location_refreshed
from catalog.identity import schedule_refresh_identities
from catalog.ingestion.bulk import write_cache
from catalog.ingestion.collect import Walk, keep_what_failed_files_included, walk
from catalog.ingestion.readers import SourceReader
from catalog.ingestion.sources import SourceError, parse_target
from catalog.ingestion.writer import LocationWriter, Summary, refresh_transaction
from catalog.models import Entity, Location, ProcessingError

logger = logging.getLogger(__name__)


@dataclass
class RefreshResult:
    location_id: str
    status: str
    changed: bool
    summary: Summary
    message: str = ""
    helper_rss_kb: int = 0  # peak RSS of the parse helper process, when one ran

    def as_dict(self) -> dict:
        return {
            "location": self.location_id,
            "status": self.status,
            "changed": self.changed,
            "message": self.message,
            **self.summary.as_dict(),
        }


TIDY_AFTER_ROWS = 2000


def tidy_after_large_write() -> None:
    """After a large write, on PostgreSQL: fresh planner statistics now, not at autovacuum time, and a
    vacuum that sets the visibility map (index-only counts for tag facets) and folds the trigram
    indexes' pending lists. Inside a transaction (a caller's ``atomic``) only ``ANALYZE`` can run."""
    if connection.vendor != "postgresql":
        return
    tables = "catalog_entity, catalog_searchrow, catalog_relation"
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}" if connection.in_atomic_block else f"VACUUM (ANALYZE) {tables}")


def next_refresh_time():
    """Spread refreshes: each location is due again after the interval, plus up to 20% jitter."""
    interval = settings.CATALOG_REFRESH_INTERVAL
    return timezone.now() + timedelta(seconds=interval + random.uniform(0, interval * 0.2))  # noqa: S311


def register_location(target: str, *, type: str = "url", presence: str = "required", created_by: str = "") -> Location:
    """Create (or return) the location for ``target``; raises SourceError when policy refuses it."""
    parse_target(type, target)
    location, _ = Location.objects.get_or_create(
        target=target, defaults={"type": type, "presence": presence, "created_by": created_by}
    )
    return location


def refresh_location(location_id, *, force: bool = False) -> RefreshResult:
    """Read the location and write what changed. Cheap when nothing changed (unless ``force``)."""
    location = Location.objects.get(pk=location_id)
    now = timezone.now()
    try:
        root = parse_target(location.type, location.target)
    except SourceError as exc:
        return _fail_location(location, str(exc))
    with SourceReader() as reader:
        if not force and location.status == Location.Status.OK and reader.unchanged(location.manifest):
            Location.objects.filter(pk=location.pk).update(last_checked_at=now, next_refresh_at=next_refresh_time())
            return RefreshResult(str(location.pk), location.status, False, Summary())
        walk_state = Walk()
        try:
            summary = _write(location, root, reader, walk_state, now)
        except LocationDeleted:
            logger.info("Location %s was unregistered during its refresh; nothing written back", location.target)
            return RefreshResult(str(location.pk), "deleted", False, Summary(), "unregistered during the refresh")
    logger.info("Refreshed %s: %s", location.target, summary.as_dict())
    location_refreshed.send(sender=Location, location_id=str(location.pk))
    changed = bool(summary.added or summary.updated or summary.orphaned or summary.errors_changed)
    if changed:
        bump_catalog_version()
        if summary.added or summary.updated or summary.orphaned:  # errors alone change nobody's groups
            schedule_refresh_identities()  # people's ownership follows the catalog (catalog/identity.py)
    if summary.added + summary.updated >= TIDY_AFTER_ROWS:
        tidy_after_large_write()
    return RefreshResult(
        str(location.pk), location.status, changed, summary, location.message, walk_state.helper_rss_kb
    )


class LocationDeleted(Exception):
    """The location was unregistered while it refreshed: what the refresh wrote is rolled back."""


def _write(location: Location, root, reader: SourceReader, walk_state: Walk, now) -> Summary:
    """Walk the location and write it; the location's own row last, only if it still exists."""
    # PostgreSQL: one transaction; SQLite: the writer commits groups of whole files (writer.py).
    with refresh_transaction(), write_cache(), LocationWriter(location) as writer:
            helper_min_bytes = settings.CATALOG_PARSE_HELPER_MIN_BYTES or None
            for found in walk(root, reader, walk_state, presence=location.presence, helper_min_bytes=helper_min_bytes):
                writer.add(found)
            if walk_state.failed_files:
                keep_what_failed_files_included(walk_state, location.tree, _location_entity_files(location))
            summary = writer.finish(walk_state)
            root_failed = root.location_ref in walk_state.failed_files
            location.status = Location.Status.ERROR if root_failed else Location.Status.OK
            location.message = next((e.message for e in walk_state.errors), "") if root_failed else ""
            location.version = next(iter(reader.manifest.values()), "")[:128]
            location.manifest = {} if walk_state.failed_files else reader.manifest
            # Which Location entity included each file (the ancestry endpoint); a failed read keeps the last.
            location.tree = {**location.tree, **walk_state.parents} if walk_state.failed_files else walk_state.parents
            location.last_checked_at = now
            location.next_refresh_at = next_refresh_time()
            if summary.added or summary.updated or summary.orphaned:
                location.last_changed_at = now
            location.entity_count = location.entities.count()
            # Unregistered meanwhile (DELETE /locations/{id}): a plain save() would insert it again, with
            # what this refresh wrote. The lock makes a delete that is under way finish first.
            if not Location.objects.select_for_update().filter(pk=location.pk).exists():
                raise LocationDeleted(location.pk)
            location.save(force_update=True)
    return summary


def _location_entity_files(location: Location) -> dict[str, str]:
    """Each Location entity of ``location`` (by ref) -> the file it came from."""
    entities = Entity.objects.filter(location=location, ref__startswith="location:")
    return dict(entities.values_list("ref", "source_file"))


def _fail_location(location: Location, message: str) -> RefreshResult:
    with transaction.atomic():
        errors = ProcessingError.objects.filter(location=location, entity_ref="")
        if list(errors.values_list("file", "rule", "message")) != [(location.ref, "bad-target", message)]:
            errors.delete()  # the same error as last time is left as it is
            ProcessingError.objects.create(location=location, file=location.ref, rule="bad-target", message=message)
        location.status = Location.Status.ERROR
        location.message = message
        location.last_checked_at = timezone.now()
        location.next_refresh_at = next_refresh_time()
        location.save()
    summary = Summary(errors=1)
    return RefreshResult(str(location.pk), location.status, False, summary, message)


def due_locations(limit: int = 100) -> list[str]:
    """Locations whose next refresh time has come (or that were never refreshed)."""
    now = timezone.now()
    query = Location.objects.filter(next_refresh_at__isnull=True) | Location.objects.filter(next_refresh_at__lte=now)
    return [str(pk) for pk in query.order_by("next_refresh_at").values_list("pk", flat=True)[:limit]]


def unregister_location(location_id) -> int:
    """Delete a location and every entity only it provided; returns how many entities went."""
    location = Location.objects.get(pk=location_id)
    count = location.entities.count()
    location.delete()
    bump_catalog_version()
    return count


def delete_expired_orphans(now: datetime | None = None) -> int:
    """Remove orphans older than the grace period at ``now``; returns how many entities went (their derived
    rows, which go with them, are not counted)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CATALOG_ORPHAN_GRACE_DAYS)
    _, per_model = Entity.objects.orphans().filter(orphaned_at__lt=cutoff).delete()
    deleted = per_model.get(Entity._meta.label, 0)
    if deleted:
        bump_catalog_version()
    return deleted


@dataclass
class Analysis:
    """What registering a target would produce, computed without writing anything."""

    target: str
    type: str
    entities: list
    errors: list
    existing_location: Location | None


def analyze(target: str, *, type: str = "url") -> Analysis:
    """Dry run: read and process the target (and its nested locations) without touching the database."""
    root = parse_target(type, target)
    walk_state = Walk()
    with SourceReader() as reader:
        found = list(walk(root, reader, walk_state))
    errors = list(walk_state.errors) + [e for f in found for e in f.processed.errors]
    return Analysis(target, type, found, errors, Location.objects.filter(target=target).first())
