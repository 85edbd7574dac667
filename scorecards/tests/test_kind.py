"""The Scorecard kind: its contract shape, and bad definitions refused at ingestion with located errors."""

import pytest

from catalog.ingestion.descriptor import process_file
from catalog.ingestion.offload import ParseHelper
from catalog.models import Entity, ProcessingError
from scorecards.tests.fixtures import ORG, SCORECARD, load

pytestmark = pytest.mark.django_db

HEAD = """\
apiVersion: callboard.dev/v1alpha1
kind: Scorecard
metadata: {name: bad}
spec:
  owner: group:default/platform
  appliesTo: 'entity.kind == "Component"'
  levels: [Bronze, Silver]
  rules:
"""


def errors_of(text: str) -> dict[str, tuple[str, str]]:
    result = process_file(text.encode(), file="scorecards.yaml")
    return {e.field: (e.rule, e.message) for e in result.all_errors}


def test_the_contract_example_is_a_known_valid_kind(scored_org):
    entity = Entity.objects.get(ref="scorecard:default/production-readiness")
    assert entity.valid and entity.known_kind and entity.error_count == 0
    assert entity.body["spec"]["levels"] == ["Bronze", "Silver", "Gold"]
    assert entity.body["spec"]["rules"][0] == {
        "id": "lifecycle-set", "level": "Bronze", "expression": "has(entity.spec.lifecycle)",
        "description": "The service declares its lifecycle", "remediation": "Add spec.lifecycle to catalog-info.yaml",
    }  # fmt: skip


def test_a_syntax_error_is_refused_with_its_position():
    text = HEAD + "    - {id: a, level: Bronze, description: A, expression: 'has(entity.spec.lifecycle'}\n"
    rule, message = errors_of(text)["spec.rules[0].expression"]
    assert rule == "cel-syntax"
    assert "line 1, column 26" in message and "Syntax error" in message, message


def test_an_unknown_function_and_a_bad_applies_to_are_refused_with_positions():
    text = HEAD.replace('entity.kind == "Component"', "entity.kind ==") + (
        "    - {id: a, level: Bronze, description: A, expression: 'has_owner(entity)'}\n"
    )
    found = errors_of(text)
    assert found["spec.appliesTo"][0] == "cel-syntax" and "line 1, column 15" in found["spec.appliesTo"][1]
    assert "line 1, column 10: undeclared reference to 'has_owner'" in found["spec.rules[0].expression"][1]


def test_an_expression_that_cannot_give_a_boolean_is_refused():
    text = HEAD + "    - {id: a, level: Bronze, description: A, expression: '1 + 2'}\n"
    assert "must give a boolean, it gives int" in errors_of(text)["spec.rules[0].expression"][1]


def test_schema_and_consistency_errors_are_located():
    text = HEAD + (
        "    - {id: a, level: Bronze, description: A, expression: 'true', remedation: typo}\n"
        "    - {id: b, level: Platinum, description: B, expression: 'true'}\n"
    )
    assert errors_of(text)["spec.rules[0]"][0] == "unknown-field"  # the schema reports first, nothing else runs
    text = HEAD + (
        "    - {id: a, level: Bronze, description: A, expression: 'true'}\n"
        "    - {id: a, level: Platinum, description: B, expression: 'true'}\n"
        "    - {id: Not OK, level: Silver, description: C, expression: 'true'}\n"
    )
    found = errors_of(text)
    assert found["spec.rules[1].id"] == ("scorecard-rule-id", 'rule id "a" is used by an earlier rule')
    assert found["spec.rules[1].level"][0] == "scorecard-rule-level"
    assert "Platinum" in found["spec.rules[1].level"][1] and "Bronze, Silver" in found["spec.rules[1].level"][1]
    assert found["spec.rules[2].id"][0] == "scorecard-rule-id"
    missing = errors_of(HEAD.replace("  levels: [Bronze, Silver]\n", "") + "    - {id: a, level: B, expression: x}\n")
    assert missing["spec.levels"][1] == "spec.levels is required for kind Scorecard but missing"
    assert "spec.rules[0].description" in missing


def test_an_unknown_api_version_is_refused_not_stored_generically():
    found = errors_of(HEAD.replace("callboard.dev/v1alpha1", "callboard.dev/v2") + "    - {id: a, level: B}\n")
    assert found["apiVersion"] == (
        "unknown-api-version", 'apiVersion "callboard.dev/v2" is not supported for kind Scorecard: expected '
        "callboard.dev/v1alpha1")  # fmt: skip


def test_a_refresh_stores_the_error_with_file_document_and_field(allow_tmp):
    bad = HEAD + "    - {id: a, level: Bronze, description: A, expression: 'entity.kind = \"x\"'}\n"
    load(allow_tmp, ORG, bad)
    entity = Entity.objects.get(ref="scorecard:default/bad")
    assert not entity.valid
    error = ProcessingError.objects.get(entity=entity)
    item = error.as_status_item()
    assert item["location"]["file"].endswith("catalog-info.yaml")
    assert item["location"]["document"] == 7 and item["location"]["field"] == "spec.rules[0].expression"
    assert "line 1, column 13" in item["error"]["message"]
    assert Entity.objects.filter(kind="Component", valid=True).count() == 4  # the rest of the file is kept


def test_backstage_kinds_are_validated_as_before():
    text = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: {type: service}\n"
    assert errors_of(text)["spec.owner"][0] == "schema"


def test_the_parse_helper_process_validates_scorecards_alike():
    text = (SCORECARD + "---\n" + HEAD + "    - {id: a, level: Bronze, description: A, expression: 'has('}\n").encode()
    with ParseHelper() as helper:
        assert helper.start()
        helper.submit("s.yaml", text, 1_000_000, {}, {})
        answer = helper.result("s.yaml")
    assert answer is not None
    result, _ = answer
    local = process_file(text, file="s.yaml")
    assert (
        [(e.ref.key, e.known_kind, e.valid) for e in result.entities]
        == [(e.ref.key, e.known_kind, e.valid) for e in local.entities]
        == [("scorecard:default/production-readiness", True, True), ("scorecard:default/bad", False, False)]
    )
    assert [str(e) for e in result.all_errors] == [str(e) for e in local.all_errors]


def test_every_helper_is_documented():
    from pathlib import Path

    from django.conf import settings

    from scorecards.cel import HELPERS

    doc = (Path(settings.BASE_DIR) / "docs" / "scorecards.md").read_text()
    assert [h.name for h in HELPERS if f"`{h.name}(entity" not in doc] == []
