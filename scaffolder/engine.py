"""Running a task: claim it, run its steps in order in a private workspace, record everything, clean up.

Semantics follow Backstage's NunjucksWorkflowRunner (docs/scaffolder.md): ``if`` skips a step, ``each``
repeats it, inputs are rendered and validated against the action's input schema before it runs, a failure
fails the task and skips later steps unless their ``if`` calls ``always()`` or ``failure()``, and the
template's ``output`` is rendered on success. Every event, log line and stored value is masked with the
task's secrets; the sealed secrets are wiped at the end. Cancel is honoured at each step boundary.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from scaffolder import census
from scaffolder.actions import get_action
from scaffolder.actions.context import ActionContext
from scaffolder.models import Task, TaskEvent, TaskStep
from scaffolder.secrets import Masker, unseal
from scaffolder.sources import FetchError, template_base
from scaffolder.templating import UNDEFINED, is_truthy, render_value

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 10.0


class StepFailed(Exception):
    pass


def workspaces_dir() -> Path:
    path = Path(settings.DATA_DIR) / "scaffolder" / "work"
    path.mkdir(parents=True, exist_ok=True)
    return path


def claim(task_id, job=None) -> bool:
    """Take an open task (with the JobRun running it, in the same statement); False when it is not open."""
    now = timezone.now()
    fields = {"job": job} if job is not None else {}
    return bool(
        Task.objects.filter(pk=task_id, status=Task.Status.OPEN).update(
            status=Task.Status.PROCESSING, started_at=now, last_heartbeat_at=now, **fields
        )
    )


def fail_stale_tasks(timeout: timedelta, *, now=None) -> int:
    """Fail ``processing`` tasks whose heartbeat is older than ``timeout`` (their worker died); returns how many.

    Backstage's janitor does this every 5 minutes with a 24 h timeout; a sweeper calls this one."""
    now = now or timezone.now()
    stale = list(
        Task.objects.filter(status=Task.Status.PROCESSING, last_heartbeat_at__lt=now - timeout).values_list(
            "pk", flat=True
        )
    )
    failed = 0
    error = {"name": "StaleTaskError", "message": f"No heartbeat for {timeout}; the worker running it stopped"}
    for pk in stale:
        if Task.objects.filter(pk=pk, status=Task.Status.PROCESSING, last_heartbeat_at__lt=now - timeout).update(
            status=Task.Status.FAILED, finished_at=now, error=error, sealed_secrets=""
        ):
            TaskStep.objects.filter(task_id=pk, status=TaskStep.Status.PROCESSING).update(
                status=TaskStep.Status.FAILED, finished_at=now, error=error["message"]
            )
            TaskStep.objects.filter(task_id=pk, status=TaskStep.Status.OPEN).update(status=TaskStep.Status.SKIPPED)
            task = Task(pk=pk)
            seq = TaskEvent.objects.filter(task=task).count()
            TaskEvent.objects.create(task=task, seq=seq, type=TaskEvent.Type.COMPLETION,
                                     body={"message": error["message"], "error": error})  # fmt: skip
            failed += 1
    return failed


def run_task(task_id, *, job=None, echo=None) -> Task:
    """Run the task if it is still open (a second delivery does nothing); returns it as it ended."""
    if not claim(task_id, job):
        return Task.objects.get(pk=task_id)
    # Its events are counted with it (seq goes on from there: a retried task has some already).
    task = Task.objects.select_related("created_by").annotate(event_count=Count("events")).get(pk=task_id)
    try:
        Runner(task, echo=echo).run()
    except Exception as exc:  # the engine itself broke (database gone, a bug): the task must not stay processing
        error = {"name": type(exc).__name__, "message": "The scaffolder failed while running this task"}
        if Task.objects.filter(pk=task.pk, status=Task.Status.PROCESSING).update(
            status=Task.Status.FAILED, finished_at=timezone.now(), error=error, sealed_secrets=""
        ):
            seq = TaskEvent.objects.filter(task=task).count()
            TaskEvent.objects.create(task=task, seq=seq, type=TaskEvent.Type.COMPLETION, body={"error": error})
        raise
    task.refresh_from_db()
    return task


