"""``/api/scorecards/``: scorecards with their distribution, history as of a date, team summaries,
initiatives (read by anyone signed in; written with the ``scorecards:write`` scope and the
``scorecards.initiative.write`` action) and their progress. docs/scorecards.md#api."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.permissions import decide, hidden_refs
from portal import clock
from portal.access import actions
from portal.api.permissions import PortalAccess
from scorecards import initiatives, overview
from scorecards.api.serializers import InitiativeSerializer, progress_document
from scorecards.history import as_of, distribution_as_of, levels_as_of, trend
from scorecards.models import Initiative, Scorecard


def card_document(card: Scorecard, summary: dict) -> dict:
    return {"scorecard": card.ref, "title": str(card), "description": card.description,
            "owner": card.spec.get("owner", ""), "levels": card.levels, "rules": len(card.rules),
            "entities": len(summary["rows"]), "distribution": summary["distribution"]}  # fmt: skip


def get_card(namespace: str, name: str) -> Scorecard:
    return get_object_or_404(Scorecard, ref=f"scorecard:{namespace}/{name}".lower())


class ReadView(APIView):
    scope_read = "catalog:read"


class ScorecardListView(ReadView):
    @extend_schema(responses=OpenApiTypes.OBJECT, description="Every scorecard with the number of entities per "
                   'level ("-": none reached), counting the entities the caller may read.')  # fmt: skip
    def get(self, request):
        cards = Scorecard.objects.order_by("ref")
        return Response({"items": [card_document(c, overview.scorecard_summary(c, request.user)) for c in cards]})


class ScorecardDetailView(ReadView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter("days", int, description="Days of trend (default 30, at most 366)")],
        description="One scorecard: distribution, per-team leaderboard, rule pass rates and the per-day trend.",
    )
    def get(self, request, namespace: str, name: str):
        card = get_card(namespace, name)
        summary = overview.scorecard_summary(card, request.user)
        days = _int(request.query_params.get("days", "30"), "days", 1, 366)
        refs = None if not overview.readable_refs_q(request.user) else {r.entity.ref for r in summary["rows"]}
        series = trend(card, days=days, now=clock.now(), refs=refs)
        return Response({
            **card_document(card, summary),
            "teams": [{"team": t.ref, "entities": t.entities, "percentage": t.percentage,
                       "levels": dict(zip(summary["distribution"], t.cells, strict=True))} for t in summary["teams"]],
            "rulesPassing": [{"id": r["id"], "level": r["level"], "passed": r["passed"], "total": r["total"],
                              "percentage": r["percentage"]} for r in overview.rule_pass_rates(card, request.user)],
            "trend": [{"date": day.isoformat(), "levels": counts} for day, counts in series],
        })  # fmt: skip


class ScorecardAsOfView(ReadView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[
            OpenApiParameter("at", str, required=True, description="ISO date or date-time (a date: its end, UTC)"),
            OpenApiParameter("entity", str, description="An entity ref: its level then"),
            OpenApiParameter("team", str, description="A group ref: the distribution of its entities then"),
        ],
        description="History: the level of an entity, or the distribution of a team's or every entity's levels, "
        "as of a date.",
    )
    def get(self, request, namespace: str, name: str):
        card = get_card(namespace, name)
        when = _when(request.query_params.get("at", ""))
        entity, team = request.query_params.get("entity", "").lower(), request.query_params.get("team", "").lower()
        readable = overview.readable_refs_q(request.user)
        if entity:
            if entity in hidden_refs([entity], request.user):
                return Response({"detail": f"No entity {entity}"}, status=404)
            return Response({"scorecard": card.ref, "at": when.isoformat(), "entityRef": entity,
                             "level": as_of(card, entity, when)})  # fmt: skip
        refs = None
        if team:
            refs = {t.entity.ref for t in overview.team_entities(team, request.user)}
        elif readable:
            refs = {r.entity.ref for r in overview.rows(card, request.user)}
        return Response({"scorecard": card.ref, "at": when.isoformat(), "team": team or None,
                         "distribution": distribution_as_of(card, when, refs=refs),
                         "entities": len(levels_as_of(card, when, refs=refs))})  # fmt: skip


class TeamView(ReadView):
    @extend_schema(responses=OpenApiTypes.OBJECT, description="A team's entities (owned by the group) with their "
                   "level on every scorecard and the rules to fix for the next level.")  # fmt: skip
    def get(self, request, namespace: str, name: str):
        group = f"group:{namespace}/{name}".lower()
        items = []
        for item in overview.team_entities(group, request.user):
            items.append({"entityRef": item.entity.ref, "scorecards": [
                {"scorecard": c["card"].ref, "level": None if c["level"] == "-" else c["level"],
                 "percentage": c["percentage"],
                 "nextFixes": [{"id": f["id"], "level": f["level"], "description": f["description"],
                                "remediation": f.get("remediation", "")} for f in c["fixes"]]}
                for c in item.cards]})  # fmt: skip
        return Response({"team": group, "entities": items})


class InitiativeWrite(BasePermission):
    """Writing needs the ``scorecards.initiative.write`` action (a rule without conditions grants it)."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        decision = decide(request.user, actions.INITIATIVE_WRITE)
        if not decision.allowed:
            raise PermissionDenied(decision.reason)
        return True


class InitiativeViewSet(viewsets.ModelViewSet):
    """Initiatives; those mirrored from the catalog (``source: catalog``) are changed in their YAML, not here."""

    queryset = Initiative.objects.select_related("scorecard").order_by("deadline", "slug")
    serializer_class = InitiativeSerializer
    lookup_field = "slug"
    permission_classes = [PortalAccess, InitiativeWrite]
    scope_read = "catalog:read"
    scope_write = "scorecards:write"
    pagination_class = None

    def perform_create(self, serializer):
        starts = serializer.validated_data.get("starts_at") or clock.now()
        serializer.save(starts_at=starts, source=Initiative.Source.ADMIN)

    def _editable(self, instance: Initiative) -> None:
        if instance.source == Initiative.Source.CATALOG:
            raise ValidationError({"detail": f"{instance.slug} comes from the catalog ({instance.entity_ref}): "
                                   "change it in its YAML"})  # fmt: skip

    def perform_update(self, serializer):
        self._editable(serializer.instance)
        serializer.save()

    def perform_destroy(self, instance):
        self._editable(instance)
        instance.delete()

    @extend_schema(responses=OpenApiTypes.OBJECT, description="Done per team, the burn-up (entities done per day "
                   "from the start, replayed from the history), overdue, and the entities left.")  # fmt: skip
    @action(detail=True, methods=["get"])
    def progress(self, request, slug: str | None = None):
        state = initiatives.progress(self.get_object())
        hidden = hidden_refs([e.ref for e in state.left], request.user)
        return Response(progress_document(state, hidden=hidden))


def _int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValidationError({name: f"{value!r} is not a whole number"}) from None
    if not low <= number <= high:
        raise ValidationError({name: f"must be between {low} and {high}"})
    return number


def _when(value: str):
    moment = parse_datetime(value) if "T" in value else None
    if moment is None and (day := parse_date(value) if value else None):
        moment = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) - timedelta(seconds=1)  # its end
    if moment is None:
        raise ValidationError({"at": f"{value!r} is not an ISO date or date-time (e.g. 2026-11-30)"})
    if moment.tzinfo is None:
        raise ValidationError({"at": "give a time zone (e.g. 2026-11-30T12:00:00Z)"})
    return moment
