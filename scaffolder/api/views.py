"""Backstage's scaffolder API (``/api/scaffolder/v2/``): tasks, their events, actions, parameter schemas.

Tokens need the ``scaffolder:run`` scope; running a template needs the ``scaffolder.template.run``
permission on it; people see their own tasks (platform admins see all).
"""

from __future__ import annotations

import json
import time
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from scaffolder import census, dryrun, service
from scaffolder.actions import all_actions
from scaffolder.models import Task, TaskEvent, TaskStep

MAX_EVENTS = 1000
STREAM_SECONDS = 30.0  # then the stream ends; EventSource clients reconnect with after=<last id>
STREAM_POLL_SECONDS = 0.25


ERROR_NAMES = {400: "InputError", 401: "AuthenticationError", 403: "NotAllowedError", 404: "NotFoundError",
               405: "InputError", 409: "ConflictError"}  # fmt: skip


class ScaffolderScopes:
    """The scope every scaffolder endpoint needs, and errors in Backstage's shape (``ResponseError`` reads
    ``{error: {name, message}, request, response: {statusCode}}``)."""

    scope_read = "scaffolder:run"
    scope_write = "scaffolder:run"
    allow_anonymous_read = False

    def handle_exception(self, exc):
        if isinstance(exc, Http404):
            exc = NotFound(str(exc) or "Not found")
        response = super().handle_exception(exc)
        detail = response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data
        message = "; ".join(str(d) for d in detail) if isinstance(detail, list) else str(detail)
        response.data = {
            "error": {"name": ERROR_NAMES.get(response.status_code, "Error"), "message": message},
            "request": {"method": self.request.method, "url": self.request.get_full_path()},
            "response": {"statusCode": response.status_code},
        }
        return response


def iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def task_json(task: Task, steps: list[TaskStep] | None = None) -> dict:
    body = {
        "id": str(task.pk),
        "spec": task.spec,
        "status": task.status,
        "createdAt": iso(task.created_at),
        "lastHeartbeatAt": iso(task.last_heartbeat_at),
        "createdBy": task.created_by_ref,
        # Callboard's additions: what Backstage's UI rebuilds from the event log.
        "finishedAt": iso(task.finished_at),
        "templateVersion": task.template_version,
        "output": task.output,
        "error": task.error or None,
    }
    if steps is not None:
        body["steps"] = [
            {"id": s.step_id, "name": s.name, "action": s.action, "status": s.status,
             "startedAt": iso(s.started_at), "finishedAt": iso(s.finished_at), "output": s.output,
             "error": s.error or None}
            for s in steps
        ]  # fmt: skip
    return body


def get_task(request, task_id: str) -> Task:
    try:
        pk = uuid.UUID(task_id)
    except ValueError:
        raise NotFound(f"No task {task_id!r}") from None
    return get_object_or_404(service.visible_tasks(request.user), pk=pk)


class TaskListView(ScaffolderScopes, APIView):
    def get(self, request):
        tasks = service.visible_tasks(request.user)
        created_by = request.query_params.getlist("createdBy")
        statuses = request.query_params.getlist("status")
        if created_by:
            tasks = tasks.filter(created_by_ref__in=[c.lower() for c in created_by])
        if statuses:
            tasks = tasks.filter(status__in=statuses)
        order = request.query_params.get("order", "desc:created_at")
        direction, _, field = order.partition(":")
        field = {"created_at": "created_at", "status": "status", "created_by": "created_by_ref"}.get(field)
        if direction not in ("asc", "desc") or not field:
            raise ValidationError("order: use asc|desc:created_at|status|created_by")
        tasks = tasks.order_by(("-" if direction == "desc" else "") + field)
        try:
            limit = min(int(request.query_params.get("limit", 100)), 1000)
            offset = max(int(request.query_params.get("offset", 0)), 0)
        except ValueError:
            raise ValidationError("limit and offset: integers") from None
        total = tasks.count()
        page = list(tasks[offset : offset + limit])
        return Response({"tasks": [task_json(t) for t in page], "totalTasks": total})

    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        template_ref = data.get("templateRef")
        if not isinstance(template_ref, str) or not template_ref:
            return Response({"errors": ["templateRef: required"]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            task = service.create_task(request.user, template_ref, data.get("values", {}), data.get("secrets"))
        except service.TemplateNotFound as exc:
            raise NotFound(str(exc)) from None
        except PermissionDenied as exc:
            return error_response(403, "NotAllowedError", str(exc))
        except service.InvalidRequest as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"id": str(task.pk)}, status=status.HTTP_201_CREATED)


class TaskDetailView(ScaffolderScopes, APIView):
    def get(self, request, task_id):
        task = get_task(request, task_id)
        return Response(task_json(task, list(task.steps.all())))


def _after(request) -> int:
    after = request.query_params.get("after") or request.headers.get("Last-Event-ID") or 0
    try:
        return int(after)
    except ValueError:
        raise ValidationError("after: an event id") from None


class TaskEventsView(ScaffolderScopes, APIView):
    def get(self, request, task_id):
        task = get_task(request, task_id)
        events = TaskEvent.objects.filter(task=task, id__gt=_after(request)).order_by("id")[:MAX_EVENTS]
        return Response([e.as_backstage() for e in events])


