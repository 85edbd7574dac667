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


def test_a_refresh_rescores_its_location_at_once(allow_tmp, settings, django_capture_on_commit_callbacks):
    """A pushed change reaches its scores when the refresh commits, not at the next periodic run."""
    from catalog.ingestion.refresh import refresh_location
    from scorecards.models import RuleResult
    from scorecards.tests.fixtures import ORG, SCORECARD, load

    def docs_rule() -> str:
        return RuleResult.objects.get(entity_ref="component:default/checkout", rule_id="docs").status

    settings.SCORECARDS_EVALUATE_ON_REFRESH = True
    with django_capture_on_commit_callbacks(execute=True):
        location = load(allow_tmp, ORG, SCORECARD)
    assert docs_rule() == "passed"
    moved = ORG.replace("lifecycle: production, owner: payments, system: shop", "lifecycle: beta, owner: payments, "
                        "system: shop")  # fmt: skip
    (allow_tmp / "catalog-info.yaml").write_text("---\n".join([moved, SCORECARD]))
    with django_capture_on_commit_callbacks(execute=True):
        refresh_location(location.pk)
    assert docs_rule() == "failed"
    settings.SCORECARDS_EVALUATE_ON_REFRESH = False
    EntityScore.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        refresh_location(location.pk, force=True)
    assert not EntityScore.objects.exists()  # the setting off: nothing scored on refresh
