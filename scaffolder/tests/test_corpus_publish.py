"""The corpus templates end to end, unchanged: publish:github against the local GitHub stand-in (github.com
pointed at it), catalog:register reading the new repository back over git, the published files checked.

The templates changing existing repositories (pull-request, gitlab-merge-request) and the demo-template
(GitHub Pages, a workflow dispatch) run against the same stand-ins, with their own checks. rails-demo's end to end
test is in test_rails.py. Skips without ../shared (the ``shared_dir`` fixture)."""

import shutil

import pytest
import yaml

from catalog.models import Entity
from portal.testing.forge import Forge, ForgeUser, run_forge
from scaffolder import engine, service
from scaffolder.models import CreatedEntity, Task, TaskStep
from scaffolder.tests.helpers import DEMO_TEMPLATES, register_file_template, register_git_templates, repo_files

pytestmark = [pytest.mark.django_db, pytest.mark.corpus]
TOKEN = "tok-corpus-0123456789"
OPTIONAL = {"notification:send"}  # a step Callboard drops (reported in the test); the template still works
ENTITY = {"owner": "group:default/team-a"}
TEMPLATES = [
    ("create-app-example", {"name": "node-hello"}),
    ("software-templates/create-react-app", {"component_id": "web-app", "description": "A web app", **ENTITY}),
    ("software-templates/react-ssr-template", {"component_id": "ssr-app", "description": "SSR", **ENTITY}),
    ("software-templates/docs-template", {"name": "handbook", "description": "The handbook", **ENTITY}),
    ("software-templates/clean-architecture-app",
     {"name": "ledger", "package": "co.example.ledger", "projectType": "imperative", "coverage": "jacoco",
      "lombok": True, "metrics": False, **ENTITY}),
    ("software-templates/docs-template-cookiecutter", {"name": "cookbook", "description": "Recipes", **ENTITY}),
    ("software-templates/springboot-grpc-template",
     {"component_id": "greeter", "java_package_name": "greeter", "description": "Says hello", **ENTITY}),
]  # fmt: skip


@pytest.fixture
def github(tmp_path, settings):
    users = {"ana": ForgeUser("ana", "ana@example.com", 7), "bo": ForgeUser("bo", "bo@example.com", 8)}
    forge = Forge("id", "secret", users, orgs={"northwind"}, repos_root=tmp_path / "forge")
    forge.tokens[TOKEN] = "ana"
    with run_forge(forge) as running:
        settings.CATALOG_GITHUB_HOSTS = ["github.com", "127.0.0.1"]  # the stand-in's browse URLs are read back
        settings.CATALOG_ALLOWED_HOSTS = ["127.0.0.1"]
        settings.SCAFFOLDER_INTEGRATIONS = {"github.com": {"apiBaseUrl": f"{running.url}/api/v3", "token": TOKEN}}
        yield running


def _copy_without_optional_steps(source, dest, replace: tuple[str, str] = ("", "")) -> list[str]:
    shutil.copytree(source, dest)
    path = dest / "template.yaml"
    doc = yaml.safe_load(path.read_text().replace(*replace) if replace[0] else path.read_text())
    dropped = [s["id"] for s in doc["spec"]["steps"] if s["action"] in OPTIONAL]
    doc["spec"]["steps"] = [s for s in doc["spec"]["steps"] if s["action"] not in OPTIONAL]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return dropped