class EventStreamRenderer(BaseRenderer):
    media_type = "text/event-stream"
    format = "event-stream"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode()  # errors only; events are streamed by the view


def event_stream(task: Task, after: int, *, seconds: float = STREAM_SECONDS):
    """``event: <type>`` / ``data: <event json>`` blocks until the completion event, or ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        events = list(TaskEvent.objects.filter(task=task, id__gt=after).order_by("id")[:MAX_EVENTS])
        for event in events:
            after = event.id
            yield f"id: {event.id}\nevent: {event.type}\ndata: {json.dumps(event.as_backstage())}\n\n"
            if event.type == TaskEvent.Type.COMPLETION:
                return
        # A finished task's last events are committed with its status: one more look, then the stream ends
        # (a task cancelled before it started has no completion event; one cancelled while running gets it
        # from the engine at the next step boundary, so the stream waits for that).
        finished = Task.objects.filter(pk=task.pk, status__in=Task.FINISHED).exclude(
            status=Task.Status.CANCELLED, started_at__isnull=False
        )
        if (
            not events
            and finished.exists()
            and not TaskEvent.objects.filter(task=task, id__gt=after).exists()
        ):
            return
        if time.monotonic() > deadline:
            return
        time.sleep(STREAM_POLL_SECONDS)


class TaskEventStreamView(ScaffolderScopes, APIView):
    """Backstage's ``eventstream`` (Server-Sent Events); ends after the completion event."""

    renderer_classes = [EventStreamRenderer, JSONRenderer]

    def get(self, request, task_id):
        task = get_task(request, task_id)
        response = StreamingHttpResponse(event_stream(task, _after(request)), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response


class IntegrationsView(ScaffolderScopes, APIView):
    def get(self, request):
        integrations = [{"type": "github", "title": h, "host": h} for h in settings.CATALOG_GITHUB_HOSTS]
        integrations += [{"type": "gitlab", "title": h, "host": h} for h in settings.CATALOG_GITLAB_HOSTS]
        return Response({"integrations": integrations})


class TaskCancelView(ScaffolderScopes, APIView):
    def post(self, request, task_id):
        task = get_task(request, task_id)
        service.cancel_task(task, request.user)
        task.refresh_from_db(fields=["status"])
        return Response({"status": task.status})


class TaskRetryView(ScaffolderScopes, APIView):
    """Backstage's retry: ``{secrets?}`` → 201 ``{"id"}``; the run resumes at the first step not completed."""

    def post(self, request, task_id):
        task = get_task(request, task_id)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            service.retry_task(task, request.user, data.get("secrets"))
        except service.TemplateNotFound as exc:
            raise NotFound(str(exc)) from None
        except PermissionDenied as exc:
            return error_response(403, "NotAllowedError", str(exc))
        except service.InvalidRequest as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        except service.NotRetryable as exc:
            return error_response(409, "ConflictError", str(exc))
        return Response({"id": str(task.pk)}, status=status.HTTP_201_CREATED)


class DryRunView(ScaffolderScopes, APIView):
    """Backstage's dry run: the template in the body runs on uploaded files; nothing is stored or published."""

    def post(self, request):
        try:
            result = service.dry_run(request.user, request.data)
        except PermissionDenied as exc:
            return error_response(403, "NotAllowedError", str(exc))
        except service.InvalidRequest as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        except dryrun.DryRunFailed as exc:  # the template's fault: a 400 with the log up to the failure
            return Response({"error": exc.error, **exc.result}, status=status.HTTP_400_BAD_REQUEST)
        return Response(result)


def error_response(code: int, name: str, message: str) -> Response:
    return Response({"error": {"name": name, "message": message}, "response": {"statusCode": code}}, status=code)


class ActionListView(ScaffolderScopes, APIView):
    def get(self, request):
        return Response([
            {"id": a.id, "description": a.description, "examples": a.examples,
             "schema": {"input": a.input_schema, "output": a.output_schema}}
            for a in all_actions()
        ])  # fmt: skip


def template_or_404(request, namespace: str, kind: str, name: str, what: str):
    """The Template entity at ``templates/{namespace}/{kind}/{name}`` the caller may read, else a 404."""
    if kind.lower() != "template":
        raise NotFound(f"Only templates have {what}")
    try:
        return service.find_template(request.user, f"template:{namespace}/{name}")
    except service.TemplateNotFound as exc:
        raise NotFound(str(exc)) from None


class ParameterSchemaView(ScaffolderScopes, APIView):
    def get(self, request, namespace, kind, name):
        entity = template_or_404(request, namespace, kind, name, "a parameter schema")
        return Response(service.parameter_schema(entity))


class TemplateCensusView(ScaffolderScopes, APIView):
    """Callboard's extension: the entities each version of a template created (scaffolder/census.py)."""

    def get(self, request, namespace, kind, name):
        entity = template_or_404(request, namespace, kind, name, "a census")
        versions = census.template_census(entity, request.user)
        for group in versions:
            for item in group["entities"]:
                item["createdAt"] = iso(item["createdAt"])
        return Response({"templateRef": entity.ref, "latestVersion": census.current_version(entity),
                         "versions": versions})  # fmt: skip
