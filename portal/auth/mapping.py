"""Group mapping rules: IdP group names → catalog Group refs (no catalog import; refs checked by shape)."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

# Backstage's name and namespace rules: [a-z0-9A-Z], '-', '_', '.' separated, at most 63 characters.
_NAME = re.compile(r"^[a-zA-Z0-9]([-_.]?[a-zA-Z0-9])*$")
MAX_NAME = 63
MAX_REGEX = 500


class RuleError(ValueError):
    """A rule that cannot be used; the message says which part is wrong."""


def normalize_group_ref(value: str) -> str:
    """``name``, ``ns/name`` or ``group:ns/name`` → ``group:ns/name`` (lower-case); raises RuleError."""
    text = value.strip()
    kind, sep, rest = text.partition(":")
    if not sep:
        kind, rest = "group", text
    if kind.lower() != "group":
        raise RuleError(f"{value!r} is a {kind!r} ref; mapping rules can only target groups (group:namespace/name)")
    namespace, sep, name = rest.partition("/")
    if not sep:
        namespace, name = "default", rest
    for label, part in (("namespace", namespace), ("name", name)):
        if not part or len(part) > MAX_NAME or not _NAME.match(part):
            raise RuleError(
                f"{value!r}: the {label} {part!r} is not a valid entity {label} "
                "(letters, digits and single '-', '_' or '.' between them, at most 63 characters)"
            )
    return f"group:{namespace}/{name}".lower()


class _Formatter(string.Formatter):
    """``{rest}``, ``{team}`` and ``{1}`` all read the same mapping of captured values."""

    def get_value(self, key, args, kwargs):
        return kwargs[str(key)]


def render_target(target: str, values: dict[str, str]) -> str:
    return _Formatter().vformat(target, (), values)


@dataclass(frozen=True)
class RuleSpec:
    """What a rule needs to match: the admin model and tests both build these."""

    match_type: str  # exact | prefix | regex
    pattern: str
    target: str
    pk: int | None = None
    label: str = ""


def placeholders(target: str) -> set[str]:
    """The ``{name}`` fields of a target template; raises RuleError on unbalanced braces or format specs."""
    try:
        parsed = list(string.Formatter().parse(target))
    except ValueError as exc:
        raise RuleError(f"target {target!r}: {exc} (write literal braces as {{{{ and }}}})") from exc
    fields = set()
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if spec or conversion or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|\d+", field):
            raise RuleError(f"target {target!r}: placeholder {{{field}}} must be a plain name like {{rest}}")
        fields.add(field)
    return fields


def validate_rule(match_type: str, pattern: str, target: str) -> None:
    """Raise RuleError with a clear message when the rule could never produce a valid group ref."""
    if not pattern:
        raise RuleError("pattern: give the IdP group name (or its prefix, or a regular expression)")
    fields = placeholders(target)
    sample: dict[str, str] = {"match": "sample"}
    if match_type == "exact":
        allowed = {"match"}
    elif match_type == "prefix":
        allowed = {"match", "rest"}
        sample["rest"] = "sample"
    elif match_type == "regex":
        if len(pattern) > MAX_REGEX:
            raise RuleError(f"pattern: a regular expression may be at most {MAX_REGEX} characters")
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise RuleError(f"pattern: not a valid regular expression: {exc}") from exc
        allowed = {"match", *compiled.groupindex, *(str(i) for i in range(compiled.groups + 1))}
        sample.update({name: "sample" for name in allowed})
    else:
        raise RuleError(f"match type must be exact, prefix or regex, not {match_type!r}")
    if unknown := fields - allowed:
        raise RuleError(
            f"target: unknown placeholder(s) {', '.join('{' + f + '}' for f in sorted(unknown))}; "
            f"a {match_type} rule offers {', '.join('{' + a + '}' for a in sorted(allowed))}"
        )
    normalize_group_ref(render_target(target, sample))


@dataclass(frozen=True)
class Mapping:
    """One IdP group mapped to one group ref, and the rule that did it."""

    claim: str
    ref: str
    rule: RuleSpec


@dataclass(frozen=True)
class Rejected:
    """A rule matched but produced something that is not a group ref (e.g. a regex capture with spaces)."""

    claim: str
    rule: RuleSpec
    reason: str


def apply_rules(groups: list[str], rules: list[RuleSpec]) -> tuple[list[Mapping], list[Rejected]]:
    """Every IdP group against the ordered rules; each group takes the first rule that matches it."""
    mapped: list[Mapping] = []
    rejected: list[Rejected] = []
    for claim in groups:
        for rule in rules:
            values = _match(rule, claim)
            if values is None:
                continue
            try:
                ref = normalize_group_ref(render_target(rule.target, values))
            except (RuleError, KeyError, IndexError, ValueError) as exc:
                rejected.append(Rejected(claim, rule, str(exc)))
            else:
                mapped.append(Mapping(claim, ref, rule))
            break
    return mapped, rejected


def _match(rule: RuleSpec, claim: str) -> dict[str, str] | None:
    if rule.match_type == "exact":
        return {"match": claim} if claim == rule.pattern else None
    if rule.match_type == "prefix":
        if claim.startswith(rule.pattern) and len(claim) > len(rule.pattern):
            return {"match": claim, "rest": claim[len(rule.pattern) :]}
        return None
    if rule.match_type == "regex":
        found = re.fullmatch(rule.pattern, claim)
        if not found:
            return None
        values = {"match": claim, "0": found.group(0)}
        values.update({str(i): g or "" for i, g in enumerate(found.groups(), start=1)})
        values.update({k: v or "" for k, v in found.groupdict().items()})
        return values
    return None
