"""$text / $json / $yaml substitution placeholders (spec 6.3)."""

from __future__ import annotations

import pytest

from catalog.ingestion.placeholders import PlaceholderReadError, resolve_placeholders

FILES = {
    "./openapi.yaml": "openapi: 3.0.0\ninfo:\n  title: x\n",
    "./data.json": '{"a": [1, 2], "b": null}',
    "./multi.yaml": "a: 1\n---\nb: 2\n",
    "./broken.json": "{nope",
    "./broken.yaml": "a: [\n",
    "./list.yaml": "- x\n- y\n",
}


def reader(calls: list[str] | None = None):
    def read_text(target: str) -> str:
        if calls is not None:
            calls.append(target)
        if target not in FILES:
            raise PlaceholderReadError(f"{target} not found")
        return FILES[target]

    return read_text


def resolve(entity: dict, calls: list[str] | None = None):
    return resolve_placeholders(entity, read_text=reader(calls), file="catalog-info.yaml", document=1)


def api(definition) -> dict:
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "API", "metadata": {"name": "x"},
            "spec": {"type": "openapi", "definition": definition}}  # fmt: skip


def test_text_placeholder_becomes_the_file_content():
    result = resolve(api({"$text": "./openapi.yaml"}))
    assert result.errors == []
    assert result.entity["spec"]["definition"] == FILES["./openapi.yaml"]
    assert result.reads == ["./openapi.yaml"]


def test_json_placeholder_is_parsed():
    result = resolve({"spec": {"data": {"$json": "./data.json"}}})
    assert result.entity["spec"]["data"] == {"a": [1, 2], "b": None}


def test_yaml_placeholder_is_parsed_and_may_be_any_value():
    assert resolve({"spec": {"d": {"$yaml": "./openapi.yaml"}}}).entity["spec"]["d"]["info"] == {"title": "x"}
    assert resolve({"spec": {"d": {"$yaml": "./list.yaml"}}}).entity["spec"]["d"] == ["x", "y"]


def test_placeholders_inside_lists_and_anywhere_in_the_entity():
    entity = {"metadata": {"description": {"$text": "./data.json"}}, "spec": {"items": [1, {"$json": "./data.json"}]}}
    result = resolve(entity)
    assert result.errors == []
    assert result.entity["metadata"]["description"] == FILES["./data.json"]
    assert result.entity["spec"]["items"][1] == {"a": [1, 2], "b": None}
    assert result.reads == ["./data.json"]  # de-duplicated


@pytest.mark.parametrize(
    "value",
    [
        {"$ref": "#/definitions/node"},  # JSON Schema: unknown $ key
        {"$text": "./openapi.yaml", "other": 1},  # $ key next to other keys
        {"$text": 42},  # value is not a string
        {"$text": ["./openapi.yaml"]},
    ],
)
def test_other_dollar_objects_are_left_alone(value):
    calls: list[str] = []
    result = resolve(api(dict(value)), calls)
    assert result.errors == [] and calls == []
    assert result.entity["spec"]["definition"] == value


def test_left_alone_objects_are_not_descended_into():
    value = {"$ref": "x", "nested": {"$text": "./openapi.yaml"}}
    calls: list[str] = []
    assert resolve({"spec": {"schema": value}}, calls).entity["spec"]["schema"] == value
    assert calls == []


def test_substituted_content_is_not_scanned_again():
    FILES["./self.json"] = '{"$text": "./openapi.yaml"}'
    try:
        result = resolve({"spec": {"d": {"$json": "./self.json"}}})
    finally:
        del FILES["./self.json"]
    assert result.entity["spec"]["d"] == {"$text": "./openapi.yaml"}


def test_reader_error_becomes_a_located_placeholder_error():
    result = resolve(api({"$text": "https://github.com/o/r/blob/main/x.yaml"}))
    (err,) = result.errors
    assert (err.file, err.document, err.field, err.rule) == ("catalog-info.yaml", 1, "spec.definition", "placeholder")
    assert "$text" in err.message and "https://github.com/o/r/blob/main/x.yaml" in err.message
    assert "not found" in err.message
    assert result.entity["spec"]["definition"] == {"$text": "https://github.com/o/r/blob/main/x.yaml"}
    assert result.reads == []


@pytest.mark.parametrize(
    ("placeholder", "fragment"),
    [
        ({"$json": "./broken.json"}, "failed to parse JSON"),
        ({"$yaml": "./broken.yaml"}, "YAML syntax error"),
        ({"$yaml": "./multi.yaml"}, "exactly one document"),
    ],
)
def test_unparsable_content_is_a_placeholder_error(placeholder, fragment):
    result = resolve({"spec": {"items": [0, placeholder]}})
    (err,) = result.errors
    assert (err.field, err.rule) == ("spec.items[1]", "placeholder")
    assert fragment in err.message


def test_entity_without_placeholders_is_untouched():
    entity = api("openapi: 3.0.0")
    result = resolve(entity)
    assert result.entity is entity and result.errors == [] and result.reads == []


def test_reader_returning_invalid_text_is_a_placeholder_error():
    def read_text(target: str) -> str:
        return "bad \ud800 surrogate"

    result = resolve_placeholders(api({"$text": "./x"}), read_text=read_text, file="f", document=0)
    assert [(e.field, e.rule) for e in result.errors] == [("spec.definition", "placeholder")]
