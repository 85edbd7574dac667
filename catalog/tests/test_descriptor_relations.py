"""Relation emission: every row of spec 4.1, both directions."""

from __future__ import annotations

import pytest

from catalog.ingestion.relations import RELATION_PAIRS, emit_relations, inverse_of


def make(kind: str, spec: dict, namespace: str = "default", name: str = "me") -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": kind,
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}  # fmt: skip


# (source kind, field, value, outgoing, incoming, expected target)
TABLE = [
    ("Component", "owner", "team-a", "ownedBy", "ownerOf", "group:default/team-a"),
    ("Component", "system", "audio", "partOf", "hasPart", "system:default/audio"),
    ("Component", "subcomponentOf", "player", "partOf", "hasPart", "component:default/player"),
    ("Component", "providesApis", ["search"], "providesApi", "apiProvidedBy", "api:default/search"),
    ("Component", "consumesApis", ["archive"], "consumesApi", "apiConsumedBy", "api:default/archive"),
    ("Component", "dependsOn", ["resource:db"], "dependsOn", "dependencyOf", "resource:default/db"),
    ("Component", "dependencyOf", ["component:app"], "dependencyOf", "dependsOn", "component:default/app"),
    ("API", "owner", "team-a", "ownedBy", "ownerOf", "group:default/team-a"),
    ("API", "system", "audio", "partOf", "hasPart", "system:default/audio"),
    ("Resource", "owner", "team-a", "ownedBy", "ownerOf", "group:default/team-a"),
    ("Resource", "system", "audio", "partOf", "hasPart", "system:default/audio"),
    ("Resource", "dependsOn", ["resource:disk"], "dependsOn", "dependencyOf", "resource:default/disk"),
    ("Resource", "dependencyOf", ["component:app"], "dependencyOf", "dependsOn", "component:default/app"),
    ("System", "owner", "team-a", "ownedBy", "ownerOf", "group:default/team-a"),
    ("System", "domain", "music", "partOf", "hasPart", "domain:default/music"),
    ("Domain", "owner", "team-a", "ownedBy", "ownerOf", "group:default/team-a"),
    ("Domain", "subdomainOf", "media", "partOf", "hasPart", "domain:default/media"),
    ("User", "memberOf", ["team-a"], "memberOf", "hasMember", "group:default/team-a"),
    ("Group", "parent", "infra", "childOf", "parentOf", "group:default/infra"),
    ("Group", "children", ["team-b"], "parentOf", "childOf", "group:default/team-b"),
    ("Group", "members", ["jdoe"], "hasMember", "memberOf", "user:default/jdoe"),
    ("Template", "owner", "team-a", "ownedBy", "ownerOf", "group:default/team-a"),
]


@pytest.mark.parametrize(("kind", "field", "value", "outgoing", "incoming", "target"), TABLE)
def test_relation_table_row(kind, field, value, outgoing, incoming, target):
    relations, errors = emit_relations(make(kind, {field: value}))
    me = f"{kind.lower()}:default/me"
    assert errors == []
    assert relations == [(me, outgoing, target), (target, incoming, me)]


def test_default_namespace_is_the_source_entity_namespace():
    relations, _ = emit_relations(make("Component", {"owner": "team-a", "system": "devex/one"}, namespace="devex"))
    assert ("component:devex/me", "ownedBy", "group:devex/team-a") in relations
    assert ("component:devex/me", "partOf", "system:devex/one") in relations


def test_explicit_kind_and_namespace_win_and_target_kind_is_not_enforced():
    relations, _ = emit_relations(make("Component", {"owner": "user:redhat/jdoe"}))
    assert relations[0] == ("component:default/me", "ownedBy", "user:redhat/jdoe")
    relations, _ = emit_relations(make("Component", {"owner": "component:foo"}))
    assert relations[0] == ("component:default/me", "ownedBy", "component:default/foo")


def test_refs_are_canonical_lower_case():
    relations, _ = emit_relations(make("Component", {"owner": "Group:Default/Team-A"}, name="Artist-Lookup"))
    assert relations == [
        ("component:default/artist-lookup", "ownedBy", "group:default/team-a"),
        ("group:default/team-a", "ownerOf", "component:default/artist-lookup"),
    ]


def test_single_values_accepted_as_lists_and_vice_versa():
    relations, errors = emit_relations(make("Component", {"owner": ["team-a"], "providesApis": "search"}))
    assert errors == []
    assert ("component:default/me", "ownedBy", "group:default/team-a") in relations
    assert ("component:default/me", "providesApi", "api:default/search") in relations


def test_duplicates_are_removed():
    relations, _ = emit_relations(make("User", {"memberOf": ["team-a", "group:team-a", "Group:default/TEAM-A"]}))
    assert relations == [
        ("user:default/me", "memberOf", "group:default/team-a"),
        ("group:default/team-a", "hasMember", "user:default/me"),
    ]


def test_depends_on_without_kind_is_an_error_naming_field_and_value():
    relations, errors = emit_relations(
        make("Component", {"owner": "team-a", "dependsOn": ["resource:ok", "artists-db"]}), file="f.yaml", document=3
    )
    (err,) = errors
    assert (err.file, err.document, err.field, err.rule) == ("f.yaml", 3, "spec.dependsOn[1]", "ref-missing-kind")
    assert '"artists-db"' in err.message and "resource:artists-db" in err.message
    assert ("component:default/me", "dependsOn", "resource:default/ok") in relations


def test_dependency_of_scalar_without_kind():
    _, errors = emit_relations(make("Resource", {"dependencyOf": "app"}))
    assert [(e.field, e.rule) for e in errors] == [("spec.dependencyOf", "ref-missing-kind")]


def test_malformed_ref_is_a_ref_format_error():
    _, errors = emit_relations(make("Component", {"owner": ":foo", "providesApis": ["x/"]}))
    assert [(e.field, e.rule) for e in errors] == [("spec.owner", "ref-format"), ("spec.providesApis[0]", "ref-format")]


def test_empty_values_and_unknown_kinds_emit_nothing():
    assert emit_relations(make("Component", {"owner": "", "providesApis": []})) == ([], [])
    assert emit_relations(make("AiResource", {"owner": "team-a"})) == ([], [])
    assert emit_relations(make("Location", {"target": "./x.yaml"})) == ([], [])


def test_relation_pairs_and_inverse():
    assert ("ownedBy", "ownerOf") in RELATION_PAIRS and len(RELATION_PAIRS) == 7
    for outgoing, incoming in RELATION_PAIRS:
        assert inverse_of(outgoing) == incoming and inverse_of(incoming) == outgoing
    assert inverse_of("customType") is None
