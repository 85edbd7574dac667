"""Who a signed-in person is in the catalog: their User entity and their groups (with parents)."""

from __future__ import annotations

from catalog.models import Entity, Relation, SearchRow

MAX_GROUP_DEPTH = 10


def user_entity_ref(user) -> str | None:
    """The User entity matched by email, then by name; None when the person is not in the catalog."""
    if not (user and user.is_authenticated):
        return None
    users = Entity.objects.filter(kind="User")
    if user.email:
        rows = SearchRow.objects.filter(key="spec.profile.email", value=user.email.lower()).values("entity_id")
        match = users.filter(id__in=rows).values_list("ref", flat=True)
        if ref := match.first():
            return ref
    return users.filter(name__iexact=user.get_username()).values_list("ref", flat=True).first()


def identity_refs(user) -> set[str]:
    """The refs that make up a person's ownership: their User entity, its groups and parent groups."""
    ref = user_entity_ref(user)
    if ref is None:
        return set()
    refs = {ref}
    frontier = set(Relation.objects.filter(source_ref=ref, type="memberOf").values_list("target_ref", flat=True))
    depth = 0
    while frontier and depth < MAX_GROUP_DEPTH:
        refs |= frontier
        frontier = (
            set(Relation.objects.filter(source_ref__in=frontier, type="childOf").values_list("target_ref", flat=True))
            - refs
        )
        depth += 1
    return refs
