"""Relations emitted from spec fields of the built-in kinds (spec 4.1), both directions."""

from __future__ import annotations

from typing import Any

from .errors import DescriptorError, show
from .refs import DEFAULT_NAMESPACE, MissingKindError, RefError, parse_ref, ref_problem, stringify_ref

Relation = tuple[str, str, str]  # (source ref, type, target ref), refs canonical lower-case

OWNED_BY, OWNER_OF = "ownedBy", "ownerOf"
PART_OF, HAS_PART = "partOf", "hasPart"
DEPENDS_ON, DEPENDENCY_OF = "dependsOn", "dependencyOf"
PROVIDES_API, API_PROVIDED_BY = "providesApi", "apiProvidedBy"
CONSUMES_API, API_CONSUMED_BY = "consumesApi", "apiConsumedBy"
MEMBER_OF, HAS_MEMBER = "memberOf", "hasMember"
PARENT_OF, CHILD_OF = "parentOf", "childOf"

#: The catalog-wide vocabulary as (type, inverse) pairs.
RELATION_PAIRS: tuple[tuple[str, str], ...] = (
    (OWNED_BY, OWNER_OF),
    (PART_OF, HAS_PART),
    (DEPENDS_ON, DEPENDENCY_OF),
    (PROVIDES_API, API_PROVIDED_BY),
    (CONSUMES_API, API_CONSUMED_BY),
    (MEMBER_OF, HAS_MEMBER),
    (PARENT_OF, CHILD_OF),
)
_INVERSE = {a: b for a, b in RELATION_PAIRS} | {b: a for a, b in RELATION_PAIRS}

# (spec field, type on source, type on target, default target kind or None = kind is mandatory)
_OWNER = ("owner", OWNED_BY, OWNER_OF, "Group")
_SYSTEM = ("system", PART_OF, HAS_PART, "System")
_DEPENDS = ("dependsOn", DEPENDS_ON, DEPENDENCY_OF, None)
_DEPENDENCY = ("dependencyOf", DEPENDENCY_OF, DEPENDS_ON, None)
RELATION_FIELDS: dict[str, tuple[tuple[str, str, str, str | None], ...]] = {
    "Component": (
        _OWNER,
        _SYSTEM,
        ("subcomponentOf", PART_OF, HAS_PART, "Component"),
        ("providesApis", PROVIDES_API, API_PROVIDED_BY, "API"),
        ("consumesApis", CONSUMES_API, API_CONSUMED_BY, "API"),
        _DEPENDS,
        _DEPENDENCY,
    ),
    "API": (_OWNER, _SYSTEM),
    "Resource": (_OWNER, _SYSTEM, _DEPENDS, _DEPENDENCY),
    "System": (_OWNER, ("domain", PART_OF, HAS_PART, "Domain")),
    "Domain": (_OWNER, ("subdomainOf", PART_OF, HAS_PART, "Domain")),
    "User": (("memberOf", MEMBER_OF, HAS_MEMBER, "Group"),),
    "Group": (
        ("parent", CHILD_OF, PARENT_OF, "Group"),
        ("children", PARENT_OF, CHILD_OF, "Group"),
        ("members", HAS_MEMBER, MEMBER_OF, "User"),
    ),
    "Template": (_OWNER,),
}


def inverse_of(relation_type: str) -> str | None:
    """The opposite direction of a built-in relation type (``ownedBy`` -> ``ownerOf``); None if unknown."""
    return _INVERSE.get(relation_type)


def emit_relations(
    entity: dict[str, Any], *, file: str = "", document: int | None = None, written: dict[str, list] | None = None
) -> tuple[list[Relation], list[DescriptorError]]:
    """All relations the entity's spec produces, as ``(source, type, target)`` triples in both directions.

    The default namespace of every field is the entity's own namespace. Single values are accepted where
    lists are documented and vice versa. A ref that cannot be parsed - notably a ``dependsOn`` /
    ``dependencyOf`` entry without a kind (``ref-missing-kind``) - is an error for the whole entity, as in
    Backstage, and so is one that parses to parts no entity can have (``ref-format``: ``group:default/a/b``
    has the name ``a/b``); the relations of the other fields are still returned so the caller can choose.
    ``written``: the ref arrays as the file lists them, before ``normalize`` sorted them, so that an error
    names the entry's place in the file.
    """
    fields = RELATION_FIELDS.get(entity.get("kind", ""))
    spec = entity.get("spec")
    if not fields or not isinstance(spec, dict):
        return [], []
    metadata = entity["metadata"]
    namespace = metadata.get("namespace") or DEFAULT_NAMESPACE
    self_ref = stringify_ref(entity["kind"], namespace, metadata["name"])
    relations: dict[Relation, None] = {}
    errors: list[DescriptorError] = []
    for field, outgoing, incoming, default_kind in fields:
        value = spec.get(field)
        if not value:  # Backstage: `if (!targets) return`
            continue
        items = value if isinstance(value, list) else [value]
        order = (written or {}).get(field)
        for i, item in enumerate(items):
            where = f"spec.{field}[{_place(item, i, order)}]" if isinstance(value, list) else f"spec.{field}"
            try:
                ref = parse_ref(item, default_kind=default_kind, default_namespace=namespace)
            except MissingKindError:
                errors.append(DescriptorError(
                    file, document, where, "ref-missing-kind",
                    f"{where} {show(item)} has no kind: {field} references must name the kind of the target, "
                    f'e.g. "resource:{item}" or "component:{item}"',
                ))  # fmt: skip
                continue
            except RefError as err:
                errors.append(DescriptorError(file, document, where, "ref-format", f"{where}: {err}"))
                continue
            problem = ref_problem(ref)
            if problem:
                message = f"{where} {show(item)} cannot refer to an entity: {problem}"
                errors.append(DescriptorError(file, document, where, "ref-format", message))
                continue
            target = ref.key
            relations[(self_ref, outgoing, target)] = None
            relations[(target, incoming, self_ref)] = None
    return list(relations), errors


def _place(item: Any, index: int, written: list | None) -> int:
    """``item``'s index in the array as written (``index`` in the sorted one when unknown)."""
    return written.index(item) if written and item in written else index
