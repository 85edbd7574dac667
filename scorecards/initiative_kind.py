"""The ``Initiative`` kind (``callboard.dev/v1alpha1``), registered with the catalog like ``Scorecard``.

Django-free (the catalog's parse helper process imports it). What needs the scorecard (does the level or rule
exist?) is checked when the definition is mirrored (scorecards.initiatives.sync_from_catalog).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from catalog.ingestion import KindExtension, register_kind
from catalog.ingestion.schemacheck import CompiledSchema
from scorecards.cel import ExpressionError, compile_expression

KIND = "Initiative"
API_VERSION = "callboard.dev/v1alpha1"
DURATION = re.compile(r"^P(\d{1,4})D$")  # days after the start
SCHEMA = CompiledSchema("initiative", Path(__file__).with_name("schemas"))


def check(entity: dict[str, Any], add) -> None:
    spec = entity["spec"]
    if len(spec["target"]) != 1 or spec["target"].get("rules") == []:
        add("spec.target", "initiative-target", "spec.target needs exactly one of level or rules")
    if spec.get("appliesTo", "").strip():
        try:
            compile_expression(spec["appliesTo"])
        except ExpressionError as exc:
            add("spec.appliesTo", "cel-syntax", f"spec.appliesTo is not a valid CEL expression: {exc}")
    for key in ("deadline", "startsAt"):
        value = spec.get(key)
        if value is None or (key == "deadline" and DURATION.match(value)):
            continue
        try:
            date.fromisoformat(value)
        except ValueError:
            also = " or a number of days such as P28D" if key == "deadline" else ""
            add(f"spec.{key}", "initiative-date", f'spec.{key} "{value}" is not a date (YYYY-MM-DD){also}')


EXTENSION = register_kind(KindExtension(KIND, (API_VERSION,), SCHEMA, __name__, check))
