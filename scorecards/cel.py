"""Scorecard rules in CEL (Google's runtime, ``cel-expr-python``): compile with located errors, evaluate.

Pure: no Django. ``entity`` is the entity as the catalog API returns it (a map, with ``relations``). The
helper functions below read the entity and, for the ones that need the rest of the catalog (owners, group
members), the :class:`CatalogFacts` of the running evaluation (:func:`using_facts`). Never Python ``eval``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from cel_expr_python import cel

T = cel.Type
ENTITY = T.Map(T.STRING, T.DYN)
TECHDOCS_ANNOTATION = "backstage.io/techdocs-ref"


class ExpressionError(ValueError):
    """An expression that does not compile; ``line`` and ``column`` are 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        self.message, self.line, self.column = message, line, column
        where = f"line {line}, column {column}: " if line else ""
        super().__init__(f"{where}{message}")


@dataclass
class CatalogFacts:
    """What helpers may know beyond the entity: member counts of every Group (present = it exists)."""

    group_members: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # why helpers answered "no", for the result's reason


_facts: ContextVar[CatalogFacts | None] = ContextVar("scorecard_facts", default=None)


@contextlib.contextmanager
def using_facts(facts: CatalogFacts) -> Iterator[CatalogFacts]:
    token = _facts.set(facts)
    try:
        yield facts
    finally:
        _facts.reset(token)


def _current() -> CatalogFacts:
    facts = _facts.get()
    if facts is None:
        raise RuntimeError("this helper needs catalog facts, which this evaluation did not load")
    return facts


def _note(ok: bool, why: str) -> bool:
    if not ok and (facts := _facts.get()) is not None:
        facts.notes.append(why)
    return ok


def _spec(entity: dict) -> dict:
    spec = entity.get("spec")
    return spec if isinstance(spec, dict) else {}


def _annotations(entity: dict) -> dict:
    annotations = (entity.get("metadata") or {}).get("annotations")
    return annotations if isinstance(annotations, dict) else {}


def _owner_ref(entity: dict) -> str:
    """The canonical owner ref, from the ``ownedBy`` relation the catalog computed from ``spec.owner``."""
    for relation in entity.get("relations") or ():
        if relation.get("type") == "ownedBy":
            return str(relation.get("targetRef", ""))
    return ""


def owner_is_group(entity: dict) -> bool:
    owner = _owner_ref(entity)
    if not owner:
        return _note(False, "the entity has no owner")
    if not owner.startswith("group:"):
        return _note(False, f"the owner {owner} is not a Group")
    return _note(owner in _current().group_members, f"the owner {owner} is not in the catalog")


def owner_members(entity: dict) -> int:
    owner = _owner_ref(entity)
    count = _current().group_members.get(owner, 0) if owner.startswith("group:") else 0
    _note(False, f"the owner {owner or '(none)'} has {count} member{'' if count == 1 else 's'}")  # shown if it fails
    return count


def has_description(entity: dict) -> bool:
    description = (entity.get("metadata") or {}).get("description")
    return _note(isinstance(description, str) and bool(description.strip()), "metadata.description is missing")


def lifecycle_in(entity: dict, allowed: list) -> bool:
    lifecycle = _spec(entity).get("lifecycle")
    return _note(lifecycle in allowed, f"spec.lifecycle is {lifecycle!r}, not one of {', '.join(map(str, allowed))}")


def has_system(entity: dict) -> bool:
    system = _spec(entity).get("system")
    return _note(isinstance(system, str) and bool(system.strip()), "spec.system is not set")


def has_annotation(entity: dict, key: str) -> bool:
    value = _annotations(entity).get(key)
    return _note(isinstance(value, str) and bool(value.strip()), f"annotation {key} is missing")


def has_techdocs(entity: dict) -> bool:
    value = _annotations(entity).get(TECHDOCS_ANNOTATION)
    return _note(isinstance(value, str) and bool(value.strip()), f"annotation {TECHDOCS_ANNOTATION} is missing")