@pytest.mark.parametrize(("folder", "values"), TEMPLATES, ids=[t[0].rsplit("/", 1)[-1] for t in TEMPLATES])
def test_corpus_template_publishes_to_github_and_registers(shared_dir, scaffold_dirs, github, runner, folder, values):
    source = shared_dir / "backstage-corpus" / "templates" / folder
    _copy_without_optional_steps(source, scaffold_dirs / "t")
    entity = register_file_template(scaffold_dirs / "t" / "template.yaml")
    repo = f"corpus-{entity.name}"
    values = {**values, "repoUrl": f"github.com?owner=northwind&repo={repo}"}
    task = engine.run_task(service.create_task(runner, entity.ref, values, dispatch=False).pk)
    steps = dict(TaskStep.objects.filter(task=task).values_list("step_id", "status"))
    assert task.status == Task.Status.COMPLETED, (task.error, steps)
    assert "POST /api/v3/orgs/northwind/repos" in github.requests
    files = repo_files(github.repo_path("northwind", repo))  # cloned back from the stand-in
    skeleton = next(p for p in (source / "skeleton", source / "content") if p.is_dir())
    assert len(files) == sum(1 for p in skeleton.rglob("*") if p.is_file())
    assert not [path for path in files if "${{" in path or "{{" in path]
    descriptor = yaml.safe_load(files["catalog-info.yaml"])
    component = Entity.objects.get(kind="Component", name=descriptor["metadata"]["name"])
    assert component.owner_ref.endswith(descriptor["spec"]["owner"].rpartition(":")[2].rpartition("/")[2])
    assert task.output["links"][0]["url"] == f"{github.url}/northwind/{repo}.git"
    assert task.output["links"][1]["entityRef"] == component.ref
    assert CreatedEntity.objects.get(task=task).entity_ref == component.ref


def test_no_corpus_template_needs_an_action_callboard_lacks(shared_dir):
    """Every step of every corpus template names a registered action (only optional notification steps, which
    need a notifications backend of Backstage's, are dropped by these tests)."""
    from scaffolder.actions import get_action

    checked = 0
    for path in sorted((shared_dir / "backstage-corpus" / "templates").rglob("template.yaml")):
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
        except yaml.YAMLError:  # a skeleton's own templated file, not a Template
            continue
        for doc in docs:
            if doc.get("kind") != "Template":
                continue
            checked += 1
            steps = doc.get("spec", {}).get("steps", [])
            missing = sorted({s["action"] for s in steps if get_action(s["action"]) is None} - OPTIONAL)
            assert not missing, (str(path), missing)
    assert checked >= 10


def test_demo_templates_publish_to_github_too(allow_tmp, github, runner):
    """The demo's templates use publish:git; switched to publish:github they create and push the repository."""
    folder = allow_tmp / "templates"
    shutil.copytree(DEMO_TEMPLATES, folder)
    for path in folder.rglob("template.yaml"):
        path.write_text(path.read_text().replace("action: publish:git\n", "action: publish:github\n"))
    register_git_templates(folder, allow_tmp / "templates.git")
    values = {"name": "stop-finder", "description": "Finds stops", "owner": "group:default/team-a",
              "system": "system:default/journeys",
              "repoUrl": "github.com?owner=northwind&repo=stop-finder"}  # fmt: skip
    task = service.create_task(runner, "template:default/python-fastapi-service", values, dispatch=False)
    task = engine.run_task(task.pk)
    assert task.status == Task.Status.COMPLETED, task.error
    files = repo_files(github.repo_path("northwind", "stop-finder"))
    assert b'SERVICE_NAME = "stop-finder"' in files["app/main.py"]
    assert Entity.objects.get(ref="component:default/stop-finder").owner_ref == "group:default/team-a"


def _run(runner, entity, values, secrets=None) -> Task:
    task = engine.run_task(service.create_task(runner, entity.ref, values, secrets, dispatch=False).pk)
    steps = dict(TaskStep.objects.filter(task=task).values_list("step_id", "error"))
    assert task.status == Task.Status.COMPLETED, (task.error, steps)
    return task


def test_corpus_pull_request_template_opens_a_pull_request(shared_dir, scaffold_dirs, github, runner):
    """Its fetch:plain reads github.com/backstage/community: pointed at the stand-in (the host only)."""
    github.seed_repo("github", "backstage", "community", {"backstage-community-sessions/README.md": "# Sessions\n"})
    github.seed_repo("github", "northwind", "services", {"README.md": "# Services\n"})
    source = shared_dir / "backstage-corpus" / "templates" / "software-templates" / "pull-request"
    _copy_without_optional_steps(source, scaffold_dirs / "t", ("https://github.com/", f"{github.url}/"))
    entity = register_file_template(scaffold_dirs / "t" / "template.yaml")
    values = {"name": "stop-finder", "description": "Finds stops",
              "repoUrl": "github.com?owner=northwind&repo=services"}  # fmt: skip
    task = _run(runner, entity, values)
    [pull] = github.pulls["northwind/services"]
    assert pull["title"] == "Create new project: stop-finder" and pull["base"]["ref"] == "main"
    assert pull["head"]["ref"] == "create-stop-finder" and pull["body"].startswith("# New project: stop-finder\n")
    assert "Finds stops" in pull["body"]
    assert task.output["links"] == [{"url": pull["html_url"], "title": "Go to PR"}]
    files = repo_files(github.repo_path("northwind", "services"), "create-stop-finder")  # cloned back
    assert set(files) == {"README.md", "stop-finder/catalog-info.yaml", "stop-finder/community/README.md"}
    assert b"name: \"stop-finder\"" in files["stop-finder/catalog-info.yaml"]
    assert repo_files(github.repo_path("northwind", "services"), "main") == {"README.md": b"# Services\n"}


