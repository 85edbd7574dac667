"""publish:github:pull-request, publish:gitlab:merge-request, github:pages:enable and github:actions:dispatch
against the forge stand-in (portal/testing/forge.py): branches really pushed or committed, read back."""

import pytest

from portal.testing.forge import Forge, ForgeUser, run_forge
from scaffolder import engine, service
from scaffolder.models import Task, TaskStep
from scaffolder.tests.helpers import register_file_template, repo_files, template_yaml, write_template

pytestmark = pytest.mark.django_db

TOKEN = "tok-ana-0123456789"
SKELETON = {"skeleton/catalog-info.yaml": "name: ${{ values.name }}\n", "skeleton/bin/run.sh": "#!/bin/sh\n"}


@pytest.fixture
def forge(tmp_path, settings):
    users = {"ana": ForgeUser("ana", "ana@example.com", 7, teams=[("northwind", "web")]),
             "bo": ForgeUser("bo", "bo@example.com", 8)}  # fmt: skip
    stand_in = Forge("id", "secret", users, orgs={"northwind"}, repos_root=tmp_path / "forge")
    stand_in.tokens[TOKEN] = "ana"
    with run_forge(stand_in) as running:
        settings.CATALOG_GITHUB_HOSTS = ["github.com"]
        settings.CATALOG_GITLAB_HOSTS = ["gitlab.example.com"]
        settings.SCAFFOLDER_INTEGRATIONS = {
            "github.com": {"apiBaseUrl": f"{running.url}/api/v3", "token": TOKEN},
            "gitlab.example.com": {"apiBaseUrl": f"{running.url}/api/v4", "token": TOKEN},
        }
        yield running


def _run(folder, runner, action: str, inputs: str, name: str = "t") -> Task:
    steps = f"""\
    - id: fetch
      action: fetch:template
      input: {{url: ./skeleton, values: {{name: svc}}}}
    - id: publish
      action: {action}
      input:
{inputs}"""
    write_template(folder, template_yaml(name, steps), SKELETON)
    (folder / "skeleton" / "bin" / "run.sh").chmod(0o755)
    register_file_template(folder / "template.yaml")
    return engine.run_task(service.create_task(runner, f"template:default/{name}", {}, dispatch=False).pk)


def _step(task: Task) -> TaskStep:
    return TaskStep.objects.get(task=task, step_id="publish")


def _log(task: Task) -> str:
    return "\n".join(e.body.get("message", "") for e in task.events.all())


PR = """\
        repoUrl: github.com?owner=northwind&repo=services
        branchName: add-svc
        title: Add svc
        description: Made by a template
"""


# -- publish:github:pull-request ---------------------------------------------------------------------
def test_pull_request_with_target_path_reviewers_and_draft(allow_tmp, forge, runner):
    forge.seed_repo("github", "northwind", "services", {"README.md": "hi\n", "svc/old.txt": "old\n"})
    extra = ("        targetPath: svc\n        draft: true\n        reviewers: [bo]\n"
             "        teamReviewers: [web, web]\n        commitMessage: Add the svc service\n"
             "        gitAuthorName: Ana\n        gitAuthorEmail: ana@example.com\n")  # fmt: skip
    task = _run(allow_tmp / "t", runner, "publish:github:pull-request", PR + extra)
    assert task.status == Task.Status.COMPLETED, task.error
    [pull] = forge.pulls["northwind/services"]
    assert (pull["title"], pull["body"], pull["draft"], pull["base"]["ref"]) == (
        "Add svc",
        "Made by a template",
        True,
        "main",
    )
    assert pull["requested_reviewers"] == [{"login": "bo"}] and pull["requested_teams"] == [{"slug": "web"}]
    assert _step(task).output == {"targetBranchName": "main", "remoteUrl": f"{forge.url}/northwind/services/pull/1",
                                  "pullRequestNumber": 1}  # fmt: skip
    files = repo_files(forge.repo_path("northwind", "services"), "add-svc")
    assert files == {"README.md": b"hi\n", "svc/old.txt": b"old\n", "svc/catalog-info.yaml": b"name: svc\n",
                     "svc/bin/run.sh": b"#!/bin/sh\n"}  # fmt: skip
    import git

    repo = git.Repo(forge.repo_path("northwind", "services"))
    commit = repo.commit("add-svc")
    assert commit.message.strip() == "Add the svc service" and commit.author.email == "ana@example.com"
    assert (commit.tree / "svc/bin/run.sh").mode == 0o100755  # the executable bit travels
    repo.close()
    assert TOKEN not in _log(task)


