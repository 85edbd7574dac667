"""Entity querysets: visibility and the prefetches list views need."""

from __future__ import annotations

from django.db import models


class EntityQuerySet(models.QuerySet):
    def owned_by(self, refs) -> EntityQuerySet:
        return self.filter(owner_ref__in=list(refs))

    def with_errors(self) -> EntityQuerySet:
        return self.filter(error_count__gt=0)

    def orphans(self) -> EntityQuerySet:
        return self.filter(orphaned_at__isnull=False)
