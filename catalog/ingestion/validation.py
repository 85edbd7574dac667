"""Entity validation: envelope, root fields, field formats (spec 1.2) and built-in kind schemas (spec 2)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import formats as fmt
from .errors import DescriptorError, field_path, show
from .schemacheck import CompiledSchema

ROOT_FIELDS = ("apiVersion", "kind", "metadata", "spec")
OUTPUT_ONLY_FIELDS = ("relations", "status")

ENVELOPE = CompiledSchema("entity")
#: Built-in kinds (exact, case-sensitive names) and their compiled schemas.
KIND_SCHEMAS: dict[str, CompiledSchema] = {
    schema.schema["title"]: schema
    for schema in map(
        CompiledSchema,
        ("component", "api", "resource", "system", "domain", "group", "user", "location", "template"),
    )
}


def _accepted_versions(schema: CompiledSchema) -> tuple[str, ...]:
    rule = schema.schema["properties"]["apiVersion"]
    return tuple(rule["enum"]) if "enum" in rule else (rule["const"],)


#: apiVersions each built-in kind accepts, read from the schema files.
API_VERSIONS: dict[str, tuple[str, ...]] = {kind: _accepted_versions(s) for kind, s in KIND_SCHEMAS.items()}
_KIND_BY_LOWER = {kind.lower(): kind for kind in KIND_SCHEMAS}


#: ``add(field, rule, message)``: how a kind's extra check reports one located problem.
AddError = Callable[[str, str, str], None]


@dataclass(frozen=True)
class KindExtension:
    """A kind another app defines (scorecards' ``Scorecard``), validated like a built-in one.

    ``schema`` is checked first (located errors as for built-in kinds); when it passes, ``check(entity, add)``
    reports what a schema cannot say (e.g. an expression that does not compile). ``module`` is the importable,
    Django-free module whose import registers the extension: the parse helper process
    (:mod:`.offload`) imports it too, so both processes validate alike.
    """

    kind: str
    api_versions: tuple[str, ...]
    schema: CompiledSchema
    module: str
    check: Callable[[dict[str, Any], AddError], None] | None = None


#: Kinds registered by other apps, by exact kind name. The catalog never imports those apps.
EXTENSION_KINDS: dict[str, KindExtension] = {}


def register_kind(extension: KindExtension) -> KindExtension:
    """Validate ``extension.kind`` with its schema and check; a built-in kind cannot be replaced."""
    if extension.kind in KIND_SCHEMAS:
        raise ValueError(f"{extension.kind} is a built-in kind and cannot be redefined")
    EXTENSION_KINDS[extension.kind] = extension
    return extension


def is_known_kind(kind: str, api_version: str) -> bool:
    """True when a built-in or registered validator claims this exact kind and apiVersion."""
    if kind in EXTENSION_KINDS:
        return api_version in EXTENSION_KINDS[kind].api_versions
    return api_version in API_VERSIONS.get(kind, ())


def check_envelope(entity: Any, *, file: str, document: int | None) -> list[DescriptorError]:
    """Step 1 of processing: ``apiVersion``, ``kind`` and ``metadata.name`` are non-empty strings."""
    errors: list[DescriptorError] = []
    if not isinstance(entity, dict):
        return [DescriptorError(file, document, "", "not-an-object", "expected object at root")]
    for field, value in (("apiVersion", entity.get("apiVersion")), ("kind", entity.get("kind"))):
        if not isinstance(value, str) or not value:
            errors.append(_envelope_error(file, document, field, value))
    metadata = entity.get("metadata")
    if not isinstance(metadata, dict):
        what = "is required" if metadata is None else f"must be an object, got {show(metadata)}"
        errors.append(DescriptorError(file, document, "metadata", "envelope", f"metadata {what}"))
    else:
        name = metadata.get("name")
        if not isinstance(name, str) or not name:
            errors.append(_envelope_error(file, document, "metadata.name", name))
    return errors


def _envelope_error(file: str, document: int | None, field: str, value: Any) -> DescriptorError:
    problem = "is required but missing" if value is None else f"must be a non-empty string, got {show(value)}"
    return DescriptorError(file, document, field, "envelope", f"{field} {problem}")


def validate_entity(entity: dict[str, Any], *, file: str, document: int | None) -> list[DescriptorError]:
    """Every problem with ``entity`` (all of them, first one per field), or ``[]``.

    Unknown kinds are not an error here (the caller stores them generically, see :func:`is_known_kind`);
    only the envelope and field formats apply to them.
    """
    errors = check_envelope(entity, file=file, document=document)
    seen = {e.field for e in errors}

    def add(field: str, rule: str, message: str) -> None:
        if field not in seen:
            seen.add(field)
            errors.append(DescriptorError(file, document, field, rule, message))

    for key in entity if isinstance(entity, dict) else ():
        if key in OUTPUT_ONLY_FIELDS:
            add(key, "output-only-field", f"{key} is computed by the catalog and must not appear in a descriptor")
        elif key not in ROOT_FIELDS:
            add(key, "unknown-root-field", f'unknown root field "{key}": only apiVersion, kind, metadata and '
                "spec are allowed at the root (misplaced? it probably belongs under spec or metadata)")  # fmt: skip
    if errors and any(e.rule in ("envelope", "not-an-object") for e in errors):
        return errors
    if not ENVELOPE.is_valid(entity):
        for field, rule, message in ENVELOPE.iter_errors(entity):
            if not (rule == "unknown-field" and field == ""):  # root fields are reported above
                add(field, rule, message)
    _format_errors(entity, add)
    _kind_errors(entity, add)
    return errors


def _format_errors(entity: dict[str, Any], add: Any) -> None:
    api_version, kind, metadata = entity["apiVersion"], entity["kind"], entity["metadata"]
    if not fmt.is_api_version(api_version):
        add("apiVersion", "api-version-format",
            f"apiVersion {show(api_version)} is not valid: expected {fmt.EXPECT_API_VERSION}")  # fmt: skip
    if not fmt.is_kind(kind):
        add("kind", "kind-format", f"kind {show(kind)} is not valid: expected {fmt.EXPECT_KIND}")
    name = metadata["name"]
    if not fmt.is_object_name(name):
        add("metadata.name", "name-format", f"metadata.name {show(name)} is not a valid name"
            f"{_length_note(name)}: expected {fmt.EXPECT_OBJECT_NAME}")  # fmt: skip
    namespace = metadata.get("namespace")
    if isinstance(namespace, str) and not fmt.is_dns_label(namespace):
        add("metadata.namespace", "namespace-format", f"metadata.namespace {show(namespace)} is not valid"
            f"{_length_note(namespace)}: expected {fmt.EXPECT_DNS_LABEL}")  # fmt: skip
    _map_errors(metadata.get("labels"), "labels", add)
    _map_errors(metadata.get("annotations"), "annotations", add)
    tags = metadata.get("tags")
    if isinstance(tags, list):
        for i, tag in enumerate(tags):
            if isinstance(tag, str) and not fmt.is_tag(tag):
                add(f"metadata.tags[{i}]", "tag-format",
                    f"metadata.tags[{i}] {show(tag)} is not a valid tag{_length_note(tag)}: "
                    f"expected {fmt.EXPECT_TAG}")  # fmt: skip
    links = metadata.get("links")
    if isinstance(links, list):
        for i, link in enumerate(links):
            if not isinstance(link, dict):
                continue
            for attr in ("title", "icon"):
                value = link.get(attr)
                if isinstance(value, str) and not value.strip():
                    add(f"metadata.links[{i}].{attr}", "not-empty",
                        f"metadata.links[{i}].{attr} must not be empty or blank when present")  # fmt: skip


def _map_errors(mapping: Any, which: str, add: Any) -> None:
    if not isinstance(mapping, dict):
        return
    for key, value in mapping.items():
        field = f"metadata.{which}.{key}"
        if not fmt.is_label_or_annotation_key(key):
            add(field, f"{which[:-1]}-key-format", f"{which[:-1]} key {show(key)} is not valid: expected "
                + fmt.EXPECT_PREFIXED.format(suffix=fmt.EXPECT_OBJECT_NAME))  # fmt: skip
        elif which == "labels" and isinstance(value, str) and not fmt.is_label_value(value):
            add(field, "label-value-format", f"label value {show(value)} of {key} is not valid: expected "
                f"an empty string or {fmt.EXPECT_OBJECT_NAME}")  # fmt: skip


def _length_note(value: str) -> str:
    return f" ({len(value)} characters, at most 63 allowed)" if len(value) > 63 else ""


def _kind_errors(entity: dict[str, Any], add: Any) -> None:
    kind, api_version = entity["kind"], entity["apiVersion"]
    extension = EXTENSION_KINDS.get(kind)
    if extension is not None:
        _extension_errors(extension, entity, add)
        return
    schema = KIND_SCHEMAS.get(kind)
    if schema is None:
        canonical = _KIND_BY_LOWER.get(kind.lower())
        if canonical is not None:
            add("kind", "kind-case", f'kind "{kind}" is not a known kind: kinds are case-sensitive, '
                f"did you mean {canonical}?")  # fmt: skip
        return  # a custom / experimental kind: stored generically, not an error
    accepted = API_VERSIONS[kind]
    if api_version not in accepted:
        add("apiVersion", "unknown-api-version", f"apiVersion {show(api_version)} is not supported for "
            f"kind {kind}: expected {' or '.join(accepted)}")  # fmt: skip
        return
    if not schema.is_valid(entity):
        for field, rule, message in schema.iter_errors(entity):
            add(field, rule, message)


NUL, REPLACEMENT = "\x00", "\ufffd"


def contains_nul(node: Any) -> bool:
    """Whether any string (key or value) in ``node`` holds a NUL character."""
    if isinstance(node, str):
        return NUL in node
    if isinstance(node, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in node.items())
    if isinstance(node, list):
        return any(contains_nul(v) for v in node)
    return False


def replace_nul(entity: dict[str, Any], *, file: str, document: int | None) -> list[DescriptorError]:
    """Replace NUL characters (from a ``"\\0"`` escape or a placeholder's file) with U+FFFD, in place, and
    report where each was: PostgreSQL stores no NUL, and one would fail the location's whole refresh."""
    fields: dict[str, None] = {}

    def clean(node: Any, path: list[str | int]) -> Any:
        if isinstance(node, str):
            if NUL in node:
                fields[field_path(path)] = None
            return node.replace(NUL, REPLACEMENT)
        if isinstance(node, list):
            return [clean(v, [*path, i]) for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            name = key.replace(NUL, REPLACEMENT) if isinstance(key, str) else key
            if name != key:
                fields[field_path([*path, name])] = None
            out[name] = clean(value, [*path, name])
        return out

    cleaned = clean(entity, [])
    entity.clear()
    entity.update(cleaned)
    message = "holds a NUL character (a \\0 escape?), which the catalog cannot store"
    return [DescriptorError(file, document, field, "nul-character", f"{field} {message}") for field in fields]


def _extension_errors(extension: KindExtension, entity: dict[str, Any], add: Any) -> None:
    """A registered kind: its apiVersion(s), then its schema, then (only when the schema passes) its check."""
    if entity["apiVersion"] not in extension.api_versions:
        add("apiVersion", "unknown-api-version", f"apiVersion {show(entity['apiVersion'])} is not supported for "
            f"kind {extension.kind}: expected {' or '.join(extension.api_versions)}")  # fmt: skip
        return
    if not extension.schema.is_valid(entity):
        for field, rule, message in extension.schema.iter_errors(entity):
            add(field, rule, message)
        return
    if extension.check is not None:
        extension.check(entity, add)
