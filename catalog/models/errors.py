"""Processing errors, attached to a location, an entity, or an entity ref that never processed."""

from __future__ import annotations

from django.db import models

from catalog.ingestion.errors import where


class ProcessingError(models.Model):
    """Where it happened (file, document, field), which rule broke, and what to do about it."""

    class Level(models.TextChoices):
        ERROR = "error"
        WARNING = "warning"
        INFO = "info"

    location = models.ForeignKey(
        "catalog.Location", on_delete=models.CASCADE, null=True, blank=True, related_name="errors"
    )
    entity = models.ForeignKey("catalog.Entity", on_delete=models.CASCADE, null=True, blank=True, related_name="errors")
    entity_ref = models.CharField(max_length=400, blank=True, db_index=True)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.ERROR)
    file = models.CharField(max_length=1000, blank=True)
    document = models.IntegerField(null=True, blank=True)
    field = models.CharField(max_length=300, blank=True)
    rule = models.CharField(max_length=60, blank=True)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["file", "document", "id"]

    def __str__(self) -> str:
        return self.where + ": " + self.message

    @property
    def where(self) -> str:
        """``component:default/x in <file> › document <n> › <field>`` (the entity named when known)."""
        return where(self.file, self.document, self.field, self.entity_ref)

    def as_status_item(self) -> dict:
        """Backstage's ``status.items[]`` shape, plus where it happened."""
        name = "ConflictError" if self.rule == "conflict" else "InputError"
        return {
            "type": "backstage.io/catalog-processing",
            "level": self.level,
            "message": f"{name}: {self.message}",
            "error": {"name": name, "message": self.message},
            "location": {"file": self.file, "document": self.document, "field": self.field, "rule": self.rule},
        }
