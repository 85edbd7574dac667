"""The JSON Schemas in ``schemas/``: loading, a fast compiled predicate, and full located errors.

The JSON files are the documented contract. Validating 15,000 entities with ``jsonschema`` alone costs
several seconds, so every schema is also compiled (once, at import) into a plain-Python predicate that only
answers "valid or not". Only entities the predicate rejects go through ``jsonschema`` (Draft 7) to get every
error with its path. The compiler supports exactly the keywords our schemas use and refuses anything else, so
the two cannot silently drift; ``test_descriptor_validation.py`` checks that they agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker

from .errors import field_path, show
from .formats import is_absolute_url

SCHEMA_DIR = Path(__file__).with_name("schemas")

Predicate = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description"})
_SUPPORTED = _ANNOTATIONS | {
    "type", "required", "properties", "additionalProperties", "items", "minLength", "enum", "const", "format",
}  # fmt: skip
_TYPES: dict[str, Predicate] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}
_FORMATS: dict[str, Predicate] = {"uri": is_absolute_url}

FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checks("uri")(is_absolute_url)


def load_schema(name: str, directory: Path = SCHEMA_DIR) -> dict[str, Any]:
    """Load ``<directory>/<name>.schema.json`` (``schemas/`` by default)."""
    return json.loads((directory / f"{name}.schema.json").read_text(encoding="utf-8"))


def compile_predicate(schema: dict[str, Any]) -> Predicate:
    """Compile the supported JSON Schema subset into a fast ``value -> bool`` function.

    Common shapes (a non-empty string, a typed object, a typed array) get a single specialised closure, so a
    whole entity is checked with roughly one Python call per schema node actually present in the data.
    """
    unknown = set(schema) - _SUPPORTED
    if unknown:
        raise ValueError(f"schema keyword(s) not supported by the fast validator: {sorted(unknown)}")
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types
    obj = _object_predicate(schema)
    arr = _array_predicate(schema)
    value_checks = _value_checks(schema)

    if types == ["string"] and not value_checks:
        return _TYPES["string"]
    if types == ["string"] and set(schema) - _ANNOTATIONS == {"type", "minLength"}:
        min_length = schema["minLength"]
        return lambda v: isinstance(v, str) and len(v) >= min_length
    if types == ["object"] and not value_checks and arr is None:
        return _TYPES["object"] if obj is None else lambda v: isinstance(v, dict) and obj(v)
    if types == ["array"] and not value_checks and obj is None:
        return _TYPES["array"] if arr is None else lambda v: isinstance(v, list) and arr(v)

    type_tests = [_TYPES[name] for name in types] if types else []

    def predicate(value: Any) -> bool:
        if type_tests and not any(test(value) for test in type_tests):
            return False
        for check in value_checks:
            if not check(value):
                return False
        if obj is not None and isinstance(value, dict) and not obj(value):
            return False
        return not (arr is not None and isinstance(value, list) and not arr(value))

    return predicate


def _value_checks(schema: dict[str, Any]) -> list[Predicate]:
    checks: list[Predicate] = []
    if "enum" in schema:
        allowed = list(schema["enum"])
        checks.append(lambda v: any(type(v) is type(a) and v == a for a in allowed))
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda v: type(v) is type(const) and v == const)
    if "minLength" in schema:
        min_length = schema["minLength"]
        checks.append(lambda v: not isinstance(v, str) or len(v) >= min_length)
    if schema.get("format") in _FORMATS:
        test = _FORMATS[schema["format"]]
        checks.append(lambda v: not isinstance(v, str) or test(v))
    return checks


def _array_predicate(schema: dict[str, Any]) -> Callable[[list[Any]], bool] | None:
    if "items" not in schema:
        return None
    item_ok = compile_predicate(schema["items"])

    def items_ok(value: list[Any]) -> bool:
        for item in value:  # noqa: SIM110 - hot path
            if not item_ok(item):
                return False
        return True

    return items_ok


def _object_predicate(schema: dict[str, Any]) -> Callable[[dict[str, Any]], bool] | None:
    """One pass over the keys actually present: required keys, declared properties, extra keys."""
    required = tuple(schema.get("required", ()))
    props = {key: compile_predicate(sub) for key, sub in schema.get("properties", {}).items()}
    extra = schema.get("additionalProperties", True)
    closed = extra is False
    extra_ok = compile_predicate(extra) if isinstance(extra, dict) else None
    if not (required or props or closed or extra_ok):
        return None
    lookup = props.get

    def object_ok(value: dict[str, Any]) -> bool:
        for key in required:
            if key not in value:
                return False
        for key, child in value.items():
            ok = lookup(key)
            if ok is None:
                if closed or (extra_ok is not None and not extra_ok(child)):
                    return False
            elif not ok(child):
                return False
        return True

    return object_ok


class CompiledSchema:
    """A schema with its fast predicate and its full ``jsonschema`` validator."""

    def __init__(self, name: str, directory: Path = SCHEMA_DIR) -> None:
        self.name = name
        self.schema = load_schema(name, directory)
        Draft7Validator.check_schema(self.schema)
        self.is_valid: Predicate = compile_predicate(self.schema)
        self.validator = Draft7Validator(self.schema, format_checker=FORMAT_CHECKER)

    def iter_errors(self, entity: Any) -> Iterator[tuple[str, str, str]]:
        """Yield ``(field, rule, message)`` for every violation, in document order."""
        for err in sorted(self.validator.iter_errors(entity), key=lambda e: [str(p) for p in e.absolute_path]):
            yield _translate(err, self.schema.get("title", self.name))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(value), type(value).__name__)


def _translate(err: Any, title: str) -> tuple[str, str, str]:
    path = list(err.absolute_path)
    field = field_path(path)
    kind = err.validator
    value = err.instance
    if kind == "required":
        missing = next((p for p in err.validator_value if repr(p) in err.message), err.validator_value[0])
        field = field_path([*path, missing])
        where = "" if title == "Entity envelope" else f" for kind {title}"
        return field, "schema", f"{field} is required{where} but missing"
    if kind == "type":
        expected = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        return field, "schema", f"{field} must be {' or '.join(expected)}, got {_json_type(value)} {show(value)}"
    if kind == "minLength":
        return field, "schema", f"{field} must not be empty"
    if kind == "enum":
        options = ", ".join(str(o) for o in err.validator_value)
        return field, "schema", f"{field} must be one of {options}, got {show(value)}"
    if kind == "const":
        return field, "schema", f"{field} must be {err.validator_value}, got {show(value)}"
    if kind == "format":
        return field, "url-format", f"{field} must be an absolute URL (with a scheme and host), got {show(value)}"
    if kind == "additionalProperties":
        return field, "unknown-field", f"{field or 'the entity'}: {err.message}"
    return field, "schema", f"{field or 'the entity'}: {err.message}"
