"""Relations between entity refs. The target may not exist: such a relation is kept and shown dangling."""

from __future__ import annotations

from django.db import models


class Relation(models.Model):
    """One directed edge, owned by the entity whose descriptor emitted it (both directions are emitted)."""

    # No database constraint, like SearchRow.entity: derived rows, written and deleted with their entity.
    origin = models.ForeignKey(
        "catalog.Entity", on_delete=models.CASCADE, related_name="emitted_relations", db_constraint=False
    )
    source_ref = models.CharField(max_length=400)
    type = models.CharField(max_length=100)
    target_ref = models.CharField(max_length=400)

    class Meta:
        indexes = [
            models.Index(fields=["source_ref", "type"]),
            models.Index(fields=["target_ref", "type"]),
        ]

    def __str__(self) -> str:
        return f"{self.source_ref} {self.type} {self.target_ref}"
