"""Where descriptors come from: registered locations (a file, a git repository path, a URL)."""

from __future__ import annotations

import uuid

from django.db import models


class Location(models.Model):
    """A registered root location. Location *entities* found inside it are followed in the same refresh."""

    class Type(models.TextChoices):
        URL = "url", "url"
        FILE = "file", "file"

    class Status(models.TextChoices):
        PENDING = "pending"
        OK = "ok"
        ERROR = "error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.URL)
    target = models.CharField(max_length=1000, unique=True)
    presence = models.CharField(max_length=10, default="required")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    message = models.TextField(blank=True, help_text="Why the last refresh failed, if it did.")
    version = models.CharField(
        max_length=128, blank=True, help_text="Commit sha or content fingerprint of the last read."
    )
    manifest = models.JSONField(default=dict, blank=True, help_text="Files read last time, for change checks.")
    tree = models.JSONField(
        default=dict, blank=True, help_text="Each file read and the Location entity that included it (null: root)."
    )
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_changed_at = models.DateTimeField(null=True, blank=True)
    next_refresh_at = models.DateTimeField(null=True, blank=True, db_index=True)
    entity_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["target"]

    def __str__(self) -> str:
        return self.ref

    @property
    def ref(self) -> str:
        """Backstage's location ref, ``type:target``."""
        return f"{self.type}:{self.target}"


class LocationRefresh(models.Model):
    """Whether a location is being refreshed now, so that only one refresh of it runs at a time
    (catalog/ingestion/exclusive.py). A row of its own: a refresh rewrites its Location row whole."""

    class State(models.TextChoices):
        IDLE = "idle"
        RUNNING = "running"
        RERUN = "rerun", "running; once more after"
        RERUN_FORCED = "rerun-forced", "running; once more after, forced"

    location = models.OneToOneField(Location, on_delete=models.CASCADE, primary_key=True, related_name="refresh_run")
    state = models.CharField(max_length=12, choices=State.choices, default=State.IDLE)
    token = models.CharField(max_length=100, blank=True, help_text="The running pass's claim: host, pid, random.")
    job_id = models.BigIntegerField(null=True, blank=True, help_text="Its portal.JobRun, when a task runs it.")
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the running pass started.")
    forced = models.BooleanField(default=False, help_text="The running pass is forced.")
    last_forced_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last forced pass that completed started."
    )

    def __str__(self) -> str:
        return f"{self.location_id} [{self.state}]"
