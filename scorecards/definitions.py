"""Scorecard definitions: mirrored from the catalog's ``kind: Scorecard`` entities, compiled once per run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from catalog.models import Entity
from scorecards.cel import ExpressionError, compile_expression, uses_facts
from scorecards.initiatives import sync_from_catalog as sync_initiatives
from scorecards.kind import KIND
from scorecards.models import Scorecard

logger = logging.getLogger(__name__)


def sync_from_catalog() -> int:
    """Mirror every valid Scorecard entity into :class:`Scorecard` rows; returns how many rows changed.

    Rows of entities no longer in the catalog go (with their results); admin-authored rows are left alone,
    and a catalog entity whose ref an admin row already holds is skipped with a warning. Initiatives follow.
    """
    entities = Entity.objects.filter(kind=KIND, valid=True, known_kind=True).only("ref", "namespace", "name", "body")
    current = {row.ref: row for row in Scorecard.objects.all()}
    changed = 0
    seen: set[str] = set()
    for entity in entities:
        seen.add(entity.ref)
        metadata = entity.body.get("metadata") or {}
        values = {"namespace": entity.namespace, "name": entity.name, "title": metadata.get("title", ""),
                  "description": metadata.get("description", ""), "spec": entity.body.get("spec") or {}}  # fmt: skip
        row = current.get(entity.ref)
        if row is not None and row.source == Scorecard.Source.ADMIN:
            logger.warning("Scorecard %s is defined in the admin; the catalog entity is ignored", entity.ref)
            continue
        if row is None:
            Scorecard.objects.create(source=Scorecard.Source.CATALOG, **values)
            changed += 1
        elif any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            row.save()
            changed += 1
    gone = [ref for ref, row in current.items() if row.source == Scorecard.Source.CATALOG and ref not in seen]
    if gone:
        Scorecard.objects.filter(ref__in=gone).delete()
        changed += len(gone)
    return changed + sync_initiatives()


@dataclass(frozen=True)
class CompiledRule:
    id: str
    level: str
    description: str
    remediation: str
    program: object | None
    error: str = ""  # set when the stored expression does not compile (an admin row saved around clean())
    expression: str = ""
    enable_on: date | None = None  # counted toward level and points from this day on

    @property
    def reads_facts(self) -> bool:
        return uses_facts(self.expression)


@dataclass(frozen=True)
class CompiledScorecard:
    row: Scorecard
    applies_to: object | None
    applies_error: str
    levels: tuple[str, ...]
    rules: tuple[CompiledRule, ...]

    @property
    def uses_facts(self) -> bool:
        return any(rule.reads_facts for rule in self.rules)


def _compile(source: str) -> tuple[object | None, str]:
    try:
        return compile_expression(source), ""
    except ExpressionError as exc:
        return None, f"the expression does not compile: {exc}"


def enable_on(rule: dict) -> date | None:
    """The rule's ``enableOn`` day, None when it has none (or, in a row saved around validation, a bad one)."""
    try:
        return date.fromisoformat(str(rule["enableOn"])) if rule.get("enableOn") else None
    except ValueError:
        return None


def compiled_scorecards() -> list[CompiledScorecard]:
    """Every definition, compiled. A definition that fails to compile still appears: its rules report ``error``."""
    return [compile_scorecard(row) for row in Scorecard.objects.order_by("ref")]


def compile_scorecard(row: Scorecard) -> CompiledScorecard:
    """One definition, compiled (``row`` may be unsaved: the admin's blast-radius preview)."""
    applies_to, applies_error = _compile(str(row.spec.get("appliesTo", "")))
    rules = []
    for rule in row.rules:
        expression = str(rule.get("expression", ""))
        program, error = _compile(expression)
        rules.append(CompiledRule(str(rule.get("id", "")), str(rule.get("level", "")),
                                  str(rule.get("description", "")), str(rule.get("remediation", "")),
                                  program, error, expression, enable_on(rule)))  # fmt: skip
    return CompiledScorecard(row, applies_to, applies_error, tuple(row.levels), tuple(rules))
