"""POST /v2/dry-run: Backstage's body and answer; nothing stored, nothing published, nothing left on disk."""

import base64
import os

import pytest
import yaml
from django.conf import settings

from catalog.models import Location
from portal.models import JobRun
from portal.testing.access import token_client
from scaffolder.engine import example_output, workspaces_dir
from scaffolder.models import Task, TaskEvent, TaskStep

pytestmark = pytest.mark.django_db
URL = "/api/scaffolder/v2/dry-run"

TEMPLATE = yaml.safe_load("""\
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: dry, title: Dry}
spec:
  type: service
  owner: team-a
  parameters:
    - required: [name]
      properties: {name: {type: string, pattern: '^[a-z]+$'}}
  steps:
    - {id: fetch, action: fetch:template, input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}}
    - {id: log, action: debug:log, input: {message: 'token ${{ secrets.token }}', listWorkspace: true}}
    - {id: publish, action: publish:git, input: {repoName: '${{ parameters.name }}'}}
    - {id: register, action: catalog:register, input: {repoContentsUrl: '${{ steps.publish.output.repoContentsUrl }}'}}
  output:
    links:
      - {title: Repository, url: '${{ steps.publish.output.remoteUrl }}'}
      - {title: Catalog, entityRef: '${{ steps.register.output.entityRef }}'}
""")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def body(**changes):
    return {
        "template": TEMPLATE,
        "values": {"name": "ledger"},
        "secrets": {"token": "tok-s3cret"},
        "directoryContents": [
            {"path": "template.yaml", "base64Content": b64(yaml.safe_dump(TEMPLATE))},
            {"path": "skeleton/README.md", "base64Content": b64("# ${{ values.name }}\n")},
            {"path": "skeleton/run.sh", "base64Content": b64("echo ${{ values.name }}\n")},
        ],
        **changes,
    }


@pytest.fixture
def client(runner, scaffold_dirs):
    return token_client(runner, scopes=["scaffolder:run"])


def data_dir_files() -> set[str]:
    found = set()
    for directory, _, names in os.walk(settings.DATA_DIR):
        found.update(os.path.join(directory, name) for name in names)
    return found


def test_a_dry_run_answers_as_backstage_does_and_keeps_nothing(client, scaffold_dirs):
    before = data_dir_files()
    payload = body()
    executable = payload["directoryContents"][2]
    # Uploads carry no mode in Backstage's body: the skeleton's file is written 0644, so it is not executable.
    response = client.post(URL, payload, format="json")
    assert response.status_code == 200, response.content
    out = response.json()
    assert set(out) == {"log", "directoryContents", "output", "steps"}
    assert [s["id"] for s in out["steps"]] == ["fetch", "log", "publish", "register"]
    assert out["steps"][0]["name"] == "fetch:template" and out["steps"][0]["input"]["url"] == "./skeleton"
    files = {f["path"]: f for f in out["directoryContents"]}
    assert set(files) == {"README.md", "run.sh"}
    assert base64.b64decode(files["README.md"]["base64Content"]) == b"# ledger\n"
    assert files["run.sh"]["executable"] is False and executable["path"] == "skeleton/run.sh"
    messages = [entry["body"]["message"] for entry in out["log"]]
    assert all(set(entry) == {"body"} for entry in out["log"])
    assert messages[0] == "Starting up task with 4 steps"
    assert "token ***" in messages and "tok-s3cret" not in str(out)
    assert "Skipping because publish:git does not support dry-run" in messages
    assert "Skipping because catalog:register does not support dry-run" in messages
    assert {"message": "Finished step debug:log", "stepId": "log", "status": "completed"} in [
        e["body"] for e in out["log"]
    ]
    assert out["output"] == {"links": [
        {"title": "Repository", "url": example_output(
            {"type": "string", "examples": ["file:///var/lib/callboard/repos/scaffolder/example.git"]})},
        {"title": "Catalog", "entityRef": "component:default/example"},
    ]}  # fmt: skip
    # Nothing kept: no rows, no repository, no location, no files left behind in the data dir.
    assert not Task.objects.exists() and not TaskStep.objects.exists() and not TaskEvent.objects.exists()
    assert not JobRun.objects.exists() and not Location.objects.filter(target__contains="ledger").exists()
    assert not (scaffold_dirs / "repos" / "scaffolder" / "ledger.git").exists()
    assert data_dir_files() - before == set()


def test_a_failing_step_answers_400_with_the_log(client):
    before = set(workspaces_dir().iterdir())
    template = {**TEMPLATE, "spec": {**TEMPLATE["spec"], "steps": [
        {"id": "fetch", "action": "fetch:plain", "input": {"url": "../../etc"}},
    ]}}  # fmt: skip
    response = client.post(URL, body(template=template), format="json")
    assert response.status_code == 400
    out = response.json()
    assert out["error"]["message"] == "'../../etc' leaves the uploaded files"
    assert out["log"][-1]["body"]["status"] == "failed"
    assert set(workspaces_dir().iterdir()) == before


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"template": {"kind": "Component"}},
         "template: apiVersion must be scaffolder.backstage.io/v1beta3 and kind Template"),
        ({"values": {"name": "NOT"}}, "values (parameters page 1, 'page 1'): name: 'NOT' does not match '^[a-z]+$'"),
        ({"directoryContents": [{"path": "../x", "base64Content": ""}]},
         "directoryContents[0]: path '../x' leaves the workspace ('..')"),
        ({"directoryContents": [{"path": "a", "base64Content": "!!"}]},
         "directoryContents[0] (a): base64Content is not base64"),
        ({"secrets": {"a": 1}}, "secrets: must be an object of strings"),
    ],
)
def test_hostile_or_broken_bodies_say_where(client, change, error):
    before = set(workspaces_dir().iterdir())
    response = client.post(URL, body(**change), format="json")
    assert response.status_code == 400
    assert error in response.json()["errors"], response.json()
    assert set(workspaces_dir().iterdir()) == before


def test_a_dry_run_needs_the_run_permission(user, scaffold_dirs):
    client = token_client(user, scopes=["scaffolder:run"])  # a viewer
    response = client.post(URL, body(), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["name"] == "NotAllowedError"
