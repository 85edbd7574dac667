"""Scaffolder actions as plugins (and the core) declare them; the scaffolder app runs them.

An action is an id, a handler and JSON Schemas for its input and output. The handler receives one
argument, the step's context (``scaffolder.actions.context.ActionContext``): ``ctx.input`` (validated),
``ctx.workspace`` (a ``Path``), ``ctx.resolve(path)`` (a path inside the workspace, traversal refused),
``ctx.log(message)``, ``ctx.output(name, value)``, ``ctx.template_info``, ``ctx.user``, ``ctx.task_id``,
``ctx.secrets``, ``ctx.cancelled()``. Raise an exception to fail the step; its message is shown (masked).
``supports_dry_run`` and ``idempotent`` say whether a dry run may run it and whether a retry may run it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from plugins.registry import registry


@dataclass(frozen=True)
class ScaffolderAction:
    id: str
    handler: Callable[[Any], None]
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    output_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    examples: list[dict[str, Any]] = field(default_factory=list)
    supports_dry_run: bool = False  # a dry run runs it (it writes only the workspace); else it is skipped
    # Safe to run again on a retry: it changes nothing outside the workspace, and the same inputs give the same
    # files. A retried task re-runs these to rebuild its workspace; other completed steps keep their output.
    idempotent: bool = False


def register_scaffolder_action(action: ScaffolderAction, *, replace: bool = False) -> ScaffolderAction:
    """Add ``action`` to ``registry["scaffolder_actions"]``; an id already taken is refused unless ``replace``."""
    store = registry["scaffolder_actions"]
    if not action.id or not isinstance(action.id, str):
        raise ValueError("A scaffolder action needs an id")
    if action.id in store and not replace and store[action.id] is not action:
        raise ValueError(f"Scaffolder action {action.id!r} is already registered")
    store[action.id] = action
    return action
