"""process_file and its helpers: the whole pipeline for one descriptor file (spec 6.2)."""

from __future__ import annotations

import copy

from catalog.ingestion import (
    DescriptorError,
    EntityRef,
    PlaceholderReadError,
    content_hash,
    location_targets,
    normalize,
    process_file,
)

COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
  tags: [java]
spec:
  type: service
  lifecycle: production
  owner: team-a
  providesApis: [zeta, alpha]
"""


def run(text: str, files: dict[str, str] | None = None):
    def read_text(target: str) -> str:
        if files and target in files:
            return files[target]
        raise PlaceholderReadError(f"{target} is not readable here")

    return process_file(text.encode(), file="repo/catalog-info.yaml", read_text=read_text)


def test_valid_component_is_fully_processed():
    result = run(COMPONENT.format(name="artist-lookup"))
    assert result.ok and result.errors == []
    (ent,) = result.entities
    assert ent.valid and ent.known_kind and ent.document == 0
    assert ent.ref == EntityRef("Component", "default", "artist-lookup")
    assert ent.entity["metadata"]["namespace"] == "default"
    assert ent.entity["spec"]["providesApis"] == ["alpha", "zeta"]  # sorted by normalize
    assert ("component:default/artist-lookup", "ownedBy", "group:default/team-a") in ent.relations
    assert ("api:default/alpha", "apiProvidedBy", "component:default/artist-lookup") in ent.relations
    assert ("metadata.tags.java", "true") in ent.search
    assert ("relations.providesapi", "api:default/zeta") in ent.search
    assert ent.hash == content_hash(ent.entity) and len(ent.hash) == 40


def test_invalid_entity_with_a_ref_is_reported_for_the_caller_to_keep_the_last_good_version():
    result = run(COMPONENT.format(name="artist-lookup").replace("  owner: team-a\n", "") + "  extra: x\n")
    (ent,) = result.entities
    assert not ent.valid and not result.ok
    assert [(e.field, e.rule) for e in ent.errors] == [("spec.owner", "schema")]
    assert ent.relations == [] and ent.search == [] and ent.hash == ""
    assert result.errors == [] and result.all_errors == ent.errors


def test_document_without_a_ref_goes_to_file_errors():
    result = run("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  title: no name\n")
    assert result.entities == []
    assert [(e.document, e.field, e.rule) for e in result.errors] == [(0, "metadata.name", "envelope")]


def test_envelope_failure_with_ref_stops_before_validation():
    result = run("kind: Component\nmetadata:\n  name: x\nspec: {}\n")
    (ent,) = result.entities
    assert [(e.field, e.rule) for e in ent.errors] == [("apiVersion", "envelope")]


def test_depends_on_without_kind_invalidates_the_entity():
    text = COMPONENT.format(name="player") + "  dependsOn: [artists-db]\n"
    (ent,) = run(text).entities
    assert not ent.valid
    assert [(e.field, e.rule) for e in ent.errors] == [("spec.dependsOn[0]", "ref-missing-kind")]


def test_duplicate_refs_in_one_file_are_reported_on_the_later_document():
    text = "\n---\n".join(
        [COMPONENT.format(name="artist-lookup"), COMPONENT.format(name="other"), COMPONENT.format(name="Artist-Lookup")]
    )
    result = run(text)
    assert [e.ref.name for e in result.entities] == ["artist-lookup", "other"]
    (err,) = result.errors
    assert (err.document, err.field, err.rule) == (2, "metadata.name", "duplicate-ref")
    assert "document 1 of this file" in err.message  # numbered from 1, as everywhere


def test_yaml_problems_and_good_documents_together():
    text = COMPONENT.format(name="a") + "---\n- not an object\n---\n" + COMPONENT.format(name="b") + "---\nx: [\n"
    result = run(text)
    assert [e.ref.name for e in result.entities] == ["a", "b"]
    assert [(e.document, e.rule) for e in result.errors] == [(1, "not-an-object"), (3, "yaml-syntax")]
    assert result.unreadable  # a refresh uses none of it (the entities are listed for validation only)


def test_a_file_is_unreadable_when_part_of_its_yaml_cannot_be_read():
    good = COMPONENT.format(name="a")
    assert run(good + "---\nx: 1\nx: 2\n").unreadable  # duplicate-key: a document without a value
    assert run(good + "---\n" + "[" * 300 + "\n").unreadable  # too-deep
    assert not run(good + "---\n- not an object\n").unreadable  # it parsed: only that document is wrong
    assert not run(good.replace("  owner: team-a\n", "")).unreadable  # invalid, but read


def test_file_level_errors():
    assert [e.rule for e in process_file(b"\xff\xfe", file="x").errors] == ["not-utf8"]
    assert [e.rule for e in process_file(b"a: 1\n" * 10, file="x", max_bytes=10).errors] == ["too-large"]


def test_placeholders_are_resolved_before_validation():
    text = """\
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: petstore}
spec:
  type: openapi
  lifecycle: production
  owner: team-c
  definition:
    $text: ./openapi.yaml
