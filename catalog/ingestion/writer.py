"""Persist what a location walk produced, in batches.

Transactions: on PostgreSQL the whole refresh is one transaction (``refresh_transaction``). SQLite has
one writer at a time, so there the writer commits whole files, about ``BATCH`` entities at a time, and
other writers (a person saving a form) get in between: readers see each file either as it was or as it
is now, never half-applied; the last files, orphans and the location's state commit together. Inside a
caller's transaction (tests, a caller's ``atomic``) everything stays in it.

Rules kept here:
- an unchanged entity (same content hash, same errors) costs no write, and errors equal to the stored ones
  are not rewritten: a refresh whose input did not change (the same error again) changes nothing;
- an entity that fails to process keeps its last good body; only its errors change;
- an entity ref owned by another location is a conflict: the first location keeps it;
- entities that are no longer emitted are marked orphaned, unless their file failed to read
  (a failed read never deletes or blanks anything).
"""

from __future__ import annotations

import json
import uuid
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.ingestion.bulk import BackgroundCopy, insert_rows, reserve_ids, update_rows
from catalog.ingestion.collect import Found, Walk
from catalog.ingestion.errors import DescriptorError
from catalog.models import CatalogRule, Entity, Location, ProcessingError, Relation, SearchRow
from catalog.models.rules import refusing_rule

BATCH = 1000
ENTITY_FIELDS = [
    "kind", "namespace", "name", "api_version", "title", "description", "spec_type", "lifecycle",
    "owner_ref", "system_ref", "tags", "body", "etag", "content_hash", "generation", "known_kind",
    "valid", "error_count", "source_file", "orphaned_at",
]  # fmt: skip
UPDATED_FIELDS = [*ENTITY_FIELDS, "updated_at"]  # what an update of a changed entity writes


@dataclass
class Summary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    orphaned: int = 0
    conflicts: int = 0
    errors: int = 0
    errors_changed: bool = False  # some stored error was written or removed (not in as_dict)

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "orphaned": self.orphaned,
            "conflicts": self.conflicts,
            "errors": self.errors,
        }


def refresh_transaction() -> AbstractContextManager:
    """The refresh's own transaction: PostgreSQL one for all; SQLite none (the writer commits groups of files)."""
    return nullcontext() if connection.vendor == "sqlite" else transaction.atomic()