def test_pull_request_source_path_and_target_branch(allow_tmp, forge, runner):
    forge.seed_repo("github", "northwind", "services", {"README.md": "hi\n"})
    forge.seed_repo("github", "northwind", "unused", {})  # a second repository does not get in the way
    import subprocess

    subprocess.run(["git", "-C", str(forge.repo_path("northwind", "services")), "branch", "develop", "main"],
                   check=True)  # fmt: skip
    task = _run(allow_tmp / "t", runner, "publish:github:pull-request",
                PR + "        sourcePath: bin\n        targetBranchName: develop\n")  # fmt: skip
    assert task.status == Task.Status.COMPLETED, task.error
    assert forge.pulls["northwind/services"][0]["base"]["ref"] == "develop"
    assert _step(task).output["targetBranchName"] == "develop"
    assert set(repo_files(forge.repo_path("northwind", "services"), "add-svc")) == {"README.md", "run.sh"}


def test_pull_request_branch_that_exists_fails_unless_update(allow_tmp, forge, runner):
    forge.seed_repo("github", "northwind", "services", {"README.md": "hi\n"})
    first = _run(allow_tmp / "a", runner, "publish:github:pull-request", PR, name="a")
    assert first.status == Task.Status.COMPLETED, first.error
    again = _run(allow_tmp / "b", runner, "publish:github:pull-request", PR + "        commitMessage: Other\n",
                 name="b")  # fmt: skip
    assert again.status == Task.Status.FAILED
    assert _step(again).error.startswith("Pushing branch 'add-svc' to ") and "update: true" in _step(again).error
    update = PR.replace("title: Add svc", "title: Add svc again") + "        update: true\n"
    third = _run(allow_tmp / "c", runner, "publish:github:pull-request", update, name="c")
    assert third.status == Task.Status.COMPLETED, third.error
    [pull] = forge.pulls["northwind/services"]  # the same pull request, updated
    assert pull["title"] == "Add svc again" and _step(third).output["pullRequestNumber"] == 1
    assert "PATCH /api/v3/repos/northwind/services/pulls/1" in forge.requests


def test_pull_request_422_from_the_api_is_reported(allow_tmp, forge, runner):
    forge.seed_repo("github", "northwind", "services", {"README.md": "hi\n"})
    forge.pulls["northwind/services"] = [{"number": 1, "state": "open", "head": {"ref": "add-svc"},
                                          "base": {"ref": "main"}}]  # fmt: skip
    task = _run(allow_tmp / "t", runner, "publish:github:pull-request", PR)
    assert task.status == Task.Status.FAILED
    assert _step(task).error == ("github.com: pull request creation failed (422: Validation Failed A pull request "
                                 "already exists for northwind:add-svc.)")  # fmt: skip


def test_pull_request_reviewers_refused_are_logged_not_fatal(allow_tmp, forge, runner):
    forge.seed_repo("github", "northwind", "services", {"README.md": "hi\n"})
    task = _run(allow_tmp / "t", runner, "publish:github:pull-request", PR + "        reviewers: [nobody]\n")
    assert task.status == Task.Status.COMPLETED, task.error
    assert "Failure when adding reviewers to pull request #1: 422 Reviews may only be requested" in _log(task)


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ("        targetPath: ../outside\n", "targetPath '../outside' leaves the repository"),
        ("        targetPath: .git/hooks\n", "targetPath '.git/hooks' is inside the repository's .git"),
        ("        sourcePath: ../../etc\n", "sourcePath"),
        ("        token: wrong-token\n", "github.com refused the token (401 from GET"),
        ("        branchName: --upload-pack=x\n", "branchName '--upload-pack=x' is not a valid branch name"),
        ("        forceFork: true\n", "forceFork is not supported"),
    ],
)
def test_pull_request_hostile_or_bad_inputs(allow_tmp, forge, runner, extra, error):
    forge.seed_repo("github", "northwind", "services", {"README.md": "hi\n"})
    inputs = PR.replace("        branchName: add-svc\n", "") if "branchName" in extra else PR
    task = _run(allow_tmp / "t", runner, "publish:github:pull-request", inputs + extra)
    assert task.status == Task.Status.FAILED
    assert error in _step(task).error
    assert "wrong-token" not in _step(task).error
    assert "northwind/services" not in forge.pulls or not forge.pulls["northwind/services"]
    assert repo_files(forge.repo_path("northwind", "services")) == {"README.md": b"hi\n"}


