"""publish:github and publish:gitlab against local stand-ins speaking GitHub's and GitLab's REST APIs and git
smart HTTP (portal/testing/forge.py): the repository is really created and pushed, then cloned back."""

import pytest

from catalog.models import Entity
from portal.testing.forge import Forge, ForgeUser, run_forge
from scaffolder import engine, service
from scaffolder.models import Task, TaskStep
from scaffolder.tests.helpers import register_file_template, repo_files, template_yaml, write_template

pytestmark = pytest.mark.django_db

TOKEN = "tok-ana-0123456789"
DESCRIPTOR = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: '${{ values.name }}', description: Made by a template}
spec: {type: service, lifecycle: experimental, owner: group:default/team-a}
"""


def _steps(action: str, extra: str = "") -> str:
    return f"""\
    - id: fetch
      action: fetch:template
      input: {{url: ./skeleton, values: {{name: '${{{{ parameters.name }}}}'}}}}
    - id: publish
      action: {action}
      input:
        repoUrl: ${{{{ parameters.repoUrl }}}}
        description: The ${{{{ parameters.name }}}} service
        gitCommitMessage: Create ${{{{ parameters.name }}}}
        gitAuthorName: Ana
        gitAuthorEmail: ana@example.com
{extra}"""


REGISTER = """\
    - id: register
      action: catalog:register
      input: {repoContentsUrl: '${{ steps.publish.output.repoContentsUrl }}'}
