"""Access API: "can X do Y on Z, and why?" and Backstage's permission authorize endpoint."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.access import actions, current_policy, hooks, subject_for
from portal.access.why import WhyError, explain

# Backstage permission names → Callboard actions (names Callboard uses are accepted as they are).
BACKSTAGE_PERMISSIONS = {
    "catalog.entity.read": actions.ENTITY_READ,
    "catalog.entity.refresh": actions.ENTITY_REFRESH,
    "catalog.entity.delete": actions.ENTITY_UNREGISTER,
    "catalog.entity.create": actions.LOCATION_REGISTER,
    "catalog.location.create": actions.LOCATION_REGISTER,
    "catalog.location.read": actions.ENTITY_READ,
    "scaffolder.task.create": actions.TEMPLATE_RUN,
    "scaffolder.action.execute": actions.TEMPLATE_RUN,
    "scaffolder.template.parameter.read": actions.ENTITY_READ,
    "scaffolder.template.step.read": actions.ENTITY_READ,
}


class AccessCheckView(APIView):
    """GET /api/v1/access/check?user=&action=&entity=: the decision, the rule that decided, the rules considered.

    Anyone signed in may ask about themselves; only admins may ask about other people.
    """

    allow_anonymous_read = False

    def get(self, request):
        params = request.query_params
        try:
            answer = explain(request.user, username=params.get("user", ""), action=params.get("action", ""),
                             entity_ref=params.get("entity", ""))  # fmt: skip
        except WhyError as exc:
            return Response({"error": str(exc)}, status=exc.status)
        return Response(answer.as_dict())


class _Permission(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class _Item(serializers.Serializer):
    id = serializers.CharField(max_length=200)
    permission = _Permission()
    resourceRef = serializers.CharField(max_length=400, required=False, allow_blank=True)


class _AuthorizeRequest(serializers.Serializer):
    items = _Item(many=True)


class AuthorizeView(APIView):
    """POST /api/permission/authorize, as Backstage's permission backend answers it: ALLOW or DENY per item
    (Callboard filters lists itself, so it never answers CONDITIONAL)."""

    allow_anonymous_read = False

    def post(self, request):
        body = _AuthorizeRequest(data=request.data)
        body.is_valid(raise_exception=True)
        policy, subject = current_policy(), subject_for(request.user)
        items = body.validated_data["items"]
        # Every resource of the batch in one lookup, as Backstage's frontends send many checks at once.
        targets = hooks.resolve_targets(sorted({item["resourceRef"] for item in items if item.get("resourceRef")}))
        results = []
        for item in items:
            name = item["permission"]["name"]
            action = BACKSTAGE_PERMISSIONS.get(name, name)
            ref = item.get("resourceRef") or ""
            target = targets.get(ref) if ref else None
            allowed = (
                action in actions.KNOWN
                and (not ref or target is not None)
                and policy.decide(subject, action, target).allowed
            )
            results.append({"id": item["id"], "result": "ALLOW" if allowed else "DENY"})
        return Response({"items": results})