class Runner:
    dry_run = False

    def __init__(self, task: Task, *, echo=None):
        self.task = task
        self.echo = echo
        sealed = unseal(task.sealed_secrets)
        self.request_secrets = sealed.get("request") or {}
        self.parameters = {**task.values, **(sealed.get("parameters") or {})}
        self.masker = Masker(self.request_secrets, sealed.get("parameters") or {})
        self.spec = task.spec
        self.step_outputs: dict[str, dict[str, Any]] = {}
        self.failed = False
        self.error: dict[str, str] = {}
        self.seq: int | None = getattr(task, "event_count", None)
        self.pending: list[TaskEvent] = []
        self.pending_steps: list[tuple[TaskStep, list[str]]] = []
        self.released = False
        self.last_beat = time.monotonic()

    # -- events ----------------------------------------------------------------------------------
    def event(self, type: str, body: dict[str, Any], *, now: bool = True) -> None:
        """Record one event. Lines an action logs are written at once (clients read them live); the engine's
        own lines (``now=False``) wait for the next write, at the latest just before an action runs, so a
        step boundary costs one insert. seq is counted once, not queried per event."""
        if self.seq is None:
            self.seq = TaskEvent.objects.filter(task=self.task).count()
        self.pending.append(TaskEvent(task=self.task, seq=self.seq, type=type, body=self.masker.value(body)))
        self.seq += 1
        if now:
            self.flush()

    def flush(self) -> None:
        """Write what waits (step rows, the engine's lines) in one transaction: one commit per step."""
        writes = len(self.pending_steps) + bool(self.pending)
        if writes:
            # One statement needs no transaction (on PostgreSQL, BEGIN and COMMIT are round trips of their own).
            with transaction.atomic() if writes > 1 else nullcontext():
                self._write_pending()
            self.heartbeat()

    def _write_pending(self) -> None:
        """The statements of :meth:`flush`, in the caller's transaction (the events in one insert)."""
        for row, fields in self.pending_steps:
            row.save(update_fields=fields)
        if len(self.pending) == 1:
            self.pending[0].save(force_insert=True)
        elif self.pending:
            TaskEvent.objects.bulk_create(self.pending)  # its own atomic block: a savepoint at most
        self.pending, self.pending_steps = [], []

    def heartbeat(self, *, every: float = HEARTBEAT_SECONDS) -> None:
        """Written at step boundaries (with the cancel check) and, at most every ``every`` seconds, whenever
        a step logs."""
        now = time.monotonic()
        if now - self.last_beat >= every:
            Task.objects.filter(pk=self.task.pk).update(last_heartbeat_at=timezone.now())
            self.last_beat = now

    def still_running(self) -> bool:
        """The step boundary's heartbeat, which also says whether the task is still ``processing``: one
        statement. What waits (the last step's row and lines) is written with the next step's beginning, just
        before its action runs, or with the end; a task no longer processing writes it as it stops."""
        running = bool(
            Task.objects.filter(pk=self.task.pk, status=Task.Status.PROCESSING).update(last_heartbeat_at=timezone.now())
        )
        self.last_beat = time.monotonic()
        return running

    def log(self, message: str, step_id: str | None = None, status: str | None = None, *, now: bool = True) -> None:
        body: dict[str, Any] = {"message": self.masker.text(message)}
        if step_id:
            body["stepId"] = step_id
        if status:
            body["status"] = status
        self.event(TaskEvent.Type.LOG, body, now=now)
        if self.echo:
            self.echo(("[" + step_id + "] " if step_id else "") + body["message"])

    def cancelled(self) -> bool:
        return Task.objects.filter(pk=self.task.pk, status=Task.Status.CANCELLED).exists()

    # -- context ---------------------------------------------------------------------------------
    def context(self, *, secrets: bool, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        user = self.spec.get("user") or {}
        failed = self.failed
        ctx = {
            "parameters": self.parameters,
            "steps": self.step_outputs,
            "user": {"ref": user.get("ref"), "entity": user.get("entity")},
            "context": {"task": {"id": str(self.task.pk)}},
            "always": lambda: True,
            "failure": lambda: failed,
            **(extra or {}),
        }
        if secrets:
            ctx["secrets"] = self.request_secrets
        return ctx

    # -- running ---------------------------------------------------------------------------------
    def run(self) -> None:
        steps = self.spec.get("steps") or []
        rows = self.step_rows()
        self.log(f"Starting up task with {len(steps)} steps", now=False)
        workspace = Path(tempfile.mkdtemp(prefix=f"{self.task.pk}-", dir=workspaces_dir()))
        try:
            source = self.template_source()
            for position, step in enumerate(steps):
                row = rows.get(position) or self.new_step_row(position, step)
                # The claim, a moment ago, was the first boundary's check (a task cancelled before it is not
                # claimed); "Starting up" is written with the first step's beginning.
                if position and not self.still_running():
                    self._stop(rows, position)
                    return
                if row.status == TaskStep.Status.COMPLETED and self.reuse(row):
                    continue
                self.run_step(step, row, workspace, source)
            self.finish()
        finally:
            try:
                self.flush()  # lines still waiting (after an error inside the engine, say)
                self.workspace_done(workspace)
            finally:
                shutil.rmtree(workspace, ignore_errors=True)
                if not self.released:
                    self.release()

    # -- what a dry run replaces (scaffolder/dryrun.py) ---------------------------------------------
    def step_rows(self) -> dict[int, TaskStep]:
        return {row.position: row for row in TaskStep.objects.filter(task=self.task)}

    def new_step_row(self, position: int, step: dict[str, Any]) -> TaskStep:
        return TaskStep.objects.create(
            task=self.task, position=position, step_id=step["id"], name=step["name"], action=step["action"]
        )

    def save_step(self, row: TaskStep, fields: list[str]) -> None:
        """Saved with the next write (at the latest before the action runs, or at the step boundary)."""
        self.pending_steps.append((row, fields))

    def template_source(self):
        try:
            return template_base((self.spec.get("templateInfo") or {}).get("sourceFile", ""))
        except FetchError as exc:
            self.log(f"The template's location cannot be read ({exc}); relative URLs will fail")
            return None

    def workspace_done(self, workspace: Path) -> None:
        """Called with the finished workspace before it is deleted."""

    def release(self) -> None:
        """Wipe the sealed secrets, unless a retry has re-opened the task (and sealed new ones) meanwhile."""
        Task.objects.filter(pk=self.task.pk, status__in=Task.FINISHED).update(sealed_secrets="")

    def reuse(self, row: TaskStep) -> bool:
        """A step completed before a retry: an idempotent action runs again (it rebuilds the workspace);
        any other keeps its recorded output and is not run twice (its side effects happened)."""
        action = get_action(row.action)
        if action is not None and action.idempotent:
            return False
        self.step_outputs[row.step_id] = {"output": row.output}
        self.log(f"Step {row.name} completed before the retry; its output is reused", row.step_id, "completed",
                 now=False)  # fmt: skip
        return True

    def _stop(self, rows: dict[int, TaskStep], position: int) -> None:
        """The task is no longer processing: cancelled (end it), or failed by the stale-task sweeper."""
        if self.cancelled():
            self._finish_cancelled(rows, position)
        else:
            self.log("The task is no longer processing (failed as stale?); stopping", status="failed")

    def _finish_cancelled(self, rows: dict[int, TaskStep], position: int) -> None:
        TaskStep.objects.filter(task=self.task, position__gte=position).update(status=TaskStep.Status.CANCELLED)
        self.log("Task cancelled; the remaining steps were not run", status="cancelled")
        self.event(
            TaskEvent.Type.COMPLETION,
            {"message": "Task cancelled", "error": {"name": "CancelledError", "message": "Task cancelled"}},
        )

    def _skip(self, row: TaskStep, reason: str) -> None:
        row.status = TaskStep.Status.SKIPPED
        self.save_step(row, ["status"])
        self.log(f"Skipping step {row.step_id}: {reason}", row.step_id, "skipped", now=False)

    def run_step(self, step: dict[str, Any], row: TaskStep, workspace: Path, source) -> None:
        condition = step.get("if")
        if self.failed and not (isinstance(condition, str) and ("always()" in condition or "failure()" in condition)):
            self._skip(row, "an earlier step failed")
            return
        try:
            if "each" not in step and not self._condition(step, None):
                self._skip(row, "its if: is false")
                return
            row.status, row.started_at = TaskStep.Status.PROCESSING, timezone.now()
            self.save_step(row, ["status", "started_at"])
            self.log(f"Beginning step {row.name}", row.step_id, "processing", now=False)
            ran = self._run_iterations(step, row, workspace, source)
        except Exception as exc:  # any failure of a step is recorded, never lost
            self._fail(row, exc)
            return
        if not ran:
            row.status, row.started_at = TaskStep.Status.SKIPPED, None
            self.save_step(row, ["status", "started_at"])
            self.log(f"Skipping step {row.name}: its if: is false for every item", row.step_id, "skipped", now=False)
            return
        row.status, row.finished_at = TaskStep.Status.COMPLETED, timezone.now()
        row.output = self.masker.value(self.step_outputs.get(row.step_id, {}).get("output", {}))
        self.save_step(row, ["status", "finished_at", "output"])
        if not self.dry_run:  # a dry run creates nothing (and has no task row to record against)
            census.record(self.task, census.refs_in(row.output))
        self.log(f"Finished step {row.name}", row.step_id, "completed", now=False)

    def _fail(self, row: TaskStep, exc: Exception) -> None:
        message = self.masker.text(str(exc) or type(exc).__name__)
        row.status, row.finished_at, row.error = TaskStep.Status.FAILED, timezone.now(), message
        self.save_step(row, ["status", "finished_at", "error"])
        self.log(f"Step {row.name} failed: {message}", row.step_id, "failed")
        if not self.failed:
            self.failed = True
            self.error = {"name": type(exc).__name__, "message": message}

    def _condition(self, step: dict[str, Any], extra: dict[str, Any] | None) -> bool:
        if "if" not in step:
            return True
        condition = step["if"]
        if isinstance(condition, bool):
            return condition
        return is_truthy(render_value(condition, self.context(secrets=False, extra=extra)))

    def _run_iterations(self, step: dict[str, Any], row: TaskStep, workspace: Path, source) -> bool:
        action = get_action(row.action)
        if action is None:
            raise StepFailed(f"Template action with ID '{row.action}' is not registered")
        if "each" not in step:
            outputs = self._run_action(action, step, row, workspace, source, None)
            self.step_outputs[row.step_id] = {"output": outputs}
            return True
        items = render_value(step["each"], self.context(secrets=True))
        if isinstance(items, list):
            pairs = [(str(i), v) for i, v in enumerate(items)]
        elif isinstance(items, dict):
            pairs = list(items.items())
        else:
            raise StepFailed(f"each: must evaluate to an array or an object, got {type(items).__name__}")
        collected: dict[str, list[Any]] = {}
        ran = False
        for key, value in pairs:
            extra = {"each": {"key": key, "value": value}}
            if not self._condition(step, extra):
                continue
            ran = True
            self.log(f"Running step {row.name} for {key}", row.step_id)
            for name, output in self._run_action(action, step, row, workspace, source, extra).items():
                collected.setdefault(name, []).append(output)
        self.step_outputs[row.step_id] = {"output": collected}
        return ran

    def _run_action(self, action, step, row, workspace, source, extra) -> dict[str, Any]:
        if self.dry_run and not action.supports_dry_run:
            self.log(f"Skipping because {action.id} does not support dry-run", row.step_id)
            example = example_output(action.output_schema)
            return example if isinstance(example, dict) else {}
        data = render_value(step.get("input") or {}, self.context(secrets=True, extra=extra))
        if data is UNDEFINED or not isinstance(data, dict):
            raise StepFailed(f"The input of step {row.step_id} must be an object")
        _validate(action.input_schema, data, f"Invalid input passed to action {action.id}")
        template_info = {**(self.spec.get("templateInfo") or {}), "version": census.task_version(self.task)}
        ctx = ActionContext(
            input=data,
            workspace=workspace,
            task_id=str(self.task.pk),
            step_id=row.step_id,
            template_info=template_info,
            template_source=source,
            user=self.task.created_by,
            user_ref=self.task.created_by_ref,
            secrets=self.request_secrets,
            _log=lambda message: self.log(message, row.step_id),
            _cancelled=self.cancelled,
        )
        self.flush()  # the step's beginning is visible while it runs
        action.handler(ctx)
        outputs = _plain_json(ctx.outputs)
        _validate(action.output_schema, outputs, f"Action {action.id} produced invalid output")
        return outputs

    def finish(self) -> None:
        """Render the output (a broken output block fails the task, with its reason), then record the end."""
        output: dict[str, Any] = {}
        if not self.failed:
            try:
                output = self.masker.value(self.render_output())
            except Exception as exc:  # a broken output block fails the task, with its reason
                self.failed = True
                self.error = {"name": type(exc).__name__, "message": self.masker.text(str(exc))}
                self.log(f"Rendering the template's output failed: {self.error['message']}", status="failed")
        self.record_end(output)

    def record_end(self, output: dict[str, Any]) -> None:
        """The final status and the completion event, committed together (a stream that sees one sees both)."""
        now = timezone.now()
        with transaction.atomic():  # what waits (the last step's row and line) goes in with it, no savepoint
            if self.failed:
                Task.objects.filter(pk=self.task.pk, status=Task.Status.PROCESSING).update(
                    status=Task.Status.FAILED, finished_at=now, error=self.error, sealed_secrets=""
                )
                body = {"message": f"Run failed with {self.error['message']}", "error": self.error}
            else:
                Task.objects.filter(pk=self.task.pk, status=Task.Status.PROCESSING).update(
                    status=Task.Status.COMPLETED, finished_at=now, output=output, sealed_secrets=""
                )
                body = {"output": output}
            self.event(TaskEvent.Type.COMPLETION, body, now=False)
            self._write_pending()
        self.released = True

    def render_output(self) -> dict[str, Any]:
        raw = self.spec.get("output") or {}
        context = self.context(secrets=False)
        output: dict[str, Any] = {}
        for key, value in raw.items():
            if key in ("links", "text") and isinstance(value, list):
                items = []
                for item in value:
                    if not isinstance(item, dict):
                        continue
                    if "if" in item and not (
                        item["if"] if isinstance(item["if"], bool) else is_truthy(render_value(item["if"], context))
                    ):
                        continue
                    items.append(render_value({k: v for k, v in item.items() if k != "if"}, context))
                output[key] = items
            else:
                rendered = render_value(value, context)
                if rendered is not UNDEFINED:
                    output[key] = rendered
        return output


def _plain_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _validate(schema: dict[str, Any], instance: Any, what: str) -> None:
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    errors = sorted(validator_class(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        details = "; ".join(
            f"{'/'.join(str(p) for p in e.absolute_path) or '(input)'}: {e.message}" for e in errors[:10]
        )
        raise StepFailed(f"{what}: {details}")


def example_output(schema: Any) -> Any:
    """What a dry run says an action that did not run produced: its output schema's ``examples[0]``, else a
    placeholder per type, as Backstage's ``generateExampleOutput`` does."""
    if not isinstance(schema, dict):
        return "<unknown>"
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    kind = schema.get("type")
    if kind == "object":
        return {key: example_output(value) for key, value in (schema.get("properties") or {}).items()}
    if kind == "array":
        items = schema.get("items")
        return [example_output(items[0] if isinstance(items, list) and items else items)] if items else []
    return {"string": "<example>", "number": 0, "integer": 0, "boolean": False}.get(kind, "<unknown>")
