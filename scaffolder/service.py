"""Making tasks: find the template, check the permission, validate values, seal secrets, queue the run.

Shared by the API and the ``scaffolder`` command so both check the same things.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jsonschema
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog import permissions
from catalog.ingestion.refs import RefError, parse_ref
from catalog.models import Entity
from catalog.ownership import user_entity_ref
from portal import audit
from scaffolder.models import Task, TaskEvent, TaskStep
from scaffolder.secrets import Masker, seal
from scaffolder.sources import FetchError, base_url, ordered_spec, template_base


class TemplateNotFound(Exception):
    pass


class InvalidRequest(Exception):
    """Values or secrets that do not satisfy the template; ``errors`` lists each, with where."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def find_template(user, template_ref: str) -> Entity:
    """The Template entity ``template_ref`` names, if the user may read it (404 otherwise)."""
    try:
        ref = parse_ref(template_ref, default_kind="template")
    except RefError as exc:
        raise TemplateNotFound(str(exc)) from None
    entity = permissions.readable(Entity.objects.filter(ref=ref.key), user).select_related("location").first()
    if entity is None or entity.kind.lower() != "template":
        raise TemplateNotFound(f"Template {ref.key} not found")
    return entity


def require_run(user, entity: Entity) -> None:
    decision = permissions.decide(user, permissions.TEMPLATE_RUN, entity)
    if not decision.allowed:
        raise PermissionDenied(decision.reason or f"You may not run {entity.ref}")


def parameter_pages(spec: dict[str, Any]) -> list[dict[str, Any]]:
    params = spec.get("parameters") or []
    pages = params if isinstance(params, list) else [params]
    return [page for page in pages if isinstance(page, dict)]


def secret_fields(spec: dict[str, Any]) -> set[str]:
    """Properties whose values are secrets: ``ui:field: Secret`` and password widgets."""
    names = set()
    for page in parameter_pages(spec):
        for name, prop in (page.get("properties") or {}).items():
            if isinstance(prop, dict) and (prop.get("ui:field") == "Secret" or prop.get("ui:widget") == "password"):
                names.add(name)
    return names


def strip_ui(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_ui(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("ui:"))}
    if isinstance(value, list):
        return [strip_ui(v) for v in value]
    return value


@dataclass(frozen=True)
class SchemaError:
    """One failed check: ``path`` names the value (``["repo", "owner"]``, ``[]`` for the whole object)."""

    path: tuple[str, ...]
    message: str
    validator: str = ""


_REQUIRED = re.compile(r"^'(.+)' is a required property$")


