"""One descriptor file in, processed entities out: parse -> envelope -> placeholders -> normalize ->
validate -> relations -> hash and search rows (spec 6.2). Pure: no database, no network."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .envelope import SORTED_SPEC_ARRAYS, content_hash, normalize
from .errors import DescriptorError
from .placeholders import PlaceholderReadError, resolve_placeholders
from .refs import EntityRef, RefError, ref_of
from .relations import Relation, emit_relations
from .search import SearchRow, flatten
from .validation import check_envelope, contains_nul, is_known_kind, replace_nul, validate_entity
from .yamlsafe import MAX_BYTES, UNREADABLE_RULES, parse_documents


@dataclass(slots=True)
class ProcessedEntity:
    """One entity document after processing.

    ``valid`` is False when any error was found; the entity is then reported only so the caller can attach
    ``errors`` to the stored entity with this ``ref`` and keep its last good version. ``relations``,
    ``hash`` and ``search`` are filled for valid entities only. ``known_kind`` is False for custom or
    experimental kinds (``AiResource``), which are valid and stored generically, without relations.
    """

    document: int
    ref: EntityRef
    entity: dict[str, Any]
    relations: list[Relation] = field(default_factory=list)
    errors: list[DescriptorError] = field(default_factory=list)
    known_kind: bool = False
    hash: str = ""
    search: list[SearchRow] = field(default_factory=list)
    valid: bool = True
    reads: list[str] = field(default_factory=list)


@dataclass(slots=True)
class FileResult:
    """Everything one file produced.

    ``errors`` holds the problems not attached to an entity: file-level ones (``yaml-syntax``, ``too-large``,
    ``not-utf8``) and those of documents without a determinable ref (``not-an-object``, a missing name, ...)
    plus ``duplicate-ref`` (the first definition wins, the later one is dropped). Errors attached to an
    entity are in that entity's ``errors``; :attr:`all_errors` lists both.
    """

    file: str
    entities: list[ProcessedEntity] = field(default_factory=list)
    errors: list[DescriptorError] = field(default_factory=list)

    @property
    def all_errors(self) -> list[DescriptorError]:
        """File-level and entity errors, ordered by document."""
        found = self.errors + [e for ent in self.entities for e in ent.errors]
        return sorted(found, key=lambda e: -1 if e.document is None else e.document)

    @property
    def unreadable(self) -> bool:
        """Part of the YAML stream could not be read (a syntax error stops the parser, a document has a
        duplicate key, ...): a refresh then uses nothing from the file, not even the documents before the
        error, and keeps what the file produced last time (``entities`` still lists them, for validation)."""
        return any(error.rule in UNREADABLE_RULES for error in self.errors)

    @property
    def ok(self) -> bool:
        return not self.errors and all(e.valid for e in self.entities)


def location_targets(entity: dict[str, Any]) -> list[str]:
    """``spec.target`` followed by ``spec.targets[]`` of a Location entity (strings only, as written)."""
    return [target for _, target in located_targets(entity)]


def located_targets(entity: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, target) for ``spec.target`` then each ``spec.targets[i]`` of a Location (strings only)."""
    spec = entity.get("spec")
    if not isinstance(spec, dict):
        return []
    found: list[tuple[str, str]] = []
    if isinstance(spec.get("target"), str):
        found.append(("spec.target", spec["target"]))
    targets = spec.get("targets")
    if isinstance(targets, list):
        found.extend((f"spec.targets[{i}]", t) for i, t in enumerate(targets) if isinstance(t, str))
    return found


def _raise_unreadable(target: str) -> str:
    raise PlaceholderReadError("no placeholder reader was supplied")


