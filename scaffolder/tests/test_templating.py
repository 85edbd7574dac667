"""Expressions: Backstage's semantics, its filters, and the sandbox's limits."""

import pytest

from scaffolder import templating
from scaffolder.templating import UNDEFINED, TemplateError, render_text, render_value

CTX = {
    "parameters": {"name": "stop-finder", "tags": ["a", "b"], "port": 8000, "on": True, "repoUrl":
                   "github.com?owner=northwind&repo=stop-finder", "nested": {"items": 3}},
    "steps": {"publish": {"output": {"remoteUrl": "file:///x.git"}}},
    "user": {"ref": "user:default/ana", "entity": None},
}  # fmt: skip


def test_a_whole_string_expression_keeps_its_type():
    assert render_value("${{ parameters.tags }}", CTX) == ["a", "b"]
    assert render_value("${{ parameters.port }}", CTX) == 8000
    assert render_value(" ${{ parameters.on }} ", CTX) is True
    assert render_value("${{ parameters.repoUrl | parseRepoUrl }}", CTX) == {
        "host": "github.com", "owner": "northwind", "repo": "stop-finder"}  # fmt: skip


def test_text_renders_like_javascript():
    assert render_value("x-${{ parameters.name }}", CTX) == "x-stop-finder"
    assert render_value("${{ parameters.on }}!", CTX) == "true!"
    assert render_value("${{ parameters.tags }} and ${{ parameters.port }}", CTX) == "a,b and 8000"
    assert render_value("[${{ parameters.missing }}]", CTX) == "[]"
    assert render_value("${{ parameters.nested | dump }}", CTX) == '{"items":3}'
    assert render_value("${{ parameters.nested.items }}", CTX) == 3  # a key, not dict.items


def test_undefined_drops_the_key_and_chains_quietly():
    assert render_value({"a": "${{ parameters.missing }}", "b": 1}, CTX) == {"b": 1}
    assert render_value(["${{ parameters.missing }}"], CTX) == [None]
    assert render_value("${{ steps['nope'].output.remoteUrl }}", CTX) is UNDEFINED
    assert render_value("${{ steps.publish.output.remoteUrl }}", CTX) == "file:///x.git"


def test_nested_inputs_are_rendered_and_other_types_pass():
    value = {"values": {"name": "${{ parameters.name }}", "n": 3, "list": ["${{ parameters.port }}", False]}}
    assert render_value(value, CTX) == {"values": {"name": "stop-finder", "n": 3, "list": [8000, False]}}


def test_backstage_filters():
    assert render_value("${{ parameters.repoUrl | projectSlug }}", CTX) == "northwind/stop-finder"
    assert render_value("${{ parameters.repoUrl | parseRepoUrl | pick('owner') }}", CTX) == "northwind"
    assert render_value("${{ 'group:team-a' | parseEntityRef }}", CTX) == {
        "kind": "group", "namespace": "default", "name": "team-a"}  # fmt: skip
    assert render_value("${{ 'team-a' | parseEntityRef({'defaultKind': 'Group'}) }}", CTX)["kind"] == "Group"
    with pytest.raises(TemplateError, match="missing or empty kind"):
        render_value("${{ 'team-a' | parseEntityRef }}", CTX)
    with pytest.raises(TemplateError, match="missing owner"):
        render_value("${{ 'github.com?repo=x' | parseRepoUrl }}", CTX)


def test_statements_and_conditions():
    text = "{% if parameters.on %}yes{% else %}no{% endif %}:{% for t in parameters.tags %}{{t}}{% endfor %}"
    assert render_text(text, CTX) == "yes:{{t}}{{t}}"  # {{ }} is not a delimiter here: ${{ }} is
    assert render_text("{% for t in parameters.tags %}${{ t }}{% endfor %}", CTX) == "ab"
    assert templating.is_truthy(render_value("${{ parameters.missing }}", CTX)) is False
    assert templating.is_truthy("false") is True  # a plain string is truthy, as in Backstage


def test_rendering_failures_are_errors_that_name_the_text():
    with pytest.raises(TemplateError, match=r"Cannot render '\$\{\{ parameters.name \| nosuchfilter \}\}'"):
        render_value("${{ parameters.name | nosuchfilter }}", CTX)
    with pytest.raises(TemplateError, match="Cannot render"):
        render_value("x ${{ parameters.name ", CTX)


@pytest.mark.parametrize(
    "expression",
    [
        "${{ ''.__class__.__mro__ }}",
        "${{ ''.__class__.__mro__[1].__subclasses__() }}",
        "${{ cycler.__init__.__globals__ }}",
        "${{ joiner.__init__.__globals__.os }}",
        "${{ parameters.__class__ }}",
        "${{ range.__init__ }}",
        "x ${{ (1).__class__.__base__ }}",
        "{% for c in ''.__class__.__mro__ %}${{ c }}{% endfor %}",
        "${{ self.__init__.__globals__ }}",
        "${{ lipsum.__globals__ }}",
        "${{ config }}${{ request.application }}",
    ],
)
def test_sandbox_escapes_fail(expression):
    try:
        result, error = render_value(expression, CTX), ""
    except TemplateError as exc:
        result, error = None, str(exc)
    if error:
        assert error.startswith("Cannot render")
    else:  # what does render must reveal nothing of Python's internals
        assert result in (UNDEFINED, "", None), result


def test_size_and_time_limits():
    with pytest.raises(TemplateError, match="size limit"):
        render_value("${{ 'x' * 100000000 }}", CTX)
    with pytest.raises(TemplateError, match="limit"):
        render_value("${{ range(100000000) | list }}", CTX)
    with pytest.raises(TemplateError, match="longer than"):
        render_text("{% for a in range(99999) %}{% for b in range(99999) %}x{% endfor %}{% endfor %}", CTX)


def test_time_limit(monkeypatch):
    monkeypatch.setattr(templating, "MAX_SECONDS", 0.2)
    text = "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}"
    with pytest.raises(TemplateError, match=r"longer than 0\.2 s"):
        render_text(text, CTX)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("parameters.dryRun !== true", True),
        ("parameters.dryRun === false", True),
        ("parameters.name === 'a!==b'", True),  # inside a string literal nothing is rewritten
        ('parameters.name !== "a!==b"', False),
    ],
)
def test_nunjucks_strict_equality_reads_as_equality(expression, expected):
    assert templating.evaluate(expression, {"parameters": {"dryRun": False, "name": "a!==b"}}) is expected
