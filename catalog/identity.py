"""Identity resolution: which catalog User a signed-in person is, their groups, and what they own.

Resolvers run in the order of ``CALLBOARD_IDENTITY_RESOLVERS``; the first that finds exactly one User
entity wins. Nobody is locked out: with no match the person still signs in, owns nothing yet, and their
Identity is flagged for review. Each step is recorded in a trace that the admin's login explainer shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from catalog.models import Entity, Relation, SearchRow
from portal import audit
from portal.auth.claims import REQUEST_ATTRIBUTE, local_claims
from portal.auth.mapping import apply_rules
from portal.jobs import enqueue_on_commit
from portal.models import GroupMappingRule, Identity, LoginEvent

logger = logging.getLogger(__name__)

MAX_GROUP_DEPTH = 10
USER_KIND = "User"


@dataclass
class Attempt:
    """One resolver's try: ``matched``, ``no-match``, ``ambiguous`` or ``skipped``, and why."""

    resolver: str
    outcome: str
    detail: str
    ref: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"resolver": self.resolver, "outcome": self.outcome, "detail": self.detail, "ref": self.ref}


@dataclass
class Resolution:
    entity_ref: str = ""
    matched_by: str = ""
    attempts: list[Attempt] = field(default_factory=list)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # ref -> {source, detail}
    mapped_refs: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    ownership: list[str] = field(default_factory=list)

    def needs_review(self, user) -> bool:
        """Unmatched people are flagged; superusers (break-glass, service admins) are not."""
        return not self.entity_ref and not user.is_superuser

    def trace(self, claims: dict[str, Any]) -> dict[str, Any]:
        return {
            "resolvers": [attempt.as_dict() for attempt in self.attempts],
            "entity_ref": self.entity_ref,
            "matched_by": self.matched_by,
            "groups": [{"ref": ref, **info} for ref, info in self.groups.items()],
            "rejected": self.rejected,
            "unmapped_claims": self.unmapped,
            "ownership": self.ownership,
            "claims": claims,
        }


# --- Resolvers --------------------------------------------------------------------------------------


def _one(resolver: str, refs: list[str], what: str) -> Attempt:
    refs = sorted(set(refs))
    if len(refs) == 1:
        return Attempt(resolver, "matched", f"{what} → {refs[0]}", refs[0])
    if len(refs) > 1:
        # Never guess between people: an ambiguous match is a catalog problem for an admin to fix.
        return Attempt(resolver, "ambiguous", f"{what} matches {len(refs)} User entities: {', '.join(refs[:5])}")
    return Attempt(resolver, "no-match", f"no User entity has {what}")


def _users_with_row(key: str, value: str) -> list[str]:
    rows = SearchRow.objects.filter(key=key, value=value.lower()).values("entity_id")
    return list(Entity.objects.filter(kind=USER_KIND, id__in=rows).values_list("ref", flat=True)[:10])


def resolve_by_email(user, claims: dict[str, Any]) -> Attempt:
    emails = list(dict.fromkeys(e.lower() for e in [claims.get("email"), *claims.get("emails", []), user.email] if e))
    if not emails:
        return Attempt("email", "skipped", "the sign-in carried no email address")
    for email in emails:
        attempt = _one("email", _users_with_row("spec.profile.email", email), f"spec.profile.email = {email}")
        if attempt.outcome != "no-match":
            return attempt
    return Attempt("email", "no-match", f"no User entity has spec.profile.email = {' or '.join(emails)}")


def resolve_by_annotation(user, claims: dict[str, Any]) -> Attempt:
    annotations = claims.get("annotations") or {}
    if not annotations:
        return Attempt("annotation", "skipped", "no annotation is set up for this provider (or its claim was empty)")
    tried = []
    for key, value in annotations.items():
        what = f"annotation {key} = {value}"
        attempt = _one("annotation", _users_with_row(f"metadata.annotations.{key}".lower(), value), what)
        if attempt.outcome != "no-match":
            return attempt
        tried.append(what)
    return Attempt("annotation", "no-match", f"no User entity has {' or '.join(tried)}")


def resolve_by_username(user, claims: dict[str, Any]) -> Attempt:
    names = list(dict.fromkeys(n for n in [claims.get("username"), user.get_username()] if n))
    for name in names:
        users = Entity.objects.filter(kind=USER_KIND, name__iexact=name)
        refs = list(users.values_list("ref", flat=True)[:10])
        if len(refs) > 1:  # the same name in several namespaces: the default namespace wins
            refs = [ref for ref in refs if ref.startswith("user:default/")] or refs
        attempt = _one("username", refs, f"metadata.name = {name}")
        if attempt.outcome != "no-match":
            return attempt
    return Attempt("username", "no-match", f"no User entity is named {' or '.join(names)}")


