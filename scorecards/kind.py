"""The ``Scorecard`` kind (``callboard.dev/v1alpha1``): its schema and checks, registered with the catalog.

Importing this module registers the kind (catalog.ingestion.register_kind); it is Django-free so the
catalog's parse helper process imports it too. The same :func:`spec_errors` validates admin-authored
scorecards, so a definition is accepted or refused alike wherever it comes from.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from catalog.ingestion import KindExtension, register_kind
from catalog.ingestion.schemacheck import CompiledSchema
from scorecards.cel import ExpressionError, compile_expression

KIND = "Scorecard"
API_VERSION = "callboard.dev/v1alpha1"
SCHEMA = CompiledSchema("scorecard", Path(__file__).with_name("schemas"))
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RULE_ID = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")


def check(entity: dict[str, Any], add) -> None:
    """What the schema cannot say: levels and rule ids unique, rule levels declared, expressions compile."""
    spec = entity["spec"]
    levels = spec["levels"]
    if not levels:
        add("spec.levels", "scorecard-levels", "spec.levels must name at least one level, lowest first")
    for i, level in enumerate(levels):
        if level in levels[:i]:
            add(f"spec.levels[{i}]", "scorecard-levels", f'level "{level}" is listed twice')
    _expression(spec["appliesTo"], "spec.appliesTo", add)
    if not spec["rules"]:
        add("spec.rules", "scorecard-rules", "spec.rules must hold at least one rule")
    seen: set[str] = set()
    for i, rule in enumerate(spec["rules"]):
        where = f"spec.rules[{i}]"
        if not RULE_ID.match(rule["id"]):
            add(f"{where}.id", "scorecard-rule-id", f'rule id "{rule["id"]}" must be lower-case letters and '
                "digits separated by -, _ or .")  # fmt: skip
        elif rule["id"] in seen:
            add(f"{where}.id", "scorecard-rule-id", f'rule id "{rule["id"]}" is used by an earlier rule')
        seen.add(rule["id"])
        if rule["level"] not in levels:
            add(f"{where}.level", "scorecard-rule-level", f'level "{rule["level"]}" is not one of spec.levels '
                f"({', '.join(levels)})")  # fmt: skip
        _expression(rule["expression"], f"{where}.expression", add)
        if "enableOn" in rule and not _is_day(rule["enableOn"]):
            add(f"{where}.enableOn", "scorecard-enable-on", f'enableOn "{rule["enableOn"]}" is not a date '
                "(YYYY-MM-DD)")  # fmt: skip


def _is_day(value: str) -> bool:
    try:
        return bool(DAY.match(value)) and bool(date.fromisoformat(value))
    except ValueError:
        return False


def _expression(source: str, field: str, add) -> None:
    try:
        compile_expression(source)
    except ExpressionError as exc:
        add(field, "cel-syntax", f"{field} is not a valid CEL expression: {exc}")


def spec_errors(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Every ``(field, rule, message)`` for a whole Scorecard document (the admin uses this)."""
    errors: list[tuple[str, str, str]] = []
    seen: set[str] = set()

    def add(field: str, rule: str, message: str) -> None:
        if field not in seen:
            seen.add(field)
            errors.append((field, rule, message))

    if not SCHEMA.is_valid(document):
        for error in SCHEMA.iter_errors(document):
            add(*error)
        return errors
    check(document, add)
    return errors


EXTENSION = register_kind(KindExtension(KIND, (API_VERSION,), SCHEMA, __name__, check))
