"""``GET /api/scorecards/entities/{kind}/{namespace}/{name}``: the entity's scorecards, as the CLI prints them."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Entity
from catalog.permissions import readable
from scorecards.report import entity_report


class EntityScorecardsView(APIView):
    """Readable by whoever may read the entity (the catalog's read rule); 404 otherwise, as for the entity."""

    scope_read = "catalog:read"

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        description="Per scorecard that applies: level reached, points, "
        "every rule's result (passed/failed/error/exempt), reason and data age (docs/scorecards.md).",
    )
    def get(self, request, kind: str, namespace: str, name: str):
        ref = f"{kind}:{namespace}/{name}".lower()
        entity = readable(Entity.objects.filter(ref=ref), request.user).select_related("location").first()
        if entity is None:
            raise Http404(f"No entity {ref}")
        return Response(entity_report(entity))
