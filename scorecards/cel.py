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
from datetime import UTC, datetime
from typing import Any

import yaml
from cel_expr_python import cel
from packaging.utils import canonicalize_name

from scorecards import dependencies

T = cel.Type
ENTITY = T.Map(T.STRING, T.DYN)
TECHDOCS_ANNOTATION = "backstage.io/techdocs-ref"


class ExpressionError(ValueError):
    """An expression that does not compile; ``line`` and ``column`` are 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        self.message, self.line, self.column = message, line, column
        where = f"line {line}, column {column}: " if line else ""
        super().__init__(f"{where}{message}")


#: A stored fact: its value and when it was collected.
StoredFact = tuple[Any, datetime]


@dataclass
class CatalogFacts:
    """What helpers may know beyond the entity: member counts of every Group (present = it exists), the
    collected facts of the entities evaluated (ref -> (collector, key) -> fact), the stored levels
    (scorecard ref, entity ref) -> level and each scorecard's levels, and the evaluation's time."""

    group_members: dict[str, int] = field(default_factory=dict)
    entity_facts: dict[str, dict[tuple[str, str], StoredFact]] = field(default_factory=dict)
    levels: dict[tuple[str, str], str] = field(default_factory=dict)
    scorecard_levels: dict[str, list[str]] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    notes: list[str] = field(default_factory=list)  # why helpers answered "no", for the result's reason
    used_at: list[datetime] = field(default_factory=list)  # when the facts the expression read were collected


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


def _entity_ref(entity: dict) -> str:
    metadata = entity.get("metadata") or {}
    return f"{entity.get('kind', '')}:{metadata.get('namespace') or 'default'}/{metadata.get('name', '')}".lower()


def _fact(entity: dict, collector: str, key: str) -> Any:
    """A collected fact's value (its time noted for the data age); None when there is none, with the reason
    (the collector's error, or "not collected yet") noted."""
    facts = _current()
    stored = facts.entity_facts.get(_entity_ref(entity), {})
    found = stored.get((collector, key))
    if found is not None:
        facts.used_at.append(found[1])
        return found[0]
    error = stored.get((collector, "error"))
    if error is not None:
        facts.used_at.append(error[1])
        _note(False, str((error[0] or {}).get("message", "the collector failed")))
    else:
        _note(False, f"no {collector} facts collected for {_entity_ref(entity)} yet")
    return None


def fact(entity: dict, collector: str, key: str) -> Any:
    """Any collected fact's value (a plugin collector's too), null when there is none."""
    return _fact(entity, collector, key)


def file_exists(entity: dict, path: str) -> bool:
    fact = _fact(entity, "files", f"file:{path}")
    if fact is None:
        return False
    kind = fact.get("kind")
    if kind in ("file", "directory"):
        return True
    return _note(False, fact.get("error") or f"{path} does not exist in the repository")


_MATCH_ENV = cel.NewEnv(variables={"text": T.STRING, "pattern": T.STRING})
_MATCH = _MATCH_ENV.compile("text.matches(pattern)")  # CEL's own matches: RE2, linear time, no backtracking


def file_matches(entity: dict, path: str, pattern: str) -> bool:
    fact = _fact(entity, "files", f"file:{path}")
    if fact is None:
        return False
    if "text" not in fact:
        return _note(False, fact.get("error") or f"{path} is not a file in the repository")
    value = _MATCH.eval(_MATCH_ENV.Activation(data={"text": fact["text"], "pattern": pattern}))
    if value.type() == T.ERROR:
        raise ValueError(_clean(str(value.value())))
    return _note(bool(value.value()), f"{path} does not match {pattern}")


def dependency_satisfies(entity: dict, name: str, wanted: str) -> bool:
    fact = _fact(entity, "dependencies", "dependencies")
    if fact is None:
        return False
    for ecosystem in ("pypi", "npm", "go"):
        key = canonicalize_name(name) if ecosystem == "pypi" else name
        declared = (fact.get(ecosystem) or {}).get(key)
        if declared is not None:
            verdict = dependencies.satisfies(ecosystem, name, declared, wanted)
            return _note(verdict.ok, verdict.reason)
    errors = "; ".join(fact.get("errors") or ())
    return _note(False, f"{name} is not a declared dependency" + (f" ({errors})" if errors else ""))


def last_commit_age_days(entity: dict) -> int:
    fact = _fact(entity, "git", "last_commit")
    if not fact or not fact.get("at"):
        raise ValueError(_current().notes[-1] if _current().notes else "no commit facts")
    age = int((_current().now.timestamp() - int(fact["at"])) // 86400)
    _note(False, f"the last commit ({str(fact.get('commit', ''))[:12]}) is {age} days old")  # shown if it fails
    return max(0, age)


def techdocs_fresh(entity: dict, days: int) -> bool:
    """The entity's TechDocs site was published within ``days`` days (a fact the TechDocs app collects)."""
    if not has_techdocs(entity):
        return False
    fact = _fact(entity, "techdocs", "site")
    if fact is None:
        return False
    if not fact.get("published_at"):
        return _note(False, f"the docs have not been published (build {fact.get('status', 'pending')})")
    age = (_current().now.timestamp() - float(fact["published_at"])) / 86400
    return _note(age <= days, f"the docs were last published {int(age)} days ago (more than {days})")


_GRAPHQL_DEFINITION = re.compile(r"\b(type|schema|interface|enum|input|union|scalar|directive|extend)\b")


def api_definition_valid(entity: dict) -> bool:
    """An API's ``spec.definition`` is there and parses: OpenAPI/AsyncAPI as YAML or JSON with their version
    key and ``info``; GraphQL as balanced SDL with at least one definition. Other types: present."""
    if entity.get("kind") != "API":
        return _note(False, f"{entity.get('kind')} entities have no API definition")
    spec = _spec(entity)
    definition, api_type = spec.get("definition"), str(spec.get("type", "")).lower()
    if not isinstance(definition, str) or not definition.strip():
        return _note(False, "spec.definition is missing or empty")
    if api_type in ("openapi", "asyncapi"):
        try:
            document = yaml.load(definition, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            return _note(False, f"spec.definition is not valid YAML or JSON{where}")
        keys = ("openapi", "swagger") if api_type == "openapi" else ("asyncapi",)
        if not isinstance(document, dict) or not any(k in document for k in keys):
            return _note(False, f"spec.definition has no {' or '.join(keys)} version field")
        return _note(isinstance(document.get("info"), dict), "spec.definition has no info object")
    if api_type == "graphql":
        return _note(_balanced(definition) and bool(_GRAPHQL_DEFINITION.search(definition)),
                     "spec.definition is not GraphQL SDL (unbalanced brackets or no definition)")  # fmt: skip
    return True


def _balanced(text: str) -> bool:
    text = re.sub(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*', "", text)  # strings and comments
    stack, pairs = [], {")": "(", "]": "[", "}": "{"}
    for char in text:
        if char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
    return not stack


def _scorecard_ref(name: str) -> str:
    ref = name.strip().lower()
    if ":" not in ref:
        ref = f"scorecard:{ref}"
    kind, _, rest = ref.partition(":")
    return f"{kind}:{rest if '/' in rest else f'default/{rest}'}"


def dependencies_at_least(entity: dict, scorecard: str, level: str) -> bool:
    """Every dependency (``dependsOn``) the scorecard applies to has reached ``level`` or higher (stored
    levels, as of the last evaluation). Dependencies it does not apply to are not counted."""
    facts = _current()
    card = _scorecard_ref(scorecard)
    levels = facts.scorecard_levels.get(card)
    if levels is None:
        raise ValueError(f"there is no scorecard {card}")
    if level not in levels:
        raise ValueError(f'"{level}" is not a level of {card} ({", ".join(levels)})')
    below = []
    for relation in entity.get("relations") or ():
        if relation.get("type") != "dependsOn":
            continue
        target = str(relation.get("targetRef", ""))
        reached = facts.levels.get((card, target))
        if reached is None:
            continue
        if reached not in levels or levels.index(reached) < levels.index(level):
            below.append(f"{target} ({reached or 'no level'})")
    return _note(not below, f"dependencies below {level} on {card}: {', '.join(below)}")


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
    Helper("fact", (ENTITY, T.STRING, T.STRING), T.DYN, fact, "a collected fact's value, null if none"),
    Helper("file_exists", (ENTITY, T.STRING), T.BOOL, file_exists, "the path exists in the entity's directory"),
    Helper("file_matches", (ENTITY, T.STRING, T.STRING), T.BOOL, file_matches, "the file's text matches the RE2 regex"),
    Helper("dependency_satisfies", (ENTITY, T.STRING, T.STRING), T.BOOL, dependency_satisfies,
           "the declared dependency's lowest allowed version is in the range"),
    Helper("last_commit_age_days", (ENTITY,), T.INT, last_commit_age_days, "days since the commit read"),
    Helper("techdocs_fresh", (ENTITY, T.INT), T.BOOL, techdocs_fresh, "the docs were built within the days"),
    Helper("api_definition_valid", (ENTITY,), T.BOOL, api_definition_valid, "an API's definition parses"),
    Helper("dependencies_at_least", (ENTITY, T.STRING, T.STRING), T.BOOL, dependencies_at_least,
           "every dependency the scorecard applies to has reached the level"),
)

#: Helpers that read collected facts: a rule calling one shows the facts' time as its data age.
FACT_HELPERS = ("fact", "file_exists", "file_matches", "dependency_satisfies", "last_commit_age_days", "techdocs_fresh")
_USES_FACTS = re.compile(rf"\b({'|'.join(FACT_HELPERS)})\s*\(")
_PATH_ARGUMENT = re.compile(
    r"""\bfile_(exists|matches)\s*\(\s*entity\s*,\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')"""
)


def uses_facts(expression: str) -> bool:
    return bool(_USES_FACTS.search(expression or ""))


def named_paths(expression: str) -> list[tuple[str, bool]]:
    """The literal paths an expression passes to ``file_exists`` / ``file_matches`` (what ``files`` collects),
    each with whether its text is needed (``file_matches``)."""
    found = _PATH_ARGUMENT.findall(expression or "")
    return [(double or single, helper == "matches") for helper, double, single in found]


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
    """``passed`` True/False, or None with ``error``; ``reason`` says why it did not pass; ``data_at`` when
    the oldest collected fact it read was collected (None: it read only catalog data)."""

    passed: bool | None
    reason: str = ""
    data_at: datetime | None = None

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
    facts.used_at.clear()
    with contextlib.nullcontext() if _facts.get() is facts else using_facts(facts):
        try:
            value = program.eval(entity if not isinstance(entity, dict) else activation(entity))
        except Exception as exc:  # the runtime reports most errors as values; be safe with the rest
            return Outcome(None, f"{type(exc).__name__}: {exc}")
    data_at = min(facts.used_at) if facts.used_at else None
    kind = value.type()
    if kind == T.ERROR:
        return Outcome(None, _clean(str(value.value())), data_at)
    if kind != T.BOOL:
        return Outcome(None, f"the expression gave {kind.name().lower()} {value.value()!r}, not a boolean", data_at)
    if value.value():
        return Outcome(True, "", data_at)
    return Outcome(False, "; ".join(dict.fromkeys(facts.notes)) or "the expression is false", data_at)


def _clean(message: str) -> str:
    """``NOT_FOUND: Key not found in map : "x"`` -> ``Key not found in map: "x"``."""
    return re.sub(r"^[A-Z_]+: ", "", message).replace(" : ", ": ")
