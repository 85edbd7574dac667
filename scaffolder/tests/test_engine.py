"""The engine with the built-in actions, inline (no Celery): steps, conditions, outputs, events, secrets."""

import pytest

from catalog.models import Entity
from scaffolder import engine, service
from scaffolder.models import Task, TaskEvent, TaskStep
from scaffolder.tests.helpers import register_file_template, repo_files, template_yaml, write_template

pytestmark = pytest.mark.django_db

STEPS = """\
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
        targetPath: ${{ parameters.dir }}
        values: {name: '${{ parameters.name }}', token: '${{ secrets.token }}'}
    - id: skipped
      if: ${{ parameters.name == 'nobody' }}
      action: debug:log
      input: {message: never}
    - id: each
      each: ${{ ['a', 'b'] }}
      action: debug:log
      input: {message: 'item ${{ each.key }}=${{ each.value }} secret=${{ secrets.token }}'}
    - id: publish
      action: publish:git
      input:
        repoName: ${{ parameters.name }}
        sourcePath: ${{ parameters.dir }}
        gitCommitMessage: Create ${{ parameters.name }}
    - id: register
      action: catalog:register
      input:
        repoContentsUrl: ${{ steps.publish.output.repoContentsUrl }}
"""
PARAMS = """\
    - title: First
      required: [name]
      properties:
        name: {type: string, pattern: '^[a-z-]+$'}
        dir: {type: string, default: out}
        password: {type: string, ui:widget: password}
"""
OUTPUT = """\
    links:
      - {title: Repository, url: '${{ steps.publish.output.remoteUrl }}'}
      - {title: Hidden, url: x, if: '${{ false }}'}
      - {title: Catalog, entityRef: '${{ steps.register.output.entityRef }}'}
    text:
      - {title: Done, content: 'Made ${{ parameters.name }}'}
"""
DESCRIPTOR = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${{ values.name | dump }}
  annotations: {example.com/token: '${{ values.token }}'}
spec: {type: service, lifecycle: experimental, owner: team-a}
"""


@pytest.fixture
def template(scaffold_dirs):
    path = write_template(
        scaffold_dirs / "tpl",
        template_yaml("sample", STEPS, parameters=PARAMS, output=OUTPUT),
        {"skeleton/catalog-info.yaml": DESCRIPTOR, "skeleton/${{ values.name }}.txt": "hello ${{ values.name }}\n"},
    )
    return register_file_template(path)


def run(user, values, secrets=None):
    task = service.create_task(user, "sample", values, secrets, dispatch=False)
    return engine.run_task(task.pk)


def test_a_template_runs_publishes_and_registers(template, runner, scaffold_dirs):
    task = run(runner, {"name": "stop-finder", "dir": "out", "password": "pw-hunter-22"}, {"token": "tok-s3cret"})
    assert task.status == Task.Status.COMPLETED, task.error
    statuses = dict(TaskStep.objects.filter(task=task).values_list("step_id", "status"))
    assert statuses == {"fetch": "completed", "skipped": "skipped", "each": "completed", "publish": "completed",
                        "register": "completed"}  # fmt: skip
    files = repo_files(scaffold_dirs / "repos" / "scaffolder" / "stop-finder.git")
    assert files["stop-finder.txt"] == b"hello stop-finder\n"
    assert b'name: "stop-finder"' in files["catalog-info.yaml"]
    assert Entity.objects.filter(ref="component:default/stop-finder").exists()
    assert task.output["links"][0]["url"].startswith("file://")
    assert [link["title"] for link in task.output["links"]] == ["Repository", "Catalog"]
    assert task.output["links"][1]["entityRef"] == "component:default/stop-finder"
    assert task.output["text"] == [{"title": "Done", "content": "Made stop-finder"}]
    events = list(TaskEvent.objects.filter(task=task).order_by("id"))
    assert events[0].body["message"] == "Starting up task with 5 steps"
    assert events[-1].type == "completion" and events[-1].body["output"] == task.output
    messages = [e.body.get("message", "") for e in events]
    assert "item 0=a secret=***" in messages and "item 1=b secret=***" in messages
    # Secrets: never stored, never in an event; the password field is not among the stored values.
    everything = str([e.body for e in events]) + str(task.spec) + str(task.values) + task.sealed_secrets
    everything += str(list(TaskStep.objects.filter(task=task).values_list("output", "error")))
    assert "tok-s3cret" not in everything and "pw-hunter-22" not in everything
    assert task.sealed_secrets == "" and "password" not in task.values


def test_a_failed_step_fails_the_task_and_skips_the_rest(template, runner, scaffold_dirs):
    (scaffold_dirs / "repos" / "scaffolder" / "taken.git").mkdir(parents=True)
    task = run(runner, {"name": "taken", "dir": "out"}, {"token": "tok-s3cret"})
    assert task.status == Task.Status.FAILED
    assert "already exists" in task.error["message"]
    statuses = dict(TaskStep.objects.filter(task=task).values_list("step_id", "status"))
    assert statuses["publish"] == "failed" and statuses["register"] == "skipped"
    last = TaskEvent.objects.filter(task=task).order_by("-id").first()
    assert last.type == "completion" and last.body["error"]["name"] == "FileExistsError"


def test_invalid_values_are_refused_with_where(template, runner):
    with pytest.raises(service.InvalidRequest) as caught:
        service.create_task(runner, "sample", {"name": "Not Valid"}, dispatch=False)
    assert caught.value.errors == ["values (parameters page 1, 'First'): name: 'Not Valid' does not match '^[a-z-]+$'"]
    assert not Task.objects.exists()


def test_running_is_a_permission(template, user):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        service.create_task(user, "sample", {"name": "x"}, dispatch=False)


def test_a_cancelled_task_stops_at_the_next_step(template, runner):
    task = service.create_task(runner, "sample", {"name": "x"}, dispatch=False)
    assert service.cancel_task(task)
    assert engine.run_task(task.pk).status == Task.Status.CANCELLED  # never claimed
    assert TaskEvent.objects.filter(task=task, type="cancelled").count() == 1


def test_an_unknown_action_and_bad_input_fail_with_reasons(scaffold_dirs, runner):
    steps = """\
    - {id: a, action: debug:log, input: {message: 42}}
    - {id: b, action: no:such, if: '${{ always() }}'}
