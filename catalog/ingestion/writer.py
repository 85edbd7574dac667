"""Persist what a location walk produced, in batches, inside the caller's transaction.

Rules kept here:
- an unchanged entity (same content hash, same errors) costs no write;
- an entity that fails to process keeps its last good body; only its errors change;
- an entity ref owned by another location is a conflict: the first location keeps it;
- entities that are no longer emitted are marked orphaned, unless their file failed to read
  (a failed read never deletes or blanks anything).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.utils import timezone

from catalog.ingestion.bulk import insert_instances, insert_rows
from catalog.ingestion.collect import Found, Walk
from catalog.ingestion.envelope import content_hash
from catalog.ingestion.errors import DescriptorError
from catalog.ingestion.refs import RefError, parse_ref
from catalog.ingestion.search import MAX_KEY_LENGTH, MAX_VALUE_LENGTH
from catalog.models import CatalogRule, Entity, Location, ProcessingError, Relation, SearchRow
from catalog.models.rules import refusing_rule

BATCH = 1000
ENTITY_FIELDS = [
    "kind", "namespace", "name", "api_version", "title", "description", "spec_type", "lifecycle",
    "owner_ref", "system_ref", "tags", "body", "etag", "content_hash", "generation", "known_kind",
    "valid", "error_count", "source_file", "orphaned_at",
]  # fmt: skip


@dataclass
class Summary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    orphaned: int = 0
    conflicts: int = 0
    errors: int = 0

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "orphaned": self.orphaned,
            "conflicts": self.conflicts,
            "errors": self.errors,
        }


def _single_ref(value) -> str:
    return value if isinstance(value, str) else ""


def _columns(processed, relations: list[tuple[str, str, str]]) -> dict:
    entity = processed.entity
    metadata = entity.get("metadata") or {}
    spec = entity.get("spec") if isinstance(entity.get("spec"), dict) else {}
    ref = str(processed.ref)
    owner = next((t for s, typ, t in relations if s == ref and typ == "ownedBy"), "")
    system = next((t for s, typ, t in relations if s == ref and typ == "partOf" and t.startswith("system:")), "")
    tags = metadata.get("tags") if isinstance(metadata.get("tags"), list) else []
    return {
        "kind": str(entity.get("kind", ""))[:63],
        "namespace": str(metadata.get("namespace") or "default")[:63],
        "name": str(metadata.get("name", ""))[:253],
        "api_version": str(entity.get("apiVersion", ""))[:253],
        "title": str(metadata.get("title") or "")[:300],
        "description": str(metadata.get("description") or ""),
        "spec_type": _single_ref(spec.get("type"))[:200],
        "lifecycle": _single_ref(spec.get("lifecycle"))[:200],
        "owner_ref": owner,
        "system_ref": system,
        "tags": [t for t in tags if isinstance(t, str)],
    }


class LocationWriter:
    """Writes one location's entities. Call ``add`` per found entity, then ``finish``."""

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
        self.conflict_errors: list[DescriptorError] = []

    def add(self, found: Found) -> None:
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

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        refs = [str(f.processed.ref) for f in batch]
        taken = dict(
            Entity.objects.filter(ref__in=refs).exclude(location=self.location).values_list("ref", "location_id")
        )
        to_create: list[Entity] = []
        to_update: list[Entity] = []  # body changed: every column, relations and search rows rewritten
        error_only: list[Entity] = []  # body kept: only the error count changes
        rewrite: list[tuple[Entity, list, list]] = []
        error_rows: list[tuple[str, Entity | int, list[DescriptorError]]] = []
        for found in batch:
            processed = found.processed
            ref = str(processed.ref)
            if ref in taken:
                self.summary.conflicts += 1
                self.seen.discard(ref)
                self.conflict_errors.append(
                    DescriptorError(
                        file=found.source.location_ref, document=processed.document, field="metadata.name",
                        rule="conflict", message=f"{ref} is already provided by another location "
                        f"({taken[ref]}); the first location keeps it",
                    )
                )  # fmt: skip
                continue
            errors = list(processed.errors)
            row = self.existing.get(ref)
            if not processed.valid:
                if row is None:
                    entity = self._new_entity(found, [], errors, valid=False)
                    to_create.append(entity)
                    error_rows.append((ref, entity, errors))
                    self.summary.added += 1
                else:
                    error_only.append(Entity(id=row[0], error_count=len(errors)))
                    error_rows.append((ref, row[0], errors))
                    self.summary.updated += 1
                continue
            relations = processed.relations
            digest = _digest(found)
            if row is None:
                entity = self._new_entity(found, relations, errors, valid=True, digest=digest)
                to_create.append(entity)
                rewrite.append((entity, relations, _search(found)))
                error_rows.append((ref, entity, errors))
                self.summary.added += 1
                continue
            error_rows.append((ref, row[0], errors))
            if row[2] != digest or not row[6] or row[5] is not None:
                entity = self._new_entity(found, relations, errors, valid=True, digest=digest)
                entity.id = row[0]
                entity.generation = row[7] + (1 if row[2] != digest else 0)
                to_update.append(entity)
                rewrite.append((entity, relations, _search(found)))
                self.summary.updated += 1
            else:
                if row[3] != len(errors):
                    error_only.append(Entity(id=row[0], error_count=len(errors)))
                self.summary.unchanged += 1
        insert_instances(Entity, to_create)
        Entity.objects.bulk_update(to_update, [*ENTITY_FIELDS, "updated_at"], batch_size=BATCH)
        Entity.objects.bulk_update(error_only, ["error_count"], batch_size=BATCH)
        self._rewrite_rows(rewrite, [entity.id for entity in to_update])
        self._write_entity_errors(error_rows)

    def _new_entity(self, found: Found, relations, errors, *, valid: bool, digest: str = "") -> Entity:
        processed = found.processed
        columns = _columns(processed, relations) if valid else self._minimal_columns(processed)
        return Entity(
            ref=str(processed.ref),
            body=processed.entity,
            etag=(digest or content_hash(processed.entity))[:40],
            content_hash=digest,
            known_kind=processed.known_kind,
            valid=valid,
            error_count=len(errors),
            location=self.location,
            source_file=found.source.location_ref,
            orphaned_at=None,
            updated_at=self.now,
            **columns,
        )

    @staticmethod
    def _minimal_columns(processed) -> dict:
        metadata = processed.entity.get("metadata") if isinstance(processed.entity.get("metadata"), dict) else {}
        spec = processed.entity.get("spec") if isinstance(processed.entity.get("spec"), dict) else {}
        return {
            "kind": processed.ref.kind,
            "namespace": processed.ref.namespace,
            "name": processed.ref.name,
            "owner_ref": _best_effort_owner(spec.get("owner"), processed.ref.namespace),
            "api_version": str(processed.entity.get("apiVersion", ""))[:253],
            "title": str(metadata.get("title") or "")[:300],
            "description": str(metadata.get("description") or ""),
        }

    def _rewrite_rows(self, rewrite: list[tuple[Entity, list, list]], replaced_ids: list[int]) -> None:
        """Replace the relation and search rows of the entities just written (plain tuples, no ORM)."""
        if replaced_ids:
            Relation.objects.filter(origin_id__in=replaced_ids)._raw_delete(Relation.objects.db)
            SearchRow.objects.filter(entity_id__in=replaced_ids)._raw_delete(SearchRow.objects.db)
        insert_rows(
            Relation._meta.db_table,
            ("origin_id", "source_ref", "type", "target_ref"),
            ((entity.id, s, t, d) for entity, entity_relations, _ in rewrite for s, t, d in entity_relations),
        )
        insert_rows(
            SearchRow._meta.db_table,
            ("entity_id", "key", "value"),
            ((entity.id, k, v) for entity, _, entity_rows in rewrite for k, v in entity_rows),
        )

    def _write_entity_errors(self, error_rows: list[tuple[str, Entity | int, list[DescriptorError]]]) -> None:
        """Replace the batch's entity errors; ids come from the rows just written (created ones after insert)."""
        refs = [ref for ref, _, _ in error_rows]
        ProcessingError.objects.filter(entity_ref__in=refs, location=self.location).delete()
        rows = [
            _error_row(
                error,
                location=self.location,
                entity_id=entity.id if isinstance(entity, Entity) else entity,
                entity_ref=ref,
            )
            for ref, entity, errors in error_rows
            for error in errors
        ]
        self.summary.errors += len(rows)
        ProcessingError.objects.bulk_create(rows, batch_size=BATCH)

    def finish(self, walk_state: Walk) -> Summary:
        """Flush, mark orphans, record location-level errors and the location's state."""
        self.flush()
        gone = [row for ref, row in self.existing.items() if ref not in self.seen]
        kept_by_failure = {row[0] for row in gone if row[4] in walk_state.failed_files}
        orphan_ids = [row[0] for row in gone if row[4] not in walk_state.failed_files and row[5] is None]
        if orphan_ids:
            for start in range(0, len(orphan_ids), BATCH):
                Entity.objects.filter(id__in=orphan_ids[start : start + BATCH]).update(orphaned_at=self.now)
        self.summary.orphaned = len(orphan_ids)
        ProcessingError.objects.filter(location=self.location, entity_ref="").delete()
        location_errors = walk_state.errors + self.conflict_errors
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
        ProcessingError.objects.filter(entity_id__in=[row[0] for row in rows], location=self.location).delete()
        copies = [
            _error_row(error, location=self.location, entity_id=row[0], entity_ref=row[1])
            for row in rows
            for error in by_file.get(row[4], [])
        ]
        ProcessingError.objects.bulk_create(copies, batch_size=BATCH)
        counts = [Entity(id=row[0], error_count=len(by_file.get(row[4], []))) for row in rows]
        Entity.objects.bulk_update(counts, ["error_count"], batch_size=BATCH)


def _digest(found: Found) -> str:
    """The core's content hash, extended with the location annotations added after it ran."""
    if not found.added_annotations:
        return found.processed.hash
    extra = json.dumps(found.added_annotations, sort_keys=True)
    return hashlib.sha1(f"{found.processed.hash}\x1f{extra}".encode()).hexdigest()  # noqa: S324 - change detection


def _search(found: Found) -> list[tuple[str, str | None]]:
    """The descriptor core's search rows plus rows for the location annotations added after it ran."""
    rows = list(found.processed.search)
    for key, value in found.added_annotations.items():
        row_key = f"metadata.annotations.{key}".lower()
        if len(row_key) <= MAX_KEY_LENGTH:
            rows.append((row_key, value.lower() if len(value) <= MAX_VALUE_LENGTH else None))
    return rows


def _best_effort_owner(value, namespace: str) -> str:
    """The owner of an entity that failed validation, so its owners still see it and its errors."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        return str(parse_ref(value, default_kind="Group", default_namespace=namespace))[:400]
    except RefError:
        return ""


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
