"""Two locations that provide the same entity, refreshed at the same moment, each on its own connection.

The stored result must be the one a sequential registration gives: the first location keeps the entity,
the second gets a ``conflict`` error at once and keeps everything else it provides.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from catalog.ingestion.exclusive import refresh_exclusively
from catalog.ingestion.refresh import refresh_location, register_location, unregister_location
from catalog.ingestion.writer import BATCH
from catalog.models import Entity, Location, ProcessingError, Relation, SearchRow

pytestmark = pytest.mark.django_db(transaction=True)

SHARED = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: shared-team}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: shared-system}
spec: {owner: shared-team}
"""
COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {{name: {name}}}
spec: {{type: service, lifecycle: production, owner: shared-team, dependsOn: [resource:db]}}
"""


def _locations(tmp, fillers: int = 0) -> dict[str, Location]:
    """Locations A and B, both providing the same group and system, each with components of its own.

    Without fillers all fits one insert batch, B listing the shared two in the other order. With
    ``fillers`` (a batch less one) the shared entities fall into different batches, crossing: A has the
    group in its first batch and the system in its second, B the other way round."""
    found = {}
    group, system = SHARED.split("---\n")
    for label in ("A", "B"):
        path = tmp / f"{label.lower()}.yaml"
        own = [COMPONENT.format(name=f"svc-{label.lower()}-{i}") for i in range(max(1, fillers))]
        if fillers:
            documents = [group, *own, system] if label == "A" else [system, *own, group]
        else:
            documents = [group, system, *own] if label == "A" else [*own, system, group]
        path.write_text("---\n".join(documents))
        found[label] = register_location(str(path), type="file")
    return found


def _stored(locations: dict[str, Location]) -> dict:
    """Everything the refreshes stored, with location ids replaced by their labels."""
    label = {str(loc.pk): name for name, loc in locations.items()}

    def named(text: str) -> str:
        for pk, name in label.items():
            text = text.replace(pk, name)
        return text

    entities = Entity.objects.values_list("ref", "location_id", "source_file", "error_count", "orphaned_at")
    errors = ProcessingError.objects.values_list(
        "location_id", "entity_ref", "rule", "file", "document", "field", "message"
    )
    ids = set(Entity.objects.values_list("id", flat=True))
    return {
        "entities": sorted((ref, label[str(loc)], src, n, gone) for ref, loc, src, n, gone in entities),
        "errors": sorted((label[str(loc)], ref, *rest[:-1], named(rest[-1])) for loc, ref, *rest in errors),
        "locations": {
            name: tuple(Location.objects.filter(pk=loc.pk).values_list("status", "message", "entity_count").get())
            for name, loc in locations.items()
        },
        "relations": sorted(Relation.objects.values_list("origin__ref", "type", "target_ref")),
        "search_rows": SearchRow.objects.count(),
        "rows_of_no_entity": Relation.objects.exclude(origin_id__in=ids).count()
        + SearchRow.objects.exclude(entity_id__in=ids).count(),
    }


def _refresh_in_thread(location: Location, errors: list, barrier: threading.Barrier | None = None):
    def run() -> None:
        try:
            if barrier is not None:
                barrier.wait(timeout=30)
            refresh_exclusively(location.pk)  # as a worker's task does
        except BaseException as exc:  # handed to the test
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=run, name=f"refresh-{location.target}")
    thread.start()
    return thread


def _wait_for(query: str, params: list, count: int = 1, timeout: float = 60) -> None:
    """Wait until ``query`` (on pg_locks, which is never cached) counts ``count`` rows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {query}")


WAITING_ON_TABLE = "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass"
WAITING_ON_TRANSACTION = "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'"


def _race(locations: dict[str, Location], crossing: bool) -> list:
    """Refresh A and B at once. On PostgreSQL the race is lined up with a lock the test holds on the
    relations table in SHARE mode: reads go on (a refresh reads stored errors, entities, before it
    writes), writes wait, and a refresh's first write there is a batch's relations, right after the
    batch's entities (the processing errors table would not do: a refresh reads it when it starts, and
    one without errors never writes it):
    - one batch: A inserts the shared refs and waits on the lock; B, which could not see A's uncommitted
      rows, inserts the same refs and waits on A's transaction. Only then is A let go;
    - crossing batches: both insert their first batch (one shared ref each) and wait on the lock; let go
      together, each inserts the other's ref: a deadlock, which PostgreSQL breaks by undoing one.
    SQLite serialises writers (BEGIN IMMEDIATE): both start together and one waits."""
    errors: list = []
    if connection.vendor != "postgresql":
        barrier = threading.Barrier(2)
        threads = [_refresh_in_thread(loc, errors, barrier) for loc in locations.values()]
    else:
        table = Relation._meta.db_table
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
            threads = [_refresh_in_thread(locations["A"], errors)]
            if crossing:
                threads.append(_refresh_in_thread(locations["B"], errors))
                _wait_for(WAITING_ON_TABLE, [table], count=2)
            else:
                _wait_for(WAITING_ON_TABLE, [table])
                threads.append(_refresh_in_thread(locations["B"], errors))
                _wait_for(WAITING_ON_TRANSACTION, [])
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    return errors


@pytest.mark.parametrize("crossing", [False, True], ids=["one-batch", "crossing-batches"])
def test_same_entity_registered_at_once_from_two_locations(allow_tmp, crossing, caplog):
    fillers = BATCH - 1 if crossing else 0
    locations = _locations(allow_tmp, fillers)
    assert _race(locations, crossing) == []
    if crossing and connection.vendor == "postgresql":  # the deadlock's victim ran once more
        assert "undone by a deadlock" in caplog.text
    raced = _stored(locations)
    first = "A" if Entity.objects.get(ref="group:default/shared-team").location_id == locations["A"].pk else "B"
    if connection.vendor == "postgresql" and not crossing:
        assert first == "A"  # the race above was lined up so
    second = "B" if first == "A" else "A"
    conflicts = ProcessingError.objects.filter(rule="conflict")
    assert {(c.location_id, c.entity_ref) for c in conflicts} == {(locations[second].pk, "")}
    assert conflicts.count() == 2
    assert Location.objects.get(pk=locations[second].pk).status == Location.Status.OK
    assert Entity.objects.filter(location=locations[second].pk).count() == max(1, fillers)  # its own

    for location in locations.values():  # the same registrations one after the other
        unregister_location(location.pk)
    locations = _locations(allow_tmp, fillers)
    refresh_location(locations[first].pk)
    refresh_location(locations[second].pk)
    assert raced == _stored(locations)
    assert raced["rows_of_no_entity"] == 0
