"""Initiatives: who is in scope, who is done, progress per owning team, the burn-up and reminders.

Everything is computed from the current results (:class:`EntityScore`, :class:`RuleResult`) and the
:class:`Transition` history; nothing is stored per day. The burn-up replays the history once (one query).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from catalog.models import Entity, Relation
from catalog.owners import effective_owner
from catalog.shapes import SHAPE_FIELDS, entities_to_backstage
from portal import clock
from scorecards import cel
from scorecards.initiative_kind import DURATION, KIND
from scorecards.models import EntityScore, Initiative, RuleResult, Scorecard, Status, Transition

logger = logging.getLogger(__name__)

PASSING = (Status.PASSED, Status.EXEMPT)
REMIND_DAYS = 7


def target_errors(scorecard: Scorecard | None, level: str, rule_ids, applies_to: str) -> dict[str, str]:
    """Field -> message for a target that does not fit its scorecard (the admin, the API and the mirror)."""
    errors: dict[str, str] = {}
    rule_ids = rule_ids or []
    if not isinstance(rule_ids, list) or not all(isinstance(r, str) for r in rule_ids):
        return {"rule_ids": "must be a list of rule ids"}
    if bool(level) == bool(rule_ids):
        errors["target_level"] = "set either a target level or rule ids, not both"
    elif scorecard is not None and level and level not in scorecard.levels:
        errors["target_level"] = f'"{level}" is not a level of {scorecard.ref} ({", ".join(scorecard.levels)})'
    elif scorecard is not None:
        known = {r.get("id") for r in scorecard.rules}
        unknown = [r for r in rule_ids if r not in known]
        if unknown:
            errors["rule_ids"] = f"not rules of {scorecard.ref}: {', '.join(unknown)}"
    if applies_to.strip():
        try:
            cel.compile_expression(applies_to)
        except cel.ExpressionError as exc:
            errors["applies_to"] = f"not a valid CEL expression: {exc}"
    return errors


# -- who is in scope, who is done ------------------------------------------------------------------------


@dataclass
class EntityProgress:
    ref: str
    title: str
    team: str
    level: str
    done: bool
    failing: list[str] = field(default_factory=list)  # rule ids still to pass (rules target)


@dataclass
class TeamProgress:
    team: str
    total: int = 0
    done: int = 0

    @property
    def percentage(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def url(self) -> str:
        from scorecards.overview import team_url

        return team_url(self.team)


@dataclass
class Progress:
    initiative: Initiative
    entities: list[EntityProgress]
    teams: list[TeamProgress]
    burnup: list[tuple[date, int]]
    today: date

    @property
    def total(self) -> int:
        return len(self.entities)

    @property
    def done(self) -> int:
        return sum(e.done for e in self.entities)

    @property
    def percentage(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def left(self) -> list[EntityProgress]:
        return [e for e in self.entities if not e.done]

    @property
    def days_left(self) -> int:
        """Days until the deadline (0: due today, negative: overdue by that many days)."""
        return (self.initiative.deadline - self.today).days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0 and self.done < self.total


def level_meets(levels: list[str], target: str, level: str) -> bool:
    return level in levels and target in levels and levels.index(level) >= levels.index(target)


def in_scope(initiative: Initiative, refs: Iterable[str] | None = None) -> list[Entity]:
    """The valid entities the scorecard has a score for and, when set, ``applies_to`` accepts (only among
    ``refs`` when given)."""
    scored = EntityScore.objects.filter(scorecard=initiative.scorecard_id).values("entity_ref")
    entities = Entity.objects.filter(valid=True, ref__in=scored).order_by("ref")
    if refs is not None:
        entities = entities.filter(ref__in=list(refs))
    if not initiative.applies_to.strip():
        return list(entities.only("ref", "kind", "namespace", "name", "title", "owner_ref"))
    from scorecards.evaluator import catalog_facts

    try:
        program = cel.compile_expression(initiative.applies_to)
    except cel.ExpressionError:
        logger.warning("Initiative %s: appliesTo does not compile; nothing is in scope", initiative.slug)
        return []
    rows = list(entities.only(*SHAPE_FIELDS, "title").with_relations_json())
    facts = catalog_facts()
    with cel.using_facts(facts):
        return [e for e, doc in zip(rows, entities_to_backstage(rows), strict=True)
                if cel.evaluate(program, cel.activation(doc), facts).passed]  # fmt: skip


def progress(initiative: Initiative, *, now: datetime | None = None) -> Progress:
    """Where the initiative stands: every in-scope entity, done or not, per team, and the burn-up."""
    now = now or clock.now()
    card = initiative.scorecard
    entities = in_scope(initiative)
    refs = [e.ref for e in entities]
    levels = dict(EntityScore.objects.filter(scorecard=card).values_list("entity_ref", "level"))
    failing: dict[str, list[str]] = defaultdict(list)
    if initiative.rule_ids:
        passing = set(RuleResult.objects.filter(scorecard=card, rule_id__in=initiative.rule_ids, status__in=PASSING)
                      .values_list("entity_ref", "rule_id"))  # fmt: skip
        for ref in refs:
            failing[ref] = [r for r in initiative.rule_ids if (ref, r) not in passing]
    rows, teams = [], {}
    for entity in entities:
        level = levels.get(entity.ref, "")
        if initiative.target_level:
            done = level_meets(card.levels, initiative.target_level, level)
        else:
            done = not failing[entity.ref]
        team = effective_owner(entity) or "(no owner)"
        rows.append(EntityProgress(entity.ref, entity.title or entity.name, team, level, done, failing[entity.ref]))
        tally = teams.setdefault(team, TeamProgress(team))
        tally.total += 1
        tally.done += done
    ordered = sorted(teams.values(), key=lambda t: (-t.percentage, t.team))
    return Progress(initiative, rows, ordered, burnup(initiative, set(refs), now=now), now.date())


# -- the burn-up, replayed from the history ---------------------------------------------------------------


def burnup(initiative: Initiative, refs: set[str], *, now: datetime) -> list[tuple[date, int]]:
    """Entities of ``refs`` done at the end of each day, from the start to today (or the deadline, when
    later days have not come yet: those are not plotted). One query over the history."""
    first = initiative.starts_at.astimezone(UTC).date()
    last = now.astimezone(UTC).date()
    if last < first:
        return []
    card = initiative.scorecard
    rule_ids = initiative.rule_ids or [""]
    history = (Transition.objects.filter(scorecard=card, rule_id__in=rule_ids, at__lte=now)
               .order_by("at", "pk").values_list("entity_ref", "rule_id", "after", "at"))  # fmt: skip
    state: dict[str, dict[str, str]] = defaultdict(dict)
    done: set[str] = set()

    def is_done(ref: str) -> bool:
        values = state[ref]
        if initiative.target_level:
            return level_meets(card.levels, initiative.target_level, values.get("", ""))
        return all(values.get(r) in PASSING for r in initiative.rule_ids)

    series = []
    day = first
    events = iter(history.iterator())
    pending = next(events, None)
    while day <= last:
        boundary = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
        while pending is not None and (day == last or pending[3] < boundary):  # today: everything up to now
            ref, rule_id, after, _ = pending
            if ref in refs:
                state[ref][rule_id] = after
                (done.add if is_done(ref) else done.discard)(ref)
            pending = next(events, None)
        series.append((day, len(done)))
        day += timedelta(days=1)
    return series


# -- reminders --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """An initiative due within :data:`REMIND_DAYS` days (or overdue) that some entities do not meet yet."""

    initiative: Initiative
    overdue: bool
    days_left: int
    left: tuple[str, ...]  # entity refs not done
    teams: tuple[str, ...]  # their owners
    recipients: tuple[str, ...]  # user refs: members of those teams (or the owner, when it is a user)

    @property
    def message(self) -> str:
        when = (f"overdue by {-self.days_left} day(s)" if self.overdue
                else "due today" if self.days_left == 0 else f"due in {self.days_left} day(s)")  # fmt: skip
        target = self.initiative.target_label
        return f"{self.initiative.title} is {when}: {len(self.left)} entities do not meet {target} yet"


def reminders(now: datetime | None = None) -> list[Reminder]:
    """Initiatives due in at most seven days, or overdue, with the people to remind."""
    now = now or clock.now()
    horizon = now.date() + timedelta(days=REMIND_DAYS)
    out = []
    for initiative in Initiative.objects.filter(deadline__lte=horizon).select_related("scorecard"):
        state = progress(initiative, now=now)
        left = state.left
        if not left:
            continue
        teams = sorted({e.team for e in left})
        out.append(Reminder(initiative, state.overdue, state.days_left, tuple(e.ref for e in left), tuple(teams),
                            tuple(sorted(team_members(teams)))))  # fmt: skip
    return out


def covers(initiative: Initiative, rule: dict) -> bool:
    """Whether passing ``rule`` (a scorecard rule) is part of the initiative's target."""
    if initiative.rule_ids:
        return rule.get("id") in initiative.rule_ids
    levels = initiative.scorecard.levels
    level = rule.get("level", "")
    return level in levels and initiative.target_level in levels and (
        levels.index(level) <= levels.index(initiative.target_level))


