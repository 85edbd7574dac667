"""Tasks as Backstage models them: a task, its steps, and an append-only event log read by ``after=<id>``."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Task(models.Model):
    """One run of a template. ``values`` never hold secrets; ``sealed_secrets`` is encrypted and wiped at the end."""

    class Status(models.TextChoices):
        OPEN = "open"
        PROCESSING = "processing"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    template_ref = models.CharField(max_length=400, db_index=True, help_text="template:namespace/name")
    template_etag = models.CharField(max_length=40, blank=True, help_text="the entity's etag when the task was made")
    template_version = models.CharField(max_length=128, blank=True, help_text="commit sha or file stat it ran from")
    spec = models.JSONField(help_text="Backstage's task spec: steps, output, parameters, user, templateInfo")
    values = models.JSONField(default=dict, blank=True, help_text="parameter values with secret fields removed")
    sealed_secrets = models.TextField(blank=True, help_text="request secrets and secret fields, encrypted")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="scaffolder_tasks"
    )
    created_by_ref = models.CharField(max_length=400, blank=True, db_index=True, help_text="user entity ref")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    output = models.JSONField(default=dict, blank=True)
    error = models.JSONField(default=dict, blank=True, help_text="{name, message} of the first failure")
    job = models.ForeignKey("portal.JobRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.template_ref} [{self.status}]"


class TaskStep(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        PROCESSING = "processing"
        COMPLETED = "completed"
        FAILED = "failed"
        SKIPPED = "skipped"
        CANCELLED = "cancelled"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    step_id = models.CharField(max_length=200)
    name = models.CharField(max_length=300)
    action = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    output = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["task", "position"]
        constraints = [models.UniqueConstraint(fields=["task", "position"], name="unique_task_step_position")]

    def __str__(self) -> str:
        return f"{self.step_id} [{self.status}]"


class TaskEvent(models.Model):
    """An event as Backstage streams it; ``id`` is the global, increasing event id clients pass as ``after``."""

    class Type(models.TextChoices):
        LOG = "log"
        COMPLETION = "completion"
        CANCELLED = "cancelled"
        RECOVERED = "recovered"

    id = models.BigAutoField(primary_key=True)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField(help_text="order within the task")
    type = models.CharField(max_length=12, choices=Type.choices)
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        # Reads are "this task's events after id N"; seq is informative (a cancel may race the engine for it).
        indexes = [models.Index(fields=["task", "id"], name="task_event_after_idx")]

    def __str__(self) -> str:
        return f"{self.type} #{self.id}"

    def as_backstage(self) -> dict:
        return {
            "id": self.id,
            "taskId": str(self.task_id),
            "type": self.type,
            "createdAt": self.created_at.isoformat().replace("+00:00", "Z"),
            "isTaskRecoverable": False,
            "body": self.body,
        }