class LocationWriter:
    """Writes one location's entities: ``with LocationWriter(location) as writer``, ``add`` per found
    entity, then ``finish``; the block's end commits what is left (an error rolls it back)."""

    def __init__(self, location: Location):
        self.location = location
        self.now = timezone.now()
        self.summary = Summary()
        existing = Entity.objects.filter(location=location).values_list(
            "id", "ref", "content_hash", "error_count", "source_file", "orphaned_at", "valid", "generation"
        )
        self.existing = {row[1]: row for row in existing.iterator(chunk_size=5000)}
        self.seen: set[str] = set()
        self.pending: list[Found] = []
        self.rules = list(CatalogRule.objects.all())
        self.copier = BackgroundCopy()
        self.conflict_errors: list[DescriptorError] = []
        self.stored_errors = _stored_errors(location)
        # SQLite outside a caller's transaction: commit groups of whole files (see the module's docstring).
        self.by_files = connection.vendor == "sqlite" and not connection.in_atomic_block
        self.group: transaction.Atomic | None = None  # the open transaction of the current group of files
        self.group_size = 0  # entities written in it
        self.file = ""

    def __enter__(self) -> LocationWriter:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        self._end_group(exc_type, exc, traceback)

    def add(self, found: Found) -> None:
        if self.by_files and found.source.location_ref != self.file:
            if self.group_size + len(self.pending) >= BATCH:  # the group ends where a file ends
                self.flush()
                self._end_group()
            self.file = found.source.location_ref
        ref = str(found.processed.ref)
        if self.rules and self._refused(found):
            return
        if ref in self.seen:
            self.conflict_errors.append(
                DescriptorError(
                    file=found.source.location_ref, document=found.processed.document, field="metadata.name",
                    rule="duplicate-ref", message=f"{ref} is defined more than once in this location; "
                    "the first definition is kept",
                )
            )  # fmt: skip
            return
        self.seen.add(ref)
        self.pending.append(found)
        if len(self.pending) >= BATCH:
            self.flush()

    def _refused(self, found: Found) -> bool:
        entity = found.processed.entity
        spec = entity.get("spec") if isinstance(entity.get("spec"), dict) else {}
        rule = refusing_rule(
            self.rules,
            kind=str(entity.get("kind", "")),
            known_kind=found.processed.known_kind or not found.processed.valid,
            spec_type=spec.get("type") if isinstance(spec.get("type"), str) else "",
            target=self.location.target,
        )
        if rule is None:
            return False
        self.conflict_errors.append(
            DescriptorError(
                file=found.source.location_ref, document=found.processed.document, field="kind",
                rule="catalog-rule", message=f"{found.processed.ref} is not allowed from this location "
                f"by the catalog rule '{rule}' (set by a platform admin)",
            )
        )  # fmt: skip
        return True

    def _begin_group(self) -> None:
        if self.by_files and self.group is None:
            group = transaction.atomic()
            group.__enter__()  # kept only once begun: a BEGIN that failed has nothing to end
            self.group, self.group_size = group, 0

    def _end_group(self, exc_type=None, exc=None, traceback=None) -> None:
        """Commit the group's transaction (roll it back when leaving on an error)."""
        group, self.group = self.group, None
        if group is not None:
            group.__exit__(exc_type, exc, traceback)

    def flush(self) -> None:
        if not self.pending:
            return
        self.copier.wait()
        self._begin_group()
        batch, self.pending = self.pending, []
        self.group_size += len(batch)
        refs = [str(f.processed.ref) for f in batch]
        taken = dict(
            Entity.objects.filter(ref__in=refs).exclude(location=self.location).values_list("ref", "location_id")
        )
        to_create: list[tuple[Found, int]] = []  # (found, error count)
        to_update: list[tuple[int, int, Found, int]] = []  # (id, generation, found, error count): body changed,
        # so every column, relations and search rows are rewritten
        error_only: list[tuple[int, int]] = []  # (id, error count): body kept, only the error count changes
        ids: dict[str, int] = {}  # ref -> entity id (new entities' after their insert)
        rewrite: list[tuple[str, list, list]] = []  # (ref, relations, search rows)
        error_rows: list[tuple[str, list[DescriptorError]]] = []
        for found in batch:
            processed, row = found.processed, found.row
            ref = str(processed.ref)
            if ref in taken:
                self._conflict(found, taken[ref])
                continue
            errors = list(processed.errors)
            existing = self.existing.get(ref)
            self.summary.errors += len(errors)
            errors_changed = _signature(errors) != self.stored_errors.get(ref, ())
            if errors_changed:
                error_rows.append((ref, errors))
            if existing is None:
                to_create.append((found, len(errors)))
                if processed.valid:
                    rewrite.append((ref, processed.relations, row.search))
                self.summary.added += 1
                continue
            entity_id = ids[ref] = existing[0]
            if not processed.valid:
                if errors_changed or existing[3] != len(errors):
                    error_only.append((entity_id, len(errors)))
                    self.summary.updated += 1
                else:
                    self.summary.unchanged += 1
            elif existing[2] != row.digest or not existing[6] or existing[5] is not None:
                generation = existing[7] + (1 if existing[2] != row.digest else 0)
                to_update.append((entity_id, generation, found, len(errors)))
                rewrite.append((ref, processed.relations, row.search))
                self.summary.updated += 1
            else:
                if existing[3] != len(errors):
                    error_only.append((entity_id, len(errors)))
                self.summary.unchanged += 1
        ids.update(self._insert_new(to_create))
        # A ref a concurrent refresh inserted first is a conflict now (_insert_new): it has no id here.
        error_rows = [(ref, errors) for ref, errors in error_rows if ref in ids]
        rewrite = [(ref, relations, search) for ref, relations, search in rewrite if ref in ids]
        self._update_changed(to_update)
        update_rows(Entity._meta.db_table, ["error_count"], error_only)
        self._write_entity_errors([(ref, ids[ref], errors) for ref, errors in error_rows])
        self._rewrite_rows(  # last: on PostgreSQL it goes on in the background
            [(ids[ref], relations, search) for ref, relations, search in rewrite],
            [entity_id for entity_id, *_ in to_update],
        )

    def _conflict(self, found: Found, owner) -> None:
        """``found``'s ref belongs to another location (``owner``, its id): the first location keeps it."""
        ref = str(found.processed.ref)
        self.summary.conflicts += 1
        self.seen.discard(ref)
        self.conflict_errors.append(
            DescriptorError(
                file=found.source.location_ref, document=found.processed.document, field="metadata.name",
                rule="conflict", message=f"{ref} is already provided by another location "
                f"({owner}); the first location keeps it",
            )
        )  # fmt: skip

    def _insert_new(self, to_create: list[tuple[Found, int]]) -> dict[str, int]:
        """Insert new entities as plain rows (their JSON is ready); returns ref -> the entity's id.

        Refs that another location's refresh inserted since ``flush`` looked (PostgreSQL: a concurrent
        transaction, committed or not) are conflicts, recorded as if that location had been first all
        along: the batch goes in with ``ON CONFLICT DO NOTHING`` and the refs that lost are left out.
        """
        if not to_create:
            return {}
        # In ref order: two refreshes inserting the same refs wait on each other, never in a cycle.
        to_create = sorted(to_create, key=lambda item: str(item[0].processed.ref))
        fields = Entity._meta.concrete_fields
        now = Entity._meta.get_field("updated_at").get_db_prep_value(self.now, connection)
        uid_field = Entity._meta.get_field("uid")
        location_id = Entity._meta.get_field("location").get_db_prep_save(self.location.pk, connection)
        constant = {"location_id": location_id, "created_at": now, "updated_at": now, "orphaned_at": None}
        ids = reserve_ids(Entity._meta.db_table, Entity._meta.pk.column, len(to_create))
        rows = []
        for (found, error_count), entity_id in zip(to_create, ids, strict=True):
            processed, row = found.processed, found.row
            values = {
                **constant, **row.columns,
                "id": entity_id,
                "uid": uid_field.get_db_prep_value(uuid.uuid4(), connection),
                "ref": str(processed.ref),
                "body": row.body_json,
                "etag": row.etag,
                "content_hash": row.digest,
                "generation": 1,
                "known_kind": processed.known_kind,
                "valid": processed.valid,
                "error_count": error_count,
                "source_file": found.source.location_ref,
            }  # fmt: skip
            values["tags"] = json.dumps(values["tags"])
            rows.append(tuple(values[f.attname] for f in fields))
        table, columns = Entity._meta.db_table, [f.column for f in fields]
        try:
            with transaction.atomic():  # a savepoint: the fast insert fails whole on a duplicate ref
                insert_rows(table, columns, rows)
        except IntegrityError:
            insert_rows(table, columns, rows, skip_conflicts=True)  # waits for a concurrent writer's commit
            inserted = set(Entity.objects.filter(id__in=ids).values_list("id", flat=True))
            lost = [found for (found, _), entity_id in zip(to_create, ids, strict=True) if entity_id not in inserted]
            owners = dict(
                Entity.objects.filter(ref__in=[str(f.processed.ref) for f in lost]).values_list("ref", "location_id")
            )
            for found in lost:
                self.summary.added -= 1
                self._conflict(found, owners.get(str(found.processed.ref), "gone since"))
        else:
            inserted = set(ids)
        return {
            str(found.processed.ref): entity_id
            for (found, _), entity_id in zip(to_create, ids, strict=True)
            if entity_id in inserted
        }

    def _update_changed(self, to_update: list[tuple[int, int, Found, int]]) -> None:
        """Rewrite changed entities from their prepared values, as plain rows (as new ones are inserted)."""
        now = Entity._meta.get_field("updated_at").get_db_prep_value(self.now, connection)
        rows = []
        for entity_id, generation, found, error_count in to_update:
            processed, row = found.processed, found.row
            values = {
                **row.columns,
                "tags": json.dumps(row.columns["tags"]),
                "body": row.body_json,
                "etag": row.etag,
                "content_hash": row.digest,
                "generation": generation,
                "known_kind": processed.known_kind,
                "valid": True,
                "error_count": error_count,
                "source_file": found.source.location_ref,
                "orphaned_at": None,
                "updated_at": now,
            }  # fmt: skip
            rows.append((entity_id, *(values[field] for field in UPDATED_FIELDS)))
        update_rows(Entity._meta.db_table, UPDATED_FIELDS, rows)

    def _rewrite_rows(self, rewrite: list[tuple[int, list, list]], replaced_ids: list[int]) -> None:
        """Replace the relation and search rows of the entities just written (plain tuples, no ORM)."""
        if replaced_ids:
            Relation.objects.filter(origin_id__in=replaced_ids)._raw_delete(Relation.objects.db)
            SearchRow.objects.filter(entity_id__in=replaced_ids)._raw_delete(SearchRow.objects.db)
        # Rows go in entity by entity, so that one entity's rows share table pages (PostgreSQL reads them
        # from the table). SQLite answers filters from its covering (key, value, entity) index and never
        # reads the search rows' table: there they go in sorted by that index, which makes inserting them
        # about a quarter cheaper (bench/catalog.py).
        relations = [(pk, s, t, d) for pk, entity_relations, _ in rewrite for s, t, d in entity_relations]
        search = [(pk, k, v) for pk, _, entity_rows in rewrite for k, v in entity_rows]
        if connection.vendor == "sqlite":
            search.sort(key=_by_key_value)
        # PostgreSQL inserts these while the next batch is read and prepared (waited for at the next flush).
        self.copier.insert([
            (Relation._meta.db_table, ("origin_id", "source_ref", "type", "target_ref"), relations),
            (SearchRow._meta.db_table, ("entity_id", "key", "value"), search),
        ])  # fmt: skip

    def _write_entity_errors(self, error_rows: list[tuple[str, int, list[DescriptorError]]]) -> None:
        """Replace the batch's changed entity errors; ids come from the rows just written (created ones after
        insert)."""
        if not error_rows:
            return
        self.summary.errors_changed = True
        refs = [ref for ref, _, _ in error_rows]
        ProcessingError.objects.filter(entity_ref__in=refs, location=self.location).delete()
        rows = [
            _error_row(
                error,
                location=self.location,
                entity_id=entity_id,
                entity_ref=ref,
            )
            for ref, entity_id, errors in error_rows
            for error in errors
        ]
        ProcessingError.objects.bulk_create(rows, batch_size=BATCH)

    def finish(self, walk_state: Walk) -> Summary:
        """Flush, mark orphans, record location-level errors and the location's state (SQLite: in the last
        group's transaction, with what the caller writes before the ``with`` block ends)."""
        self.flush()
        self.copier.wait()
        self._begin_group()
        gone = [row for ref, row in self.existing.items() if ref not in self.seen]
        kept_by_failure = {row[0] for row in gone if row[4] in walk_state.failed_files}
        orphan_ids = [row[0] for row in gone if row[4] not in walk_state.failed_files and row[5] is None]
        if orphan_ids:
            for start in range(0, len(orphan_ids), BATCH):
                Entity.objects.filter(id__in=orphan_ids[start : start + BATCH]).update(orphaned_at=self.now)
        self.summary.orphaned = len(orphan_ids)
        location_errors = walk_state.errors + self.conflict_errors
        if _signature(location_errors) != self.stored_errors.get("", ()):
            self.summary.errors_changed = True
            ProcessingError.objects.filter(location=self.location, entity_ref="").delete()
            ProcessingError.objects.bulk_create(
                [_error_row(e, location=self.location, entity_id=None, entity_ref="") for e in location_errors]
            )
        self._mark_kept_by_failure([row for row in gone if row[0] in kept_by_failure], walk_state)
        self.summary.errors += len(location_errors)
        return self.summary

    def _mark_kept_by_failure(self, rows, walk_state: Walk) -> None:
        """Entities whose file failed keep their body; the file's error is shown on each of them."""
        by_file: dict[str, list[DescriptorError]] = {}
        for error in walk_state.errors:
            if error.file in walk_state.failed_files:
                by_file.setdefault(error.file, []).append(error)
        signatures = {file: _signature(errors) for file, errors in by_file.items()}
        rows = [  # the same errors as last time are left as they are
            row for row in rows
            if (wanted := signatures.get(row[4], ())) != self.stored_errors.get(row[1], ()) or row[3] != len(wanted)
        ]  # fmt: skip
        if not rows:
            return
        self.summary.errors_changed = True
        ProcessingError.objects.filter(entity_id__in=[row[0] for row in rows], location=self.location).delete()
        copies = [
            _error_row(error, location=self.location, entity_id=row[0], entity_ref=row[1])
            for row in rows
            for error in by_file.get(row[4], [])
        ]
        ProcessingError.objects.bulk_create(copies, batch_size=BATCH)
        by_count: dict[int, list[int]] = {}  # one UPDATE per count and batch: a whole file shares its count
        for row in rows:
            by_count.setdefault(len(by_file.get(row[4], [])), []).append(row[0])
        for count, ids in by_count.items():
            for start in range(0, len(ids), BATCH):
                Entity.objects.filter(id__in=ids[start : start + BATCH]).update(error_count=count)