def test_pull_request_to_a_host_not_configured_calls_nothing(allow_tmp, forge, runner):
    inputs = PR.replace("github.com?", f"127.0.0.1:{forge.url.rsplit(':', 1)[1]}?")
    task = _run(allow_tmp / "t", runner, "publish:github:pull-request", inputs)
    assert "is not a configured github host" in _step(task).error
    assert forge.requests == []


def test_pull_request_to_a_missing_repository(allow_tmp, forge, runner):
    task = _run(allow_tmp / "t", runner, "publish:github:pull-request", PR)
    assert _step(task).error == ("github.com: repository northwind/services not found "
                                 "(404 from GET /repos/northwind/services)")  # fmt: skip


# -- publish:gitlab:merge-request --------------------------------------------------------------------
MR = """\
        repoUrl: gitlab.example.com?owner=northwind&repo=services
        branchName: add-svc
        title: Add svc
        description: Made by a template
"""


def test_merge_request_auto_creates_updates_and_skips(allow_tmp, forge, runner):
    forge.seed_repo("gitlab", "northwind", "services",
                    {"README.md": "hi\n", "svc/catalog-info.yaml": "name: svc\n", "svc/bin/run.sh": "old\n"},
                    branch="master")  # fmt: skip
    extra = ("        targetPath: svc\n        sourcePath: .\n        assignee: bo\n        reviewers: [ana, ghost]\n"
             "        removeSourceBranch: true\n")  # fmt: skip
    task = _run(allow_tmp / "t", runner, "publish:gitlab:merge-request", MR + extra)
    assert task.status == Task.Status.COMPLETED, task.error
    [commit] = forge.commits
    assert [(a["action"], a["file_path"], a["execute_filemode"]) for a in commit["actions"]] == [
        ("update", "svc/bin/run.sh", True)
    ]  # catalog-info.yaml is the same: skipped
    assert commit["commit_message"] == "Add svc" and commit["branch"] == "add-svc"
    [mr] = forge.merge_requests
    assert (mr["source_branch"], mr["target_branch"], mr["assignee_id"], mr["reviewer_ids"]) == (
        "add-svc",
        "master",
        8,
        [7],
    )
    assert mr["force_remove_source_branch"] is True and mr["description"] == "Made by a template"
    assert "Failed to find gitlab user id for ghost" in _log(task)
    assert _step(task).output == {"projectid": "northwind/services", "projectPath": "northwind/services",
                                  "targetBranchName": "master", "mergeRequestUrl": mr["web_url"]}  # fmt: skip
    files = repo_files(forge.repo_path("northwind", "services"), "add-svc")
    assert files["svc/bin/run.sh"] == b"#!/bin/sh\n" and files["README.md"] == b"hi\n"
    assert repo_files(forge.repo_path("northwind", "services"), "master")["svc/bin/run.sh"] == b"old\n"


def test_merge_request_create_on_an_existing_file_fails_with_the_api_message(allow_tmp, forge, runner):
    forge.seed_repo("gitlab", "northwind", "services", {"catalog-info.yaml": "x\n"}, branch="master")
    task = _run(allow_tmp / "t", runner, "publish:gitlab:merge-request", MR + "        commitAction: create\n")
    assert task.status == Task.Status.FAILED
    assert _step(task).error == ("Committing the changes to add-svc failed. Please check that none of the files "
                                 "created by the template already exists. 400: A file with this name already "
                                 "exists: catalog-info.yaml")  # fmt: skip
    assert forge.merge_requests == []


