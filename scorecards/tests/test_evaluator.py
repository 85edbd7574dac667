"""Evaluation: level semantics, rule errors confined to their rule, only changed results written, history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.ingestion.refresh import refresh_location
from catalog.models import Entity
from scorecards import evaluator
from scorecards.evaluator import RuleVerdict, level_reached
from scorecards.models import EntityScore, RuleResult, Scorecard, Status, Transition
from scorecards.tests.fixtures import ORG, SCORECARD, load

LEVELS = ["Bronze", "Silver", "Gold"]


def v(level: str, status: str) -> RuleVerdict:
    return RuleVerdict(f"{level}-{status}", level, status, "")


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ([v("Bronze", "passed"), v("Silver", "passed"), v("Gold", "passed")], "Gold"),
        ([v("Bronze", "passed"), v("Silver", "failed"), v("Gold", "passed")], "Bronze"),  # Gold alone is not enough
        ([v("Bronze", "failed"), v("Silver", "passed"), v("Gold", "passed")], ""),
        ([v("Bronze", "passed"), v("Bronze", "error"), v("Silver", "passed")], ""),  # an error does not pass
        ([v("Bronze", "exempt"), v("Silver", "passed")], "Gold"),  # exempt passes; Gold has no rules
        ([v("Silver", "failed")], "Bronze"),  # a level without rules is reached when those below are
    ],
)
def test_a_level_is_reached_when_it_and_every_lower_level_pass(verdicts, expected):
    assert level_reached(LEVELS, verdicts) == expected


def results() -> dict[tuple[str, str], tuple[str, str]]:
    return {(r.entity_ref, r.rule_id): (r.status, r.reason) for r in RuleResult.objects.all()}


def levels() -> dict[str, tuple[str, int, int]]:
    return {s.entity_ref: (s.level, s.passed, s.total) for s in EntityScore.objects.all()}


@pytest.mark.django_db
def test_levels_points_and_reasons(scored_org):
    summary = evaluator.evaluate()
    assert summary.entities == 8 and summary.scores == 3
    assert levels() == {
        "component:default/checkout": ("Gold", 4, 4),
        "component:default/ledger": ("Bronze", 2, 4),
        "component:default/orphan-svc": ("", 1, 4),  # site is a website: appliesTo leaves it out
    }
    found = results()
    assert found["component:default/ledger", "described"] == ("failed", "metadata.description is missing")
    assert found["component:default/orphan-svc", "owner-is-group"] == (
        "failed", "the owner group:default/ghosts is not in the catalog")  # fmt: skip
    assert found["component:default/checkout", "docs"] == ("passed", "")
    assert found["component:default/orphan-svc", "described"] == (
        "failed", "the owner group:default/ghosts has 0 members")  # fmt: skip


@pytest.mark.django_db
def test_a_rule_that_errors_for_one_entity_is_an_error_there_only(allow_tmp):
    rule = "    - {id: in-shop, level: Gold, expression: 'entity.spec.system == \"shop\"', description: In the shop}\n"
    card = SCORECARD.replace("  rules:\n", "  rules:\n" + rule)
    load(allow_tmp, ORG, card)
    evaluator.evaluate()
    found = results()
    assert found["component:default/checkout", "in-shop"] == ("passed", "")
    assert found["component:default/ledger", "in-shop"] == ("error", 'Key not found in map: "system"')
    # Every other rule of that entity, and every other entity, still evaluated.
    assert found["component:default/ledger", "lifecycle-set"] == ("passed", "")
    assert found["component:default/ledger", "described"][0] == "failed"
    assert levels()["component:default/checkout"] == ("Gold", 5, 5)
    assert levels()["component:default/ledger"] == ("Bronze", 2, 5)


@pytest.mark.django_db
def test_a_definition_that_no_longer_compiles_reports_error_for_its_rules(scored_org):
    evaluator.evaluate()
    card = Scorecard.objects.get()
    card.spec["rules"][0]["expression"] = "has(entity.spec"  # as if saved around validation
    Scorecard.objects.filter(pk=card.pk).update(spec=card.spec, source=Scorecard.Source.ADMIN)
    evaluator.evaluate(sync=False)
    status, reason = results()["component:default/checkout", "lifecycle-set"]
    assert status == "error" and reason.startswith("the expression does not compile: line 1, column 16")
    assert levels()["component:default/checkout"][0] == ""


WRITES = ("INSERT", "UPDATE", "DELETE")


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]


@pytest.mark.django_db
def test_only_changed_results_are_written_and_each_change_is_history(allow_tmp, django_assert_max_num_queries):
    location = load(allow_tmp, ORG, SCORECARD)
    first = evaluator.evaluate()
    assert first.written == 12 + 3 and first.transitions == 12 + 3  # every first result is a transition
    assert Transition.objects.filter(rule_id="", after="Gold").count() == 1

    # 6 to load definitions, groups and exemptions, 2 to mirror initiatives, 4 per batch of 500 entities, 1 to
    # find no more, 2 for departed entities.
    with CaptureQueriesContext(connection) as captured, django_assert_max_num_queries(15):
        again = evaluator.evaluate()
    assert writes(captured.captured_queries) == []
    assert (again.written, again.transitions, again.deleted) == (0, 0, 0)

    # ledger gains a description: one rule result and one level change, nothing else is written.
    path = allow_tmp / "catalog-info.yaml"
    path.write_text(
        path.read_text().replace("metadata: {name: ledger}", "metadata: {name: ledger, description: Books}")
    )
    refresh_location(location.pk, force=True)
    before = {r.pk: (r.status, r.changed_at) for r in RuleResult.objects.all()}
    with CaptureQueriesContext(connection) as captured:
        changed = evaluator.evaluate()
    assert (changed.written, changed.transitions) == (2, 2)
    assert len(writes(captured.captured_queries)) == 3  # two bulk updates and one insert of history
    after = {r.pk: (r.status, r.changed_at) for r in RuleResult.objects.all()}
    assert [pk for pk in before if before[pk] != after[pk]] == [
        RuleResult.objects.get(entity_ref="component:default/ledger", rule_id="described").pk
    ]
    assert levels()["component:default/ledger"] == ("Silver", 3, 4)
    history = Transition.objects.filter(entity_ref="component:default/ledger").order_by("pk")
    assert [(t.rule_id, t.before, t.after) for t in history][-2:] == [("described", "failed", "passed"),
                                                                       ("", "Bronze", "Silver")]  # fmt: skip
    assert all(t.data_at is not None for t in history)


@pytest.mark.django_db
def test_results_of_entities_that_left_or_no_longer_apply_go(allow_tmp):
    location = load(allow_tmp, ORG, SCORECARD)
    evaluator.evaluate()
    path = allow_tmp / "catalog-info.yaml"
    text = path.read_text().replace("spec: {type: service, lifecycle: experimental, owner: payments}",
                                    "spec: {type: library, lifecycle: experimental, owner: payments}")  # fmt: skip
    path.write_text(text)
    refresh_location(location.pk, force=True)
    Entity.objects.filter(ref="component:default/orphan-svc").delete()
    summary = evaluator.evaluate()
    assert set(levels()) == {"component:default/checkout"}
    assert summary.deleted == 2 * (4 + 1)
    last = Transition.objects.filter(entity_ref="component:default/ledger").order_by("pk").last()
    assert (last.rule_id, last.before, last.after) == ("", "Bronze", "")


@pytest.mark.django_db
def test_evaluating_some_entities_touches_only_them(scored_org):
    summary = evaluator.evaluate(["Component:default/ledger"])
    assert summary.entities == 1 and set(levels()) == {"component:default/ledger"}
    assert results()["component:default/ledger", "lifecycle-set"] == (Status.PASSED, "")


@pytest.mark.django_db
def test_level_and_result_as_of_a_date(allow_tmp):
    from datetime import timedelta

    from django.utils import timezone

    from scorecards.history import as_of

    location = load(allow_tmp, ORG, SCORECARD)
    day_one = timezone.now() - timedelta(days=10)  # an injected clock: no waiting
    evaluator.evaluate(now=day_one)
    path = allow_tmp / "catalog-info.yaml"
    path.write_text(path.read_text().replace("metadata: {name: ledger}", "metadata: {name: ledger, description: B}"))
    refresh_location(location.pk, force=True)
    day_five = day_one + timedelta(days=4)
    evaluator.evaluate(now=day_five)
    card, ledger = Scorecard.objects.get(), "component:default/ledger"
    assert as_of(card, ledger, day_one - timedelta(seconds=1)) is None
    assert as_of(card, ledger, day_one + timedelta(days=1)) == "Bronze"
    assert as_of(card, ledger, day_five) == "Silver"
    assert as_of(card, ledger, day_one + timedelta(days=1), rule_id="described") == "failed"
    assert as_of(card, ledger, day_five + timedelta(days=1), rule_id="described") == "passed"
    assert as_of(card, "component:default/orphan-svc", day_five) == "-"
