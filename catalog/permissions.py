"""The catalog's side of permissions: entities as targets, read filters in SQL, owner actions.

The rules and the engine live in ``portal.access``; this module describes entities to it and applies its
answers to querysets. Who a person is in the catalog comes only from ``catalog.ownership.identity_refs``,
computed once per request (memoised on the user object by ``portal.access.subject_for``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet

from catalog.ingestion.refs import parse_ref
from catalog.models import Entity, Location
from catalog.owners import effective_owner, owned_by_q
from catalog.ownership import identity_refs
from catalog.querysets import iexact_any, kind_range
from portal import access
from portal.access import Decision, Filter, Target, actions, current_policy, hooks, subject_for

READ = actions.ENTITY_READ
REFRESH = actions.ENTITY_REFRESH
UNREGISTER = actions.ENTITY_UNREGISTER
OVERRIDE = actions.ENTITY_OVERRIDE
REGISTER = actions.LOCATION_REGISTER
TEMPLATE_RUN = actions.TEMPLATE_RUN
ADMIN = actions.ADMIN

# EntityOverride fields, in the order forms show them.
OVERRIDE_FIELDS = ("deprecation_note", "extra_tags", "verified_owner", "note")


def _iexact(field: str):
    return lambda values: iexact_any(field, values)


# Target attribute → Entity field (or Q builder); owner refs and refs are stored lower-cased. The owner is
# the effective one: an admin's verified owner replaces spec.owner (catalog/owners.py).
ENTITY_FIELDS = {"kind": kind_range, "type": _iexact("spec_type"), "namespace": _iexact("namespace"),
                 "owner": owned_by_q, "ref": "ref"}  # fmt: skip


def target_of(entity: Entity) -> Target:
    return Target(kind=entity.kind, type=entity.spec_type, namespace=entity.namespace,
                  owner=effective_owner(entity), ref=entity.ref)  # fmt: skip


def require(decision: Decision) -> None:
    """Refuse with the decision's reason (a 403 in the UI and, through DRF, in both APIs)."""
    if not decision.allowed:
        raise PermissionDenied(decision.reason)


def decide(user, action: str, entity: Entity | None = None) -> Decision:
    return access.decide(user, action, target_of(entity) if entity is not None else None)


def can(user, action: str, entity: Entity | None = None) -> bool:
    return decide(user, action, entity).allowed


def entity_filter(user, action: str = READ) -> Filter:
    return current_policy().filter(subject_for(user), action, ENTITY_FIELDS)


def allowed(queryset: QuerySet[Entity], user, action: str) -> QuerySet[Entity]:
    """The entities of ``queryset`` the user may do ``action`` on, filtered in the query."""
    return entity_filter(user, action).apply(queryset)


def readable(queryset: QuerySet[Entity], user) -> QuerySet[Entity]:
    return allowed(queryset, user, READ)


def readable_locations(queryset: QuerySet[Location], user, read: Filter | None = None) -> QuerySet[Location]:
    """Locations providing at least one entity the user may read (all of them for unrestricted readers)."""
    read = read or entity_filter(user, READ)
    if read.unrestricted:
        return queryset
    if read.empty:
        return queryset.none()
    return queryset.filter(Exists(Entity.objects.filter(read.q, location=OuterRef("pk"))))


def hidden_refs(refs, user) -> set[str]:
    """Refs of entities that exist but the user may not read (one query, none when reading is unrestricted).

    Relations and graphs drop these: a dangling ref is shown as such, a hidden entity not at all.
    """
    read = entity_filter(user, READ)
    refs = list(refs)
    if read.unrestricted or not refs:
        return set()
    existing = Entity.objects.filter(ref__in=refs)
    if not read.empty:
        existing = existing.exclude(read.q)
    return set(existing.values_list("ref", flat=True))


def readable_errors(queryset, user):
    """Processing errors on readable entities, or on readable locations when they have no entity."""
    read = entity_filter(user, READ)
    if read.unrestricted:
        return queryset
    entities = read.apply(Entity.objects.all()).values("id")
    locations = readable_locations(Location.objects.all(), user, read).values("pk")
    return queryset.filter(Q(entity_id__in=entities) | Q(entity__isnull=True, location_id__in=locations))


def location_decision(user, action: str, location: Location, *, every: bool = True) -> Decision:
    """May the user do an entity action on a whole location?

    ``every``: the action must be allowed on every entity the location provides (unregister: it removes them
    all, so an owner of one entity in a shared file cannot remove the others); otherwise on at least one
    (refresh). A location that provides nothing needs ``catalog.location.register``.
    """
    on = f"{action} on location {location.target}"
    scope = entity_filter(user, action)
    entities = Entity.objects.filter(location=location)
    if scope.unrestricted:
        return Decision(True, action, f"{subject_for(user).label} may {on}: allowed on every entity")
    if every:
        blocker = entities.first() if scope.empty else entities.exclude(scope.q).first()
        if blocker is not None:
            why = decide(user, action, blocker)
            why.reason = f"Not allowed on {blocker.ref}, which this location provides. {why.reason}"
            return why
        if entities.exists():
            return Decision(True, action, f"{subject_for(user).label} may {on}: allowed on each of its entities")
    else:
        if not scope.empty and entities.filter(scope.q).exists():
            return Decision(True, action, f"{subject_for(user).label} may {on}: allowed on an entity it provides")
        if entities.exists():
            return decide(user, action, entities.first())
    return decide(user, REGISTER)


def allowed_override_fields(user, entity: Entity) -> list[str]:
    """Admins set every override field; people allowed to override (owners) set the configured ones."""
    if decide(user, ADMIN).allowed:
        return list(OVERRIDE_FIELDS)
    if not decide(user, OVERRIDE, entity).allowed:
        return []
    return [f for f in OVERRIDE_FIELDS if f in settings.CATALOG_OWNER_OVERRIDE_FIELDS]


def owner_actions(user, entity: Entity) -> dict:
    """Which buttons the entity page shows (the views check again on submit)."""
    location = entity.location
    return {
        "refresh": bool(location) and decide(user, REFRESH, entity).allowed,
        "unregister": bool(location) and location_decision(user, UNREGISTER, location).allowed,
        "override": bool(allowed_override_fields(user, entity)),
    }


def _resolve(ref: str) -> Target | None:
    """An entity ref (``kind:namespace/name``, namespace optional) → its Target; RefError is a ValueError."""
    entity = Entity.objects.filter(ref=str(parse_ref(ref.strip())).lower()).first()
    return target_of(entity) if entity is not None else None


def _resolve_many(refs: list[str]) -> dict[str, Target | None]:
    """Many refs → Targets in one query; a malformed ref resolves to None."""
    canonical: dict[str, str | None] = {}
    for ref in refs:
        try:
            canonical[ref] = str(parse_ref(ref.strip())).lower()
        except ValueError:
            canonical[ref] = None
    wanted = [c for c in canonical.values() if c]
    found = {e.ref: target_of(e) for e in Entity.objects.filter(ref__in=wanted)} if wanted else {}
    return {ref: found.get(c) if c else None for ref, c in canonical.items()}


def register_hooks() -> None:
    hooks.set_identity_provider(identity_refs)
    hooks.set_target_resolver(_resolve, _resolve_many)