def test_merge_request_branch_that_exists(allow_tmp, forge, runner):
    forge.seed_repo("gitlab", "northwind", "services", {"README.md": "hi\n"}, branch="master")
    first = _run(allow_tmp / "a", runner, "publish:gitlab:merge-request", MR, name="a")
    assert first.status == Task.Status.COMPLETED, first.error
    again = _run(allow_tmp / "b", runner, "publish:gitlab:merge-request",
                 MR + "        targetBranchName: master\n        commitAction: update\n", name="b")  # fmt: skip
    assert _step(again).error == (
        f"The branch creation failed because the branch already exists at: {forge.url}/northwind/services/-/tree/"
        f"add-svc. Additionally, there is a Merge Request for this branch: "
        f"{forge.url}/northwind/services/-/merge_requests/1")  # fmt: skip
    # nothing to commit: the branch is used as it is, and GitLab's 409 for a second merge request is reported
    skip = _run(allow_tmp / "c", runner, "publish:gitlab:merge-request", MR + "        commitAction: skip\n", name="c")
    assert _step(skip).error == ("Merge request creation failed. 409: Another open merge request already exists "
                                 "for this source branch: !1")  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ("        targetPath: ../x\n        sourcePath: .\n", "targetPath '../x' leaves the repository"),
        ("        sourcePath: ../..\n", "sourcePath"),
        ("        token: wrong-token\n", "gitlab.example.com refused the token (401 from GET"),
        ("        allowedHosts: [gitlab.com]\n", "is not in the step's allowedHosts"),
    ],
)
def test_merge_request_hostile_or_bad_inputs(allow_tmp, forge, runner, extra, error):
    forge.seed_repo("gitlab", "northwind", "services", {"README.md": "hi\n"}, branch="master")
    task = _run(allow_tmp / "t", runner, "publish:gitlab:merge-request", MR + extra)
    assert task.status == Task.Status.FAILED
    assert error in _step(task).error and "wrong-token" not in _step(task).error
    assert forge.commits == [] and forge.merge_requests == []


def test_merge_request_to_a_github_host_is_refused(allow_tmp, forge, runner):
    task = _run(allow_tmp / "t", runner, "publish:gitlab:merge-request", MR.replace("gitlab.example.com", "github.com"))
    assert "Host 'github.com' is not a configured gitlab host" in _step(task).error
    assert forge.requests == []


# -- github:pages:enable, github:actions:dispatch ----------------------------------------------------
REPO = "        repoUrl: github.com?owner=northwind&repo=site\n"


def test_pages_enable_then_409(allow_tmp, forge, runner):
    forge.seed_repo("github", "northwind", "site", {"index.html": "hi\n"})
    task = _run(allow_tmp / "a", runner, "github:pages:enable", REPO + "        buildType: legacy\n", name="a")
    assert task.status == Task.Status.COMPLETED, task.error
    assert forge.pages["northwind/site"]["build_type"] == "legacy"
    again = _run(allow_tmp / "b", runner, "github:pages:enable", REPO, name="b")
    assert _step(again).error == ("github.com: enabling GitHub Pages for northwind/site failed (409 from POST "
                                  "/repos/northwind/site/pages: GitHub Pages is already enabled.)")  # fmt: skip


def test_pages_enable_refuses_another_source_path(allow_tmp, forge, runner):
    task = _run(allow_tmp / "t", runner, "github:pages:enable", REPO + "        sourcePath: /etc\n")
    assert "Invalid input passed to action github:pages:enable" in _step(task).error
    assert forge.requests == []


