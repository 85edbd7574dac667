"""``$text`` / ``$json`` / ``$yaml`` substitution placeholders (spec 6.3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import DescriptorError, field_path
from .yamlsafe import parse_documents

PLACEHOLDER_KEYS = ("$text", "$json", "$yaml")


class PlaceholderReadError(Exception):
    """Raised by a ``read_text`` callback when a target cannot or may not be read."""


@dataclass(slots=True)
class PlaceholderResult:
    """The entity with placeholders substituted, the errors, and the targets read (refresh keys).

    ``reads`` holds the placeholder values as written (e.g. ``./openapi.yaml``); the caller's reader knows
    how it resolved them.
    """

    entity: dict[str, Any]
    errors: list[DescriptorError] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)


def resolve_placeholders(
    entity: dict[str, Any],
    *,
    read_text: Callable[[str], str],
    file: str,
    document: int | None,
) -> PlaceholderResult:
    """Replace every ``{"$text"|"$json"|"$yaml": "<target>"}`` object anywhere in ``entity``.

    As in Backstage: an object with exactly one key, that key being one of the three and its value a string,
    is substituted; any other ``$`` object (``$ref`` in a JSON Schema, ``$text`` next to other keys, a
    non-string value) is left exactly as it is and not descended into. Substituted content is not scanned
    again. ``read_text`` resolves the target (relative to the descriptor) and enforces path and host policy;
    it raises :class:`PlaceholderReadError`, which becomes a ``placeholder`` error naming the field. The
    entity is modified in place (only the containers that hold a placeholder) and returned in the result.
    """
    result = PlaceholderResult(entity)
    _walk(entity, [], result, read_text, file, document)
    return result


def _walk(
    node: Any,
    path: list[str | int],
    result: PlaceholderResult,
    read_text: Callable[[str], str],
    file: str,
    document: int | None,
) -> None:
    if isinstance(node, dict):
        items: Any = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, child in items:  # assigning existing keys/indexes while iterating is safe
        if isinstance(child, dict):
            if len(child) == 1:
                (only_key,) = child
                if isinstance(only_key, str) and only_key.startswith("$"):
                    target = child[only_key]
                    if only_key in PLACEHOLDER_KEYS and isinstance(target, str):
                        loc = [*path, key]
                        ok, value = _substitute(only_key, target, loc, result, read_text, file, document)
                        if ok:
                            node[key] = value
                    continue  # any single-$-key object is left alone otherwise
            elif any(isinstance(k, str) and k.startswith("$") for k in child):
                continue  # "$" key mixed with others: left as is
            _walk(child, [*path, key], result, read_text, file, document)
        elif isinstance(child, list):
            _walk(child, [*path, key], result, read_text, file, document)


def _substitute(
    key: str,
    target: str,
    path: list[str | int],
    result: PlaceholderResult,
    read_text: Callable[[str], str],
    file: str,
    document: int | None,
) -> tuple[bool, Any]:
    where = field_path(path)

    def fail(message: str) -> tuple[bool, Any]:
        result.errors.append(DescriptorError(file, document, where, "placeholder", message))
        return False, None

    try:
        text = read_text(target)
    except PlaceholderReadError as err:
        return fail(f"placeholder {key} in {where} could not read {target}: {err}")
    if not isinstance(text, str):
        return fail(f"placeholder {key} in {where}: the reader returned {type(text).__name__}, not text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return fail(f"placeholder {key} in {where}: {target} is not valid Unicode text ({err.reason})")
    if target not in result.reads:
        result.reads.append(target)
    if key == "$text":
        return True, text
    if key == "$json":
        try:
            return True, json.loads(text)
        except ValueError as err:
            return fail(f"placeholder {key} in {where} failed to parse JSON data at {target}: {err}")
    docs, errors = parse_documents(text, file=target, require_object=False)
    if errors:
        return fail(f"placeholder {key} in {where} found an error in the data at {target}: {errors[0].message}")
    if len(docs) != 1:
        return fail(f"placeholder {key} in {where} expected exactly one document of data at {target}, "
                    f"found {len(docs)}")  # fmt: skip
    return True, docs[0][1]
