"""Entity filters shared by the catalog page and the native API."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q

from catalog.ingestion.relations import PART_OF
from catalog.models import Entity, Relation, SearchRow, Star
from catalog.querysets import iexact_any, kind_range


class EntityFilterSet(django_filters.FilterSet):
    kind = django_filters.CharFilter(method="filter_kind", label="Kind")
    type = django_filters.CharFilter(field_name="spec_type", method="filter_iexact_in", label="Type")
    lifecycle = django_filters.CharFilter(method="filter_iexact_in")
    namespace = django_filters.CharFilter(method="filter_iexact_in")
    # owner and owned_by: the effective owner, an admin's verified owner replacing spec.owner (catalog/owners.py)
    owner = django_filters.CharFilter(method="filter_owned_by", label="Owner ref")
    system = django_filters.CharFilter(method="filter_system", label="System ref")
    tag = django_filters.CharFilter(method="filter_tag", label="Tag")
    q = django_filters.CharFilter(method="filter_text", label="Text")
    has_errors = django_filters.BooleanFilter(method="filter_has_errors")
    orphaned = django_filters.BooleanFilter(field_name="orphaned_at", lookup_expr="isnull", exclude=True)
    starred = django_filters.BooleanFilter(method="filter_starred")
    owned_by = django_filters.CharFilter(method="filter_owned_by", label="Owned by any of these refs")

    class Meta:
        model = Entity
        fields = ["kind", "type", "lifecycle", "namespace", "owner", "system", "tag", "q"]

    def filter_iexact_in(self, queryset, name, value):
        values = [v.strip() for v in value.split(",") if v.strip()]
        return queryset.filter(iexact_any(name, values)) if values else queryset

    def filter_system(self, queryset, name, value):
        """System refs (stored lower-cased). The relations' target index finds a system's members: the
        column has no index of its own, and walking the ref index for a small system read every row."""
        refs = [v.strip().lower() for v in value.split(",") if v.strip()]
        if not refs:
            return queryset
        members = Relation.objects.filter(type=PART_OF, target_ref__in=refs).values("source_ref")
        return queryset.filter(system_ref__in=refs, ref__in=members)

    def filter_kind(self, queryset, name, value):
        """Kinds as ranges of the ref index (refs start with the lower-cased kind and a colon)."""
        return queryset.filter(kind_range(v.strip() for v in value.split(",") if v.strip()))

    def filter_tag(self, queryset, name, value):
        rows = SearchRow.objects.filter(entity=OuterRef("pk"), key="metadata.tags." + value.lower(), value="true")
        return queryset.filter(Exists(rows))

    def filter_text(self, queryset, name, value):
        condition = Q()
        for word in value.split()[:5]:
            condition &= Q(name__icontains=word) | Q(title__icontains=word) | Q(description__icontains=word)
        return queryset.filter(condition)

    def filter_has_errors(self, queryset, name, value):
        return queryset.with_errors() if value else queryset.filter(error_count=0)

    def filter_starred(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or not (user and user.is_authenticated):
            return queryset
        return queryset.filter(ref__in=Star.objects.filter(user=user).values("entity_ref"))

    def filter_owned_by(self, queryset, name, value):
        return queryset.owned_by(v.strip().lower() for v in value.split(",") if v.strip())
