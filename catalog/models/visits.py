"""Recently visited entities, per user: the home page's "Recently visited" list."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Subquery
from django.utils import timezone

KEEP_PER_USER = 20


class Visit(models.Model):
    """The last time a user opened an entity page. Kept by ref (as stars are) and pruned to the latest 20."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    entity_ref = models.CharField(max_length=400)
    visited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "entity_ref"], name="unique_visit")]
        indexes = [models.Index(fields=["user", "-visited_at"], name="visit_recent_idx")]

    def __str__(self) -> str:
        return f"{self.user} → {self.entity_ref}"


def record_visit(user, entity_ref: str) -> None:
    """Upsert the visit and drop the user's older ones: two statements, whatever the history."""
    Visit.objects.bulk_create(
        [Visit(user=user, entity_ref=entity_ref, visited_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["user", "entity_ref"],
        update_fields=["visited_at"],
    )
    keep = Visit.objects.filter(user=user).order_by("-visited_at", "-id").values("id")[:KEEP_PER_USER]
    Visit.objects.filter(user=user).exclude(id__in=Subquery(keep)).delete()


def recent_visits(user, entities) -> list[tuple[Visit, object]]:
    """(visit, entity or None) pairs, newest first, in two queries, from ``entities`` (those the user may
    read). None: the entity left the catalog, or the user may no longer read it."""
    visits = list(Visit.objects.filter(user=user).order_by("-visited_at", "-id")[:KEEP_PER_USER])
    columns = ["ref", "kind", "namespace", "name", "title", "spec_type", "error_count"]
    entities = entities.only(*columns).in_bulk([v.entity_ref for v in visits], field_name="ref")
    return [(v, entities.get(v.entity_ref)) for v in visits]