def test_corpus_gitlab_merge_request_template_opens_a_merge_request(shared_dir, scaffold_dirs, github, runner,
                                                                    settings):  # fmt: skip
    settings.CATALOG_GITLAB_HOSTS = ["gitlab.com"]
    settings.SCAFFOLDER_INTEGRATIONS = {"gitlab.com": {"apiBaseUrl": f"{github.url}/api/v4"}}  # token: the secret
    github.seed_repo("gitlab", "northwind", "services", {"README.md": "# Services\n"}, branch="master")
    source = shared_dir / "backstage-corpus" / "templates" / "software-templates" / "gitlab-merge-request"
    _copy_without_optional_steps(source, scaffold_dirs / "t")
    entity = register_file_template(scaffold_dirs / "t" / "template.yaml")
    values = {"name": "fares", "description": "Fare rules", "targetPath": "fares", "branchName": "add-fares",
              "assignee": "bo", "repoUrl": "gitlab.com?owner=northwind&repo=services"}  # fmt: skip
    task = _run(runner, entity, values, {"USER_OAUTH_TOKEN": TOKEN})
    [mr] = github.merge_requests
    assert mr["source_branch"] == "add-fares" and mr["target_branch"] == "master"
    assert mr["title"] == "Creating catalog-info.yaml fares for backstage" and mr["assignee_id"] == 8
    assert mr["force_remove_source_branch"] is True
    assert task.output["links"] == [{"url": f"{github.url}/northwind/services/-/merge_requests/1",
                                     "title": "Go to Gitlab MR"}]  # fmt: skip
    assert [a["action"] for a in github.commits[0]["actions"]] == ["create"]
    files = repo_files(github.repo_path("northwind", "services"), "add-fares")  # the commit, cloned back
    assert set(files) == {"README.md", "fares/catalog-info.yaml"}
    assert b"name: \"fares\"" in files["fares/catalog-info.yaml"]
    output = TaskStep.objects.get(task=task, step_id="publish").output
    assert output == {"projectid": "northwind/services", "projectPath": "northwind/services",
                      "targetBranchName": "master", "mergeRequestUrl": mr["web_url"]}  # fmt: skip


def test_corpus_demo_template_publishes_enables_pages_and_dispatches(shared_dir, scaffold_dirs, github, runner):
    source = shared_dir / "backstage-corpus" / "templates" / "demo-template"
    dropped = _copy_without_optional_steps(source, scaffold_dirs / "t")
    assert dropped == ["notify"]
    entity = register_file_template(scaffold_dirs / "t" / "template.yaml")
    values = {"name": "Ana", "mode": "dark", "topics": ["builtin-actions"],
              "repoUrl": "github.com?owner=northwind&repo=demo-site"}  # fmt: skip
    task = _run(runner, entity, values, {"USER_OAUTH_TOKEN": TOKEN})
    assert github.created[0]["visibility"] == "public"
    assert github.pages["northwind/demo-site"]["build_type"] == "workflow"
    assert github.pages["northwind/demo-site"]["source"] == {"branch": "main", "path": "/"}
    assert github.dispatches == [{"repo": "northwind/demo-site", "workflow": "pages.yml", "ref": "main", "inputs": {}}]
    files = repo_files(github.repo_path("northwind", "demo-site"))
    assert "Boosters are a go Ana!" in files["index.html"].decode()
    assert task.output["links"][0]["url"] == f"{github.url}/northwind/demo-site.git"