def schema_errors(schema: dict[str, Any], instance: Any) -> list[SchemaError]:
    """``instance`` checked against ``schema`` (``ui:*`` keys ignored); a missing required property's path
    names that property. An invalid schema is one error with an empty path."""
    schema = {"type": "object", **strip_ui(schema)}
    for key in ("title", "description"):
        schema.pop(key, None)
    try:
        validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return [SchemaError((), f"the template's schema is invalid: {exc.message}", "schema")]
    errors = []
    for error in sorted(validator_class(schema).iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        path = tuple(str(p) for p in error.absolute_path)
        missing = _REQUIRED.match(error.message) if error.validator == "required" else None
        errors.append(SchemaError((*path, missing.group(1)) if missing else path, error.message, str(error.validator)))
    return errors


def _schema_errors(schema: dict[str, Any], instance: Any, where: str) -> list[str]:
    errors = []
    for error in schema_errors(schema, instance):
        path = "/".join(error.path[:-1] if error.validator == "required" else error.path)
        if error.validator == "schema":
            path = ""
        errors.append(f"{where}{': ' + path if path else ''}: {error.message}")
    return errors


def page_applies(page: dict[str, Any], values: dict[str, Any]) -> bool:
    """A page's templated ``if`` (newest Backstage samples: ``${{ parameters.cloud === 'AWS' }}``) against the
    values; a page without one, or whose expression cannot be evaluated, applies."""
    condition = page.get("if")
    if isinstance(condition, bool):
        return condition
    if not isinstance(condition, str):
        return True
    from scaffolder import templating

    try:  # templating reads Nunjucks' === and !== itself
        return templating.is_truthy(templating.render_value(condition, {"parameters": values}))
    except templating.TemplateError:
        return True


def page_schema(page: dict[str, Any]) -> dict[str, Any]:
    """The page as a JSON Schema: a templated page-level ``if`` is not a schema (Backstage 4.2.0 chokes on it)."""
    if isinstance(page.get("if"), (str, bool)):
        return {k: v for k, v in page.items() if k != "if"}
    return page


def applicable_pages(spec: dict[str, Any], values: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """``(number, page)`` for each parameter page whose ``if`` holds for ``values``, numbered from 1."""
    return [(n, page) for n, page in enumerate(parameter_pages(spec), 1) if page_applies(page, values)]


def validate_request(spec: dict[str, Any], values: Any, secrets: Any) -> None:
    """Each parameter page validates the whole values object (as Backstage does); secrets their schema.

    A page whose templated ``if`` is false for the values is skipped, as Backstage's form skips it."""
    if not isinstance(values, dict):
        raise InvalidRequest(["values: must be an object"])
    if not isinstance(secrets, dict):
        raise InvalidRequest(["secrets: must be an object"])
    errors = []
    for number, page in applicable_pages(spec, values):
        title = page.get("title") or f"page {number}"
        errors += _schema_errors(page_schema(page), values, f"values (parameters page {number}, {title!r})")
    secrets_schema = (spec.get("secrets") or {}).get("schema")
    if isinstance(secrets_schema, dict):
        errors += _schema_errors(secrets_schema, secrets, "secrets")
    if errors:  # messages quote the failing value: secrets are masked there too
        masker = Masker(secrets, {k: v for k, v in values.items() if k in secret_fields(spec)})
        raise InvalidRequest([masker.text(e) for e in errors])


def template_source_file(entity: Entity) -> str:
    annotations = (entity.body.get("metadata") or {}).get("annotations") or {}
    return entity.source_file or annotations.get("backstage.io/managed-by-location", "")


def task_spec(entity: Entity, values: dict[str, Any], user_ref: str) -> dict[str, Any]:
    """Backstage's task spec: steps with default ids and names, output, parameters, user, templateInfo."""
    spec = entity.body.get("spec") or {}
    steps = []
    for number, step in enumerate(spec.get("steps") or [], 1):
        step = dict(step) if isinstance(step, dict) else {}
        step["id"] = str(step.get("id") or f"step-{number}")
        step["name"] = str(step.get("name") or step.get("action") or step["id"])
        steps.append(step)
    user_body = Entity.objects.filter(ref=user_ref).values_list("body", flat=True).first() if user_ref else None
    source_file = template_source_file(entity)
    try:
        base = base_url(template_base(source_file))
    except FetchError:
        base = ""
    return {
        "apiVersion": entity.api_version,
        "steps": steps,
        "output": spec.get("output") or {},
        "parameters": values,
        "user": {"ref": user_ref, **({"entity": user_body} if user_body else {})},
        "templateInfo": {
            "entityRef": entity.ref,
            "baseUrl": base,
            "sourceFile": source_file,
            "entity": {"metadata": entity.body.get("metadata") or {}},
        },
    }


def create_task(user, template_ref: str, values: Any, secrets: Any = None, *, dispatch: bool = True) -> Task:
    """Check, validate and store a task; queue its run after commit (``dispatch``)."""
    entity = find_template(user, template_ref)
    require_run(user, entity)
    secrets = {} if secrets is None else secrets
    spec = entity.body.get("spec") or {}
    validate_request(spec, values, secrets)
    hidden = secret_fields(spec)
    public = {k: v for k, v in values.items() if k not in hidden}
    sealed = {"request": secrets, "parameters": {k: v for k, v in values.items() if k in hidden}}
    user_ref = user_entity_ref(user) or f"user:default/{user.get_username()}".lower()
    with transaction.atomic():
        task = Task.objects.create(
            template_ref=entity.ref,
            template_etag=entity.etag,
            template_version=entity.location.version if entity.location_id else "",
            spec=task_spec(entity, public, user_ref),
            values=public,
            sealed_secrets=seal(sealed) if secrets or sealed["parameters"] else "",
            created_by=user,
            created_by_ref=user_ref,
        )
        TaskStep.objects.bulk_create(
            TaskStep(task=task, position=n, step_id=s["id"], name=s["name"], action=str(s.get("action") or ""))
            for n, s in enumerate(task.spec["steps"])
        )
        audit.record(user, "scaffolder.task.created", task,
                     {"template": entity.ref, "version": task.template_version, "values": public})  # fmt: skip
        if dispatch:
            from portal.jobs import enqueue_on_commit
            from scaffolder.tasks import run_task

            enqueue_on_commit(run_task, str(task.pk))
    return task


def add_event(task: Task, type: str, body: dict[str, Any]) -> TaskEvent:
    seq = TaskEvent.objects.filter(task=task).count()
    return TaskEvent.objects.create(task=task, seq=seq, type=type, body=body)


def cancel_task(task: Task, user=None) -> bool:
    """Cancel an open or running task; the engine stops at the next step boundary."""
    with transaction.atomic():
        changed = Task.objects.filter(pk=task.pk, status__in=(Task.Status.OPEN, Task.Status.PROCESSING)).update(
            status=Task.Status.CANCELLED, finished_at=timezone.now(), sealed_secrets=""
        )
        if changed:
            add_event(task, TaskEvent.Type.CANCELLED, {"message": "Task was cancelled"})
            audit.record(user, "scaffolder.task.cancelled", task)
    return bool(changed)


def may_see(user, task: Task) -> bool:
    return task.created_by_id == user.pk or permissions.can(user, permissions.ADMIN)


def may_see_all(user) -> bool:
    return permissions.can(user, permissions.ADMIN)


def visible_tasks(user):
    """The tasks a person may see: their own; platform admins see all."""
    tasks = Task.objects.all()
    return tasks if permissions.can(user, permissions.ADMIN) else tasks.filter(created_by=user)


def parameter_schema(entity: Entity) -> dict[str, Any]:
    spec = ordered_spec(entity)
    metadata = entity.body.get("metadata") or {}
    schema = {
        "title": metadata.get("title") or metadata.get("name"),
        "description": metadata.get("description"),
        "steps": [
            {
                "title": page.get("title") or "Please enter the following information",
                "description": page.get("description"),
                "schema": page,
            }
            for page in parameter_pages(spec)
        ],
    }
    if spec.get("presentation"):
        schema["presentation"] = spec["presentation"]
    if spec.get("formDecorators") or spec.get("EXPERIMENTAL_formDecorators"):
        schema["formDecorators"] = spec.get("formDecorators") or spec.get("EXPERIMENTAL_formDecorators")
    return schema


def dry_run(user, body: Any) -> dict[str, Any]:
    """Backstage's dry run of the template in ``body`` (scaffolder/dryrun.py): nothing is stored."""
    from scaffolder.dryrun import dry_run as run

    return run(user, body)


class NotRetryable(Exception):
    """The task is running, or completed, or its engine has not stopped yet (a 409)."""


def retry_task(task: Task, user, secrets: Any = None, *, dispatch: bool = True) -> Task:
    """Re-open a failed or cancelled task; its run starts at the first step that did not complete.

    Whoever may see the task and may (still) run its template may retry it. Completed steps keep their
    output (``steps.<id>.output``); those of idempotent actions run again to rebuild the workspace (it is
    not kept after a run), the others are not run twice. Secrets are not kept after a run: pass them
    again (``secrets``); secret parameter fields are gone and render as undefined."""
    if not may_see(user, task):
        raise TemplateNotFound(f"No task {task.pk}")
    require_run(user, find_template(user, task.template_ref))
    secrets = {} if secrets is None else secrets
    if not isinstance(secrets, dict):
        raise InvalidRequest(["secrets: must be an object"])
    with transaction.atomic():
        # A cancelled task whose engine had started is over once its completion event is written.
        stopped = Q(status=Task.Status.FAILED) | Q(status=Task.Status.CANCELLED, started_at__isnull=True)
        stopped |= Q(status=Task.Status.CANCELLED, events__type=TaskEvent.Type.COMPLETION)
        candidates = Task.objects.filter(stopped, pk=task.pk).values_list("pk", flat=True)
        reopened = Task.objects.filter(pk__in=list(candidates)).update(
            status=Task.Status.OPEN, finished_at=None, error={}, output={},
            sealed_secrets=seal({"request": secrets, "parameters": {}}) if secrets else "",
        )  # fmt: skip
        if not reopened:
            task.refresh_from_db(fields=["status"])
            raise NotRetryable(f"A {task.status} task cannot be retried" + (
                " until its run has stopped" if task.status == Task.Status.CANCELLED else ""))  # fmt: skip
        steps = list(TaskStep.objects.filter(task=task).order_by("position"))
        first = next((s for s in steps if s.status != TaskStep.Status.COMPLETED), None)
        TaskStep.objects.filter(task=task).exclude(status=TaskStep.Status.COMPLETED).update(
            status=TaskStep.Status.OPEN, started_at=None, finished_at=None, output={}, error=""
        )
        # As Backstage does, the previous run's end goes, so a stream of the retried task ends at its new end.
        TaskEvent.objects.filter(task=task, type__in=(TaskEvent.Type.COMPLETION, TaskEvent.Type.CANCELLED)).delete()
        where = f"from step {first.name}" if first else "(every step had completed)"
        add_event(task, TaskEvent.Type.RECOVERED, {
            "message": f"Retried by {user_entity_ref(user) or user.get_username()}, {where}",
            "recoverStrategy": "retry", **({"stepId": first.step_id} if first else {}),
        })  # fmt: skip
        audit.record(user, "scaffolder.task.retried", task, {"from_step": first.step_id if first else None})
        if dispatch:
            from portal.jobs import enqueue_on_commit
            from scaffolder.tasks import run_task

            enqueue_on_commit(run_task, str(task.pk))
    task.refresh_from_db()
    return task
