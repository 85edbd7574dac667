"""Entity querysets: visibility and the prefetches list views need."""

from __future__ import annotations

from django.db import connection, models
from django.db.models.expressions import RawSQL

# The entity's outgoing relations as one JSON array of [type, targetRef] pairs, read in the same query.
_RELATIONS_JSON = {
    "postgresql": "SELECT json_agg(json_build_array(r.type, r.target_ref)) FROM catalog_relation r"
    " WHERE r.source_ref = catalog_entity.ref",
    "sqlite": "SELECT json_group_array(json_array(r.type, r.target_ref)) FROM catalog_relation r"
    " WHERE r.source_ref = catalog_entity.ref",
}


class EntityQuerySet(models.QuerySet):
    def owned_by(self, refs) -> EntityQuerySet:
        return self.filter(owner_ref__in=list(refs))

    def with_relations_json(self) -> EntityQuerySet:
        """Annotate ``relations_json`` so a single entity is shaped with one query (see shapes.py)."""
        sql = _RELATIONS_JSON.get(connection.vendor)
        if sql is None:
            return self
        relations = RawSQL(sql, (), output_field=models.TextField())  # noqa: S611 - constant SQL, no input
        return self.annotate(relations_json=relations)

    def with_errors(self) -> EntityQuerySet:
        return self.filter(error_count__gt=0)

    def orphans(self) -> EntityQuerySet:
        return self.filter(orphaned_at__isnull=False)
