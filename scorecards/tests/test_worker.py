"""A push reaches its score through a real worker: refresh -> facts collected at the new commit -> re-scored."""

from __future__ import annotations

import pytest

from catalog.ingestion.refresh import register_location
from catalog.tasks import refresh_location
from portal.testing.celery import celery_worker, wait_until
from scorecards.models import Fact, RuleResult
from scorecards.tests.test_facts import SERVICE, card_location, publish

RULE = ("readme", 'file_exists(entity, "README.md")')


def status() -> str | None:
    row = RuleResult.objects.filter(entity_ref="component:default/pushed", rule_id="readme").first()
    return row.status if row else None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_pushed_file_changes_the_score_within_seconds(allow_tmp):
    bare = allow_tmp / "pushed.git"
    first = publish(bare, {"catalog-info.yaml": SERVICE % {"name": "pushed"}})
    location = register_location(f"git+{bare.resolve().as_uri()}@main#path=catalog-info.yaml")
    card_location(allow_tmp, RULE)
    env = {"CATALOG_ALLOWED_PATHS": str(allow_tmp), "SCORECARDS_EVALUATE_ON_REFRESH": "1"}
    with celery_worker(env) as queue:
        refresh_location.apply_async(args=[str(location.pk), True], queue=queue)
        assert wait_until(status, timeout=60, what="the first score") == "failed"
        assert Fact.objects.get(entity_ref="component:default/pushed", key="file:README.md").commit == first
        second = publish(bare, {"catalog-info.yaml": SERVICE % {"name": "pushed"}, "README.md": "# Pushed\n"},
                         message="add a README")  # fmt: skip
        refresh_location.apply_async(args=[str(location.pk)], queue=queue)  # what the push webhook queues
        wait_until(lambda: status() == "passed", timeout=60, what="the score after the push")
    fact = Fact.objects.get(entity_ref="component:default/pushed", key="file:README.md")
    assert (fact.value["kind"], fact.commit) == ("file", second)
