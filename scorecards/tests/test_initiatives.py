"""Initiatives: scope, progress per team, the burn-up replayed from seeded history, reminders, the YAML kind."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from catalog.models import ProcessingError
from portal import clock
from scorecards import evaluator
from scorecards.initiatives import progress, reminders, sync_from_catalog
from scorecards.models import EntityScore, Initiative, Scorecard, Transition
from scorecards.tests.fixtures import ORG, SCORECARD, load

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def card(scored_org):
    """checkout Gold, ledger Bronze, orphan-svc none, evaluated at T0; ledger reaches Silver on Nov 3."""
    evaluator.evaluate(now=T0)
    card = Scorecard.objects.get(name="production-readiness")
    Transition.objects.create(scorecard=card, entity_ref="component:default/ledger", before="Bronze", after="Silver",
                              at=at(3))  # fmt: skip
    EntityScore.objects.filter(scorecard=card, entity_ref="component:default/ledger").update(level="Silver")
    return card


def initiative(card, **fields) -> Initiative:
    values = {"slug": "silver", "title": "Silver everywhere", "scorecard": card, "target_level": "Silver",
              "owner": "group:default/payments", "starts_at": at(1, 0), "deadline": date(2026, 11, 10)}  # fmt: skip
    values.update(fields)
    row = Initiative(**values)
    row.full_clean()
    row.save()
    return row


def test_progress_per_team_and_the_burn_up_from_history(card, django_assert_num_queries):
    silver = initiative(card)
    with django_assert_num_queries(3):  # scope, current levels, the history (owner overrides are cached)
        state = progress(silver, now=at(5, 8))
    assert (state.total, state.done, state.percentage) == (3, 2, 67)
    assert {t.team: (t.done, t.total) for t in state.teams} == {"group:default/payments": (2, 2),
                                                                "group:default/ghosts": (0, 1)}  # fmt: skip
    assert [e.ref for e in state.left] == ["component:default/orphan-svc"]
    assert state.burnup == [(date(2026, 11, d), n) for d, n in ((1, 1), (2, 1), (3, 2), (4, 2), (5, 2))]
    assert state.days_left == 5 and not state.overdue


def test_a_transition_back_down_leaves_the_burn_up(card):
    Transition.objects.create(scorecard=card, entity_ref="component:default/checkout", before="Gold", after="Bronze",
                              at=at(4, 9))  # fmt: skip
    state = progress(initiative(card), now=at(4, 10))
    assert [n for _, n in state.burnup] == [1, 1, 2, 1]


def test_a_start_before_the_first_evaluation_counts_zero_then(card):
    state = progress(initiative(card, starts_at=at(1, 0) - timedelta(days=2)), now=at(2))
    assert state.burnup[:3] == [(date(2026, 10, 30), 0), (date(2026, 10, 31), 0), (date(2026, 11, 1), 1)]


def test_rules_targets_and_applies_to_narrow_the_scope(card):
    described = initiative(card, slug="described", target_level="", rule_ids=["described"],
                           applies_to='entity.metadata.name != "orphan-svc"')  # fmt: skip
    state = progress(described, now=at(5))
    assert [(e.ref, e.done, e.failing) for e in state.entities] == [
        ("component:default/checkout", True, []), ("component:default/ledger", False, ["described"])]  # fmt: skip


def test_overdue_and_reminders_name_the_members_of_teams_not_done(card):
    initiative(card, slug="described", target_level="", rule_ids=["described"])
    initiative(card, slug="later", deadline=date(2026, 12, 31))
    [due] = reminders(at(4))
    assert due.initiative.slug == "described" and not due.overdue and due.days_left == 6
    assert due.left == ("component:default/ledger", "component:default/orphan-svc")
    assert due.teams == ("group:default/ghosts", "group:default/payments")
    assert due.recipients == ("user:default/pat", "user:default/sam")  # ghosts is not in the catalog
    assert "due in 6 day(s): 2 entities do not meet described passing" in due.message
    [late] = reminders(at(12))
    assert late.overdue and late.days_left == -2 and "overdue by 2 day(s)" in late.message
    assert progress(late.initiative, now=at(12)).overdue


def test_the_command_prints_the_reminders_due_now(card):
    initiative(card, slug="described", target_level="", rule_ids=["described"], deadline=clock.now().date())
    out = StringIO()
    call_command("scorecards", "reminders", stdout=out)
    assert "Silver everywhere is " in out.getvalue() and "remind: user:default/pat, user:default/sam" in out.getvalue()


def test_an_initiative_everyone_meets_reminds_nobody(card):
    initiative(card, target_level="Bronze", applies_to='entity.metadata.name != "orphan-svc"')
    assert reminders(at(9)) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"target_level": "Platinum"}, "target_level", '"Platinum" is not a level of scorecard:default/production'),
        ({"rule_ids": ["described"]}, "target_level", "either a target level or rule ids, not both"),
        ({"target_level": "", "rule_ids": ["nope"]}, "rule_ids", "not rules of scorecard:default/production-readiness"),
        ({"applies_to": "entity.kind =="}, "applies_to", "not a valid CEL expression: line 1"),
    ],
)
def test_targets_that_do_not_fit_the_scorecard_are_refused_on_the_field(card, fields, field, message):
    with pytest.raises(ValidationError) as error:
        initiative(card, **fields)
    assert message in " ".join(error.value.message_dict[field])


INITIATIVE = """\
apiVersion: callboard.dev/v1alpha1
kind: Initiative
metadata: {name: silver-by-new-year, title: Silver by the new year}
spec:
  scorecard: production-readiness
  owner: group:default/payments
  target: {level: Silver}
  deadline: P28D
