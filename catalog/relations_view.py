"""Relations of an entity as the UI shows them: grouped, resolved, dangling ones marked."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.ingestion.refs import RefError, parse_ref
from catalog.models import Entity, Relation
from catalog.models.entities import entity_path
from catalog.permissions import hidden_refs

RELATION_LABELS = {
    "ownedBy": "Owned by", "ownerOf": "Owns", "partOf": "Part of", "hasPart": "Has part",
    "dependsOn": "Depends on", "dependencyOf": "Dependency of", "providesApi": "Provides API",
    "apiProvidedBy": "API provided by", "consumesApi": "Consumes API", "apiConsumedBy": "API consumed by",
    "memberOf": "Member of", "hasMember": "Has member", "parentOf": "Parent of", "childOf": "Child of",
}  # fmt: skip


@dataclass(frozen=True)
class RelatedEntity:
    ref: str
    kind: str
    namespace: str
    name: str
    title: str
    exists: bool

    def path(self, view: str = "entity", *args: str) -> str:
        """A path of the target's pages, or "" for a target that is not in the catalog (shown as text)."""
        return entity_path(self.namespace, self.kind, self.name, view, *args) if self.exists else ""

    @property
    def url(self) -> str:
        return self.path()


def related(refs: set[str]) -> dict[str, RelatedEntity]:
    """Resolve refs to entities in one query; refs with no entity come back with ``exists=False``, refs
    that do not even parse (stored before refs were validated) with their text as the name."""
    found = {e.ref: e for e in Entity.objects.filter(ref__in=refs).only("ref", "kind", "namespace", "name", "title")}
    out = {}
    for ref in refs:
        entity = found.get(ref)
        if entity is not None:
            out[ref] = RelatedEntity(ref, entity.kind.lower(), entity.namespace.lower(), entity.name,
                                     entity.title or entity.name, True)  # fmt: skip
            continue
        try:
            parsed = parse_ref(ref)
        except RefError:
            out[ref] = RelatedEntity(ref, "?", "", ref, ref, False)
            continue
        out[ref] = RelatedEntity(ref, parsed.kind.lower(), parsed.namespace.lower(), parsed.name, parsed.name, False)
    return out


def relations_of(ref: str) -> list[tuple[str, str]]:
    """Distinct (type, targetRef) pairs whose source is ``ref``, sorted as Backstage sorts them."""
    pairs = Relation.objects.filter(source_ref=ref).values_list("type", "target_ref").distinct()
    return sorted(set(pairs))


def grouped_relations(ref: str, user=None) -> list[dict]:
    """Relations by type; with ``user``, targets the user may not read are left out."""
    pairs = relations_of(ref)
    targets = {target for _, target in pairs}
    hidden = hidden_refs(targets, user) if user is not None else set()
    resolved = related(targets - hidden)
    groups: dict[str, list[RelatedEntity]] = {}
    for relation_type, target in pairs:
        if target in resolved:
            groups.setdefault(relation_type, []).append(resolved[target])
    return [{"type": t, "label": RELATION_LABELS.get(t, t), "items": items} for t, items in sorted(groups.items())]