def _stored_errors(location: Location) -> dict[str, tuple]:
    """The location's stored errors as :func:`_signature` makes them, by entity ref ('' for its own)."""
    found: dict[str, list] = {}
    rows = ProcessingError.objects.filter(location=location).values_list(
        "entity_ref", "level", "file", "document", "field", "rule", "message"
    )
    for ref, level, file, document, field, rule, message in rows.iterator(chunk_size=5000):
        found.setdefault(ref, []).append((level, file, -1 if document is None else document, field, rule, message))
    return {ref: tuple(sorted(errors)) for ref, errors in found.items()}


def _signature(errors: list[DescriptorError]) -> tuple:
    """Errors as stored (see ``_error_row``), in a comparable order."""
    return tuple(sorted(
        (e.level, e.file[:1000], -1 if e.document is None else e.document, e.field[:300], e.rule[:60], e.message)
        for e in errors
    ))  # fmt: skip


def _by_key_value(row: tuple) -> tuple:
    return row[1], row[2] or ""


def _error_row(error: DescriptorError, *, location, entity_id, entity_ref: str) -> ProcessingError:
    return ProcessingError(
        location=location,
        entity_id=entity_id,
        entity_ref=entity_ref,
        level=error.level,
        file=error.file[:1000],
        document=error.document,
        field=error.field[:300],
        rule=error.rule[:60],
        message=error.message,
    )