@dataclass(frozen=True)
class Helper:
    name: str
    parameters: tuple[Any, ...]
    returns: Any
    impl: Callable[..., Any]
    doc: str


#: The helper functions rules may call (documented in docs/scorecards.md; the doc test keeps them in step).
HELPERS: tuple[Helper, ...] = (
    Helper("owner_is_group", (ENTITY,), T.BOOL, owner_is_group, "the owner exists in the catalog and is a Group"),
    Helper("owner_members", (ENTITY,), T.INT, owner_members, "members of the owner Group (0 if not a Group)"),
    Helper("has_description", (ENTITY,), T.BOOL, has_description, "metadata.description is present, not blank"),
    Helper("lifecycle_in", (ENTITY, T.List(T.STRING)), T.BOOL, lifecycle_in, "spec.lifecycle is one of the list"),
    Helper("has_system", (ENTITY,), T.BOOL, has_system, "spec.system is set"),
    Helper("has_annotation", (ENTITY, T.STRING), T.BOOL, has_annotation, "the annotation is present, not blank"),
    Helper("has_techdocs", (ENTITY,), T.BOOL, has_techdocs, "the backstage.io/techdocs-ref annotation is set"),
)


def _declaration(helper: Helper) -> Any:
    overload_id = "_".join([helper.name, *(p.name().replace(".", "_") for p in helper.parameters)])
    overload = cel.Overload(overload_id, return_type=helper.returns, parameters=list(helper.parameters),
                            impl=helper.impl)  # fmt: skip
    return cel.FunctionDecl(helper.name, [overload])


_ENV = cel.NewEnv(variables={"entity": ENTITY}, functions=[_declaration(h) for h in HELPERS])
_POSITION = re.compile(r"<input>:(\d+):(\d+): ([^\n]*)")


def compile_expression(source: str) -> Any:
    """A compiled, type-checked boolean expression, or :class:`ExpressionError` with its position."""
    try:
        program = _ENV.compile(source)
    except RuntimeError as exc:
        found = _POSITION.search(str(exc))
        if found is None:
            raise ExpressionError(str(exc).removeprefix("INVALID_ARGUMENT: ")) from None
        line, column, message = found.groups()  # both 1-based, as the runtime's caret line shows
        raise ExpressionError(message.strip(), int(line), int(column)) from None
    returns = program.return_type()
    if returns != T.BOOL and returns != T.DYN:
        raise ExpressionError(f"the expression must give a boolean, it gives {returns.name().lower()}")
    return program


@dataclass(frozen=True)
class Outcome:
    """``passed`` True/False, or None with ``error``; ``reason`` says why it did not pass."""

    passed: bool | None
    reason: str = ""

    @property
    def error(self) -> bool:
        return self.passed is None


def activation(entity: dict) -> Any:
    """The entity converted for the runtime once, for every expression evaluated against it (3x faster than
    converting it per expression)."""
    return _ENV.Activation(data={"entity": entity})


def evaluate(program: Any, entity: Any, facts: CatalogFacts) -> Outcome:
    """Run one compiled expression against one entity (a dict, or its :func:`activation`); an error is an
    outcome, never an exception."""
    facts.notes.clear()
    with contextlib.nullcontext() if _facts.get() is facts else using_facts(facts):
        try:
            value = program.eval(entity if not isinstance(entity, dict) else activation(entity))
        except Exception as exc:  # the runtime reports most errors as values; be safe with the rest
            return Outcome(None, f"{type(exc).__name__}: {exc}")
    kind = value.type()
    if kind == T.ERROR:
        return Outcome(None, _clean(str(value.value())))
    if kind != T.BOOL:
        return Outcome(None, f"the expression gave {kind.name().lower()} {value.value()!r}, not a boolean")
    if value.value():
        return Outcome(True)
    return Outcome(False, "; ".join(dict.fromkeys(facts.notes)) or "the expression is false")


def _clean(message: str) -> str:
    """``NOT_FOUND: Key not found in map : "x"`` -> ``Key not found in map: "x"``."""
    return re.sub(r"^[A-Z_]+: ", "", message).replace(" : ", ": ")
