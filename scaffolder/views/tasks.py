"""The task pages: my runs (admins: all), and one run with its steps, live log, output, cancel and retry.

The log is streamed by htmx polling ``task_events`` with ``after=<last event id>``: each answer appends the
new lines, redraws the steps and the status panel, and replaces the poller, which is left out once the task
has finished (so polling stops).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from catalog.ingestion.refs import RefError, parse_ref
from scaffolder import service
from scaffolder.models import Task, TaskEvent, TaskStep

PAGE_SIZE = 50
POLL_SECONDS = 1


def task_list(request: HttpRequest) -> HttpResponse:
    tasks = service.visible_tasks(request.user)
    templates = sorted(set(tasks.values_list("template_ref", flat=True).distinct()))
    status, template = request.GET.get("status", ""), request.GET.get("template", "")
    if status in Task.Status.values:
        tasks = tasks.filter(status=status)
    if template:
        tasks = tasks.filter(template_ref=template)
    page = Paginator(tasks.select_related("created_by").order_by("-created_at"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "scaffolder/task_list.html", {
        "page": page, "statuses": Task.Status.values, "status": status, "templates": templates,
        "template": template, "query": query.urlencode(), "everyone": service.may_see_all(request.user),
    })  # fmt: skip


def _task(request: HttpRequest, task_id: uuid.UUID) -> Task:
    return get_object_or_404(service.visible_tasks(request.user), pk=task_id)


def task_detail(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    task = _task(request, task_id)
    events = list(TaskEvent.objects.filter(task=task).order_by("id"))
    return render(request, "scaffolder/task_detail.html", {**_panels(task), "events": _lines(events),
                                                          "after": events[-1].id if events else 0})  # fmt: skip


def task_events(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    """The htmx fragment: log lines after ``after``, the steps, the status panel and the next poller."""
    task = _task(request, task_id)
    try:
        after = int(request.GET.get("after", 0))
    except ValueError:
        after = 0
    events = list(TaskEvent.objects.filter(task=task, id__gt=after).order_by("id")[:500])
    return render(request, "scaffolder/_task_events.html", {**_panels(task), "events": _lines(events),
                                                           "after": events[-1].id if events else after})  # fmt: skip


@require_POST
def task_cancel(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    task = _task(request, task_id)
    if service.cancel_task(task, request.user):
        messages.info(request, "Cancelled; a running step finishes first, the rest do not run.")
    return redirect("scaffolder:task", task_id=task.pk)


@require_POST
def task_retry(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    task = _task(request, task_id)
    try:
        service.retry_task(task, request.user)
    except service.TemplateNotFound as exc:
        raise Http404(str(exc)) from None
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except service.NotRetryable as exc:
        messages.error(request, str(exc))
    return redirect("scaffolder:task", task_id=task.pk)


def _panels(task: Task) -> dict[str, Any]:
    steps = list(TaskStep.objects.filter(task=task).order_by("position"))
    stopping = _still_stopping(task)
    return {
        "task": task,
        "steps": steps,
        "finished": task.status in Task.FINISHED and not stopping,
        "links": [_link(link) for link in (task.output or {}).get("links") or [] if isinstance(link, dict)],
        "texts": [t for t in (task.output or {}).get("text") or [] if isinstance(t, dict)],
        "retryable": task.status in (Task.Status.FAILED, Task.Status.CANCELLED) and not stopping,
        "poll_seconds": POLL_SECONDS,
    }


def _still_stopping(task: Task) -> bool:
    """A task cancelled while running: its engine stops at the next step boundary and writes its end then."""
    return (
        task.status == Task.Status.CANCELLED
        and task.started_at is not None
        and not TaskEvent.objects.filter(task=task, type=TaskEvent.Type.COMPLETION).exists()
    )


def _link(link: dict[str, Any]) -> dict[str, Any]:
    """An output link; ``entityRef`` links to the entity's catalog page."""
    href = link.get("url") or ""
    if link.get("entityRef"):
        try:
            ref = parse_ref(str(link["entityRef"]))
            href = reverse("catalog:entity", args=[ref.namespace, ref.kind, ref.name])
        except (RefError, NoReverseMatch):
            href = ""
    title = link.get("title") or link.get("entityRef") or href
    return {"title": str(title), "href": href if _safe(href) else "", "icon": link.get("icon") or ""}


def _safe(href: str) -> bool:
    return href.startswith(("/", "https://", "http://", "file://", "git+"))


def _lines(events: list[TaskEvent]) -> list[dict[str, Any]]:
    lines = []
    for event in events:
        body = event.body or {}
        if event.type == TaskEvent.Type.COMPLETION:
            message = "Completed" if "output" in body else body.get("message") or "Failed"
        else:
            message = body.get("message") or event.type
        lines.append({"id": event.id, "at": event.created_at, "type": event.type, "step": body.get("stepId", ""),
                      "status": body.get("status") or ("failed" if body.get("error") else ""), "message": message})
    return lines