def team_members(owner_refs) -> set[str]:
    """User refs of the members of these groups (a user owner counts as its own member); one query."""
    owners = set(owner_refs)
    users = {ref for ref in owners if ref.startswith("user:")}
    groups = [ref for ref in owners if ref.startswith("group:")]
    users.update(Relation.objects.filter(type="hasMember", source_ref__in=groups).values_list("target_ref", flat=True))
    return users


# -- the catalog's kind: Initiative -----------------------------------------------------------------------


def deadline_from(value: str, start: datetime) -> date | None:
    """``2027-01-31``, or ``P28D``: 28 days after the start (when the catalog first saw the initiative)."""
    match = DURATION.match(value)
    if match:
        return start.date() + timedelta(days=int(match.group(1)))
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def sync_from_catalog() -> int:
    """Mirror every valid ``kind: Initiative`` entity into an :class:`Initiative` row; returns rows changed.

    One whose scorecard or target does not fit is skipped with a warning (the scorecard is another entity, so
    ingestion cannot check it). Rows of entities that left the catalog go; admin ones are left alone.
    """
    now = clock.now()
    entities = list(Entity.objects.filter(kind=KIND, valid=True, known_kind=True).only("ref", "namespace", "name",
                                                                                        "body"))  # fmt: skip
    current = {row.entity_ref: row for row in Initiative.objects.filter(source=Initiative.Source.CATALOG)}
    cards = {card.ref: card for card in Scorecard.objects.all()} if entities else {}
    seen, changed = set(), 0
    for entity in entities:
        seen.add(entity.ref)  # one skipped below keeps its last good row, as an invalid entity does
        metadata, spec = entity.body.get("metadata") or {}, entity.body.get("spec") or {}
        row = current.get(entity.ref)
        start = row.starts_at if row else now
        if spec.get("startsAt"):
            start = datetime.combine(date.fromisoformat(spec["startsAt"]), time.min, tzinfo=UTC)
        card_ref = spec.get("scorecard", "")
        card = cards.get(card_ref if ":" in card_ref else f"scorecard:{entity.namespace}/{card_ref}")
        target = spec.get("target") or {}
        values = {"title": metadata.get("title") or entity.name, "description": metadata.get("description", ""),
                  "scorecard": card, "target_level": target.get("level", ""), "rule_ids": target.get("rules", []),
                  "applies_to": spec.get("appliesTo", ""), "owner": spec.get("owner", "").lower(), "starts_at": start,
                  "deadline": deadline_from(str(spec.get("deadline", "")), start)}  # fmt: skip
        problems = target_errors(card, values["target_level"], values["rule_ids"], values["applies_to"])
        if card is None or values["deadline"] is None or problems:
            logger.warning("Initiative %s skipped: scorecard %s, deadline %s, %s", entity.ref, card_ref,
                           spec.get("deadline"), problems)  # fmt: skip
            continue
        if row is None:
            slug = entity.name if entity.namespace == "default" else f"{entity.namespace}-{entity.name}"
            if Initiative.objects.filter(slug=slug).exists():
                logger.warning("Initiative %s skipped: the slug %s is taken", entity.ref, slug)
                continue
            Initiative.objects.create(slug=slug, source=Initiative.Source.CATALOG, entity_ref=entity.ref, **values)
            changed += 1
        elif any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            row.save()
            changed += 1
    gone = [row.pk for ref, row in current.items() if ref not in seen]
    if gone:
        changed += Initiative.objects.filter(pk__in=gone).delete()[0]
    return changed
