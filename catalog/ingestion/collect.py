"""Walk a location: read its file, follow Location entities to their targets, process every document.

Yields processed entities file by file so that a 100k-entity catalog streams through memory. Errors
that belong to no entity (a file that cannot be read or parsed, a cycle) are collected with their file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from catalog.ingestion.descriptor import ProcessedEntity, location_targets, process_file
from catalog.ingestion.errors import DescriptorError
from catalog.ingestion.placeholders import PlaceholderReadError
from catalog.ingestion.readers import ReadError, SourceReader
from catalog.ingestion.sources import GitSource, Source, SourceError

MAX_FILES_PER_LOCATION = 20_000


@dataclass
class Walk:
    """What a walk found besides entities."""

    errors: list[DescriptorError] = field(default_factory=list)
    failed_files: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)
    #: Each file read → the Location entity ref that included it (None for the root file).
    parents: dict[str, str | None] = field(default_factory=dict)


@dataclass(slots=True)
class Found:
    """A processed entity and the source file it came from."""

    processed: ProcessedEntity
    source: Source
    parent_ref: str | None
    added_annotations: dict[str, str]


def annotate(entity: dict, source: Source, origin: Source) -> dict[str, str]:
    """Set the location annotations Backstage's catalog sets (spec section 5); returns what changed."""
    metadata = entity.setdefault("metadata", {})
    if not isinstance(metadata.get("annotations"), dict):
        metadata["annotations"] = {}
    annotations = metadata["annotations"]
    before = dict(annotations)
    annotations["backstage.io/managed-by-location"] = source.location_ref
    annotations["backstage.io/managed-by-origin-location"] = origin.location_ref
    if isinstance(source, GitSource):
        annotations.setdefault("backstage.io/source-location", f"url:{source.directory_target}")
        if source.view_url:
            annotations.setdefault("backstage.io/view-url", source.view_url)
        if source.edit_url:
            annotations.setdefault("backstage.io/edit-url", source.edit_url)
    for key in ("backstage.io/view-url", "backstage.io/edit-url"):
        if str(annotations.get(key, "")).strip().lower().startswith("javascript:"):
            annotations[key] = "https://backstage.io/annotation-rejected-for-security-reasons"
    return {k: v for k, v in annotations.items() if before.get(k) != v}


def walk(root: Source, reader: SourceReader, walk_state: Walk, *, presence: str = "required") -> Iterator[Found]:
    """Breadth-first over the root file and every Location target reachable from it."""
    queue: list[tuple[Source, str | None, bool]] = [(root, None, presence != "optional")]
    seen: set[str] = set()
    while queue:
        pattern, parent_ref, required = queue.pop(0)
        try:
            sources = reader.expand(pattern)
        except (ReadError, SourceError) as exc:
            _fail(walk_state, pattern.location_ref, "read-failed", str(exc))
            continue
        if not sources and required:
            _fail(walk_state, pattern.location_ref, "not-found", f"No file matches {pattern.target}")
        for source in sources:
            key = source.location_ref
            if key in seen:
                if parent_ref:
                    walk_state.errors.append(
                        DescriptorError(
                            file=key, document=None, field="spec.targets", rule="location-cycle",
                            message=f"{parent_ref} includes {source.target}, which was already read in "
                            "this refresh (a Location that includes itself or a cycle); skipped",
                        )
                    )  # fmt: skip
                continue
            seen.add(key)
            if len(seen) > MAX_FILES_PER_LOCATION:
                _fail(walk_state, key, "too-many-files", f"More than {MAX_FILES_PER_LOCATION} files")
                return
            yield from _read_one(source, root, reader, walk_state, parent_ref, queue)


def _read_one(source, root, reader, walk_state, parent_ref, queue) -> Iterator[Found]:
    key = source.location_ref
    walk_state.files.append(key)
    walk_state.parents[key] = parent_ref
    try:
        content = reader.read(source)
    except ReadError as exc:
        _fail(walk_state, key, "read-failed", str(exc))
        return

    def read_text(target: str) -> str:
        try:
            data = reader.read(source.sibling(target))
        except (ReadError, SourceError) as exc:
            raise PlaceholderReadError(str(exc)) from exc
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PlaceholderReadError(f"{target} is not UTF-8 text") from exc

    result = process_file(content, file=key, read_text=read_text)
    if result.errors:
        walk_state.errors.extend(result.errors)
        if not result.entities:
            walk_state.failed_files.add(key)
    for processed in result.entities:
        added = annotate(processed.entity, source, root)
        if processed.valid and processed.entity.get("kind") == "Location":
            nested_presence = (processed.entity.get("spec") or {}).get("presence", "required")
            for target in location_targets(processed.entity):
                try:
                    queue.append((source.sibling(target), str(processed.ref), nested_presence != "optional"))
                except SourceError as exc:
                    processed.errors.append(
                        DescriptorError(
                            file=key, document=processed.document, field="spec.targets",
                            rule="bad-target", message=str(exc),
                        )
                    )  # fmt: skip
        yield Found(processed=processed, source=source, parent_ref=parent_ref, added_annotations=added)


def _fail(walk_state: Walk, file: str, rule: str, message: str) -> None:
    walk_state.failed_files.add(file)
    walk_state.errors.append(DescriptorError(file=file, document=None, field="", rule=rule, message=message))
