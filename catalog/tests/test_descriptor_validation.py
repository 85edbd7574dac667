"""validate_entity: envelope, root fields, field formats (spec 1.2) and built-in kind schemas (spec 2)."""

from __future__ import annotations

import copy

import pytest

from catalog.ingestion.schemacheck import compile_predicate
from catalog.ingestion.validation import API_VERSIONS, ENVELOPE, KIND_SCHEMAS, is_known_kind, validate_entity

V1 = "backstage.io/v1alpha1"

VALID = {
    "Component": {"type": "service", "lifecycle": "production", "owner": "team-a"},
    "API": {"type": "openapi", "lifecycle": "production", "owner": "team-a", "definition": "openapi: 3.0.0"},
    "Resource": {"type": "database", "owner": "team-a"},
    "System": {"owner": "team-a"},
    "Domain": {"owner": "team-a"},
    "Group": {"type": "team", "children": []},
    "User": {"memberOf": []},
    "Location": {},
    "Template": {"type": "service", "steps": [{"action": "fetch:template"}]},
}
REQUIRED = {
    "Component": ["type", "lifecycle", "owner"],
    "API": ["type", "lifecycle", "owner", "definition"],
    "Resource": ["type", "owner"],
    "System": ["owner"],
    "Domain": ["owner"],
    "Group": ["type", "children"],
    "User": ["memberOf"],
    "Template": ["type", "steps"],
}


def entity(kind: str = "Component", **overrides) -> dict:
    api_version = "scaffolder.backstage.io/v1beta3" if kind == "Template" else V1
    base = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "artist-lookup"}}
    if kind in VALID:
        base["spec"] = copy.deepcopy(VALID[kind])
    base.update(overrides)
    return base


def with_meta(**metadata) -> dict:
    return entity(metadata={"name": "artist-lookup", **metadata})


def check(value: dict) -> list[tuple[str, str]]:
    return [(e.field, e.rule) for e in validate_entity(value, file="f.yaml", document=0)]


@pytest.mark.parametrize("kind", sorted(VALID))
def test_minimal_entity_of_each_kind_is_valid(kind):
    assert check(entity(kind)) == []
    assert is_known_kind(kind, entity(kind)["apiVersion"])


def test_both_backstage_api_versions_are_accepted():
    assert check(entity(apiVersion="backstage.io/v1beta1")) == []
    assert API_VERSIONS["Component"] == ("backstage.io/v1alpha1", "backstage.io/v1beta1")
    assert API_VERSIONS["Template"] == ("scaffolder.backstage.io/v1beta3",)


@pytest.mark.parametrize(("kind", "field"), [(k, f) for k, fields in REQUIRED.items() for f in fields])
def test_each_required_spec_field(kind, field):
    value = entity(kind)
    del value["spec"][field]
    errors = validate_entity(value, file="f.yaml", document=2)
    assert [(e.field, e.rule, e.document) for e in errors] == [(f"spec.{field}", "schema", 2)]
    assert f"spec.{field} is required for kind {kind}" in errors[0].message


def test_missing_spec_for_a_kind_that_needs_one():
    value = entity()
    del value["spec"]
    assert check(value) == [("spec", "schema")]


def test_wrong_types_name_field_and_value():
    value = entity(spec={"type": "service", "lifecycle": "production", "owner": 42, "providesApis": "x"})
    errors = validate_entity(value, file="f", document=0)
    assert [(e.field, e.rule) for e in errors] == [("spec.owner", "schema"), ("spec.providesApis", "schema")]
    assert errors[0].message == "spec.owner must be string, got number 42"


def test_empty_strings_and_array_items():
    value = entity(spec={"type": "", "lifecycle": "production", "owner": "a", "dependsOn": ["x", ""]})
    assert check(value) == [("spec.dependsOn[1]", "schema"), ("spec.type", "schema")]


@pytest.mark.parametrize(
    ("kind", "api_version"),
    [
        ("Component", "backstage.io/v1"),
        ("Component", "scaffolder.backstage.io/v1beta3"),
        ("Template", V1),
        ("Template", "scaffolder.backstage.io/v1beta2"),
    ],
)
def test_built_in_kind_with_unsupported_api_version(kind, api_version):
    errors = validate_entity(entity(kind, apiVersion=api_version), file="f", document=0)
    assert [(e.field, e.rule, e.level) for e in errors] == [("apiVersion", "unknown-api-version", "error")]
    assert api_version in errors[0].message and kind in errors[0].message
    assert not is_known_kind(kind, api_version)


def test_kind_is_case_sensitive_with_a_hint():
    errors = validate_entity(entity(kind="component"), file="f", document=0)
    assert [(e.field, e.rule) for e in errors] == [("kind", "kind-case")]
    assert "did you mean Component?" in errors[0].message
    assert not is_known_kind("component", V1)


