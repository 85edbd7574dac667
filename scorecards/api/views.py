"""``GET /api/scorecards/entities/{kind}/{namespace}/{name}``: the entity's scorecards, as the CLI prints them;
``/api/scorecards/exemptions``: exemption requests and decisions (docs/scorecards.md)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Entity
from catalog.permissions import readable
from scorecards import exemptions
from scorecards.models import Exemption, Scorecard
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


def exemption_document(row: Exemption) -> dict:
    return {
        "id": row.pk, "scorecard": row.scorecard.ref, "entityRef": row.entity_ref, "rule": row.rule_id,
        "reason": row.reason, "state": row.state, "requestedBy": row.requested_by,
        "requestedAt": row.requested_at.isoformat(),
        "expiresAt": row.expires_at.isoformat() if row.expires_at else None,
        "decidedBy": row.approved_by or row.denied_by or None,
        "decidedAt": (row.approved_at or row.denied_at).isoformat() if (row.approved_at or row.denied_at) else None,
        "note": row.decision_note,
    }  # fmt: skip


def _refused(exc: ValidationError) -> Response:
    return Response({"errors": exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}}, status=400)


class ExemptionsView(APIView):
    """``GET``: the exemptions you asked for and those you may decide on (``?state=pending``).
    ``POST {"entityRef", "scorecard", "rule", "reason", "expiresAt"?}``: request one (owners of the entity)."""

    scope_read = "catalog:read"
    scope_write = "scorecards:write"

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        mine = Exemption.objects.filter(requested_by=request.user.get_username())
        rows = (exemptions.decidable(request.user) | mine).select_related("scorecard").order_by("-requested_at")
        state = request.query_params.get("state")
        items = [exemption_document(row) for row in rows[:500]]
        return Response({"items": [i for i in items if not state or i["state"] == state]})

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        missing = [key for key in ("entityRef", "scorecard", "rule", "reason") if not isinstance(data.get(key), str)]
        if missing:
            return Response({"errors": {key: "required (a string)" for key in missing}}, status=400)
        entity = readable(Entity.objects.filter(ref=data["entityRef"].lower()), request.user).first()
        card = Scorecard.objects.filter(ref=data["scorecard"].lower()).first()
        if entity is None or card is None:
            raise Http404("No such entity" if entity is None else "No such scorecard")
        expires = data.get("expiresAt")
        expires_at = parse_datetime(expires) if isinstance(expires, str) else None
        if expires and (expires_at is None or expires_at.tzinfo is None):
            return Response({"errors": {"expiresAt": "an ISO 8601 date-time with a time zone"}}, status=400)
        try:
            row = exemptions.request_exemption(request.user, entity, card, data["rule"], data["reason"], expires_at)
        except ValidationError as exc:
            return _refused(exc)
        return Response(exemption_document(row), status=201)


class ExemptionDecisionView(APIView):
    """``POST /api/scorecards/exemptions/{id}/approve`` or ``/deny`` with an optional ``{"note": "..."}``."""

    scope_read = "catalog:read"
    scope_write = "scorecards:write"
    verdict = "approve"

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        row = Exemption.objects.select_related("scorecard").filter(pk=pk).first()
        if row is None or not exemptions.may_decide(request.user, row.scorecard):
            raise Http404("No such exemption request")
        note = request.data.get("note", "") if isinstance(request.data, dict) else ""
        decide = exemptions.approve if self.verdict == "approve" else exemptions.deny
        try:
            row = decide(request.user, row, note if isinstance(note, str) else "")
        except ValidationError as exc:
            return _refused(exc)
        return Response(exemption_document(row))
