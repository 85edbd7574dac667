"""Located, machine-readable errors for catalog descriptors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: Backstage error class names for rules that are not plain ``InputError``s.
_ERROR_NAMES: dict[str, str] = {
    "not-found": "NotFoundError",
    "duplicate-ref": "ConflictError",
}

_MAX_SHOWN = 80


@dataclass(frozen=True)
class DescriptorError:
    """One problem found in a descriptor file, with enough context to locate it.

    ``file`` is the location target or path, ``document`` the 0-based YAML document index (``None`` for
    file-level problems), ``field`` a dotted path such as ``spec.owner`` or ``metadata.tags[2]`` ('' when not
    applicable) and ``rule`` a short machine id such as ``yaml-syntax`` or ``name-format``.
    """

    file: str
    document: int | None
    field: str
    rule: str
    message: str
    level: str = "error"

    def __post_init__(self) -> None:
        # A NUL quoted from a "\0" escape would fail the database write that records the error.
        for attr in ("file", "field", "message"):
            value = getattr(self, attr)
            if "\x00" in value:
                object.__setattr__(self, attr, value.replace("\x00", "\\0"))

    @property
    def error_name(self) -> str:
        """Backstage-style error class name (``InputError`` for nearly everything)."""
        return _ERROR_NAMES.get(self.rule, "InputError")

    def as_status_item(self) -> dict[str, Any]:
        """Backstage's ``status.items[]`` shape, plus our own ``location`` member."""
        name = self.error_name
        return {
            "type": "backstage.io/catalog-processing",
            "level": self.level,
            "message": f"{name}: {self.message}",
            "error": {"name": name, "message": self.message},
            "location": {
                "file": self.file,
                "document": self.document,
                "field": self.field,
                "rule": self.rule,
            },
        }

    def __str__(self) -> str:
        return f"{where(self.file, self.document, self.field)}: {self.message}"

    def located(self, entity_ref: str = "") -> str:
        """The error with where it is, naming the entity whose envelope could be read."""
        return f"{where(self.file, self.document, self.field, entity_ref)}: {self.message}"


def where(file: str, document: int | None, field: str = "", entity_ref: str = "") -> str:
    """Where an error is, said one way everywhere (CLI, API, admin, pages): ``[<entity ref> in ]<file> ›
    document <n> › <field>``, documents numbered from 1 as editors number them."""
    parts = [file or "(location)"]
    if document is not None:
        parts.append(f"document {document + 1}")
    if field:
        parts.append(field)
    head = " › ".join(parts)
    return f"{entity_ref} in {head}" if entity_ref else head


def field_path(parts: Iterable[str | int]) -> str:
    """Join path segments as ``a.b[2].c``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
    return out


def show(value: Any) -> str:
    """Short, quoted rendering of an offending value for messages."""
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."
