"""API shapes for initiatives (read and write) and their progress."""

from __future__ import annotations

from rest_framework import serializers

from scorecards.initiatives import Progress, target_errors
from scorecards.models import Initiative, Scorecard


class InitiativeSerializer(serializers.ModelSerializer):
    scorecard = serializers.SlugRelatedField(slug_field="ref", queryset=Scorecard.objects.all(),
                                             help_text="scorecard:namespace/name")  # fmt: skip
    rule_ids = serializers.ListField(child=serializers.CharField(), required=False,
                                     help_text="Or the rules to pass (instead of target_level)")  # fmt: skip

    class Meta:
        model = Initiative
        fields = ["slug", "title", "description", "scorecard", "target_level", "rule_ids", "applies_to", "owner",
                  "starts_at", "deadline", "source", "entity_ref", "updated_at"]  # fmt: skip
        read_only_fields = ["source", "entity_ref", "updated_at"]
        extra_kwargs = {"starts_at": {"required": False, "help_text": "Where the burn-up starts; default: now"}}

    def validate(self, attrs):
        current = self.instance
        value = {key: attrs.get(key, getattr(current, key, default)) for key, default in
                 (("scorecard", None), ("target_level", ""), ("rule_ids", []), ("applies_to", ""))}  # fmt: skip
        errors = target_errors(value["scorecard"], value["target_level"], value["rule_ids"], value["applies_to"])
        if errors:
            raise serializers.ValidationError(errors)
        if "owner" in attrs:
            attrs["owner"] = attrs["owner"].strip().lower()
        return attrs


def progress_document(state: Progress, *, hidden: set[str] = frozenset()) -> dict:
    """Progress as the API returns it: totals, per team, the burn-up and the entities left (readable ones)."""
    return {
        "initiative": state.initiative.slug,
        "total": state.total, "done": state.done, "percentage": state.percentage,
        "deadline": state.initiative.deadline.isoformat(), "daysLeft": state.days_left, "overdue": state.overdue,
        "teams": [{"team": t.team, "total": t.total, "done": t.done, "percentage": t.percentage} for t in state.teams],
        "burnup": [{"date": day.isoformat(), "done": n} for day, n in state.burnup],
        "left": [{"entityRef": e.ref, "team": e.team, "level": e.level or None, "failing": e.failing}
                 for e in state.left if e.ref not in hidden],
    }  # fmt: skip
