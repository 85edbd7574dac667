"""The hot path's database statements, counted: the POST that makes a task, and the engine running a trivial
template (fetch:template of one file, debug:log). Transaction statements (BEGIN/COMMIT) are left out of the
count (and savepoints: the test runs inside a transaction), since SQLite's backend records them and
PostgreSQL's does not."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.testing.access import token_client
from scaffolder import engine
from scaffolder.models import TaskEvent
from scaffolder.tests.helpers import register_file_template, template_yaml, write_template

pytestmark = pytest.mark.django_db
STEPS = """\
    - {id: fetch, action: fetch:template, input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}}
    - {id: log, action: debug:log, input: {message: 'made ${{ parameters.name }}'}}
"""


def statements(queries) -> list[str]:
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    return [q["sql"] for q in queries if not q["sql"].startswith(control)]


def transactions(queries) -> int:
    """Commits the statements would cost outside the test's transaction: one per statement outside an
    atomic block, one per outermost block (a savepoint here; BEGIN … COMMIT in production)."""
    count = depth = 0
    for sql in (q["sql"] for q in queries):
        if sql.startswith(("SAVEPOINT", "BEGIN")):
            count += depth == 0
            depth += 1
        elif sql.startswith(("RELEASE SAVEPOINT", "COMMIT", "ROLLBACK")):
            depth -= 1
        elif depth == 0:
            count += 1
    return count


def test_a_trivial_run_costs_a_fixed_number_of_statements(scaffold_dirs, runner, django_capture_on_commit_callbacks):
    path = write_template(scaffold_dirs / "tpl", template_yaml("trivial", STEPS),
                          {"skeleton/README.md": "# ${{ values.name }}\n"})  # fmt: skip
    register_file_template(path)
    client = token_client(runner, scopes=["scaffolder:run"])
    body = {"templateRef": "template:default/trivial", "values": {"name": "a"}}
    client.post("/api/scaffolder/v2/tasks", body, format="json")  # warm: the token's first use, caches
    with CaptureQueriesContext(connection) as posted:
        task_id = client.post("/api/scaffolder/v2/tasks", body, format="json").json()["id"]
    # the template with its location (read filter), the person's identity (for the permission, then for the
    # task's createdBy), the user entity, the task, its steps, the audit event (the token is cached)
    assert len(statements(posted)) == 7, "\n".join(s[:100] for s in statements(posted))

    with CaptureQueriesContext(connection) as ran:
        task = engine.run_task(task_id)
    assert task.status == "completed", task.error
    # claim, read the task (with its event count), its steps; per step: the boundary (the heartbeat that is also
    # the cancel check, one statement; the first step's is the claim), then what waits (the last step's row and
    # "Finished" line, "Starting up" for the first) with the step's row and "Beginning" line, in one transaction
    # just before the action runs, then each line the action logs; the end (the last step's row, the status, its
    # "Finished" line and the completion event in one insert, no savepoint); the task read back.
    assert len(statements(ran)) == 16, "\n".join(s[:90] for s in statements(ran))
    # ... in 11 transactions, 8 of them writes (each a commit): the claim, the first step's beginning, the second
    # step's boundary and beginning, the 3 action lines, the end; the other 3 are the reads. On PostgreSQL,
    # 3 of them are BEGIN … COMMIT (the two beginnings and the end).
    assert transactions(ran) == 11
    assert TaskEvent.objects.filter(task_id=task_id).count() == 9
