"""What the scorecard, team and index pages (and the API's summaries) show, restricted to what the person may
read: levels per entity, distribution, per-team leaderboard, rule pass rates, what to fix next."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count
from django.urls import reverse

from catalog.models import Entity
from catalog.owners import effective_owner
from catalog.permissions import entity_filter
from scorecards.history import NONE, distribution
from scorecards.models import EntityScore, RuleResult, Scorecard, Status

PASSING = (Status.PASSED, Status.EXEMPT)
ENTITY_FIELDS = ("ref", "kind", "namespace", "name", "title", "owner_ref")


def readable_refs_q(user, field_name: str = "entity_ref") -> dict:
    """A filter keeping rows of entities the user may read: nothing for unrestricted readers (no subquery)."""
    read = entity_filter(user)
    if read.unrestricted:
        return {}
    return {f"{field_name}__in": read.apply(Entity.objects.all()).values("ref")}


@dataclass
class Row:
    entity: Entity
    team: str
    score: EntityScore

    @property
    def level(self) -> str:
        return self.score.level or NONE

    @property
    def percentage(self) -> int:
        return round(100 * self.score.passed / self.score.total) if self.score.total else 100


@dataclass
class Team:
    ref: str
    counts: Counter = field(default_factory=Counter)
    passed: int = 0
    total: int = 0
    cells: list[int] = field(default_factory=list)  # entities per level, in the distribution's order

    @property
    def entities(self) -> int:
        return sum(self.counts.values())

    @property
    def url(self) -> str:
        return team_url(self.ref)

    @property
    def percentage(self) -> int:
        return round(100 * self.passed / self.total) if self.total else 100


def rows(card: Scorecard, user) -> list[Row]:
    """Every entity scored on ``card`` that the user may read, with its owning team (two queries)."""
    scores = {s.entity_ref: s for s in EntityScore.objects.filter(scorecard=card, **readable_refs_q(user))}
    scored = EntityScore.objects.filter(scorecard=card).values("entity_ref")
    entities = Entity.objects.filter(valid=True, ref__in=scored)
    out = []
    for entity in entities.order_by("ref").only(*ENTITY_FIELDS):
        score = scores.get(entity.ref)
        if score is not None:
            out.append(Row(entity, effective_owner(entity) or "", score))
    return out


def leaderboard(card: Scorecard, rows_: list[Row]) -> list[Team]:
    """Teams by share of rules passed, then by entities at the highest levels."""
    teams: dict[str, Team] = {}
    for row in rows_:
        team = teams.setdefault(row.team, Team(row.team))
        team.counts[row.level] += 1
        team.passed += row.score.passed
        team.total += row.score.total
    order = [*reversed(card.levels), NONE]
    for team in teams.values():
        team.cells = [team.counts[level] for level in (NONE, *card.levels)]
    return sorted(teams.values(), key=lambda t: (-t.percentage, [-t.counts[lv] for lv in order], t.ref))


def rule_pass_rates(card: Scorecard, user) -> list[dict]:
    """Each rule with how many entities pass it (exempt counts as passing) out of those evaluated; one query."""
    counts: dict[str, Counter] = defaultdict(Counter)
    query = (RuleResult.objects.filter(scorecard=card, **readable_refs_q(user)).values_list("rule_id", "status")
             .annotate(n=Count("id")).order_by())  # fmt: skip
    for rule_id, status, n in query:
        counts[rule_id][status] += n
    out = []
    for rule in card.rules:
        c = counts.get(rule.get("id"), Counter())
        total = sum(c.values())
        passed = c[Status.PASSED] + c[Status.EXEMPT]
        out.append({**rule, "passed": passed, "failed": c[Status.FAILED], "errors": c[Status.ERROR],
                    "exempt": c[Status.EXEMPT], "total": total,
                    "percentage": round(100 * passed / total) if total else 0})  # fmt: skip
    return out


def scorecard_summary(card: Scorecard, user) -> dict:
    """Distribution and leaderboard for one scorecard (the index, the scorecard page and the API)."""
    found = rows(card, user)
    return {"card": card, "rows": found, "distribution": distribution(card, [r.level for r in found]),
            "teams": leaderboard(card, found)}  # fmt: skip


def next_fixes(card: Scorecard, level: str, not_passing: dict[str, RuleResult]) -> list[dict]:
    """The rules to fix to reach the next level: those of the lowest level not reached that do not pass
    (``not_passing``: rule id -> its result, for the rules that failed, errored or were not evaluated)."""
    levels = card.levels
    reached = levels.index(level) if level in levels else -1
    if reached + 1 >= len(levels):
        return []
    target = levels[reached + 1]
    return [{**rule, "status": not_passing[rule["id"]].status, "reason": not_passing[rule["id"]].reason,
             "nextLevel": target}
            for rule in card.rules if rule.get("level") == target and rule.get("id") in not_passing]  # fmt: skip


@dataclass
class TeamEntity:
    entity: Entity
    cards: list[dict]  # {card, level, percentage, fixes}


def team_entities(group_ref: str, user) -> list[TeamEntity]:
    """The team's entities (owned by the group, readable) with their level on every scorecard and what to fix
    next. Four queries whatever the size of the team."""
    entities = list(Entity.objects.owned_by([group_ref]).filter(valid=True, **readable_refs_q(user, "ref"))
                    .order_by("ref").only(*ENTITY_FIELDS))  # fmt: skip
    refs = [e.ref for e in entities]
    scores = defaultdict(list)
    for score in EntityScore.objects.filter(entity_ref__in=refs).select_related("scorecard").order_by("scorecard__ref"):
        scores[score.entity_ref].append(score)
    not_passing: dict[tuple[str, int], dict[str, RuleResult]] = defaultdict(dict)
    for result in RuleResult.objects.filter(entity_ref__in=refs).exclude(status__in=PASSING):
        not_passing[result.entity_ref, result.scorecard_id][result.rule_id] = result
    out = []
    for entity in entities:
        cards = []
        for score in scores.get(entity.ref, []):
            card = score.scorecard
            fixes = next_fixes(card, score.level, not_passing.get((entity.ref, card.pk), {}))
            cards.append({"card": card, "level": score.level or NONE, "score": score,
                          "percentage": round(100 * score.passed / score.total) if score.total else 100,
                          "fixes": fixes})  # fmt: skip
        if cards:
            out.append(TeamEntity(entity, cards))
    return out


def team_url(ref: str) -> str:
    """The team page of a group ref, '' for other owners (a user, nobody)."""
    kind, _, rest = ref.partition(":")
    namespace, _, name = rest.partition("/")
    return reverse("scorecards:team", args=[namespace, name]) if kind == "group" and name else ""


def team_title(group_ref: str) -> str:
    group = Entity.objects.filter(ref=group_ref).only("title", "name", "body").first()
    if group is None:
        return group_ref
    return (group.body.get("spec") or {}).get("profile", {}).get("displayName") or group.title or group.name
