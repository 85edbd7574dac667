"""A record of every background job: what ran, for what, how it ended and what it said."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class JobRun(models.Model):
    """One execution of a background job (catalog refresh, docs build, template run, ...)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    name = models.CharField(max_length=100, db_index=True)
    object_repr = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    log = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    # Set when a Celery worker runs the job (portal/jobs.py): the message to send again if the worker is
    # lost, the worker's name, and its last sign of life (refreshed while the job runs).
    task_id = models.CharField(max_length=255, blank=True, db_index=True)
    task_call = models.JSONField(default=dict, blank=True)  # {"task", "args", "kwargs", "queue"}
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempt = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["worker", "heartbeat_at"], name="jobrun_worker_heartbeat")]

    def __str__(self) -> str:
        return f"{self.name} {self.object_repr} [{self.status}]"

    def append_log(self, line: str) -> None:
        self.log += f"{timezone.now():%H:%M:%S} {line}\n"
