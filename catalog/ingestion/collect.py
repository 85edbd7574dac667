"""Walk a location: read its file, follow Location entities to their targets, process every document.

Yields processed entities file by file so that a 100k-entity catalog streams through memory. Errors
that belong to no entity (a file that cannot be read or parsed, a cycle) are collected with their file.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from catalog.ingestion.descriptor import ProcessedEntity, located_targets, process_file
from catalog.ingestion.errors import DescriptorError
from catalog.ingestion.offload import ParseHelper, two_cores
from catalog.ingestion.placeholders import PlaceholderReadError
from catalog.ingestion.readers import ReadError, SourceReader
from catalog.ingestion.rows import EntityRow, prepare
from catalog.ingestion.sources import GitSource, Source, SourceError
from catalog.ingestion.yamlsafe import UNREADABLE_RULES

MAX_FILES_PER_LOCATION = 20_000


@dataclass
class Walk:
    """What a walk found besides entities."""

    errors: list[DescriptorError] = field(default_factory=list)
    failed_files: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)
    #: Each file read → the Location entity ref that included it (None for the root file).
    parents: dict[str, str | None] = field(default_factory=dict)
    #: Peak RSS of the parse helper process, when one ran (kB).
    helper_rss_kb: int = 0


@dataclass(slots=True)
class Found:
    """A processed entity and the source file it came from."""

    processed: ProcessedEntity
    source: Source
    parent_ref: str | None
    row: EntityRow


def location_annotations(source: Source, origin: Source) -> tuple[dict[str, str], dict[str, str]]:
    """The annotations every entity of ``source`` gets: (always set, set unless the descriptor did)."""
    forced = {
        "backstage.io/managed-by-location": source.location_ref,
        "backstage.io/managed-by-origin-location": origin.location_ref,
    }
    defaults: dict[str, str] = {}
    if isinstance(source, GitSource):
        defaults["backstage.io/source-location"] = f"url:{source.directory_target}"
        if source.view_url:
            defaults["backstage.io/view-url"] = source.view_url
        if source.edit_url:
            defaults["backstage.io/edit-url"] = source.edit_url
    return forced, defaults


#: Files read ahead of the one being processed (each at most the reader's size limit, 1 MiB).
READ_AHEAD = 4


@dataclass(slots=True)
class _Step:
    """One step of the walk, taken in order: a file to process, or an error found while expanding."""

    source: Source | None = None
    parent_ref: str | None = None
    content: bytes | None = None
    read_error: str = ""
    read_rule: str = "read-failed"
    error: DescriptorError | None = None
    last: bool = False  # stop the walk after this step (too many files)
    submitted: bool = False


def walk(
    root: Source,
    reader: SourceReader,
    walk_state: Walk,
    *,
    presence: str = "required",
    helper_min_bytes: int | None = None,
) -> Iterator[Found]:
    """Breadth-first over the root file and every Location target reachable from it.

    Files are read a few ahead of the one being processed. When ``helper_min_bytes`` is set and the
    files read ahead hold at least that many bytes, a :class:`ParseHelper` process parses and validates
    them while this process writes the database (see :mod:`.offload`); results and errors come out in
    the same order either way.
    """
    queue: deque[tuple[Source, str | None, bool]] = deque([(root, None, presence != "optional")])
    to_read: deque[tuple[Source, str | None]] = deque()
    ahead: deque[_Step] = deque()
    seen: set[str] = set()
    stopped = False

    def expand(pattern: Source, parent_ref: str | None, required: bool) -> None:
        nonlocal stopped
        try:
            expansion = reader.expand(pattern)
        except ReadError as exc:
            ahead.append(_Step(error=_error(pattern.location_ref, exc.rule, str(exc))))
            return
        except SourceError as exc:
            ahead.append(_Step(error=_error(pattern.location_ref, "path-not-allowed", str(exc))))
            return
        for refused, message in expansion.refused:  # links out of CATALOG_ALLOWED_PATHS: never read
            ahead.append(_Step(error=_error(refused.location_ref, "path-not-allowed", message)))
        sources = expansion.sources
        if not sources and required:
            ahead.append(_Step(error=_error(pattern.location_ref, "not-found", f"No file matches {pattern.target}")))
        for source in sources:
            key = source.location_ref
            if key in seen:
                if parent_ref:
                    ahead.append(_Step(error=_cycle_error(key, parent_ref, source.target)))
                continue
            seen.add(key)
            if len(seen) > MAX_FILES_PER_LOCATION:
                error = _error(key, "too-many-files", f"More than {MAX_FILES_PER_LOCATION} files")
                ahead.append(_Step(error=error, last=True))
                stopped = True
                return
            to_read.append((source, parent_ref))

    def read_ahead() -> None:
        while not stopped and len(ahead) < READ_AHEAD and (to_read or queue):
            if not to_read:
                expand(*queue.popleft())
                continue
            source, parent_ref = to_read.popleft()
            step = _Step(source=source, parent_ref=parent_ref)
            try:
                step.content = reader.read(source)
            except ReadError as exc:
                step.read_error, step.read_rule = str(exc), exc.rule
            ahead.append(step)

    with ParseHelper() as helper:
        while queue or to_read or ahead:
            read_ahead()
            if helper_min_bytes is not None:
                _share_with(helper, ahead, root, helper_min_bytes, reader.max_bytes)
            step = ahead.popleft()
            if step.error is not None:
                if step.error.rule != "location-cycle":  # the others mean the file was not read
                    walk_state.failed_files.add(step.error.file)
                walk_state.errors.append(step.error)
                if step.last:
                    return
                continue
            yield from _process_step(step, root, reader, walk_state, queue, helper)
        walk_state.helper_rss_kb = helper.close()


def _share_with(helper: ParseHelper, ahead: deque[_Step], root: Source, min_bytes: int, max_bytes: int) -> None:
    """Hand the files behind the next one to the helper (started once enough bytes wait)."""
    waiting = [step for step in list(ahead)[1:] if step.content is not None and not step.submitted]
    if not waiting:
        return
    if not helper.running:
        if helper.broken or sum(len(step.content) for step in waiting) < min_bytes or not two_cores():
            return
        if not helper.start():
            return
    for step in waiting:
        annotations = location_annotations(step.source, root)
        step.submitted = helper.submit(step.source.location_ref, step.content, max_bytes, *annotations)


def _process_step(step: _Step, root, reader, walk_state: Walk, queue, helper: ParseHelper) -> Iterator[Found]:
    source = step.source
    key = source.location_ref
    walk_state.files.append(key)
    walk_state.parents[key] = step.parent_ref
    if step.content is None:
        _fail(walk_state, key, step.read_rule, step.read_error)
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

    answer = helper.result(key) if step.submitted else None
    if answer is None:
        result = process_file(step.content, file=key, read_text=read_text)
        answer = result, prepare(result.entities, *location_annotations(source, root))
    result, rows = answer
    step.content = None
    if result.unreadable:  # a half-read file changes nothing: its entities keep their last good version
        walk_state.failed_files.add(key)
        walk_state.errors.extend(_unreadable(error) for error in result.errors)
        return
    if result.errors:
        walk_state.errors.extend(result.errors)
        if not result.entities:
            walk_state.failed_files.add(key)
    for processed, row in zip(result.entities, rows, strict=True):
        if processed.valid and processed.entity.get("kind") == "Location":
            nested_presence = (processed.entity.get("spec") or {}).get("presence", "required")
            for where, target in located_targets(processed.entity):
                try:  # checked like a registered target: a refused one is an error on the Location, not read
                    queue.append((source.sibling(target), str(processed.ref), nested_presence != "optional"))
                except SourceError as exc:
                    processed.errors.append(
                        DescriptorError(
                            file=key, document=processed.document, field=where, rule="bad-target", message=str(exc)
                        )
                    )
        yield Found(processed, source, step.parent_ref, row)


def _unreadable(error: DescriptorError) -> DescriptorError:
    if error.rule not in UNREADABLE_RULES:
        return error
    note = "; nothing from this file is added, changed or removed until it reads cleanly"
    return replace(error, message=error.message + note)


def keep_what_failed_files_included(walk_state: Walk, tree: dict[str, str | None], file_of: dict[str, str]) -> None:
    """Count as failed the files that were not read because a file that included them failed.

    ``tree`` is the location's last known file -> including Location entity ref, and ``file_of`` that
    entity ref -> its source file. A Location entity in a file that failed keeps its last good version,
    and so does everything read through its targets last time: nothing under a failed file is orphaned.
    """
    read = set(walk_state.files)
    found = True
    while found:
        found = False
        for file, parent_ref in tree.items():
            parent_file = file_of.get(parent_ref or "")
            if file in read or file in walk_state.failed_files or parent_file not in walk_state.failed_files:
                continue
            found = True
            walk_state.failed_files.add(file)
            walk_state.errors.append(_error(
                file, "not-read", f"{file} was not read: it is included by {parent_ref} in {parent_file}, "
                "which could not be read; its entities keep their last good version",
            ))  # fmt: skip


def _cycle_error(key: str, parent_ref: str, target: str) -> DescriptorError:
    return DescriptorError(
        file=key, document=None, field="spec.targets", rule="location-cycle",
        message=f"{parent_ref} includes {target}, which was already read in "
        "this refresh (a Location that includes itself or a cycle); skipped",
    )  # fmt: skip


def _error(file: str, rule: str, message: str) -> DescriptorError:
    return DescriptorError(file=file, document=None, field="", rule=rule, message=message)


def _fail(walk_state: Walk, file: str, rule: str, message: str) -> None:
    walk_state.failed_files.add(file)
    walk_state.errors.append(_error(file, rule, message))
