"""What scorecards tells people (portal.notifications): a level dropped, an exemption was asked for, an
exemption was decided. Recipients are Django users found through their identity (Identity.ownership_refs:
their User entity, groups and parent groups), the same set the access engine's Owner role uses."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction

from catalog.models import Entity
from catalog.owners import effective_owner
from portal.access import is_admin
from portal.models import Identity
from portal.notifications import notify, register_category
from scorecards.models import Scorecard
from scorecards.report import scorecards_tab

#: More level drops than this for one owner in one evaluation batch make one digest notification.
DIGEST_AFTER = 3

LEVEL_DROPPED = "scorecards.level-dropped"
EXEMPTION_REQUESTED = "scorecards.exemption-requested"
EXEMPTION_DECIDED = "scorecards.exemption-decided"
INITIATIVE_DUE = "scorecards.initiative-due"


def register_categories() -> None:
    register_category(LEVEL_DROPPED, "A scorecard level of something you own dropped")
    register_category(EXEMPTION_REQUESTED, "An exemption was requested on a scorecard you own")
    register_category(EXEMPTION_DECIDED, "Your exemption request was approved or denied")
    register_category(INITIATIVE_DUE, "An initiative your team is part of is due within a week, or overdue")


def people_of(refs: Iterable[str]) -> list:
    """Active users whose identity refs contain any of ``refs`` (a User ref, or a Group: its members, and
    members of its child groups). A text pre-filter in SQL, the exact check here: works on both databases."""
    refs = {r.lower() for r in refs if r}
    if not refs:
        return []
    from django.db.models import Q

    text = Q()
    for ref in refs:
        text |= Q(ownership_refs__icontains=f'"{ref}"')
    rows = Identity.objects.filter(text, user__is_active=True).select_related("user")
    return [row.user for row in rows if refs & {r.lower() for r in row.ownership_refs}]


def platform_admins() -> list:
    staff = get_user_model().objects.filter(is_active=True, is_staff=True)
    return [user for user in staff if is_admin(user)]


def drops_in(history) -> list[tuple[str, str, str, str]]:
    """The level transitions among ``history`` (an evaluation's new Transition rows) that went down:
    (scorecard title, entity ref, from level, to level or ""). First results and removals are not drops."""
    levels = [t for t in history if not t.rule_id and t.before and t.after]
    if not levels:
        return []
    cards = {c.pk: c for c in Scorecard.objects.filter(pk__in={t.scorecard_id for t in levels})}
    drops = []
    for t in levels:
        card = cards.get(t.scorecard_id)
        order = {name: i for i, name in enumerate(card.levels if card else [])}
        before, after = (order.get(t.before, -1), order.get(t.after, -1))
        if card and after < before:
            drops.append((str(card), t.entity_ref, t.before, "" if t.after == "-" else t.after))
    return drops


def after_commit_level_changes(history) -> None:
    """Called by the evaluator inside its write transaction: owners hear of drops once it commits."""
    drops = drops_in(history)
    if drops:
        transaction.on_commit(lambda: levels_dropped(drops))


def levels_dropped(drops: list[tuple[str, str, str, str]]) -> int:
    """Tell each entity's owners that its level dropped. Returns how many notifications were created."""
    if not drops:
        return 0
    owners = {e.ref: effective_owner(e)
              for e in Entity.objects.filter(ref__in={d[1] for d in drops}).only("ref", "owner_ref")}  # fmt: skip
    by_owner: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for drop in drops:
        by_owner[owners.get(drop[1], "")].append(drop)
    sent = 0
    for owner, theirs in sorted(by_owner.items()):
        people = people_of([owner])
        if not people:
            continue
        if len(theirs) > DIGEST_AFTER:  # e.g. a stricter rule: one message, not one per entity
            lines = [f"{ref}: {before} → {after or 'no level'} ({title})" for title, ref, before, after in theirs]
            more = f"\n… and {len(lines) - 50} more" if len(lines) > 50 else ""
            sent += notify(people, category=LEVEL_DROPPED, title=f"{len(theirs)} entities of {owner} dropped a level",
                           body="\n".join(lines[:50]) + more, url=scorecards_tab(theirs[0][1]))  # fmt: skip
            continue
        for title, ref, before, after in theirs:
            sent += notify(people, category=LEVEL_DROPPED,
                           title=f"{ref} dropped from {before} to {after or 'no level'}",
                           body=f"On the scorecard {title}: a rule of level {before} or below no longer passes.",
                           url=scorecards_tab(ref))  # fmt: skip
    return sent


def exemption_requested(row) -> int:
    card = row.scorecard
    people = {u.pk: u for u in [*people_of([card.spec.get("owner", "")]), *platform_admins()]}
    return notify(people.values(), category=EXEMPTION_REQUESTED,
                  title=f"{row.requested_by} asks to exempt {row.entity_ref} from {row.rule_id}",
                  body=f"Scorecard {card}: {row.reason}", url="/scorecards/exemptions/")  # fmt: skip


def exemption_decided(row) -> int:
    requester = get_user_model().objects.filter(username=row.requested_by, is_active=True)
    verdict = "approved" if row.approved_at else "denied"
    who = row.approved_by or row.denied_by
    note = f" ({row.decision_note})" if row.decision_note else ""
    return notify(requester, category=EXEMPTION_DECIDED,
                  title=f"Exemption {verdict}: {row.entity_ref} from {row.rule_id}",
                  body=f"{who} {verdict} it{note}.", url=scorecards_tab(row.entity_ref))  # fmt: skip


def initiative_reminders(now=None) -> int:
    """Remind the members of the teams not done of each initiative due within a week or overdue, at most once
    a day per person and initiative: the title counts the days ("due in 3 day(s)"), and a person who already
    has this title for this initiative is skipped, so a second run the same day sends nothing."""
    from portal.models import Notification
    from scorecards.initiatives import reminders

    sent = 0
    for reminder in reminders(now):
        url = f"/scorecards/initiatives/{reminder.initiative.slug}/"
        reminded = set(Notification.objects.filter(category=INITIATIVE_DUE, url=url, title=reminder.message)
                       .values_list("user_id", flat=True))  # fmt: skip
        people = [p for p in people_of(reminder.recipients) if p.pk not in reminded]
        more = len(reminder.left) - 10
        left = ", ".join(reminder.left[:10]) + (f" and {more} more" if more > 0 else "")
        sent += notify(people, category=INITIATIVE_DUE, title=reminder.message,
                       body=f"Not done yet: {left}.", url=url)  # fmt: skip
    return sent