"""


@pytest.fixture
def forge(tmp_path):
    users = {"ana": ForgeUser("ana", "ana@example.com", 7)}
    stand_in = Forge("id", "secret", users, orgs={"northwind"}, repos_root=tmp_path / "forge")
    stand_in.tokens[TOKEN] = "ana"
    with run_forge(stand_in) as running:
        yield running


def _run(folder, runner, action: str, values: dict, extra: str = "", register: bool = False) -> Task:
    name = f"publish-{action.replace(':', '-')}"
    files = {"skeleton/catalog-info.yaml": DESCRIPTOR, "skeleton/README.md": "# ${{ values.name }}\n"}
    write_template(folder, template_yaml(name, _steps(action, extra) + (REGISTER if register else "")), files)
    register_file_template(folder / "template.yaml")
    return engine.run_task(service.create_task(runner, f"template:default/{name}", values, dispatch=False).pk)


def _github(settings, forge, token=TOKEN):
    settings.CATALOG_GITHUB_HOSTS = ["github.com", "127.0.0.1"]
    settings.CATALOG_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SCAFFOLDER_INTEGRATIONS = {"github.com": {"apiBaseUrl": f"{forge.url}/api/v3", "token": token}}


def _error(task: Task) -> str:
    return TaskStep.objects.get(task=task, step_id="publish").error


def test_publish_github_to_an_organisation_then_register(allow_tmp, settings, forge, runner):
    _github(settings, forge)
    values = {"name": "stop-finder", "repoUrl": "github.com?owner=northwind&repo=stop-finder"}
    extra = "        repoVisibility: internal\n        topics: [Python, fastapi]\n"
    task = _run(allow_tmp / "t", runner, "publish:github", values, extra, register=True)
    assert task.status == Task.Status.COMPLETED, task.error
    assert forge.requests[:3] == ["GET /api/v3/users/northwind", "POST /api/v3/orgs/northwind/repos",
                                  "PUT /api/v3/repos/northwind/stop-finder/topics"]  # fmt: skip
    assert forge.created == [{"owner": "northwind", "name": "stop-finder", "private": False,
                              "visibility": "internal", "description": "The stop-finder service"}]  # fmt: skip
    assert forge.repos["northwind/stop-finder"]["topics"] == ["python", "fastapi"]
    files = repo_files(forge.repo_path("northwind", "stop-finder"))  # what was pushed, read back
    assert files["README.md"] == b"# stop-finder\n" and b"name: 'stop-finder'" in files["catalog-info.yaml"]
    output = TaskStep.objects.get(task=task, step_id="publish").output
    assert output["remoteUrl"] == f"{forge.url}/northwind/stop-finder.git"
    assert output["repoContentsUrl"] == f"{forge.url}/northwind/stop-finder/blob/main"
    assert len(output["commitHash"]) == 40
    component = Entity.objects.get(ref="component:default/stop-finder")  # read back from the forge over git
    assert component.body["spec"]["owner"] == "group:default/team-a"


def test_publish_github_for_a_user_and_a_token_from_secrets(allow_tmp, settings, forge, runner):
    _github(settings, forge, token="")
    extra = "        token: ${{ secrets.token }}\n"
    write_template(allow_tmp / "t", template_yaml("mine", _steps("publish:github", extra)),
                   {"skeleton/README.md": "hi\n"})  # fmt: skip
    register_file_template(allow_tmp / "t" / "template.yaml")
    values = {"name": "notes", "repoUrl": "github.com?owner=ana&repo=notes"}
    task = service.create_task(runner, "template:default/mine", values, {"token": TOKEN}, dispatch=False)
    task = engine.run_task(task.pk)
    assert task.status == Task.Status.COMPLETED, task.error
    assert "POST /api/v3/user/repos" in forge.requests
    assert forge.created[0]["private"] is True and "visibility" not in forge.created[0]
    assert repo_files(forge.repo_path("ana", "notes"), "main") == {"README.md": b"hi\n"}
    assert TOKEN not in str([e.body for e in task.events.all()])


def test_publish_github_refuses_an_existing_repository(allow_tmp, settings, forge, runner):
    _github(settings, forge)
    forge.create_repo("northwind", "taken", {})
    values = {"name": "taken", "repoUrl": "github.com?owner=northwind&repo=taken"}
    task = _run(allow_tmp / "t", runner, "publish:github", values)
    assert task.status == Task.Status.FAILED
    assert _error(task) == ("github.com: cannot create northwind/taken: Repository creation failed. "
                            "name already exists on this account")  # fmt: skip


def test_publish_github_with_a_bad_token(allow_tmp, settings, forge, runner):
    _github(settings, forge, token="not-a-token")
    values = {"name": "x", "repoUrl": "github.com?owner=northwind&repo=x"}
    task = _run(allow_tmp / "t", runner, "publish:github", values)
    assert task.status == Task.Status.FAILED
    assert "github.com refused the token (401 from GET" in _error(task)
    assert "not-a-token" not in _error(task)
    assert forge.repos == {}


def test_hosts_not_configured_are_never_called(allow_tmp, settings, forge, runner):
    _github(settings, forge)
    values = {"name": "x", "repoUrl": f"127.0.0.2:{forge.url.rsplit(':', 1)[1]}?owner=northwind&repo=x"}
    task = _run(allow_tmp / "t", runner, "publish:gitlab", values)
    assert task.status == Task.Status.FAILED
    assert _error(task).startswith("Host '127.0.0.2:") and "is not a configured gitlab host" in _error(task)
    assert forge.requests == []


def test_a_host_without_a_token_is_refused(allow_tmp, settings, forge, runner):
    settings.SCAFFOLDER_INTEGRATIONS = {}
    values = {"name": "x", "repoUrl": "github.com?owner=northwind&repo=x"}
    task = _run(allow_tmp / "t", runner, "publish:github", values)
    assert "No token for github.com" in _error(task)


def _gitlab(settings, forge):
    settings.CATALOG_GITLAB_HOSTS = ["gitlab.example.com"]
    settings.CATALOG_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SCAFFOLDER_INTEGRATIONS = {"gitlab.example.com": {"apiBaseUrl": f"{forge.url}/api/v4", "token": TOKEN}}


def test_publish_gitlab_to_a_group_then_register(allow_tmp, settings, forge, runner):
    _gitlab(settings, forge)
    values = {"name": "fares", "repoUrl": "gitlab.example.com?owner=northwind&repo=fares"}
    extra = ("        topics: [billing]\n"
             "        settings: {visibility: internal, namespace_id: 7, ci_config_path: ci.yml}\n")
    task = _run(allow_tmp / "t", runner, "publish:gitlab", values, extra, register=True)
    assert task.status == Task.Status.COMPLETED, task.error
    assert forge.requests[:2] == ["GET /api/v4/namespaces/northwind", "POST /api/v4/projects"]
    # settings win over the inputs (visibility), never over the namespace the owner named
    assert forge.created == [{"namespace_id": 1000, "name": "fares", "path": "fares", "visibility": "internal",
                              "description": "The fares service", "topics": ["billing"],
                              "ci_config_path": "ci.yml"}]  # fmt: skip
    output = TaskStep.objects.get(task=task, step_id="publish").output
    assert output["remoteUrl"] == f"{forge.url}/northwind/fares"
    assert output["repoContentsUrl"] == f"{forge.url}/northwind/fares/-/blob/master"
    assert output["projectId"] == 500 and output["created"] is True
    files = repo_files(forge.repo_path("northwind", "fares"), "master")  # GitLab's default branch
    assert files["README.md"] == b"# fares\n"
    assert Entity.objects.filter(ref="component:default/fares").exists()


def test_publish_gitlab_refuses_an_existing_project(allow_tmp, settings, forge, runner):
    _gitlab(settings, forge)
    forge.create_repo("northwind", "fares", {})
    values = {"name": "fares", "repoUrl": "gitlab.example.com?owner=northwind&repo=fares"}
    task = _run(allow_tmp / "t", runner, "publish:gitlab", values)
    assert task.status == Task.Status.FAILED
    assert _error(task).startswith("gitlab.example.com: cannot create northwind/fares (400: ")
    assert "has already been taken" in _error(task)


def test_allowed_hosts_of_the_step_are_honoured(allow_tmp, settings, forge, runner):
    _github(settings, forge)
    values = {"name": "x", "repoUrl": "github.com?owner=northwind&repo=x"}
    task = _run(allow_tmp / "t", runner, "publish:github", values, "        allowedHosts: [ghe.example.com]\n")
    assert _error(task) == "repoUrl host 'github.com' is not in the step's allowedHosts ['ghe.example.com']"
    assert forge.requests == []


def test_publish_gitlab_skip_existing_keeps_the_project(allow_tmp, settings, forge, runner):
    _gitlab(settings, forge)
    forge.create_repo("northwind", "fares", {"id": 42, "http_url_to_repo": f"{forge.url}/northwind/fares.git"})
    values = {"name": "fares", "repoUrl": "gitlab.example.com?owner=northwind&repo=fares"}
    task = _run(allow_tmp / "t", runner, "publish:gitlab", values, "        skipExisting: true\n")
    assert task.status == Task.Status.COMPLETED, task.error
    assert "POST /api/v4/projects" not in forge.requests
    output = TaskStep.objects.get(task=task, step_id="publish").output
    assert output == {"remoteUrl": f"{forge.url}/northwind/fares", "projectId": 42, "created": False,
                      "repoContentsUrl": f"{forge.url}/northwind/fares/-/blob/master"}  # fmt: skip


def test_internal_visibility_for_a_user_is_refused_not_made_public(allow_tmp, settings, forge, runner):
    _github(settings, forge)
    values = {"name": "notes", "repoUrl": "github.com?owner=ana&repo=notes"}
    task = _run(allow_tmp / "t", runner, "publish:github", values, "        repoVisibility: internal\n")
    assert _error(task) == "repoVisibility 'internal' needs an organisation owner; 'ana' is a user on github.com"
    assert forge.repos == {}


def test_an_unreachable_api_is_a_clear_error(allow_tmp, settings, runner):
    settings.SCAFFOLDER_INTEGRATIONS = {"github.com": {"apiBaseUrl": "http://127.0.0.1:9/api/v3", "token": TOKEN}}
    values = {"name": "x", "repoUrl": "github.com?owner=northwind&repo=x"}
    task = _run(allow_tmp / "t", runner, "publish:github", values)
    assert _error(task) == "GET http://127.0.0.1:9/api/v3/users/northwind failed: ConnectionError"
