"""Retry from the failed step: completed side effects are not repeated, their outputs stay, the workspace is
rebuilt by running the idempotent steps again, secrets come with the retry; the API and the command."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from portal.models import AuditEvent
from portal.testing.access import grant, token_client
from scaffolder import engine, service
from scaffolder.models import Task, TaskEvent, TaskStep
from scaffolder.tests.helpers import register_file_template, repo_files, template_yaml, write_template

pytestmark = pytest.mark.django_db
BASE = "/api/scaffolder/v2"

# publish:git makes a new repository and refuses an existing one: running it twice would fail the retry.
# rename fails without the secret (its "to" renders undefined, and "to" is required).
STEPS = """\
    - {id: fetch, action: fetch:template, input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}}
    - {id: publish, action: publish:git, input: {repoName: '${{ parameters.name }}'}}
    - id: rename
      action: fs:rename
      input: {files: [{from: README.md, to: '${{ secrets.newname }}'}]}
    - {id: final, action: publish:git, input: {repoName: '${{ parameters.name }}-final'}}
"""
OUTPUT = """\
    links: [{title: Repository, url: '${{ steps.publish.output.remoteUrl }}'}]
    text: [{title: Commit, content: '${{ steps.publish.output.commitHash }}'}]
"""
PARAMS = "    - properties: {name: {type: string}}\n"


@pytest.fixture
def template(scaffold_dirs):
    path = write_template(scaffold_dirs / "tpl", template_yaml("twice", STEPS, parameters=PARAMS, output=OUTPUT),
                          {"skeleton/README.md": "# ${{ values.name }}\n"})  # fmt: skip
    return register_file_template(path)


def failed_task(user) -> Task:
    task = service.create_task(user, "twice", {"name": "ledger"}, dispatch=False)
    task = engine.run_task(task.pk)
    assert task.status == Task.Status.FAILED, task.error
    return task


def steps_of(task) -> dict[str, str]:
    return dict(TaskStep.objects.filter(task=task).values_list("step_id", "status"))


def test_retry_resumes_at_the_failed_step_and_keeps_earlier_outputs(template, runner, scaffold_dirs):
    task = failed_task(runner)
    assert steps_of(task) == {"fetch": "completed", "publish": "completed", "rename": "failed", "final": "skipped"}
    first_commit = TaskStep.objects.get(task=task, step_id="publish").output["commitHash"]

    task = service.retry_task(task, runner, {"newname": "GUIDE.md"}, dispatch=False)
    assert task.status == Task.Status.OPEN and task.error == {} and task.sealed_secrets
    assert steps_of(task) == {"fetch": "completed", "publish": "completed", "rename": "open", "final": "open"}
    task = engine.run_task(task.pk)

    assert task.status == Task.Status.COMPLETED, task.error
    assert set(steps_of(task).values()) == {"completed"}
    # publish ran once: its repository has one commit, and the output of that run is the task's output.
    repos = scaffold_dirs / "repos" / "scaffolder"
    assert task.output["text"] == [{"title": "Commit", "content": first_commit}]
    assert TaskStep.objects.get(task=task, step_id="publish").output["commitHash"] == first_commit
    assert set(repo_files(repos / "ledger.git")) == {"README.md"}
    # The workspace was rebuilt (fetch ran again) and the rename applied to it: the final repository shows it.
    assert repo_files(repos / "ledger-final.git") == {"GUIDE.md": b"# ledger\n"}
    events = list(TaskEvent.objects.filter(task=task).order_by("id"))
    types = [e.type for e in events]
    assert types.count("completion") == 1 and types[-1] == "completion"  # the first run's end is gone
    recovered = next(e for e in events if e.type == "recovered")
    assert recovered.body["stepId"] == "rename" and "from step fs:rename" in recovered.body["message"]
    messages = [e.body.get("message") for e in events if e.id > recovered.id]
    assert "Step publish:git completed before the retry; its output is reused" in messages
    assert "Beginning step fetch:template" in messages and "Beginning step fs:rename" in messages
    assert task.sealed_secrets == ""  # wiped again at the end
    assert AuditEvent.objects.filter(action="scaffolder.task.retried").count() == 1


def test_a_completed_or_running_task_is_not_retried(template, runner):
    task = failed_task(runner)
    service.retry_task(task, runner, {"newname": "GUIDE.md"}, dispatch=False)
    with pytest.raises(service.NotRetryable, match="A open task cannot be retried"):
        service.retry_task(task, runner, dispatch=False)
    task = engine.run_task(task.pk)
    with pytest.raises(service.NotRetryable, match="A completed task cannot be retried"):
        service.retry_task(task, runner, dispatch=False)


def test_a_cancelled_task_is_retried_once_its_run_has_stopped(template, runner):
    task = service.create_task(runner, "twice", {"name": "ledger"}, dispatch=False)
    service.cancel_task(task, runner)  # before it started: nothing is running
    task = service.retry_task(task, runner, {"newname": "GUIDE.md"}, dispatch=False)
    assert not TaskEvent.objects.filter(task=task, type="cancelled").exists()
    assert engine.run_task(task.pk).status == Task.Status.COMPLETED

    running = service.create_task(runner, "twice", {"name": "other"}, dispatch=False)
    engine.claim(running.pk)
    service.cancel_task(running, runner)  # its engine has not written the completion event yet
    with pytest.raises(service.NotRetryable, match="until its run has stopped"):
        service.retry_task(running, runner, dispatch=False)


def test_a_stale_task_is_retried_from_its_running_step(template, runner):
    task = service.create_task(runner, "twice", {"name": "ledger"}, dispatch=False)
    engine.claim(task.pk)
    TaskStep.objects.filter(task=task, step_id="fetch").update(status="completed")
    TaskStep.objects.filter(task=task, step_id="publish").update(status="processing")
    Task.objects.filter(pk=task.pk).update(last_heartbeat_at=timezone.now() - timedelta(hours=1))
    assert engine.fail_stale_tasks(timedelta(minutes=5)) == 1
    task = service.retry_task(Task.objects.get(pk=task.pk), runner, {"newname": "GUIDE.md"}, dispatch=False)
    assert steps_of(task)["publish"] == "open"
    assert engine.run_task(task.pk).status == Task.Status.COMPLETED


def test_who_may_retry(template, runner, django_user_model):
    task = failed_task(runner)
    stranger = django_user_model.objects.create_user("stranger", password="x")
    grant("contributor", user=stranger)
    with pytest.raises(service.TemplateNotFound):
        service.retry_task(task, stranger, dispatch=False)  # not theirs
    viewer = django_user_model.objects.create_user("viewer", password="x")
    task.created_by = viewer
    task.save(update_fields=["created_by"])
    with pytest.raises(PermissionDenied):
        service.retry_task(task, viewer, dispatch=False)  # may see it, may not run the template
    assert Task.objects.get(pk=task.pk).status == Task.Status.FAILED


def test_the_retry_endpoint(template, runner, django_capture_on_commit_callbacks):
    task = failed_task(runner)
    client = token_client(runner, scopes=["scaffolder:run"])
    with django_capture_on_commit_callbacks(execute=True):  # the run is queued on commit (eager in tests)
        response = client.post(f"{BASE}/tasks/{task.pk}/retry", {"secrets": {"newname": "GUIDE.md"}}, format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {"id": str(task.pk)}
    assert Task.objects.get(pk=task.pk).status == Task.Status.COMPLETED
    again = client.post(f"{BASE}/tasks/{task.pk}/retry", {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"] == {"name": "ConflictError", "message": "A completed task cannot be retried"}
    hostile = client.post(f"{BASE}/tasks/{task.pk}/retry", {"secrets": [1]}, format="json")
    assert hostile.status_code == 400 and hostile.json() == {"errors": ["secrets: must be an object"]}
    assert client.post(f"{BASE}/tasks/00000000-0000-0000-0000-000000000000/retry", {}).status_code == 404


def test_the_retry_command(template, runner):
    task = failed_task(runner)
    out = io.StringIO()
    with pytest.raises(Exception, match="Task failed"):
        call_command("scaffolder", "retry", str(task.pk), "--user", runner.username, stdout=out)
    assert "Retrying" in out.getvalue() and "[rename]" in out.getvalue()


def test_every_built_in_action_that_only_writes_the_workspace_is_rebuilt_on_a_retry():
    """Actions with effects outside the workspace run once per task; workspace-only ones (fetch:*, fs:*…)
    re-run on a retry to rebuild it."""
    from scaffolder.actions import all_actions

    effects = {"publish:git", "publish:github", "publish:gitlab", "publish:github:pull-request",
               "publish:gitlab:merge-request", "github:pages:enable", "github:actions:dispatch",
               "catalog:register", "debug:wait"}  # fmt: skip
    for action in all_actions():
        if action.id in effects:
            assert not action.idempotent, action.id
        elif action.id.startswith(("fetch:", "fs:")):
            assert action.idempotent, action.id
            # fetch:rails runs a template's Ruby: like Backstage's, it is skipped in a dry run
            assert action.supports_dry_run == (action.id != "fetch:rails"), action.id
