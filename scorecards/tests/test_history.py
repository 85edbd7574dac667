"""Levels as of a date (an entity, a team, a scorecard) and the per-day trend, from Transition rows."""

from datetime import UTC, date, datetime

import pytest

from scorecards.history import as_of, distribution_as_of, levels_as_of, trend
from scorecards.models import Scorecard, Transition

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def card():
    card = Scorecard.objects.create(name="ready", spec={"levels": ["Bronze", "Silver"], "rules": []})
    for ref, before, after, day in [
        ("a", "", "-", 1),
        ("b", "", "Bronze", 1),
        ("a", "-", "Bronze", 3),
        ("b", "Bronze", "Silver", 3),
        ("c", "", "Silver", 4),
        ("b", "Silver", "", 5),
    ]:
        Transition.objects.create(scorecard=card, entity_ref=f"component:default/{ref}", before=before, after=after,
                                  at=at(day))  # fmt: skip
    Transition.objects.create(scorecard=card, entity_ref="component:default/a", rule_id="x", after="failed", at=at(1))
    return card


def test_levels_and_distribution_as_of_a_date(card, django_assert_num_queries):
    assert as_of(card, "component:default/a", at(2)) == "-"
    with django_assert_num_queries(1):
        assert levels_as_of(card, at(3)) == {"component:default/a": "Bronze", "component:default/b": "Silver"}
    assert distribution_as_of(card, at(2)) == {"-": 1, "Bronze": 1, "Silver": 0}
    assert distribution_as_of(card, at(6)) == {"-": 0, "Bronze": 1, "Silver": 1}  # b left: no longer applies
    team = {"component:default/b", "component:default/c"}
    assert distribution_as_of(card, at(4, 13), refs=team) == {"-": 0, "Bronze": 0, "Silver": 2}


def test_the_trend_counts_each_level_per_day_in_one_query(card, django_assert_num_queries):
    with django_assert_num_queries(1):
        series = trend(card, days=7, now=at(6))
    assert next(d for d, _ in series) == date(2026, 10, 31) and series[-1][0] == date(2026, 11, 6)
    assert [tuple(c.values()) for _, c in series] == [
        (0, 0, 0), (1, 1, 0), (1, 1, 0), (0, 1, 1), (0, 1, 2), (0, 1, 1), (0, 1, 1)]  # fmt: skip