def process_entity(
    entity: dict[str, Any],
    *,
    file: str,
    document: int,
    read_text: Callable[[str], str] = _raise_unreadable,
    placeholders: bool = True,
) -> ProcessedEntity | list[DescriptorError]:
    """Process one parsed document (spec 6.2 order); a ProcessedEntity, or the errors if no ref is determinable.

    Processing stops at the first failing stage (envelope, placeholders, validation, relations), like
    Backstage, so a failed ``$text`` read is not followed by a spurious "definition must be a string".
    A document whose ref cannot be stored (:func:`storable`) gives its validation errors, as one without a
    ref does.
    ``placeholders=False`` skips substitution (``process_file`` does that for files without any ``$``).
    The entity dict is modified in place (placeholders, namespace, sorted ref arrays).
    """
    envelope_errors = check_envelope(entity, file=file, document=document)
    ref = _ref_or_none(entity)
    if ref is None:
        return envelope_errors or [DescriptorError(file, document, "metadata.namespace", "envelope",
                                                   "metadata.namespace must be a non-empty string")]  # fmt: skip
    if not storable(ref):  # the validation errors say why (a "/" or too long a part breaks their rules)
        return envelope_errors or validate_entity(entity, file=file, document=document) or [DescriptorError(
            file, document, "metadata.name", "ref-format", f"{ref.key} cannot be stored as an entity ref"
        )]  # fmt: skip
    result = ProcessedEntity(document, ref, entity)
    if envelope_errors:
        return _invalid(result, envelope_errors)
    if placeholders:  # a file without "$" or "\" has neither placeholders nor NULs (YAML refuses raw NUL bytes)
        if contains_nul(entity):  # from a "\0" escape
            return _invalid(result, replace_nul(entity, file=file, document=document))
        resolved = resolve_placeholders(entity, read_text=read_text, file=file, document=document)
        result.reads = resolved.reads
        if resolved.errors:
            return _invalid(result, resolved.errors)
        if resolved.reads and contains_nul(entity):  # from a file a placeholder read
            return _invalid(result, replace_nul(entity, file=file, document=document))
    spec = entity.get("spec") if isinstance(entity.get("spec"), dict) else {}
    written = {k: list(spec[k]) for k in SORTED_SPEC_ARRAYS if isinstance(spec.get(k), list)}  # before sorting
    normalize(entity)
    errors = validate_entity(entity, file=file, document=document)
    if errors:
        return _invalid(result, errors)
    known = is_known_kind(entity["kind"], entity["apiVersion"])
    result.known_kind = known
    if known:
        relations, errors = emit_relations(entity, file=file, document=document, written=written)
        if errors:
            return _invalid(result, errors)
        result.relations = relations
    rows, conflicts = flatten(entity, result.relations, ref.key)
    if conflicts:
        return _invalid(result, [DescriptorError(
            file, document, conflicts[0], "key-case-conflict",
            f"entity has keys that differ only in letter case: {', '.join(conflicts)}",
        )])  # fmt: skip
    result.search = rows
    result.hash = content_hash(entity)
    return result


def _invalid(result: ProcessedEntity, errors: list[DescriptorError]) -> ProcessedEntity:
    result.errors = errors
    result.valid = False
    return result


#: The widest kind, namespace, name and ref an entity is stored with (catalog.models.Entity's columns).
MAX_KIND, MAX_NAMESPACE, MAX_NAME, MAX_REF = 63, 63, 253, 400


def storable(ref: EntityRef) -> bool:
    """Whether a document with this ref may be stored as an entity, even one that never processed: its parts
    fit the entity's columns and hold no ``/`` (no URL could name its page and the ref would read back as
    other parts) nor NUL (no database column stores one), and the kind no ``:``. Any other document's errors
    are errors of its file."""
    kind, namespace, name = ref.kind, ref.namespace, ref.name
    return (
        len(kind) <= MAX_KIND and len(namespace) <= MAX_NAMESPACE and len(name) <= MAX_NAME
        and len(ref.key) <= MAX_REF and not any(c in kind + namespace + name for c in "/\x00") and ":" not in kind
    )  # fmt: skip


def _ref_or_none(entity: dict[str, Any]) -> EntityRef | None:
    try:
        return ref_of(entity)
    except RefError:
        return None


def process_file(
    content: bytes,
    *,
    file: str,
    read_text: Callable[[str], str] = _raise_unreadable,
    max_bytes: int = MAX_BYTES,
) -> FileResult:
    """Parse and process every document of one descriptor file.

    ``read_text`` serves ``$text``/``$json``/``$yaml`` placeholders (see :mod:`.placeholders`); Location
    targets are *not* read here, use :func:`location_targets` on the result. Duplicate refs within the file
    (compared case-insensitively) are reported on the later document, which is dropped.
    """
    out = FileResult(file)
    docs, out.errors = parse_documents(content, file=file, max_bytes=max_bytes)
    # Placeholder keys must contain "$" (or an escape sequence spelling it) somewhere in the file.
    placeholders = b"$" in content or b"\\" in content
    seen: dict[str, int] = {}
    for index, entity in docs:
        processed = process_entity(entity, file=file, document=index, read_text=read_text,
                                   placeholders=placeholders)  # fmt: skip
        if not isinstance(processed, ProcessedEntity):
            out.errors.extend(processed)
            continue
        key = processed.ref.key
        if key in seen:
            out.errors.append(DescriptorError(
                file, index, "metadata.name", "duplicate-ref",
                f"{key} is already defined in document {seen[key] + 1} of this file; this later copy is ignored",
            ))  # fmt: skip
            continue
        seen[key] = index
        out.entities.append(processed)
    out.errors.sort(key=lambda e: -1 if e.document is None else e.document)
    return out