def test_actions_dispatch_and_its_errors(allow_tmp, forge, runner):
    forge.seed_repo("github", "northwind", "site", {".github/workflows/pages.yml": "on: workflow_dispatch\n"})
    ok = REPO + "        workflowId: pages.yml\n        branchOrTagName: main\n        workflowInputs: {env: prod}\n"
    task = _run(allow_tmp / "a", runner, "github:actions:dispatch", ok, name="a")
    assert task.status == Task.Status.COMPLETED, task.error
    assert forge.dispatches == [{"repo": "northwind/site", "workflow": "pages.yml", "ref": "main",
                                 "inputs": {"env": "prod"}}]  # fmt: skip
    missing = _run(allow_tmp / "b", runner, "github:actions:dispatch", ok.replace("pages.yml", "nope.yml"), name="b")
    assert "(404 from POST /repos/northwind/site/actions/workflows/nope.yml/dispatches: Not Found)" in (
        _step(missing).error
    )
    bad_ref = _run(allow_tmp / "c", runner, "github:actions:dispatch", ok.replace("main", "gone"), name="c")
    assert "(422 from POST" in _step(bad_ref).error and "No ref found for: gone" in _step(bad_ref).error
    bad_token = _run(allow_tmp / "d", runner, "github:actions:dispatch", ok + "        token: wrong-token\n", name="d")
    assert "github.com refused the token" in _step(bad_token).error
    assert len(forge.dispatches) == 1


def test_the_actions_are_listed_with_their_schemas(runner):
    from portal.testing.access import token_client

    actions = {a["id"]: a for a in token_client(runner).get("/api/scaffolder/v2/actions").json()}
    pull = actions["publish:github:pull-request"]["schema"]
    assert pull["input"]["required"] == ["repoUrl", "branchName", "title", "description"]
    assert set(pull["output"]["properties"]) == {"targetBranchName", "remoteUrl", "pullRequestNumber"}
    merge = actions["publish:gitlab:merge-request"]["schema"]
    assert set(merge["output"]["properties"]) == {"targetBranchName", "projectid", "projectPath", "mergeRequestUrl"}
    assert merge["input"]["properties"]["commitAction"]["enum"] == ["create", "update", "delete", "skip", "auto"]
    assert actions["fetch:cookiecutter"]["schema"]["input"]["required"] == ["url"]
    assert actions["github:actions:dispatch"]["schema"]["input"]["required"] == [
        "repoUrl", "workflowId", "branchOrTagName"]  # fmt: skip
    assert "github:pages:enable" in actions and "fetch:rails" in actions


def test_pull_request_never_writes_through_a_link_the_repository_holds(allow_tmp, tmp_path, forge, runner):
    import os

    from portal.git import create_repository_from_directory

    content, outside = tmp_path / "content", tmp_path / "outside"
    content.mkdir()
    outside.mkdir()
    os.symlink(outside, content / "svc")  # the repository's svc is a link out of the checkout
    forge.seed_repo("github", "northwind", "services", {})
    create_repository_from_directory(content, forge.repo_path("northwind", "services"))
    task = _run(allow_tmp / "t", runner, "publish:github:pull-request", PR + "        targetPath: svc\n")
    assert task.status == Task.Status.FAILED
    assert "svc is a link or a file in the repository; not written through" in _step(task).error
    assert list(outside.iterdir()) == []


def test_fetch_plain_of_an_absolute_folder_url(scaffold_dirs, settings, forge, runner):
    """A …/tree/<ref>/<folder> URL fetches the folder (the catalog would read its catalog-info.yaml)."""
    settings.CATALOG_GITHUB_HOSTS = ["github.com", "127.0.0.1"]
    settings.CATALOG_ALLOWED_HOSTS = ["127.0.0.1"]
    forge.seed_repo("github", "backstage", "community", {"sessions/a.md": "A\n", "sessions/b/c.md": "C\n"})
    steps = f"""\
    - id: fetch
      action: fetch:plain
      input: {{url: '{forge.url}/backstage/community/tree/main/sessions', targetPath: community}}
    - id: publish
      action: publish:git
      input: {{repoName: out}}
"""
    write_template(scaffold_dirs / "t", template_yaml("abs", steps))
    register_file_template(scaffold_dirs / "t" / "template.yaml")
    task = engine.run_task(service.create_task(runner, "template:default/abs", {}, dispatch=False).pk)
    assert task.status == Task.Status.COMPLETED, task.error
    files = repo_files(scaffold_dirs / "repos" / "scaffolder" / "out.git")
    assert files == {"community/a.md": b"A\n", "community/b/c.md": b"C\n"}
