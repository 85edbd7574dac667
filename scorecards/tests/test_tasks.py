"""The Celery entries: the periodic full evaluation is scheduled, and the per-entity hook queues on commit."""

import pytest
from django.conf import settings

from portal.models import JobRun
from scorecards import tasks
from scorecards.models import EntityScore

pytestmark = pytest.mark.django_db


def test_the_full_evaluation_is_in_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["scorecards.evaluate_all"]
    assert entry["task"] == tasks.evaluate_all.name == "scorecards.evaluate_all"
    assert entry["schedule"].total_seconds() == max(60, settings.SCORECARDS_EVALUATE_INTERVAL)


def test_evaluate_all_records_a_job(scored_org):
    result = tasks.evaluate_all.apply().get()
    assert result["scores"] == 3 and result["written"] == 15
    assert JobRun.objects.get(name="scorecards.evaluate_all").status == JobRun.Status.SUCCEEDED


def test_schedule_entities_queues_after_commit(scored_org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tasks.schedule_entities(["component:default/ledger", "component:default/ledger"])
    assert len(callbacks) == 1
    assert list(EntityScore.objects.values_list("entity_ref", flat=True)) == ["component:default/ledger"]
    tasks.schedule_entities([])  # nothing to do queues nothing
