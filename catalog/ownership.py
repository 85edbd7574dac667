"""Who a signed-in person is in the catalog: their User entity, groups and parent groups.

``identity_refs`` is the public function the rest of Callboard asks. It reads the Identity stored at
sign-in (and recomputed after catalog refreshes): one query. A person without one (signed in before SSO
existed, or created by a script) is resolved on first use.
"""

from __future__ import annotations

from catalog import identity
from portal.auth.claims import local_claims
from portal.bookkeeping import best_effort
from portal.models import Identity


def person(user) -> tuple[str | None, set[str]]:
    """``(User entity ref or None, ownership refs)`` in one query."""
    if not (user and user.is_authenticated):
        return None, set()
    row = Identity.objects.filter(user_id=user.pk).values_list("entity_ref", "ownership_refs").first()
    if row is None:  # stored on first use, unless SQLite is locked by a writer: then resolved, not stored
        claims = local_claims(user)
        stored = best_effort(lambda: identity.store(user, claims), "a first identity", atomic=False)
        if stored is None:
            resolved = identity.resolve(user, claims)
            return resolved.entity_ref or None, set(resolved.ownership)
        row = (stored.entity_ref, stored.ownership_refs)
    return row[0] or None, set(row[1])


def user_entity_ref(user) -> str | None:
    """The person's User entity ref; None when they are not (yet) matched to one."""
    return person(user)[0]


def identity_refs(user) -> set[str]:
    """The refs that make up a person's ownership: User entity, its groups, mapped groups, parent groups."""
    return person(user)[1]