@pytest.mark.parametrize("kind", ["AiResource", "Environment", "MyCustomThing"])
def test_unknown_kinds_are_not_errors(kind):
    value = {"apiVersion": "example.com/v1", "kind": kind, "metadata": {"name": "x"}, "spec": {"anything": [1]}}
    assert check(value) == []
    assert not is_known_kind(kind, "example.com/v1")


def test_unknown_kinds_still_get_envelope_and_format_rules():
    value = {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "bad name", "tags": ["X"]}}
    assert check(value) == [("metadata.name", "name-format"), ("metadata.tags[0]", "tag-format")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"kind": "Component", "metadata": {"name": "x"}}, [("apiVersion", "envelope")]),
        ({"apiVersion": V1, "metadata": {"name": "x"}}, [("kind", "envelope")]),
        ({"apiVersion": V1, "kind": "Component"}, [("metadata", "envelope")]),
        ({"apiVersion": V1, "kind": "Component", "metadata": {}}, [("metadata.name", "envelope")]),
        ({"apiVersion": V1, "kind": "Component", "metadata": {"name": ""}}, [("metadata.name", "envelope")]),
        ({"apiVersion": 1, "kind": "Component", "metadata": {"name": "x"}}, [("apiVersion", "envelope")]),
        ({"apiVersion": V1, "kind": "Component", "metadata": "x"}, [("metadata", "envelope")]),
    ],
)
def test_envelope(value, expected):
    assert check(value) == expected


def test_output_only_and_unknown_root_fields():
    value = entity(relations=[], status={}, dependsOn=["component:x"])
    errors = validate_entity(value, file="f", document=0)
    assert [(e.field, e.rule) for e in errors] == [
        ("relations", "output-only-field"),
        ("status", "output-only-field"),
        ("dependsOn", "unknown-root-field"),
    ]
    assert 'unknown root field "dependsOn"' in errors[2].message


@pytest.mark.parametrize("name", ["a", "artist-lookup", "Kibana-UI-Service", "1upSampleData", "a.b_c-d", "x" * 63])
def test_valid_names(name):
    assert check(with_meta(name=name)) == []


@pytest.mark.parametrize("name", ["x" * 64, "my service", "-leading", "trailing_", "a/b", "ünïcode", "a:b", "."])
def test_invalid_names(name):
    errors = validate_entity(with_meta(name=name), file="f", document=0)
    assert [(e.field, e.rule) for e in errors] == [("metadata.name", "name-format")]
    assert name in errors[0].message


def test_too_long_name_message_says_length():
    (err,) = validate_entity(with_meta(name="x" * 70), file="f", document=0)
    assert "70 characters, at most 63" in err.message


@pytest.mark.parametrize(("namespace", "ok"), [("default", True), ("dev--ops", True), ("Dev", False), ("a_b", False)])
def test_namespace_is_a_dns_label(namespace, ok):
    assert check(with_meta(namespace=namespace)) == ([] if ok else [("metadata.namespace", "namespace-format")])


@pytest.mark.parametrize("tag", ["java", "c++", "c#", "confidentiality:public", "a-b-c", "x" * 63])
def test_valid_tags(tag):
    assert check(with_meta(tags=[tag])) == []


@pytest.mark.parametrize("tag", ["Java", "a_b", "a.b", "a b", "-a", "a-", "a--b", "x" * 64])
def test_invalid_tags_report_index(tag):
    errors = validate_entity(with_meta(tags=["ok", tag]), file="f", document=0)
    assert [(e.field, e.rule) for e in errors] == [("metadata.tags[1]", "tag-format")]
    assert f'"{tag}"' in errors[0].message


def test_empty_tag_is_one_schema_error():
    assert check(with_meta(tags=[""])) == [("metadata.tags[0]", "schema")]


def test_labels_and_annotations():
    ok = with_meta(
        labels={"backstage.io/team": "a", "tier": "", "x.y/z_1": "A.b-c"},
        annotations={"backstage.io/techdocs-ref": "dir:.", "jira/project-key": "has spaces: fine"},
    )
    assert check(ok) == []
    bad = with_meta(
        labels={"a/b/c": "x", "good": "has space"},
        annotations={"Bad_Prefix/x": "v", "backstage.io/": "v", "n": 42},
    )
    assert check(bad) == [
        ("metadata.annotations.n", "schema"),
        ("metadata.labels.a/b/c", "label-key-format"),
        ("metadata.labels.good", "label-value-format"),
        ("metadata.annotations.Bad_Prefix/x", "annotation-key-format"),
        ("metadata.annotations.backstage.io/", "annotation-key-format"),
    ]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/x?y#z", True),
        ("http://localhost:3000", True),
        ("mailto:team@example.com", True),
        ("slack://channel", True),
        ("not a url", False),
        ("/relative/path", False),
        ("https://", False),
        ("https://exa mple.com", False),
        ("http://host:99999", False),
    ],
)
def test_link_urls_must_be_absolute(url, ok):
    result = check(with_meta(links=[{"url": url}]))
    assert result == ([] if ok else [("metadata.links[0].url", "url-format")])


