"""Evaluate scorecards against catalog entities and store what changed. No Celery code here.

``entity`` in every expression is the entity exactly as the catalog API returns it (with ``relations``,
catalog.shapes.entities_to_backstage). A rule that errors for one entity is an ``error`` result for that rule
only; every other rule and entity is still evaluated. Results and levels are written only when they change,
and every status or level change adds a :class:`Transition` row.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType

from django.db import transaction
from django.db.models import Case, Count, DateTimeField, F, Value, When
from django.utils import timezone

from catalog.models import Entity, Location, Relation
from catalog.shapes import SHAPE_FIELDS, entities_to_backstage
from scorecards import cel, notifying
from scorecards import facts as fact_store
from scorecards.definitions import CompiledScorecard, compiled_scorecards, sync_from_catalog
from scorecards.models import EntityScore, Exemption, RuleResult, Scorecard, Status, Transition

logger = logging.getLogger(__name__)

BATCH = 500
PASSING = (Status.PASSED, Status.EXEMPT)


@dataclass(frozen=True)
class RuleVerdict:
    rule_id: str
    level: str
    status: str
    reason: str
    data_at: datetime | None = None  # when the facts it read were collected (None: catalog data only)
    counted: bool = True  # False for a rule whose enableOn date is still ahead: shown, not counted


@dataclass
class EntityVerdict:
    card: CompiledScorecard
    entity_ref: str
    data_at: datetime | None
    rules: list[RuleVerdict]
    level: str = ""
    passed: int = 0


@dataclass
class Summary:
    entities: int = 0
    scores: int = 0
    written: int = 0
    transitions: int = 0
    deleted: int = 0
    applies_errors: int = 0
    refs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key != "refs"}


def level_reached(levels: Iterable[str], verdicts: Iterable[RuleVerdict]) -> str:
    """The highest level whose rules, and those of every lower level, all pass ('' when the lowest fails)."""
    verdicts = [v for v in verdicts if v.counted]
    reached = ""
    for level in levels:
        if any(v.level == level and v.status not in PASSING for v in verdicts):
            break
        reached = level
    return reached


def score_entity(
    card: CompiledScorecard, entity, facts: cel.CatalogFacts, exemptions: Mapping[str, str] = MappingProxyType({}),
    today: date | None = None,
) -> list[RuleVerdict] | None:
    """Every rule's verdict, or None when the scorecard does not apply (an ``appliesTo`` error: not applying).

    ``entity``: the shaped entity, or its :func:`cel.activation` (shared by every scorecard). ``exemptions``:
    rule id -> the reason shown, for the rules this entity is exempt from (``exempt`` whatever they give)."""
    if card.applies_to is None:
        return None
    entity = cel.activation(entity) if isinstance(entity, dict) else entity
    applies = cel.evaluate(card.applies_to, entity, facts)
    if not applies.passed:
        if applies.error:
            raise AppliesError(applies.reason)
        return None
    today = today or facts.now.date()
    verdicts = []
    for rule in card.rules:
        counted = rule.enable_on is None or rule.enable_on <= today
        exempt = exemptions.get(rule.id)
        if exempt is not None:
            verdicts.append(RuleVerdict(rule.id, rule.level, Status.EXEMPT, exempt, counted=counted))
            continue
        if rule.program is None:
            verdicts.append(RuleVerdict(rule.id, rule.level, Status.ERROR, rule.error, counted=counted))
            continue
        outcome = cel.evaluate(rule.program, entity, facts)
        status = Status.ERROR if outcome.error else Status.PASSED if outcome.passed else Status.FAILED
        verdicts.append(RuleVerdict(rule.id, rule.level, status, outcome.reason, outcome.data_at, counted))
    return verdicts


class AppliesError(Exception):
    """``appliesTo`` errored for this entity; the scorecard is treated as not applying."""


def active_exemptions(now: datetime) -> dict[tuple[int, str], dict[str, str]]:
    """Approved, unexpired exemptions by (scorecard, entity): rule id -> the reason shown for it."""
    found: dict[tuple[int, str], dict[str, str]] = defaultdict(dict)
    for e in Exemption.objects.filter(approved_at__isnull=False).exclude(expires_at__lte=now):
        found[e.scorecard_id, e.entity_ref][e.rule_id] = e.describe()
    return dict(found)


def catalog_facts(cards: Iterable[CompiledScorecard] = (), now: datetime | None = None) -> cel.CatalogFacts:
    """Every Group with its member count (``hasMember`` relations): two queries. With ``cards``, the stored
    levels of the scorecards their rules name in ``dependencies_at_least`` (one more query when any does)."""
    groups = dict.fromkeys(Entity.objects.filter(kind="Group").values_list("ref", flat=True), 0)
    counts = Relation.objects.filter(type="hasMember").values_list("source_ref").annotate(n=Count("id"))
    groups.update((ref, n) for ref, n in counts if ref in groups)  # no IN list: thousands of groups are fine
    facts = cel.CatalogFacts(group_members=groups, now=now or timezone.now())
    cards = list(cards)
    facts.scorecard_levels = {card.row.ref: list(card.levels) for card in cards}
    if any("dependencies_at_least" in rule.expression for card in cards for rule in card.rules):
        rows = EntityScore.objects.values_list("scorecard__ref", "entity_ref", "level")
        facts.levels = {(card, ref): level for card, ref, level in rows}
    return facts


def evaluate(refs: Iterable[str] | None = None, *, now: datetime | None = None, sync: bool = True) -> Summary:
    """Evaluate every scorecard against ``refs`` (every valid entity when None) and store the changes."""
    now = now or timezone.now()
    if sync:
        sync_from_catalog()
    cards = compiled_scorecards()
    facts = catalog_facts(cards, now)
    exemptions = active_exemptions(now)
    summary = Summary()
    wanted = None if refs is None else sorted({ref.lower() for ref in refs})
    queryset = Entity.objects.filter(valid=True).order_by("ref")
    for batch in _batches(queryset, wanted):
        verdicts = _evaluate_batch(batch, cards, facts, exemptions, summary)
        _store([e.ref for e in batch], verdicts, now, summary)
    _forget_missing(wanted, summary)
    return summary


def _batches(queryset, wanted: list[str] | None) -> Iterator[list[Entity]]:
    fields = (*SHAPE_FIELDS, "updated_at")
    if wanted is not None:
        for start in range(0, len(wanted), BATCH):
            yield list(queryset.filter(ref__in=wanted[start : start + BATCH]).only(*fields).with_relations_json())
        return
    after = ""
    while True:
        batch = list(queryset.filter(ref__gt=after).only(*fields).with_relations_json()[:BATCH])
        if not batch:
            return
        yield batch
        after = batch[-1].ref


def _evaluate_batch(batch: list[Entity], cards, facts, exemptions, summary: Summary) -> list[EntityVerdict]:
    shaped = entities_to_backstage(batch)
    checked = dict(Location.objects.filter(id__in={e.location_id for e in batch if e.location_id})
                   .values_list("id", "last_checked_at"))  # fmt: skip
    out = []
    if any(card.uses_facts for card in cards):
        facts.entity_facts = fact_store.load([e.ref for e in batch])  # one query for the batch
    with cel.using_facts(facts):  # set once for the batch rather than per expression
        for entity, document in zip(batch, shaped, strict=True):
            summary.entities += 1
            summary.refs.append(entity.ref)
            data_at = checked.get(entity.location_id) or entity.updated_at
            converted = cel.activation(document)
            for card in cards:
                try:
                    verdicts = score_entity(card, converted, facts, exemptions.get((card.row.pk, entity.ref), {}))
                except AppliesError as exc:
                    summary.applies_errors += 1
                    logger.debug("appliesTo of %s errored for %s: %s", card.row.ref, entity.ref, exc)
                    continue
                if verdicts is None:
                    continue
                level = level_reached(card.levels, verdicts)
                passed = sum(v.status in PASSING for v in verdicts if v.counted)
                out.append(EntityVerdict(card, entity.ref, data_at, verdicts, level, passed))
                summary.scores += 1
    return out


@dataclass
class Changes:
    """What one batch must write to make the stored results match its verdicts."""

    new_results: list[RuleResult] = field(default_factory=list)
    changed_results: list[RuleResult] = field(default_factory=list)
    refreshed_results: list[RuleResult] = field(default_factory=list)  # only their data time changed
    gone_results: list[int] = field(default_factory=list)
    new_scores: list[EntityScore] = field(default_factory=list)
    changed_scores: list[EntityScore] = field(default_factory=list)
    gone_scores: list[int] = field(default_factory=list)
    history: list[Transition] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(self.__dict__.values())


def _store(refs: list[str], verdicts: list[EntityVerdict], now: datetime, summary: Summary) -> None:
    """Write what differs from the stored results for ``refs``; delete results that no longer apply.

    Compared first without a transaction: a batch whose results did not change costs two reads. Otherwise the
    batch takes the writers' lock (:func:`_serialize_writers`), and compares again only if what is committed
    changed meanwhile (another evaluation wrote these entities).
    """
    cards = {id(verdict.card): verdict.card for verdict in verdicts}.values()
    fact_rules = {rule.id for card in cards for rule in card.rules if rule.reads_facts}
    stored = _stored(refs, fact_rules)
    changes = _changes(stored, verdicts, now)
    if not changes:
        return
    with transaction.atomic():
        _serialize_writers()
        now_stored = _stored(refs, fact_rules)
        if now_stored != stored:
            changes = _changes(now_stored, verdicts, now)
        _apply(changes, summary)


def _serialize_writers() -> None:
    """Concurrent evaluations (the periodic one and an event's) write one batch at a time: each compares with
    what the other committed, so neither inserts a result twice nor records a transition twice. Locks the
    (few) scorecard rows; SQLite serialises writers by itself."""
    list(Scorecard.objects.select_for_update().order_by("pk").values_list("pk", flat=True))


#: (results by (scorecard, entity, rule): (pk, status, reason); scores by (scorecard, entity): (pk, level,
#: passed, total)). Plain tuples: building model instances was most of a repeat evaluation's time.
Stored = tuple[dict[tuple[int, str, str], tuple], dict[tuple[int, str], tuple[int, str, int, int]]]


def _stored(refs: list[str], fact_rules: set[str]) -> Stored:
    """``fact_rules``: the ids of rules reading facts, whose data time is compared too (only theirs is read:
    converting every row's datetime was a tenth of a repeat evaluation)."""
    data_at = (Case(When(rule_id__in=sorted(fact_rules), then=F("data_at")), default=None) if fact_rules
               else Value(None, output_field=DateTimeField()))  # fmt: skip
    results = RuleResult.objects.filter(entity_ref__in=refs).annotate(fact_data_at=data_at).values_list(
        "scorecard_id", "entity_ref", "rule_id", "pk", "status", "reason", "fact_data_at"
    )
    scores = EntityScore.objects.filter(entity_ref__in=refs).values_list(
        "scorecard_id", "entity_ref", "pk", "level", "passed", "total"
    )
    return {row[:3]: row[3:] for row in results}, {row[:2]: row[2:] for row in scores}


def _changes(stored: Stored, verdicts: list[EntityVerdict], now: datetime) -> Changes:
    results, scores = dict(stored[0]), dict(stored[1])
    out = Changes()
    for verdict in verdicts:
        card_id, ref, data_at = verdict.card.row.pk, verdict.entity_ref, verdict.data_at
        for rule in verdict.rules:
            old = results.pop((card_id, ref, rule.rule_id), None)
            data_at = rule.data_at or verdict.data_at  # a fact-based rule: its facts' time
            if old is None:
                out.new_results.append(RuleResult(scorecard_id=card_id, entity_ref=ref, rule_id=rule.rule_id,
                                                  status=rule.status, reason=rule.reason, changed_at=now,
                                                  data_at=data_at))  # fmt: skip
                out.history.append(Transition(scorecard_id=card_id, entity_ref=ref, rule_id=rule.rule_id,
                                              before="", after=rule.status, at=now, data_at=data_at))  # fmt: skip
            elif old[1:3] == (rule.status, rule.reason):
                if rule.data_at is not None and old[3] != rule.data_at:  # facts re-read, same result
                    out.refreshed_results.append(RuleResult(pk=old[0], data_at=rule.data_at))
            else:
                if old[1] != rule.status:
                    out.history.append(Transition(scorecard_id=card_id, entity_ref=ref, rule_id=rule.rule_id,
                                                  before=old[1], after=rule.status, at=now,
                                                  data_at=data_at))  # fmt: skip
                out.changed_results.append(RuleResult(pk=old[0], status=rule.status, reason=rule.reason,
                                                      changed_at=now, data_at=data_at))  # fmt: skip
        data_at = verdict.data_at
        total = sum(rule.counted for rule in verdict.rules)
        old_score = scores.pop((card_id, ref), None)
        if old_score is None:
            out.new_scores.append(EntityScore(scorecard_id=card_id, entity_ref=ref, level=verdict.level,
                                              passed=verdict.passed, total=total, changed_at=now,
                                              data_at=data_at))  # fmt: skip
            out.history.append(Transition(scorecard_id=card_id, entity_ref=ref, before="",
                                          after=verdict.level or "-", at=now, data_at=data_at))  # fmt: skip
        elif old_score[1:] != (verdict.level, verdict.passed, total):
            if old_score[1] != verdict.level:
                out.history.append(Transition(scorecard_id=card_id, entity_ref=ref, before=old_score[1] or "-",
                                              after=verdict.level or "-", at=now, data_at=data_at))  # fmt: skip
            out.changed_scores.append(EntityScore(pk=old_score[0], level=verdict.level, passed=verdict.passed,
                                                  total=total, changed_at=now, data_at=data_at))  # fmt: skip
    # Left over: rules removed, or scorecards that no longer apply to these entities.
    out.gone_results = [old[0] for old in results.values()]
    out.gone_scores = [old[0] for old in scores.values()]
    for (card_id, ref), old_score in scores.items():
        out.history.append(Transition(scorecard_id=card_id, entity_ref=ref, before=old_score[1] or "-", after="",
                                      at=now))  # fmt: skip
    return out


def _apply(changes: Changes, summary: Summary) -> None:
    if changes.gone_results:
        summary.deleted += RuleResult.objects.filter(pk__in=changes.gone_results).delete()[0]
    if changes.gone_scores:
        summary.deleted += EntityScore.objects.filter(pk__in=changes.gone_scores).delete()[0]
    RuleResult.objects.bulk_create(changes.new_results)
    EntityScore.objects.bulk_create(changes.new_scores)
    if changes.changed_results:
        RuleResult.objects.bulk_update(changes.changed_results, ["status", "reason", "changed_at", "data_at"])
    if changes.refreshed_results:
        RuleResult.objects.bulk_update(changes.refreshed_results, ["data_at"])
    if changes.changed_scores:
        EntityScore.objects.bulk_update(changes.changed_scores, ["level", "passed", "total", "changed_at", "data_at"])
    Transition.objects.bulk_create(changes.history)
    notifying.after_commit_level_changes(changes.history)  # owners hear of level drops once this commits
    summary.written += sum(map(len, (changes.new_results, changes.changed_results, changes.new_scores,
                                     changes.changed_scores)))  # fmt: skip
    summary.transitions += len(changes.history)


def _forget_missing(wanted: list[str] | None, summary: Summary) -> None:
    """Results of entities no longer in the catalog (or no longer valid) go."""
    live = Entity.objects.filter(valid=True).values("ref")
    stale_scores = EntityScore.objects.exclude(entity_ref__in=live)
    stale_results = RuleResult.objects.exclude(entity_ref__in=live)
    if wanted is not None:
        stale_scores = stale_scores.filter(entity_ref__in=wanted)
        stale_results = stale_results.filter(entity_ref__in=wanted)
    for stale in (stale_results, stale_scores):
        if stale.exists():  # a read, so an evaluation that changes nothing writes nothing
            summary.deleted += stale.delete()[0]