RESOLVERS: dict[str, Callable[[Any, dict[str, Any]], Attempt]] = {
    "email": resolve_by_email,
    "annotation": resolve_by_annotation,
    "username": resolve_by_username,
}


# --- Groups and ownership ---------------------------------------------------------------------------


def enabled_rules() -> list[GroupMappingRule]:
    return list(GroupMappingRule.objects.filter(enabled=True).order_by("position", "id"))


def _rules_for(provider: str, rules: list[GroupMappingRule] | None) -> list:
    rules = enabled_rules() if rules is None else rules
    return [rule.as_spec() for rule in rules if not rule.provider or rule.provider == provider]


def claim_origin(claims: dict[str, Any], claim: str) -> str:
    """Where an IdP group came from: the team lookup (GitHub teams, GitLab groups) or the provider's claim."""
    teams = claims.get("teams") or {}
    if claim in (teams.get("groups") or []):
        return str(teams.get("source") or "team lookup")
    return "groups claim"


def resolve(
    user, claims: dict[str, Any], resolvers: Iterable[str] | None = None, *, rules: list | None = None
) -> Resolution:
    """Compute (without writing) who ``user`` is, given what their sign-in said.

    ``rules``: the enabled mapping rules, when the caller resolves many people (read once for all)."""
    result = Resolution()
    for name in resolvers or settings.IDENTITY_RESOLVERS:
        resolver = RESOLVERS.get(name.strip())
        if resolver is None:
            result.attempts.append(Attempt(name, "skipped", f"unknown resolver (use {', '.join(RESOLVERS)})"))
            continue
        if result.entity_ref:
            result.attempts.append(Attempt(name, "skipped", "an earlier resolver already matched"))
            continue
        attempt = resolver(user, claims)
        result.attempts.append(attempt)
        if attempt.outcome == "matched":
            result.entity_ref, result.matched_by = attempt.ref, name

    groups = result.groups
    if result.entity_ref:
        member_of = Relation.objects.filter(source_ref=result.entity_ref, type="memberOf")
        for ref in member_of.values_list("target_ref", flat=True):
            groups.setdefault(ref, {"source": "catalog", "detail": f"{result.entity_ref} memberOf {ref}"})
    claim_groups = list(claims.get("groups") or [])
    mapped, rejected = apply_rules(claim_groups, _rules_for(claims.get("provider", ""), rules))
    for mapping in mapped:
        groups.setdefault(
            mapping.ref,
            {
                "source": "rule",
                "detail": f"IdP group {mapping.claim!r} ({claim_origin(claims, mapping.claim)}) "
                f"via rule {mapping.rule.label}",
            },
        )
    result.mapped_refs = sorted({m.ref for m in mapped})
    result.rejected = [{"claim": r.claim, "rule": r.rule.label, "reason": r.reason} for r in rejected]
    matched_claims = {m.claim for m in mapped} | {r.claim for r in rejected}
    result.unmapped = [c for c in claim_groups if c not in matched_claims]

    frontier = set(groups)
    for _ in range(MAX_GROUP_DEPTH):
        if not frontier:
            break
        edges = Relation.objects.filter(source_ref__in=frontier, type="childOf")
        parents = edges.values_list("source_ref", "target_ref")
        frontier = set()
        for child, parent in parents:
            if parent not in groups:
                groups[parent] = {"source": "parent", "detail": f"{child} childOf {parent}"}
                frontier.add(parent)
    known = set(Entity.objects.filter(ref__in=list(groups)).values_list("ref", flat=True)) if groups else set()
    for ref, info in groups.items():
        info["in_catalog"] = ref in known
    result.ownership = sorted({result.entity_ref, *groups} - {""})
    return result


# --- Storing ----------------------------------------------------------------------------------------


def review_email(claims: dict[str, Any]) -> str:
    """The email a review is tied to: the one the sign-in carried, lower-cased ("" when none)."""
    return str(claims.get("email") or "").strip().lower()


def _review_holds(identity: Identity, result: Resolution, claims: dict[str, Any]) -> bool:
    """An admin's "stays unmatched" holds while the person is still unmatched and signs in with the same email."""
    return bool(identity.reviewed_at) and not result.entity_ref and identity.reviewed_email == review_email(claims)


