"""Thin Celery wrappers around scorecards.facts (collect) and scorecards.evaluator.

``evaluate_entities`` is the hook for event-driven re-evaluation: whatever learns that entities changed
(a catalog refresh, a push) calls :func:`schedule_entities` with their refs.
"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from portal.jobs import job_run
from scorecards import evaluator, facts


@shared_task(name="scorecards.evaluate_all")
def evaluate_all() -> dict:
    """Beat's periodic full evaluation: catches whatever no event announced."""
    with job_run("scorecards.evaluate_all") as job:
        collected = facts.collect().as_dict()
        job.result = evaluator.evaluate().as_dict() | {"facts": collected}
    return job.result


@shared_task(name="scorecards.evaluate_entities")
def evaluate_entities(refs: list[str]) -> dict:
    """Collect these entities' facts (repositories whose commit changed), then re-evaluate them now
    (idempotent: unchanged facts and results are not written)."""
    with job_run("scorecards.evaluate_entities", f"{len(refs)} entities") as job:
        collected = facts.collect(refs).as_dict()
        job.result = evaluator.evaluate(refs).as_dict() | {"facts": collected}
    return job.result


@shared_task(name="scorecards.send_initiative_reminders")
def send_initiative_reminders() -> dict:
    """Beat, daily: initiatives due within a week or overdue remind the teams that are not done."""
    from scorecards.notifying import initiative_reminders

    with job_run("scorecards.send_initiative_reminders") as job:
        job.result = {"notifications": initiative_reminders()}
    return job.result


def schedule_entities(refs) -> None:
    """Queue a re-evaluation of ``refs`` once the current transaction commits (what it wrote is read)."""
    refs = sorted(set(refs))
    if refs:
        transaction.on_commit(lambda: evaluate_entities.delay(refs))


def on_location_refreshed(sender, location_id, **kwargs) -> None:
    """Receiver of ``catalog.events.location_refreshed``: re-score that location's entities once it committed
    (a refreshed or pushed entity is re-evaluated in seconds, not at the next periodic run)."""
    from django.conf import settings

    from catalog.models import Entity

    if settings.SCORECARDS_EVALUATE_ON_REFRESH:
        schedule_entities(Entity.objects.filter(location_id=location_id).values_list("ref", flat=True))
