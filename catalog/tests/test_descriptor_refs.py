"""Entity reference parsing (spec 3.1), quirks included."""

from __future__ import annotations

import pytest

from catalog.ingestion.refs import EntityRef, MissingKindError, RefError, parse_ref, ref_of, stringify_ref


@pytest.mark.parametrize(
    ("value", "defaults", "expected"),
    [
        ("component:default/artist-lookup", {}, ("component", "default", "artist-lookup")),
        ("Component:Default/Artist-Lookup", {}, ("Component", "Default", "Artist-Lookup")),
        ("group:ops", {}, ("group", "default", "ops")),
        ("team-a", {"default_kind": "Group"}, ("Group", "default", "team-a")),
        ("team-a", {"default_kind": "Group", "default_namespace": "devex"}, ("Group", "devex", "team-a")),
        ("redhat/one-platform-devs", {"default_kind": "Group"}, ("Group", "redhat", "one-platform-devs")),
        ("group:redhat/one-platform-devs", {"default_kind": "User"}, ("group", "redhat", "one-platform-devs")),
        # "a/b/c": namespace a, name b/c (fails name validation elsewhere, not here)
        ("a/b/c", {"default_kind": "Component"}, ("Component", "a", "b/c")),
        # a "/" before the ":" turns the colon into part of the name
        ("ns/name:with-colon", {"default_kind": "API"}, ("API", "ns", "name:with-colon")),
        ("kind:ns/name/extra", {}, ("kind", "ns", "name/extra")),
        ("url:https://x", {}, ("url", "https:", "/x")),
        ({"kind": "Group", "name": "ops"}, {}, ("Group", "default", "ops")),
        ({"name": "ops", "namespace": "x"}, {"default_kind": "User"}, ("User", "x", "ops")),
    ],
)
def test_parse_ref_table(value, defaults, expected):
    assert parse_ref(value, **defaults) == EntityRef(*expected)


@pytest.mark.parametrize(
    "value",
    [":foo", "a:/b", "x/", "component:", "component:ns/", "/name", ""],
)
def test_present_but_empty_parts_are_errors(value):
    with pytest.raises(RefError):
        parse_ref(value, default_kind="Component")


def test_empty_part_message_shows_the_form():
    with pytest.raises(RefError, match=r"was not on the form \[<kind>:\]\[<namespace>/\]<name>"):
        parse_ref(":foo")


@pytest.mark.parametrize("value", ["ns/name", "artists-db", {"name": "x"}])
def test_missing_kind_without_default_is_an_error(value):
    with pytest.raises(MissingKindError, match="missing or empty kind"):
        parse_ref(value)


def test_compound_ref_with_empty_kind_or_missing_name():
    with pytest.raises(MissingKindError):
        parse_ref({"kind": "", "name": "x"}, default_kind="Group")
    with pytest.raises(RefError, match="missing or empty name"):
        parse_ref({"kind": "Group"})


def test_non_string_refs_are_errors():
    with pytest.raises(RefError):
        parse_ref(42, default_kind="Group")  # type: ignore[arg-type]


def test_str_and_key_are_lower_case_but_fields_keep_case():
    ref = parse_ref("Component:Default/Artist-Lookup")
    assert str(ref) == ref.key == "component:default/artist-lookup"
    assert (ref.kind, ref.name) == ("Component", "Artist-Lookup")
    assert parse_ref("component:default/artist-lookup").key == ref.key


def test_stringify_ref_is_lower_case():
    assert stringify_ref("Group", "Default", "Team-A") == "group:default/team-a"


def test_ref_of_fills_default_namespace():
    entity = {"kind": "Component", "metadata": {"name": "Kibana-UI-Service"}}
    assert ref_of(entity) == EntityRef("Component", "default", "Kibana-UI-Service")
    assert str(ref_of({**entity, "metadata": {"name": "x", "namespace": "devex"}})) == "component:devex/x"


@pytest.mark.parametrize("entity", [{"kind": "Component"}, {"metadata": {"name": "x"}}, {"kind": "", "metadata": {}}])
def test_ref_of_needs_kind_and_name(entity):
    with pytest.raises(RefError):
        ref_of(entity)
