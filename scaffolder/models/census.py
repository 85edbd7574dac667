"""What templates created: one row per entity a task's step reported (``entityRef`` outputs)."""

from __future__ import annotations

from django.db import models

from scaffolder.models.tasks import Task


class CreatedEntity(models.Model):
    """An entity a template run created, with the template version and values (secrets removed) it ran with."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="created_entities")
    template_ref = models.CharField(max_length=400, help_text="template:namespace/name")
    template_version = models.CharField(max_length=128, blank=True, help_text="commit sha (or etag) it ran from")
    template_etag = models.CharField(max_length=40, blank=True)
    entity_ref = models.CharField(max_length=400, db_index=True)
    values = models.JSONField(default=dict, blank=True, help_text="parameter values, secret fields removed")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["template_ref", "template_version"], name="created_entity_template_idx")]
        constraints = [models.UniqueConstraint(fields=["task", "entity_ref"], name="unique_created_entity_per_task")]

    def __str__(self) -> str:
        return f"{self.entity_ref} from {self.template_ref}@{self.template_version[:12]}"
