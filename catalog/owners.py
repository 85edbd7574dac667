"""Who owns an entity: ``spec.owner``, unless a platform admin set a verified owner (a governance override).

The verified owner REPLACES ``spec.owner`` wherever Callboard decides ownership: the owner role in the
access rules (refresh, unregister, overrides), the catalog's owner filter and facet and its "mine" switch,
the home page's "owned by me and my teams", and the native API's ``owner`` / ``owned_by`` filters. The
entity's own body is left as git has it (``spec.owner`` and the ``ownedBy`` relation stay, the Backstage-
compatible API shows the override under ``overrides.verifiedOwner``).

Everything works in SQL from the cached override map (a few rows, one query per catalog version; saving an
override bumps the version, catalog/signals.py): no per-row checks and no extra query in warm requests.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Case, CharField, F, Q, Value, When

from catalog.cache import per_version
from catalog.ingestion.refs import RefError, owner_ref
from catalog.shapes import override_map


def _build() -> dict[str, str]:
    verified = {}
    for ref, override in override_map().items():
        value = override.get("verifiedOwner")
        if value:
            try:
                verified[ref] = owner_ref(value, of=ref)
            except RefError:  # saved before owners were checked: ignored rather than trusted
                continue
    return verified


def verified_owners() -> dict[str, str]:
    """Entity ref → its verified owner ref (lower-cased), for every entity an admin set one on."""
    return per_version("catalog:verified-owners", _build)


def effective_owner(entity) -> str:
    """The owner that counts for ``entity`` (an Entity or anything with ``ref`` and ``owner_ref``)."""
    return verified_owners().get(entity.ref, entity.owner_ref)


def owned_by_q(refs, prefix: str = "") -> Q:
    """Entities whose effective owner is one of ``refs``, as one condition (``prefix``: e.g. ``entity__``).

    ``owner_ref IN refs`` minus the entities whose verified owner is someone else, plus those whose verified
    owner is in ``refs``; the two ref lists come from the cached override map and are empty without overrides.
    """
    wanted = sorted({r.lower() for r in refs if r})
    if not wanted:
        return Q(pk__in=[])
    verified = verified_owners()
    taken_away = sorted(ref for ref, owner in verified.items() if owner not in wanted)
    given = sorted(ref for ref, owner in verified.items() if owner in wanted)
    q = Q(**{f"{prefix}owner_ref__in": wanted})
    if taken_away:
        q &= ~Q(**{f"{prefix}ref__in": taken_away})
    if given:
        q |= Q(**{f"{prefix}ref__in": given})
    return q


def effective_owner_expression():
    """The effective owner as a column expression (for facet counts and ordering): ``owner_ref`` unless
    overridden, one ``WHEN ref IN (...)`` per distinct verified owner."""
    by_owner: dict[str, list[str]] = defaultdict(list)
    for ref, owner in verified_owners().items():
        by_owner[owner].append(ref)
    if not by_owner:
        return F("owner_ref")
    whens = [When(ref__in=sorted(refs), then=Value(owner)) for owner, refs in sorted(by_owner.items())]
    return Case(*whens, default=F("owner_ref"), output_field=CharField())