"""
    result = run(text, {"./openapi.yaml": "openapi: 3.0.0\n"})
    (ent,) = result.entities
    assert ent.valid and ent.entity["spec"]["definition"] == "openapi: 3.0.0\n"
    assert ent.reads == ["./openapi.yaml"]
    (ent,) = run(text).entities  # unreadable: only the placeholder error, no schema noise
    assert [(e.field, e.rule) for e in ent.errors] == [("spec.definition", "placeholder")]


def test_unknown_kind_is_valid_and_stored_generically():
    text = "apiVersion: backstage.io/v1alpha1\nkind: AiResource\nmetadata: {name: skill}\nspec: {owner: team-a}\n"
    (ent,) = run(text).entities
    assert ent.valid and not ent.known_kind
    assert ent.relations == [] and ("spec.owner", "team-a") in ent.search


def test_keys_differing_in_case_fail_like_backstage_stitching():
    text = COMPONENT.format(name="x") + "  Type: other\n"
    (ent,) = run(text).entities
    assert [(e.field, e.rule) for e in ent.errors] == [("spec.type", "key-case-conflict")]


def test_location_targets():
    location = {"kind": "Location", "spec": {"target": "./a.yaml", "targets": ["./b.yaml", 3, "./c/*.yaml"]}}
    assert location_targets(location) == ["./a.yaml", "./b.yaml", "./c/*.yaml"]
    assert location_targets({"kind": "Location"}) == []


def test_normalize_sorts_only_string_arrays_and_fills_namespace():
    entity = {"metadata": {"name": "x"}, "spec": {"dependsOn": ["b", "a"], "members": ["b", 1], "other": ["b", "a"]}}
    normalize(entity)
    assert entity["metadata"]["namespace"] == "default"
    assert entity["spec"] == {"dependsOn": ["a", "b"], "members": ["b", 1], "other": ["b", "a"]}


def test_content_hash_ignores_key_order_and_sorted_ref_arrays_only():
    a = {"kind": "Component", "metadata": {"name": "x"}, "spec": {"consumesApis": ["b", "a"], "tags": ["y", "x"]}}
    b = copy.deepcopy(a)
    b["spec"] = {"tags": ["y", "x"], "consumesApis": ["a", "b"]}
    assert content_hash(normalize(copy.deepcopy(a))) == content_hash(normalize(b))
    c = copy.deepcopy(a)
    c["spec"]["tags"] = ["x", "y"]
    assert content_hash(normalize(c)) != content_hash(normalize(copy.deepcopy(a)))


def test_descriptor_error_status_item_and_str():
    err = DescriptorError("repo/catalog-info.yaml", 2, "metadata.tags[1]", "tag-format", 'tag "Java" is not valid')
    assert err.as_status_item() == {
        "type": "backstage.io/catalog-processing",
        "level": "error",
        "message": 'InputError: tag "Java" is not valid',
        "error": {"name": "InputError", "message": 'tag "Java" is not valid'},
        "location": {
            "file": "repo/catalog-info.yaml",
            "document": 2,
            "field": "metadata.tags[1]",
            "rule": "tag-format",
        },
    }
    assert str(err) == 'repo/catalog-info.yaml › document 3 › metadata.tags[1]: tag "Java" is not valid'
    assert err.located("component:default/x") == (
        'component:default/x in repo/catalog-info.yaml › document 3 › metadata.tags[1]: tag "Java" is not valid'
    )
    assert str(DescriptorError("f", None, "", "not-utf8", "bad")) == "f: bad"
