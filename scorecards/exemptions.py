"""Exemption requests: who may ask, who may decide, and the request → approve / deny flow (audited and
notified). Views, the API and the admin all call these; results follow at the next evaluation.

- **Ask**: whoever may read the entity and is among its owners (their identity refs contain its effective
  owner), or a platform admin; only for a rule that does not pass.
- **Decide**: the scorecard's owners (identity refs contain ``spec.owner``), or whoever holds
  ``scorecards.exemption.approve`` (platform admins hold every action).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from catalog.models import Entity
from catalog.owners import effective_owner
from catalog.ownership import identity_refs
from catalog.permissions import readable
from portal import audit
from portal.access import actions, decide, is_admin
from scorecards.models import Exemption, RuleResult, Scorecard, Status

APPROVE = actions.SCORECARDS_EXEMPTION_APPROVE


def max_expiry(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(days=settings.SCORECARDS_EXEMPTION_MAX_DAYS)


def may_request(user, entity: Entity) -> bool:
    if not readable(Entity.objects.filter(pk=entity.pk), user).exists():
        return False
    return is_admin(user) or effective_owner(entity).lower() in identity_refs(user)


def may_decide(user, scorecard: Scorecard) -> bool:
    owner = str(scorecard.spec.get("owner", "")).lower()
    return bool(owner and owner in identity_refs(user)) or decide(user, APPROVE).allowed


def decidable(user) -> QuerySet[Exemption]:
    """The exemptions ``user`` may decide on (every one for approvers, else those of scorecards they own)."""
    rows = Exemption.objects.select_related("scorecard")
    if decide(user, APPROVE).allowed:
        return rows
    refs = identity_refs(user)
    owned = [c.pk for c in Scorecard.objects.all() if str(c.spec.get("owner", "")).lower() in refs]
    return rows.filter(scorecard_id__in=owned)


def request_exemption(user, entity: Entity, scorecard: Scorecard, rule_id: str, reason: str,
                      expires_at: datetime | None = None) -> Exemption:  # fmt: skip
    """Record a pending request; ValidationError (naming the field) or PermissionDenied when refused."""
    if not may_request(user, entity):
        raise PermissionDenied("Only the entity's owners (or platform admins) may request an exemption for it.")
    errors = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Say why the rule should not apply (the approver reads this)."
    elif len(reason) > 2000:
        errors["reason"] = "At most 2000 characters."
    now = timezone.now()
    limit = max_expiry(now)
    expires_at = expires_at or limit
    if expires_at <= now:
        errors["expires_at"] = "The expiry must be in the future."
    elif expires_at > limit + timedelta(days=1):  # a date picker's "that day" may end past the exact limit
        errors["expires_at"] = (f"At most {settings.SCORECARDS_EXEMPTION_MAX_DAYS} days ahead "
                                f"(until {limit:%Y-%m-%d}).")  # fmt: skip
    status = RuleResult.objects.filter(scorecard=scorecard, entity_ref=entity.ref, rule_id=rule_id)
    status = status.values_list("status", flat=True).first()
    if rule_id not in {r.get("id") for r in scorecard.rules}:
        errors["rule_id"] = f'"{rule_id}" is not a rule of {scorecard.ref}'
    elif status in (Status.PASSED, Status.EXEMPT):
        errors["rule_id"] = f"The rule {rule_id} does not fail for {entity.ref} (it is {status})."
    elif _open(scorecard, entity.ref, rule_id).exists():
        errors["rule_id"] = f"An exemption for {rule_id} on {entity.ref} is already pending or approved."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = Exemption.objects.create(scorecard=scorecard, entity_ref=entity.ref, rule_id=rule_id, reason=reason,
                                       requested_by=user.get_username(), expires_at=expires_at)  # fmt: skip
        audit.record(user, "scorecards.exemption.requested", row,
                     {"scorecard": scorecard.ref, "entity": entity.ref, "rule": rule_id, "reason": reason,
                      "expires_at": expires_at})  # fmt: skip
        from scorecards import notifying

        notifying.exemption_requested(row)
    return row


def _open(scorecard: Scorecard, entity_ref: str, rule_id: str) -> QuerySet[Exemption]:
    rows = Exemption.objects.filter(scorecard=scorecard, entity_ref=entity_ref, rule_id=rule_id, denied_at=None)
    return rows.exclude(expires_at__lte=timezone.now())


def approve(user, exemption: Exemption, note: str = "") -> Exemption:
    return _decide(user, exemption, approved=True, note=note)


def deny(user, exemption: Exemption, note: str = "") -> Exemption:
    return _decide(user, exemption, approved=False, note=note)


def _decide(user, exemption: Exemption, *, approved: bool, note: str) -> Exemption:
    if not may_decide(user, exemption.scorecard):
        raise PermissionDenied("Only the scorecard's owners or holders of scorecards.exemption.approve may decide.")
    with transaction.atomic():
        row = Exemption.objects.select_for_update().select_related("scorecard").get(pk=exemption.pk)
        if row.state != "pending":
            raise ValidationError({"state": f"This request is already {row.state}."})
        now, name = timezone.now(), user.get_username()
        if approved:
            row.approved_by, row.approved_at = name, now
        else:
            row.denied_by, row.denied_at = name, now
        row.decision_note = (note or "").strip()[:2000]
        row.save(update_fields=["approved_by", "approved_at", "denied_by", "denied_at", "decision_note"])
        audit.record(user, f"scorecards.exemption.{'approved' if approved else 'denied'}", row,
                     {"scorecard": row.scorecard.ref, "entity": row.entity_ref, "rule": row.rule_id,
                      "note": row.decision_note})  # fmt: skip
        from scorecards import notifying

        notifying.exemption_decided(row)
        if approved:
            from scorecards.tasks import schedule_entities

            schedule_entities([row.entity_ref])  # the result turns "exempt" in seconds, not at the next run
    return row
