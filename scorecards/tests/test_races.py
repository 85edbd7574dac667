"""Two evaluations at once (the periodic one and an event's), each on its own connection, store what one does."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from scorecards import evaluator
from scorecards.models import EntityScore, RuleResult, Scorecard, Transition

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")  # live (pg_stat_activity is snapshotted)
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers by itself")
def test_concurrent_evaluations_write_each_result_once(scored_org):
    evaluator.sync_from_catalog()
    summaries, errors = [], []

    def run() -> None:
        try:
            summaries.append(evaluator.evaluate())
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    with transaction.atomic():  # hold the writers' lock until both have computed their results
        list(Scorecard.objects.select_for_update().values_list("pk"))
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while waiting_on_locks() < 2:
            assert not errors and not summaries, (errors, summaries)
            assert time.monotonic() < deadline, "both evaluations should reach the lock"
            time.sleep(0.05)
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(s.written for s in summaries) == [0, 15]  # the second found the first's results
    assert RuleResult.objects.count() == 12 and EntityScore.objects.count() == 3
    assert Transition.objects.count() == 15
