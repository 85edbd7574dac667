"""Reading the history: an entity's level (or a rule's result) at a given time, a scorecard's or a team's
distribution of levels at a given time, and the trend (count per level per day). All from Transition rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from scorecards.models import Scorecard, Transition


def as_of(scorecard: Scorecard, entity_ref: str, when: datetime, *, rule_id: str = "") -> str | None:
    """The level (``rule_id`` blank) or the rule's result at ``when``; None when it had none yet (or the
    scorecard did not apply then). ``"-"`` is the level of an entity that reached none."""
    last = (
        Transition.objects.filter(scorecard=scorecard, entity_ref=entity_ref.lower(), rule_id=rule_id, at__lte=when)
        .order_by("-at", "-pk")
        .values_list("after", flat=True)
        .first()
    )
    return last or None


NONE = "-"  # the level of an entity that reached none


def _level_history(scorecard: Scorecard, until: datetime, refs: set[str] | None):
    rows = (Transition.objects.filter(scorecard=scorecard, rule_id="", at__lte=until).order_by("at", "pk")
            .values_list("entity_ref", "after", "at"))  # fmt: skip
    for ref, after, at in rows.iterator():
        if refs is None or ref in refs:
            yield ref, after, at


def levels_as_of(scorecard: Scorecard, when: datetime, *, refs: set[str] | None = None) -> dict[str, str]:
    """Entity ref -> level (``"-"``: none reached) at ``when``, for the entities scored then; one query."""
    state: dict[str, str] = {}
    for ref, after, _ in _level_history(scorecard, when, refs):
        if after:
            state[ref] = after
        else:
            state.pop(ref, None)  # the scorecard stopped applying
    return state


def distribution(scorecard: Scorecard, levels: dict[str, str] | Iterable[str]) -> dict[str, int]:
    """Count per level, lowest first, ``"-"`` (none reached) first; levels no longer defined are dropped."""
    counts = Counter(levels.values() if isinstance(levels, dict) else levels)
    return {level: counts.get(level, 0) for level in (NONE, *scorecard.levels)}


def distribution_as_of(scorecard: Scorecard, when: datetime, *, refs: set[str] | None = None) -> dict[str, int]:
    """How many entities were at each level at ``when`` (a team's: pass its entities' ``refs``)."""
    return distribution(scorecard, levels_as_of(scorecard, when, refs=refs))


def trend(scorecard: Scorecard, *, days: int, now: datetime, refs: set[str] | None = None
          ) -> list[tuple[date, dict[str, int]]]:  # fmt: skip
    """Per day of the last ``days`` (today last), the count per level at the end of that day. One query:
    the level history is replayed once, counts kept as it goes."""
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    state: dict[str, str] = {}
    counts: Counter[str] = Counter()
    series = []
    events = _level_history(scorecard, now, refs)
    pending = next(events, None)
    for offset in range(days):
        day = first + timedelta(days=offset)
        boundary = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
        while pending is not None and (day == today or pending[2] < boundary):
            ref, after, _ = pending
            if ref in state:
                counts[state[ref]] -= 1
            if after:
                state[ref] = after
                counts[after] += 1
            else:
                state.pop(ref, None)
            pending = next(events, None)
        series.append((day, {level: counts.get(level, 0) for level in (NONE, *scorecard.levels)}))
    return series
