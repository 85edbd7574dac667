"""Search rows (spec 7.3): the flattened, lower-cased (key, value) pairs behind catalog filters."""

from __future__ import annotations

from catalog.ingestion.search import flatten, search_rows

ENTITY = {
    "apiVersion": "backstage.io/v1alpha1",
    "kind": "Component",
    "metadata": {
        "name": "Artist-Lookup",
        "description": "Artist Lookup",
        "tags": ["java", "data"],
        "annotations": {"backstage.io/techdocs-ref": "dir:.", "github.com/project-slug": "Org/Repo"},
        "links": [{"url": "https://X.io", "title": "Docs"}],
        "etag": "abc",
    },
    "spec": {
        "type": "service",
        "lifecycle": "production",
        "owner": "team-a",
        "replicas": 3,
        "public": True,
        "ratio": 1.0,
        "nothing": None,
        "empty": [],
        "nested": {"deep": {"x": "Y"}},
    },
    "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}],
    "status": {"items": []},
}
RELATIONS = [
    ("component:default/artist-lookup", "ownedBy", "group:default/team-a"),
    ("group:default/team-a", "ownerOf", "component:default/artist-lookup"),
]


def rows() -> list[tuple[str, str | None]]:
    return search_rows(ENTITY, RELATIONS)


def test_leaves_are_dotted_lower_cased_keys_and_values():
    found = rows()
    assert ("apiversion", "backstage.io/v1alpha1") in found
    assert ("kind", "component") in found
    assert ("metadata.description", "artist lookup") in found
    assert ("spec.nested.deep.x", "y") in found


def test_array_elements_share_the_array_path_and_strings_add_true_rows():
    found = rows()
    assert ("metadata.tags", "java") in found and ("metadata.tags", "data") in found
    assert ("metadata.tags.java", "true") in found and ("metadata.tags.data", "true") in found
    assert ("metadata.links.url", "https://x.io") in found
    assert not any(key.startswith("spec.empty") for key, _ in found)


def test_annotation_keys_with_dots_and_slashes():
    found = rows()
    assert ("metadata.annotations.backstage.io/techdocs-ref", "dir:.") in found
    assert ("metadata.annotations.github.com/project-slug", "org/repo") in found


def test_relations_of_this_entity_only_with_lower_cased_type():
    found = rows()
    assert ("relations.ownedby", "group:default/team-a") in found
    assert not any(key == "relations.ownerof" for key, _ in found)
    assert not any(key.startswith("relations.") and key != "relations.ownedby" for key, _ in found)


def test_special_keys():
    found = rows()
    assert ("metadata.name", "artist-lookup") in found
    assert ("metadata.namespace", "default") in found  # filled in
    assert not any(key == "metadata.uid" for key, _ in found)  # only when present
    assert not any(key.startswith(("status", "metadata.etag")) for key, _ in found)
    with_uid = search_rows({**ENTITY, "metadata": {**ENTITY["metadata"], "uid": "ABC-1"}})
    assert ("metadata.uid", "abc-1") in with_uid


def test_scalars_are_stringified_like_javascript():
    found = rows()
    assert ("spec.replicas", "3") in found
    assert ("spec.public", "true") in found
    assert ("spec.ratio", "1") in found
    assert ("spec.nothing", None) in found


def test_long_keys_dropped_and_long_values_stored_as_null():
    entity = {"kind": "X", "metadata": {"name": "n"}, "spec": {"k" * 200: "v", "long": "v" * 201, "ok": "v" * 200}}
    found = search_rows(entity)
    assert not any(key.startswith("spec.kkk") for key, _ in found)
    assert ("spec.long", None) in found
    assert ("spec.ok", "v" * 200) in found


def test_rows_are_deduplicated():
    entity = {"kind": "X", "metadata": {"name": "n", "tags": ["a", "a", "A"]}}
    found = search_rows(entity)
    assert found.count(("metadata.tags", "a")) == 1
    assert len(found) == len(set(found))


def test_keys_that_differ_only_in_case_are_reported():
    entity = {"kind": "X", "metadata": {"name": "n", "annotations": {"Foo": "1", "foo": "2"}}}
    _, conflicts = flatten(entity, [])
    assert conflicts == ["metadata.annotations.foo"]
    assert flatten(ENTITY, RELATIONS)[1] == []


def test_keep_case_returns_original_values_for_facets():
    found = search_rows(ENTITY, RELATIONS, keep_case=True)
    assert ("kind", "Component") in found
    assert ("metadata.annotations.github.com/project-slug", "Org/Repo") in found
    assert ("metadata.name", "Artist-Lookup") in found
    assert {(k, v.lower() if v else v) for k, v in found} == set(rows())