"""


def test_the_initiative_kind_is_mirrored_with_a_relative_deadline(allow_tmp):
    load(allow_tmp, ORG, SCORECARD, INITIATIVE)
    evaluator.evaluate(now=T0)
    row = Initiative.objects.get(slug="silver-by-new-year")
    assert (row.source, row.entity_ref, row.title, row.target_level) == (
        "catalog", "initiative:default/silver-by-new-year", "Silver by the new year", "Silver")  # fmt: skip
    assert row.deadline == row.starts_at.date() + timedelta(days=28)
    assert sync_from_catalog() == 0  # unchanged: nothing written, the start kept


def test_a_bad_initiative_is_refused_at_ingestion_with_its_field(allow_tmp):
    bad = INITIATIVE.replace("target: {level: Silver}", "target: {level: Silver, rules: [docs]}").replace(
        "deadline: P28D", "deadline: next week"
    )
    load(allow_tmp, ORG, SCORECARD, bad)
    messages = set(ProcessingError.objects.values_list("message", flat=True))
    assert any("spec.target needs exactly one of level or rules" in m for m in messages), messages
    assert any('spec.deadline "next week" is not a date' in m for m in messages), messages


def test_an_initiative_on_an_unknown_level_is_skipped_not_mirrored(allow_tmp):
    load(allow_tmp, ORG, SCORECARD, INITIATIVE.replace("level: Silver", "level: Platinum"))
    evaluator.evaluate(now=T0)
    assert not Initiative.objects.exists()


def test_reminders_reach_the_members_inbox_once_a_day(card):
    from django.contrib.auth import get_user_model

    from catalog.ownership import person
    from portal.models import Notification
    from scorecards.notifying import INITIATIVE_DUE, initiative_reminders

    pat = get_user_model().objects.create_user("pat", "pat@example.com", "pw-12345-long")
    person(pat)
    initiative(card, slug="described", target_level="", rule_ids=["described"])
    assert initiative_reminders(at(4)) == 1
    [note] = Notification.objects.filter(user=pat, category=INITIATIVE_DUE)
    assert note.url == "/scorecards/initiatives/described/" and "due in 6 day(s)" in note.title
    assert "component:default/ledger" in note.body
    assert initiative_reminders(at(4, 18)) == 0  # the same day: not again
    assert initiative_reminders(at(5)) == 1


def test_my_fixes_carry_the_deadline_of_the_initiative_that_needs_them(card):
    from django.contrib.auth import get_user_model

    from catalog.ownership import person
    from scorecards.home import my_fixes

    pat = get_user_model().objects.create_user("pat", "pat@example.com", "pw-12345-long")
    person(pat)
    initiative(card, slug="described", target_level="", rule_ids=["described"], deadline=date(2026, 11, 20))
    initiative(card, slug="gold", target_level="Gold", deadline=date(2026, 12, 20))
    fixes = {f.rule_id: f for f in my_fixes(pat) if f.entity_ref == "component:default/ledger"}
    assert fixes["described"].deadline.date() == date(2026, 11, 20)
    assert fixes["described"].initiative == "Silver everywhere"
    assert fixes["docs"].deadline.date() == date(2026, 12, 20)  # a Gold rule: only the Gold initiative