"""
    register_file_template(write_template(scaffold_dirs / "bad", template_yaml("bad", steps)))
    task = engine.run_task(service.create_task(runner, "bad", {}, dispatch=False).pk)
    assert task.status == Task.Status.FAILED
    errors = dict(TaskStep.objects.filter(task=task).values_list("step_id", "error"))
    assert errors["a"] == "Invalid input passed to action debug:log: message: 42 is not of type 'string'"
    assert errors["b"] == "Template action with ID 'no:such' is not registered"


def test_cancel_while_running_stops_at_the_next_step_boundary(scaffold_dirs, runner):
    from plugins.api import ScaffolderAction, register_scaffolder_action, registry

    def cancel_me(ctx):  # what a person pressing Cancel during this step does
        service.cancel_task(Task.objects.get(pk=ctx.task_id))
        ctx.log(f"cancelled seen by the action: {ctx.cancelled()}")

    register_scaffolder_action(ScaffolderAction(id="test:cancel", handler=cancel_me))
    try:
        steps = "    - {id: a, action: 'test:cancel'}\n    - {id: b, action: debug:log, input: {message: never}}\n"
        register_file_template(write_template(scaffold_dirs / "c", template_yaml("c", steps)))
        task = engine.run_task(service.create_task(runner, "c", {}, dispatch=False).pk)
    finally:
        registry["scaffolder_actions"].pop("test:cancel", None)
    assert task.status == Task.Status.CANCELLED
    assert dict(task.steps.values_list("step_id", "status")) == {"a": "completed", "b": "cancelled"}
    events = list(task.events.order_by("id"))
    assert "cancelled seen by the action: True" in [e.body.get("message") for e in events]
    assert "cancelled" in [e.type for e in events] and events[-1].type == "completion"
    assert events[-1].body["error"]["name"] == "CancelledError"
    assert "never" not in str([e.body for e in events])


def test_tasks_in_the_admin_are_read_only(template, runner, admin_user, client):
    task = run(runner, {"name": "adm", "dir": "out"}, {"token": "tok-s3cret"})
    client.force_login(admin_user)
    assert client.get("/admin/scaffolder/task/").status_code == 200
    page = client.get(f"/admin/scaffolder/task/{task.pk}/change/")
    assert page.status_code == 200 and b"publish:git" in page.content and b"sealed_secrets" not in page.content


def test_stale_processing_tasks_are_failed(template, runner):
    from datetime import timedelta

    from django.utils import timezone

    task = service.create_task(runner, "sample", {"name": "x"}, dispatch=False)
    assert engine.claim(task.pk)  # a worker claimed it, then died without a word
    TaskStep.objects.filter(task=task, position=0).update(status=TaskStep.Status.PROCESSING)
    later = timezone.now() + timedelta(minutes=10)
    assert engine.fail_stale_tasks(timedelta(minutes=30), now=later) == 0
    assert engine.fail_stale_tasks(timedelta(minutes=5), now=later) == 1
    task.refresh_from_db()
    assert task.status == Task.Status.FAILED and task.error["name"] == "StaleTaskError"
    assert list(task.steps.values_list("status", flat=True)) == ["failed", "skipped", "skipped", "skipped", "skipped"]
    assert task.events.get().type == "completion"
    assert engine.fail_stale_tasks(timedelta(minutes=5), now=later) == 0
    assert engine.run_task(task.pk).status == Task.Status.FAILED  # a redelivered message does nothing


def test_an_engine_failure_does_not_leave_the_task_processing(template, runner):
    task = service.create_task(runner, "sample", {"name": "x"}, dispatch=False)
    Task.objects.filter(pk=task.pk).update(spec={**task.spec, "steps": [42]})  # a spec the engine cannot run
    with pytest.raises(AttributeError):
        engine.run_task(task.pk)
    task.refresh_from_db()
    assert task.status == Task.Status.FAILED and task.error["name"] == "AttributeError"
    assert task.events.last().type == "completion"
