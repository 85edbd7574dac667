"""Backstage's own ``ScaffolderClient`` (@backstage/plugin-scaffolder-common) drives a live Callboard whose real
Celery worker runs the tasks: every method, each answer asserted (backstage_scaffolder_client.js calls them
and prints the answers). Skipped, with the reason, where node or npm is missing or the client cannot be
installed; the install is cached (portal/testing/npm.py)."""

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from portal.models import ApiToken
from portal.testing.access import grant
from portal.testing.celery import celery_worker
from portal.testing.npm import npm_package
from scaffolder.tests.helpers import register_file_template, template_yaml, write_template

CLIENT_VERSION = "2.4.0"  # docs/scaffolder.md names it: change both together
SCRIPT = Path(__file__).with_name("backstage_scaffolder_client.js")

QUICK = """\
    - {id: fetch, name: Fetch, action: fetch:template,
       input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}}
    - {id: log, name: Log, action: debug:log, input: {message: 'made ${{ parameters.name }}'}}
"""
QUICK_PARAMS = """\
    - title: About
      required: [name]
      properties: {name: {type: string, title: Name}}
"""
SLOW = """\
    - {id: wait, name: Wait, action: debug:wait, input: {seconds: 20}}
    - {id: after, name: After, action: debug:log, input: {message: after the wait}}
"""


@pytest.fixture(scope="module")
def client_dir():
    directory, reason = npm_package("@backstage/plugin-scaffolder-common", CLIENT_VERSION)
    if directory is None:
        pytest.skip(reason)
    return directory


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_backstage_scaffolder_client_call_for_call(client_dir, live_server, allow_tmp, user, settings):
    settings.CATALOG_GITHUB_HOSTS = ["github.com"]
    settings.CATALOG_GITLAB_HOSTS = ["gitlab.example.com"]
    register_file_template(write_template(
        allow_tmp / "quick", template_yaml("quick", QUICK, parameters=QUICK_PARAMS,
                                           output="    text: [{title: Made, content: '${{ parameters.name }}'}]\n"),
        {"skeleton/README.md": "# ${{ values.name }}\n"},
    ))  # fmt: skip
    register_file_template(write_template(allow_tmp / "slow", template_yaml("slow", SLOW)))
    grant("contributor", user=user)
    _, token = ApiToken.issue(user, name="backstage-scaffolder-client", scopes=["scaffolder:run"])
    env = {**os.environ, "CLIENT_DIR": str(client_dir), "BASE_URL": live_server.url, "TOKEN": token,
           "USER_REF": f"user:default/{user.username}"}  # fmt: skip
    with celery_worker({"CATALOG_ALLOWED_PATHS": str(allow_tmp)}):
        done = subprocess.run(["node", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300, check=False)
    out = json.loads(done.stdout or "{}")
    assert done.returncode == 0 and "failed" not in out, (out.get("failed"), done.stderr[-2000:])
    user_ref = f"user:default/{user.username}"

    # getTemplateParameterSchema, listActions, getIntegrationsList (from the app's integrations: ours, listed).
    assert out["parameterSchema"] == {"title": "quick", "description": None, "steps": [{
        "title": "About", "description": None,
        "schema": {"title": "About", "required": ["name"], "properties": {"name": {"type": "string", "title": "Name"}}},
    }]}  # fmt: skip
    assert {"fetch:template", "debug:log", "publish:git", "catalog:register"} <= set(out["actions"])
    assert out["actions"] == sorted(out["actions"])
    assert out["integrations"] == {"integrations": [{"type": "github", "title": "github.com", "host": "github.com"}]}

    # scaffold → getTask: the task as Backstage's client types it, run by the worker.
    task = out["task"]
    assert task["id"] == out["taskId"] and task["status"] == "completed" and task["createdBy"] == user_ref
    assert {"id", "spec", "status", "createdAt", "lastHeartbeatAt", "createdBy"} <= set(task)
    assert task["spec"]["templateInfo"]["entityRef"] == "template:default/quick"
    assert task["spec"]["parameters"] == {"name": "ledger"} and task["output"] == {"text": [
        {"title": "Made", "content": "ledger"}]}  # fmt: skip

    # streamLogs, over Server-Sent Events and by long polling: the same events, ending with the completion.
    stream = out["stream"]
    assert [e["body"].get("message") for e in stream][:2] == ["Starting up task with 2 steps", "Beginning step Fetch"]
    assert "made ledger" in [e["body"].get("message") for e in stream]
    assert stream[-1]["type"] == "completion" and stream[-1]["body"] == {"output": task["output"]}
    assert all(e["taskId"] == task["id"] and e["isTaskRecoverable"] is False for e in stream)
    assert [e["id"] for e in stream] == sorted(e["id"] for e in stream)
    assert out["streamAfter"] == stream[3:]
    assert out["polling"] == stream
    # Errors as Backstage's client reports them.
    assert out["invalid"]["message"].startswith("Backend request failed, 400 Bad Request")
    assert "name: 42 is not of type 'string'" in out["invalid"]["message"]
    assert out["missing"] == {"name": "ResponseError", "status": 404, "errorName": "NotFoundError",
                              "message": "Request failed with 404 Not Found"}  # fmt: skip

    # cancelTask → the stream ends with the cancelled run's completion; retry resumes after the step it stopped.
    assert out["cancel"] == {"status": "cancelled"}
    cancelled = out["cancelledStream"]
    assert "cancelled" in [e["type"] for e in cancelled]
    assert cancelled[-1]["type"] == "completion" and cancelled[-1]["body"]["error"]["name"] == "CancelledError"
    assert out["retry"] == {"id": out["retriedTask"]["id"]}
    assert out["retriedTask"]["status"] == "completed"
    retried = out["retriedStream"]
    assert [e["type"] for e in retried].count("completion") == 1 and retried[-1]["type"] == "completion"
    assert "cancelled" not in [e["type"] for e in retried]  # the earlier end is gone, as in Backstage
    assert "recovered" in [e["type"] for e in retried]
    assert "after the wait" in [e["body"].get("message") for e in retried]
    assert out["retryCompleted"]["status"] == 409 and out["retryCompleted"]["errorName"] == "ConflictError"

    # listTasks: owned (createdBy = the signed-in user's ref), and a page.
    assert out["listOwned"]["totalTasks"] == 2
    assert {t["id"] for t in out["listOwned"]["tasks"]} == {task["id"], out["retriedTask"]["id"]}
    assert out["listPage"]["totalTasks"] == 2 and len(out["listPage"]["tasks"]) == 1
    assert out["listPage"]["tasks"][0]["id"] == task["id"]  # newest first; offset 1 is the first task

    # dryRun: the rendered files, base64; publish:git skipped with its example output; the step plan.
    dry = out["dryRun"]
    assert dry["directoryContents"] == [
        {"path": "hello.txt", "executable": False, "base64Content": base64.b64encode(b"hi dry").decode()}
    ]
    assert dry["output"] == {"links": [{"title": "Repository",
                                        "url": "file:///var/lib/callboard/repos/scaffolder/example.git"}]}  # fmt: skip
    assert [s["id"] for s in dry["steps"]] == ["fetch", "publish"]
    assert {"message": "Skipping because publish:git does not support dry-run", "stepId": "publish"} in [
        entry["body"] for entry in dry["log"]
    ]
