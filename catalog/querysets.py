"""Entity querysets: visibility and the prefetches list views need."""

from __future__ import annotations

from django.db import connection, models
from django.db.models import Q
from django.db.models.expressions import RawSQL

# The entity's outgoing relations as one JSON array of [type, targetRef] pairs, read in the same query.
_RELATIONS_JSON = {
    "postgresql": "SELECT json_agg(json_build_array(r.type, r.target_ref)) FROM catalog_relation r"
    " WHERE r.source_ref = catalog_entity.ref",
    "sqlite": "SELECT json_group_array(json_array(r.type, r.target_ref)) FROM catalog_relation r"
    " WHERE r.source_ref = catalog_entity.ref",
}


def kind_range(kinds) -> Q:
    """Kinds as ranges of the ref index: refs are ``kind:namespace/name``, lower-cased, and a kind never
    contains ':', so every ref of kind x lies in [x:, x;) — a bounded, ordered index walk."""
    q = Q()
    for kind in kinds:
        kind = kind.lower()
        q |= Q(ref__gte=f"{kind}:", ref__lt=f"{kind};")
    return q


def iexact_any(field: str, values) -> Q:
    """``field`` equal to any of ``values``, ignoring case."""
    q = Q()
    for value in values:
        q |= Q(**{f"{field}__iexact": value})
    return q


class EntityQuerySet(models.QuerySet):
    def owned_by(self, refs) -> EntityQuerySet:
        """Owned by any of ``refs``, a verified owner replacing ``spec.owner`` (catalog/owners.py)."""
        from catalog.owners import owned_by_q  # catalog.owners reads the models, which import this module

        return self.filter(owned_by_q(refs))

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
