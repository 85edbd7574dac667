"""What an action's handler receives: its validated input, the workspace and ways to log and output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffolder import workspace


@dataclass
class ActionContext:
    input: dict[str, Any]
    workspace: Path
    task_id: str
    step_id: str
    template_info: dict[str, Any]
    template_source: Any = None  # catalog.ingestion.sources.Source of the template file
    user: Any = None
    user_ref: str = ""
    secrets: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    _log: Callable[[str], None] = print
    _cancelled: Callable[[], bool] = lambda: False

    def log(self, message: str) -> None:
        self._log(str(message))

    def output(self, name: str, value: Any) -> None:
        self.outputs[name] = value

    def cancelled(self) -> bool:
        return self._cancelled()

    def resolve(self, path: str, what: str = "path") -> Path:
        """A path inside the workspace; traversal, absolute paths and symbolic links are refused."""
        return workspace.resolve(self.workspace, path, what)
