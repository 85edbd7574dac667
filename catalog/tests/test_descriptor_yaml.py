"""yamlsafe.parse_documents: Backstage's YAML semantics plus the limits that keep a worker alive."""

from __future__ import annotations

import math
import tracemalloc

import pytest

from catalog.ingestion.yamlsafe import parse_documents, resolve_plain


def parse(text: str | bytes, **kwargs):
    content = text.encode() if isinstance(text, str) else text
    return parse_documents(content, file="f.yaml", **kwargs)


def rules(errors) -> list[str]:
    return [e.rule for e in errors]


def test_multi_document_skips_empty_and_null_documents_but_keeps_indexes():
    docs, errors = parse("---\na: 1\n---\n---\nnull\n---\nb: 2\n...\n")
    assert errors == []
    assert docs == [(0, {"a": 1}), (3, {"b": 2})]


def test_tolerates_schema_comments_missing_trailing_newline_and_bom():
    docs, errors = parse(b"\xef\xbb\xbf# yaml-language-server: $schema=x\n\n\nkind: Component")
    assert errors == []
    assert docs == [(0, {"kind": "Component"})]


def test_root_that_is_not_a_mapping_is_located_error_and_other_documents_survive():
    docs, errors = parse("a: 1\n---\n- x\n- y\n---\njust text\n")
    assert docs == [(0, {"a": 1})]
    assert [(e.document, e.rule) for e in errors] == [(1, "not-an-object"), (2, "not-an-object")]
    assert "expected object at root, got array" in errors[0].message


def test_require_object_false_returns_any_root():
    docs, errors = parse("- 1\n---\nhello\n", require_object=False)
    assert errors == []
    assert docs == [(0, [1]), (1, "hello")]


def test_syntax_error_names_line_and_column_and_keeps_earlier_documents():
    text = "a: 1\n---\nb: 2\n---\nc: 3\n---\nkind: Component\nmetadata:\n  name: [oops\n"
    docs, errors = parse(text)
    assert docs == [(0, {"a": 1}), (1, {"b": 2}), (2, {"c": 3})]
    assert len(errors) == 1
    err = errors[0]
    assert (err.rule, err.document, err.file) == ("yaml-syntax", 3, "f.yaml")
    assert "line 10" in err.message and "column" in err.message


def test_bad_indentation_is_a_syntax_error_with_line():
    docs, errors = parse("metadata:\n  name: x\n name2: y\n")
    assert docs == []
    assert rules(errors) == ["yaml-syntax"]
    assert "line 3" in errors[0].message


def test_merge_keys_are_not_expanded():
    docs, errors = parse("base: &base {owner: team-a}\nspec:\n  <<: *base\n  type: service\n")
    assert errors == []
    spec = docs[0][1]["spec"]
    assert spec == {"<<": {"owner": "team-a"}, "type": "service"}
    assert "owner" not in spec


def test_explicit_merge_tag_is_still_a_plain_key():
    docs, _ = parse("a: {!!merge <<: {x: 1}}\n")
    assert docs[0][1] == {"a": {"<<": {"x": 1}}}


def test_anchors_and_aliases_work():
    docs, errors = parse("a: &x [1, 2]\nb: *x\n")
    assert errors == []
    assert docs[0][1] == {"a": [1, 2], "b": [1, 2]}


