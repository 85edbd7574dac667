"""Native, OpenAPI-documented catalog API (filters Backstage's shape cannot express)."""

from __future__ import annotations

from django.db import transaction
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from catalog.api.serializers import EntitySerializer, LocationSerializer, ProcessingErrorSerializer
from catalog.filtersets import EntityFilterSet
from catalog.ingestion import refresh
from catalog.ingestion.sources import SourceError
from catalog.models import Entity, Location, ProcessingError
from catalog.permissions import (
    REFRESH,
    REGISTER,
    UNREGISTER,
    decide,
    location_decision,
    readable,
    readable_errors,
    readable_locations,
    require,
)
from catalog.tasks import schedule_refresh


class CatalogScopes:
    scope_read = "catalog:read"
    scope_write = "catalog:write"


class EntityViewSet(CatalogScopes, viewsets.ReadOnlyModelViewSet):
    queryset = Entity.objects.order_by("ref")
    serializer_class = EntitySerializer
    filterset_class = EntityFilterSet
    lookup_field = "uid"

    def get_queryset(self):
        return readable(super().get_queryset(), self.request.user)


class LocationViewSet(CatalogScopes, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Location.objects.order_by("target")
    serializer_class = LocationSerializer

    def get_queryset(self):
        return readable_locations(super().get_queryset(), self.request.user)

    def perform_create(self, serializer):
        require(decide(self.request.user, REGISTER))
        data = serializer.validated_data
        try:
            with transaction.atomic():
                location = refresh.register_location(
                    data["target"], type=data.get("type", "url"), presence=data.get("presence", "required"),
                    created_by=self.request.user.get_username(),
                )  # fmt: skip
                schedule_refresh(location.pk, force=True)
        except SourceError as exc:
            raise ValidationError({"target": str(exc)}) from exc
        serializer.instance = location

    def perform_destroy(self, instance):
        require(location_decision(self.request.user, UNREGISTER, instance))
        refresh.unregister_location(instance.pk)

    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        location = self.get_object()
        require(location_decision(request.user, REFRESH, location, every=False))
        schedule_refresh(location.pk, force=True)
        return Response({"status": "scheduled"}, status=202)


class ProcessingErrorViewSet(CatalogScopes, viewsets.ReadOnlyModelViewSet):
    queryset = ProcessingError.objects.order_by("id")
    serializer_class = ProcessingErrorSerializer
    filterset_fields = ["entity_ref", "rule", "level", "location"]

    def get_queryset(self):
        return readable_errors(super().get_queryset(), self.request.user)