def test_link_title_and_icon_must_not_be_blank():
    value = with_meta(links=[{"url": "https://x.io", "title": "  ", "icon": "github", "type": "docs"}, {"title": "x"}])
    assert check(value) == [("metadata.links[1].url", "schema"), ("metadata.links[0].title", "not-empty")]


def test_api_version_and_kind_formats():
    assert ("apiVersion", "api-version-format") in check(entity(apiVersion="backstage.io/v1.0"))
    assert ("apiVersion", "api-version-format") in check(entity(apiVersion="a/b/c"))
    assert check({"apiVersion": "x/v1", "kind": "1Thing", "metadata": {"name": "x"}}) == [("kind", "kind-format")]


def test_all_errors_are_reported_each_with_its_field():
    value = entity(
        metadata={"name": "bad name", "tags": ["Java", "ok", "a_b"]},
        spec={"type": "service", "lifecycle": "production"},
        extra=True,
    )
    assert check(value) == [
        ("extra", "unknown-root-field"),
        ("metadata.name", "name-format"),
        ("metadata.tags[0]", "tag-format"),
        ("metadata.tags[2]", "tag-format"),
        ("spec.owner", "schema"),
    ]


def test_template_steps_need_an_action_and_parameters_may_be_a_list():
    value = entity("Template")
    value["spec"]["steps"] = [{"action": "fetch:plain"}, {"id": "publish", "input": {}}]
    value["spec"]["parameters"] = [{"title": "page 1", "properties": {}}, {"title": "page 2"}]
    assert check(value) == [("spec.steps[1].action", "schema")]
    value["spec"]["parameters"] = "nope"
    value["spec"]["steps"][1]["action"] = "publish:github"
    assert check(value) == [("spec.parameters", "schema")]


def test_location_presence_enum():
    assert check(entity("Location", spec={"targets": ["./a.yaml"], "presence": "optional"})) == []
    assert check(entity("Location", spec={"target": "./a.yaml", "presence": "maybe"})) == [("spec.presence", "schema")]


def test_extra_spec_keys_are_allowed():
    value = entity("Resource")
    value["spec"]["implementation"] = {"apiVersion": "x", "kind": "Deep", "spec": {"a": [1, {"b": None}]}}
    value["spec"]["dependencyOf"] = ["component:x"]
    assert check(value) == []


# --- the compiled predicate must agree with jsonschema (the JSON files are the contract) ---------------


def _mutations(base: dict) -> list[dict]:
    """Break every field in several ways, one at a time."""
    out = [base]
    junk = [None, 0, 1.5, True, "", "x", [], ["x"], [""], [1], {}, {"a": 1}]

    def walk(node, setter):
        if isinstance(node, dict):
            for key in list(node):
                for bad in junk:
                    clone = copy.deepcopy(base)
                    setter(clone)[key] = bad
                    out.append(clone)
                clone = copy.deepcopy(base)
                del setter(clone)[key]
                out.append(clone)
                walk(node[key], lambda c, k=key, s=setter: s(c)[k])
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, lambda c, i=i, s=setter: s(c)[i])

    walk(base, lambda c: c)
    return out


RICH = {
    "apiVersion": V1,
    "kind": "Component",
    "metadata": {
        "name": "n",
        "namespace": "ns",
        "title": "T",
        "labels": {"a": "b"},
        "annotations": {"a/b": "c"},
        "tags": ["t"],
        "links": [{"url": "https://x.io", "title": "t", "icon": "i", "type": "docs"}],
    },
    "spec": {"type": "s", "lifecycle": "l", "owner": "o", "system": "s", "providesApis": ["a"], "dependsOn": ["c:d"]},
}


@pytest.mark.parametrize("kind", sorted(KIND_SCHEMAS))
def test_fast_predicate_agrees_with_jsonschema(kind):
    base = copy.deepcopy(RICH) if kind == "Component" else entity(kind)
    if kind == "Template":
        base["spec"].update(owner="o", parameters=[{}], output={"links": [{"url": "u"}], "text": [], "remoteUrl": "x"})
    schemas = [ENVELOPE, KIND_SCHEMAS[kind]]
    cases = _mutations(base)
    assert len(cases) > 50
    for case in cases:
        for schema in schemas:
            assert schema.is_valid(case) == schema.validator.is_valid(case), (schema.name, case)


def test_compiler_refuses_unsupported_keywords():
    with pytest.raises(ValueError, match="pattern"):
        compile_predicate({"type": "string", "pattern": "^a$"})
