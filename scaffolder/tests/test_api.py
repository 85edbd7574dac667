"""/api/scaffolder/v2/ with bearer tokens: Backstage's shapes, the scope, the permission, validation."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import AuditEvent, JobRun
from portal.testing.access import token_client
from scaffolder.models import Task
from scaffolder.tests.helpers import register_file_template, template_yaml, write_template

pytestmark = pytest.mark.django_db
BASE = "/api/scaffolder/v2"
PARAMS = """\
    - title: About
      required: [name]
      properties:
        name: {type: string, maxLength: 10, ui:autofocus: true}
"""
STEPS = """\
    - {id: fetch, action: fetch:template, input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}}
    - {id: log, name: Say hello, action: debug:log, input: {message: 'hello ${{ parameters.name }} ${{ secrets.key }}'}}
"""


@pytest.fixture
def template(scaffold_dirs):
    folder = scaffold_dirs / "tpl"
    path = write_template(folder, template_yaml("hello", STEPS, parameters=PARAMS,
                                                output="    text: [{title: Hi, content: '${{ parameters.name }}'}]\n"),
                          {"skeleton/README.md": "# ${{ values.name }}\n"})  # fmt: skip
    return register_file_template(path)


def post_task(client, values, secrets=None, ref="template:default/hello", capture=None):
    body = {"templateRef": ref, "values": values, **({"secrets": secrets} if secrets is not None else {})}
    if capture is None:
        return client.post(f"{BASE}/tasks", body, format="json")
    with capture(execute=True):
        return client.post(f"{BASE}/tasks", body, format="json")


def test_post_a_task_and_follow_it(template, runner, django_capture_on_commit_callbacks):
    client = token_client(runner, scopes=["scaffolder:run"])
    response = post_task(client, {"name": "ana"}, {"key": "k-s3cret"}, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.content
    task_id = response.json()["id"]
    task = client.get(f"{BASE}/tasks/{task_id}").json()
    assert task["status"] == "completed"
    assert task["createdBy"] == "user:default/dev" and task["spec"]["parameters"] == {"name": "ana"}
    assert task["spec"]["templateInfo"]["entityRef"] == "template:default/hello"
    assert [(s["id"], s["name"], s["status"]) for s in task["steps"]] == [
        ("fetch", "fetch:template", "completed"), ("log", "Say hello", "completed")]  # fmt: skip
    assert task["output"] == {"text": [{"title": "Hi", "content": "ana"}]}
    events = client.get(f"{BASE}/tasks/{task_id}/events").json()
    assert events[0]["type"] == "log" and events[0]["body"]["message"] == "Starting up task with 2 steps"
    assert set(events[0]) == {"id", "taskId", "type", "createdAt", "isTaskRecoverable", "body"}
    assert {"message": "hello ana ***", "stepId": "log"} in [e["body"] for e in events]
    assert events[-1]["type"] == "completion"
    later = client.get(f"{BASE}/tasks/{task_id}/events", {"after": events[-2]["id"]}).json()
    assert later == [events[-1]]
    assert client.get(f"{BASE}/tasks/{task_id}/events", {"after": events[-1]["id"]}).json() == []
    assert "k-s3cret" not in str(events) + str(task)
    assert JobRun.objects.get(name="scaffolder.run_task").status == JobRun.Status.SUCCEEDED
    audit = AuditEvent.objects.get(action="scaffolder.task.created")
    assert audit.actor == runner and audit.target_id == task_id and audit.changes["values"] == {"name": "ana"}
    # Cancelling a finished task changes nothing.
    assert client.post(f"{BASE}/tasks/{task_id}/cancel").json() == {"status": "completed"}


def test_list_tasks_filters_and_counts_queries(template, runner, admin_user):
    client = token_client(runner, scopes=["scaffolder:run"])
    assert post_task(client, {"name": "one"}).status_code == 201

    def listing(**params):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(f"{BASE}/tasks", params).json()
        return body, len(queries)

    body, one = listing()
    assert body["totalTasks"] == 1 and body["tasks"][0]["status"] == "open"
    for name in ("two", "three"):
        post_task(client, {"name": name})
    body, three = listing()
    assert body["totalTasks"] == 3 and three == one
    assert listing(status="open")[0]["totalTasks"] == 3
    assert listing(status="completed")[0]["totalTasks"] == 0
    assert listing(createdBy="user:default/dev")[0]["totalTasks"] == 3
    assert listing(createdBy="user:default/else")[0]["totalTasks"] == 0
    # Cancel an open task: it never runs.
    task_id = body["tasks"][0]["id"]
    assert client.post(f"{BASE}/tasks/{task_id}/cancel").json() == {"status": "cancelled"}
    assert [e["type"] for e in client.get(f"{BASE}/tasks/{task_id}/events").json()] == ["cancelled"]
    assert AuditEvent.objects.filter(action="scaffolder.task.cancelled", target_id=task_id).count() == 1
    # Another person does not see them; an admin does.
    other = token_client(admin_user.__class__.objects.create_user("eve", "e@x.org", "pw-eve-12345"))
    assert other.get(f"{BASE}/tasks").json()["totalTasks"] == 0
    assert other.get(f"{BASE}/tasks/{task_id}").status_code == 404
    assert token_client(admin_user).get(f"{BASE}/tasks").json()["totalTasks"] == 3


def test_values_are_validated_on_the_server(template, runner):
    client = token_client(runner)
    response = post_task(client, {"name": "far-too-long-a-name"})
    assert response.status_code == 400
    assert response.json() == {"errors": ["values (parameters page 1, 'About'): name: "
                                          "'far-too-long-a-name' is too long"]}  # fmt: skip
    assert post_task(client, {}).json() == {
        "errors": ["values (parameters page 1, 'About'): 'name' is a required property"]
    }
    assert post_task(client, {"name": "x"}, ref="template:default/nope").status_code == 404
    assert client.post(f"{BASE}/tasks", {"values": {}}, format="json").status_code == 400
    assert not Task.objects.exists()


def test_scope_and_permission(template, runner, user):
    assert post_task(token_client(runner, scopes=["catalog:read"]), {"name": "x"}).status_code == 403
    assert token_client(runner, scopes=["catalog:read"]).get(f"{BASE}/actions").status_code == 403
    assert post_task(token_client(runner, scopes=["scaffolder:run"]), {"name": "x"}).status_code == 201


def test_running_needs_the_permission(template, user):
    response = post_task(token_client(user), {"name": "x"})
    assert response.status_code == 403
    assert response.json()["error"]["name"] == "NotAllowedError"
    assert not Task.objects.exists()


def test_actions_and_parameter_schema(template, runner):
    client = token_client(runner)
    actions = client.get(f"{BASE}/actions").json()
    ids = [a["id"] for a in actions]
    assert ids == sorted(ids)
    assert {"fetch:template", "fetch:plain", "debug:log", "fs:rename", "fs:delete", "publish:git",
            "catalog:register"} <= set(ids)  # fmt: skip
    fetch = next(a for a in actions if a["id"] == "fetch:template")
    assert fetch["schema"]["input"]["required"] == ["url"] and "description" in fetch and "examples" in fetch
    schema = client.get(f"{BASE}/templates/default/template/hello/parameter-schema").json()
    assert schema["title"] == "hello"
    assert schema["steps"][0]["title"] == "About"
    assert schema["steps"][0]["schema"]["properties"]["name"]["maxLength"] == 10
    assert client.get(f"{BASE}/templates/default/template/nope/parameter-schema").status_code == 404
    assert client.get(f"{BASE}/tasks/not-a-uuid").status_code == 404


def test_event_stream_and_integrations(template, runner, django_capture_on_commit_callbacks, settings):
    settings.CATALOG_GITHUB_HOSTS, settings.CATALOG_GITLAB_HOSTS = ["github.com"], ["gitlab.com"]
    client = token_client(runner, scopes=["scaffolder:run"])
    task_id = post_task(client, {"name": "ana"}, capture=django_capture_on_commit_callbacks).json()["id"]
    events = client.get(f"{BASE}/tasks/{task_id}/events").json()
    response = client.get(f"{BASE}/tasks/{task_id}/eventstream", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    blocks = b"".join(response.streaming_content).decode().strip().split("\n\n")
    assert len(blocks) == len(events)
    assert blocks[-1].splitlines()[:2] == [f"id: {events[-1]['id']}", "event: completion"]
    assert json.loads(blocks[0].splitlines()[2].removeprefix("data: ")) == events[0]
    later = client.get(f"{BASE}/tasks/{task_id}/eventstream", {"after": events[-2]["id"]})
    assert b"".join(later.streaming_content).decode().count("event: ") == 1
    # A task cancelled before it ran: the stream gives the cancelled event and ends.
    open_id = post_task(client, {"name": "bo"}).json()["id"]
    client.post(f"{BASE}/tasks/{open_id}/cancel")
    stream = b"".join(client.get(f"{BASE}/tasks/{open_id}/eventstream").streaming_content).decode()
    assert stream.count("event: ") == 1 and "event: cancelled" in stream
    assert client.get(f"{BASE}/integrations/list").json() == {"integrations": [
        {"type": "github", "title": "github.com", "host": "github.com"},
        {"type": "gitlab", "title": "gitlab.com", "host": "gitlab.com"}]}  # fmt: skip