def store(user, claims: dict[str, Any], *, login: bool = False, rules: list | None = None) -> Identity:
    """Resolve and save the person's Identity; a login also records a LoginEvent for the explainer.

    Unmatched people are flagged for review unless an admin reviewed them (``mark_reviewed``) and nothing
    changed since: a match, or another email in the sign-in, ends the review (audited)."""
    result = resolve(user, claims, rules=rules)
    trace = result.trace(claims)
    with transaction.atomic():
        identity = Identity.objects.select_for_update().filter(user=user).first() or Identity(user=user)
        needs_review = result.needs_review(user)
        if identity.reviewed_at:
            if _review_holds(identity, result, claims):
                needs_review = False
            else:
                why = "matched " + result.entity_ref if result.entity_ref else "the sign-in's email changed"
                _end_review(identity, "system", why)
        identity.entity_ref = result.entity_ref
        identity.matched_by = result.matched_by
        identity.provider = claims.get("provider", "")
        identity.claims = claims
        identity.claim_groups = list(claims.get("groups") or [])
        identity.mapped_group_refs = result.mapped_refs
        identity.ownership_refs = result.ownership
        identity.trace = trace
        identity.needs_review = needs_review
        identity.resolved_at = timezone.now()
        identity.save()
        if login:
            LoginEvent.objects.create(
                user=user,
                provider=claims.get("provider", ""),
                provider_name=claims.get("provider_name", ""),
                entity_ref=result.entity_ref,
                matched_by=result.matched_by,
                needs_review=needs_review,
                claims=claims,
                trace=trace,
            )
    if needs_review:
        logger.info("Signed in without a catalog User entity (flagged for review): %s", user.get_username())
    return identity


# --- Review -----------------------------------------------------------------------------------------

REVIEW_FIELDS = ["reviewed_at", "reviewed_by", "reviewed_email", "review_note", "needs_review"]


def mark_reviewed(identities: Iterable[Identity], by, note: str = "") -> int:
    """Mark as "stays unmatched, that's fine": clear the flag of unmatched identities, recording who, when and why.

    Matched identities and ones already reviewed are left alone; returns how many were marked."""
    count = 0
    now = timezone.now()
    for identity in identities:
        if identity.entity_ref or identity.reviewed_at:
            continue
        identity.reviewed_at, identity.reviewed_by = now, by.get_username()
        identity.reviewed_email, identity.review_note = review_email(identity.claims or {}), note.strip()[:300]
        identity.needs_review = False
        with transaction.atomic():
            identity.save(update_fields=REVIEW_FIELDS)
            audit.record(by, "identity.reviewed", identity,
                         {"email": identity.reviewed_email, "note": identity.review_note})  # fmt: skip
        count += 1
    return count


def clear_review(identities: Iterable[Identity], by) -> int:
    """Take an admin's review back: unmatched people are flagged again. Returns how many changed."""
    count = 0
    for identity in identities:
        if not identity.reviewed_at:
            continue
        with transaction.atomic():
            _end_review(identity, by, "cleared by an admin")
            identity.needs_review = not identity.entity_ref and not identity.user.is_superuser
            identity.save(update_fields=REVIEW_FIELDS)
        count += 1
    return count


def _end_review(identity: Identity, actor, reason: str) -> None:
    """Forget the review on ``identity`` (the caller saves) and audit why."""
    before = {"reviewed_by": identity.reviewed_by, "reviewed_at": identity.reviewed_at,
              "email": identity.reviewed_email}  # fmt: skip
    identity.reviewed_at, identity.reviewed_by, identity.reviewed_email, identity.review_note = None, "", "", ""
    audit.record(actor, "identity.review_cleared", identity, {"reason": reason, **before})


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    """Django's user_logged_in: SSO logins carry claims (set by the social adapter), password logins don't."""
    claims = getattr(request, REQUEST_ATTRIBUTE, None) if request is not None else None
    store(user, claims or local_claims(user), login=True)


def refresh_identities(user_ids: Iterable[int] | None = None) -> int:
    """Recompute stored identities from their last claims (after the catalog or the mapping rules changed)."""
    identities = Identity.objects.select_related("user").order_by("pk")
    if user_ids is not None:
        identities = identities.filter(user_id__in=list(user_ids))
    rules = enabled_rules()
    count = 0
    for identity in identities.iterator(chunk_size=200):
        store(identity.user, identity.claims or local_claims(identity.user), rules=rules)
        count += 1
    return count


def refresh_pending_identities() -> int:
    """The queued recompute: clears the pending mark first, so a change during the run queues another."""
    cache.delete(PENDING_KEY)
    return refresh_identities()


PENDING_KEY = "catalog:identity-refresh-pending"


def schedule_refresh_identities() -> None:
    """Queue one recompute after the current transaction; a burst of catalog refreshes queues it once."""
    from catalog.tasks import refresh_identities as task

    if not Identity.objects.exists():
        return
    if cache.add(PENDING_KEY, 1, timeout=600):
        enqueue_on_commit(task)
