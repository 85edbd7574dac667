"""Backstage's dry run: a template sent in the request runs on the files uploaded with it; nothing is kept.

The engine runs as for a task, except that nothing is written to the database (no Task, step or event
rows), actions that do not declare ``supports_dry_run`` (``publish:*``, ``catalog:register``, plugins' by
default) are skipped and report the example output of their output schema, and the workspace is returned
(base64) and then deleted with the uploaded files.
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied

from catalog.ingestion.refs import RefError, parse_ref
from catalog.ownership import user_entity_ref
from portal import access
from scaffolder import workspace as ws
from scaffolder.engine import Runner, workspaces_dir
from scaffolder.models import Task, TaskEvent, TaskStep
from scaffolder.secrets import seal
from scaffolder.service import InvalidRequest, validate_request
from scaffolder.sources import MAX_BYTES, MAX_FILES, UploadedSource

TEMPLATE_API_VERSION = "scaffolder.backstage.io/v1beta3"


class DryRunFailed(Exception):
    """A step (or the output) failed; ``result`` holds the log up to there."""

    def __init__(self, error: dict[str, str], result: dict[str, Any]):
        super().__init__(error["message"])
        self.error = error
        self.result = result


class DryRunner(Runner):
    dry_run = True

    def __init__(self, task: Task, source: UploadedSource):
        super().__init__(task)
        self.source = source
        self.entries: list[dict[str, Any]] = []
        self.files: list[dict[str, Any]] = []
        self.output: dict[str, Any] = {}

    def event(self, type: str, body: dict[str, Any], *, now: bool = True) -> None:
        if type == TaskEvent.Type.LOG:
            self.entries.append({"body": self.masker.value(body)})

    def flush(self) -> None:
        pass

    def heartbeat(self, *, every: float = 0) -> None:
        pass

    def still_running(self) -> bool:
        return True

    def cancelled(self) -> bool:
        return False

    def step_rows(self) -> dict[int, TaskStep]:
        return {}

    def new_step_row(self, position: int, step: dict[str, Any]) -> TaskStep:
        return TaskStep(position=position, step_id=step["id"], name=step["name"], action=step["action"])

    def save_step(self, row: TaskStep, fields: list[str]) -> None:
        pass

    def template_source(self):
        return self.source

    def release(self) -> None:
        pass

    def record_end(self, output: dict[str, Any]) -> None:
        self.output = output

    def workspace_done(self, workspace: Path) -> None:
        for path in sorted(_files(workspace)):
            full = workspace / path
            self.files.append({
                "path": path,
                "executable": bool(os.stat(full).st_mode & 0o111),
                "base64Content": base64.b64encode(full.read_bytes()).decode("ascii"),
            })  # fmt: skip


def _files(root: Path) -> list[str]:
    found = []
    for directory, _, names in os.walk(root):
        for name in names:
            full = Path(directory) / name
            if full.is_file() and not full.is_symlink():
                found.append(full.relative_to(root).as_posix())
    return found


def _check_body(body: Any) -> tuple[dict, dict, dict, list]:
    errors = []
    if not isinstance(body, dict):
        raise InvalidRequest(["body: must be a JSON object {template, values, secrets?, directoryContents}"])
    template, values = body.get("template"), body.get("values")
    secrets, contents = body.get("secrets") or {}, body.get("directoryContents")
    if not isinstance(template, dict):
        errors.append("template: must be a Template entity (an object)")
    else:
        if template.get("apiVersion") != TEMPLATE_API_VERSION or str(template.get("kind", "")).lower() != "template":
            errors.append(f"template: apiVersion must be {TEMPLATE_API_VERSION} and kind Template")
        if not isinstance(template.get("spec"), dict) or not isinstance(template["spec"].get("steps"), list):
            errors.append("template.spec.steps: must be an array")
        if not isinstance(template.get("metadata"), dict) or not template["metadata"].get("name"):
            errors.append("template.metadata.name: required")
    if not isinstance(values, dict):
        errors.append("values: must be an object")
    if not isinstance(secrets, dict) or not all(isinstance(v, str) for v in secrets.values()):
        errors.append("secrets: must be an object of strings")
    if not isinstance(contents, list):
        errors.append("directoryContents: must be an array of {path, base64Content}")
    elif len(contents) > MAX_FILES:
        errors.append(f"directoryContents: at most {MAX_FILES} files")
    if errors:
        raise InvalidRequest(errors)
    return template, values, secrets, contents


def _write_uploads(root: Path, contents: list) -> None:
    total = 0
    for number, item in enumerate(contents):
        where = f"directoryContents[{number}]"
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise InvalidRequest([f"{where}: must be {{path, base64Content}}"])
        try:
            data = base64.b64decode(item.get("base64Content") or "", validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise InvalidRequest([f"{where} ({item['path']}): base64Content is not base64"]) from None
        total += len(data)
        if total > MAX_BYTES:
            raise InvalidRequest([f"directoryContents: more than {MAX_BYTES} bytes"])
        try:
            ws.write_file(root, item["path"], data)
        except ws.WorkspaceError as exc:
            raise InvalidRequest([f"{where}: {exc}"]) from None


def _target(template: dict) -> access.Target:
    metadata, spec = template.get("metadata") or {}, template.get("spec") or {}
    namespace = str(metadata.get("namespace") or "default")
    try:
        owner = parse_ref(spec["owner"], default_kind="group", default_namespace=namespace).key
    except (KeyError, RefError, TypeError):
        owner = ""
    return access.Target(kind="Template", type=str(spec.get("type") or ""), namespace=namespace, owner=owner,
                         ref=f"template:{namespace}/{metadata.get('name')}")  # fmt: skip


def dry_run(user, body: Any) -> dict[str, Any]:
    """Run the request's template on its uploaded files; ``{log, directoryContents, output, steps}``.

    Needs ``scaffolder.template.run`` on a template like the one sent (its type, namespace and owner).
    Raises InvalidRequest for a malformed body or values, DryRunFailed when a step fails."""
    template, values, secrets, contents = _check_body(body)
    decision = access.decide(user, access.actions.TEMPLATE_RUN, _target(template))
    if not decision.allowed:
        raise PermissionDenied(decision.reason)
    spec = template["spec"]
    validate_request(spec, values, secrets)
    steps = []
    for number, step in enumerate(spec["steps"], 1):
        step = dict(step) if isinstance(step, dict) else {}
        step["id"] = str(step.get("id") or f"step-{number}")
        step["name"] = str(step.get("name") or step.get("action") or step["id"])
        step["action"] = str(step.get("action") or "")
        steps.append(step)
    metadata = template.get("metadata") or {}
    user_ref = user_entity_ref(user) or f"user:default/{user.get_username()}".lower()
    uploads = Path(tempfile.mkdtemp(prefix="dry-run-", dir=workspaces_dir()))
    try:
        _write_uploads(uploads, contents)
        template_file = str(uploads / "template.yaml")
        task = Task(
            id=uuid.uuid4(),
            spec={
                "apiVersion": template["apiVersion"], "steps": steps, "output": spec.get("output") or {},
                "parameters": values, "user": {"ref": user_ref},
                "templateInfo": {"entityRef": _target(template).ref, "baseUrl": f"file://{template_file}",
                                 "entity": {"metadata": metadata}},
            },
            values=values, sealed_secrets=seal({"request": secrets}) if secrets else "",
            created_by=user, created_by_ref=user_ref,
        )  # fmt: skip
        runner = DryRunner(task, UploadedSource(str(uploads), template_file))
        runner.run()
    finally:
        shutil.rmtree(uploads, ignore_errors=True)
    result = {"log": runner.entries, "directoryContents": runner.files, "output": runner.output, "steps": steps}
    if runner.failed:
        raise DryRunFailed(runner.error, result)
    return result
