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
    # claim, read the task, its steps, count its events; per step: heartbeat with the cancel check, step
    # processing, the engine's lines in one insert, each action line, step completed; the end (status and
    # completion event together); the task read back.
    assert len(statements(ran)) == 18, "\n".join(s[:90] for s in statements(ran))
    # 9 events, written in 6 inserts: the engine's own lines wait for the next write.
    inserts = [s for s in statements(ran) if s.startswith('INSERT INTO "scaffolder_taskevent"')]
    assert TaskEvent.objects.filter(task_id=task_id).count() == 9 and len(inserts) == 6