def test_billion_laughs_is_refused_before_expansion_without_memory_blowup():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(8):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"{cur}: &{cur} [{','.join(['*' + prev] * 9)}]")
    bomb = "\n".join(lines) + "\n---\nkind: After\n"
    tracemalloc.start()
    try:
        docs, errors = parse(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rules(errors) == ["alias-bomb"]
    assert errors[0].document == 0 and "100000 nodes" in errors[0].message
    assert docs == [(1, {"kind": "After"})]  # the parser goes on with the next document
    assert peak < 5_000_000  # a 9-level bomb expands to ~10^9 nodes; we never build them


def test_alias_limit_is_configurable_and_applies_only_to_expanded_documents():
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [*a, *a, *a]\n"
    assert parse(text)[1] == []
    assert rules(parse(text, max_nodes=30)[1]) == ["alias-bomb"]
    big_plain = "items: [" + ", ".join(["x"] * 200) + "]\n"
    assert parse(big_plain, max_nodes=50)[1] == []  # no aliases: nothing to expand


def test_recursive_alias_is_refused():
    docs, errors = parse("a: &x [1, *x]\n")
    assert docs == [] and rules(errors) == ["alias-bomb"]


def test_undefined_alias_is_an_error():
    assert rules(parse("a: *nope\n")[1]) == ["yaml-syntax"]


def test_content_over_size_limit_is_refused():
    docs, errors = parse("a: " + "x" * 2000 + "\n", max_bytes=1000)
    assert docs == []
    assert rules(errors) == ["too-large"]
    assert errors[0].document is None and "1000" in errors[0].message


def test_non_utf8_bytes_report_the_offset():
    docs, errors = parse(b"kind: Component\nname: caf\xe9\n")
    assert docs == []
    assert rules(errors) == ["not-utf8"]
    assert "offset 25" in errors[0].message and "0xe9" in errors[0].message


def test_python_tags_are_refused_with_location_and_parse_continues():
    text = "a: !!python/object/apply:os.system ['true']\n---\nb: 1\n"
    docs, errors = parse(text)
    assert docs == [(1, {"b": 1})]
    assert rules(errors) == ["yaml-tag"]
    assert errors[0].document == 0 and "line 1" in errors[0].message


def test_unknown_custom_tags_keep_their_plain_value():
    docs, errors = parse("a: !Ref something\nb: !include [x]\n")
    assert errors == []
    assert docs[0][1] == {"a": "something", "b": ["x"]}


def test_duplicate_keys_are_an_error_like_backstage():
    docs, errors = parse("metadata:\n  name: a\n  name: b\n")
    assert docs == []
    assert rules(errors) == ["duplicate-key"]
    assert '"name"' in errors[0].message and "line 3" in errors[0].message


def test_collection_keys_are_refused():
    assert rules(parse("? [a, b]\n: 1\n")[1]) == ["yaml-key"]


def test_scalar_keys_become_strings_like_javascript():
    docs, _ = parse("200: ok\ntrue: yes\n1.0: one\n")
    assert docs[0][1] == {"200": "ok", "true": "yes", "1": "one"}


def test_deep_nesting_is_refused_fast_instead_of_crashing_libyaml():
    # 1 MB of "[" segfaults PyYAML's C composer and is quadratic in libyaml's scanner.
    docs, errors = parse(b"[" * 1_000_000)
    assert docs == [] and rules(errors) == ["too-deep"]
    docs, errors = parse(b"- " * 300_000 + b"x")
    assert rules(errors) == ["too-deep"]


def test_earlier_documents_survive_a_too_deep_one():
    docs, errors = parse(b"a: 1\n---\n" + b"[" * 5000)
    assert docs == [(0, {"a": 1})]
    assert [(e.document, e.rule) for e in errors] == [(1, "too-deep")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01", "2024-01-01"),
        ("yes", "yes"),
        ("on", "on"),
        ("12:30", "12:30"),
        ("1_000", "1_000"),
        ("0b101", "0b101"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("", None),
        ("NULL", None),
        ("42", 42),
        ("-7", -7),
        ("007", 7),
        ("0o17", 15),
        ("0x1F", 31),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("-.inf", -math.inf),
        ("v1alpha1", "v1alpha1"),
    ],
)
def test_plain_scalars_follow_yaml_1_2_core_schema(text, expected):
    assert resolve_plain(text) == expected


def test_nan_and_quoted_scalars():
    assert math.isnan(resolve_plain(".nan"))
    docs, _ = parse("a: '42'\nb: \"true\"\nc: |\n  12\n")
    assert docs[0][1] == {"a": "42", "b": "true", "c": "12\n"}


def test_explicit_core_tags():
    docs, errors = parse('a: !!int "12"\nb: !!str 12\nc: !!float 1\nd: !!binary aGk=\n')
    assert errors == []
    assert docs[0][1] == {"a": 12, "b": "12", "c": 1.0, "d": "aGk="}
    assert rules(parse("a: !!int abc\n")[1]) == ["yaml-tag"]


def test_str_input_is_accepted():
    assert parse_documents("a: 1\n", file="x")[0] == [(0, {"a": 1})]


def test_alias_limit_counts_nodes_after_the_last_alias_too():
    text = "a: &a [1, 2]\nb: *a\nc: [" + ", ".join(["x"] * 40) + "]\n---\nnext: 1\n"
    docs, errors = parse(text, max_nodes=30)
    assert rules(errors) == ["alias-bomb"]
    assert docs == [(1, {"next": 1})]


def test_str_with_lone_surrogate_is_not_utf8():
    assert rules(parse_documents("a: \ud800", file="x")[1]) == ["not-utf8"]
