"""publish:git to remotes an admin allows (SCAFFOLDER_GIT_REMOTES), against a real git smart-HTTP server
(portal/testing/githttp.py) that checks HTTP basic credentials on pushes; and to file:// repositories."""

import base64
import logging
from http.server import BaseHTTPRequestHandler

import git
import pytest

from portal.testing.githttp import git_http_server
from portal.testing.gitrepos import make_repo
from portal.testing.httpserver import serve_http
from scaffolder import engine, service
from scaffolder.git_remotes import RemoteNotAllowed, RemotesMisconfigured, allowed_remotes, match_remote
from scaffolder.models import Task, TaskStep
from scaffolder.tests.helpers import register_file_template, repo_files, template_yaml, write_template

pytestmark = pytest.mark.django_db

TOKEN = "glpat-sekret-0123456789"
STEPS = """\
    - id: fetch
      action: fetch:template
      input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}
    - id: publish
      action: publish:git
      input:
        remoteUrl: ${{ parameters.remote }}
        defaultBranch: ${{ parameters.branch or 'main' }}
        gitCommitMessage: Create ${{ parameters.name }}
        gitAuthorName: Ana
        gitAuthorEmail: ana@example.com
"""


class Server:
    """The git server's state: its repositories, the requests it saw, the users it let push."""

    def __init__(self, root, url):
        self.root, self.url, self.requests = root, url, []

    def bare(self, name: str):
        path = self.root / "platform" / f"{name}.git"
        git.Repo.init(path, bare=True, initial_branch="main").close()
        return path


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "srv"
    expected = "Basic " + base64.b64encode(f"bot:{TOKEN}".encode()).decode()
    seen: list[str] = []

    def authorize(headers):
        seen.append(headers.get("Authorization", ""))
        return "bot" if headers.get("Authorization") == expected else None

    with git_http_server(root, authorize) as url:
        running = Server(root, url)
        running.requests = seen
        yield running


def _allow(settings, server, token=TOKEN, **extra):
    settings.SCAFFOLDER_GIT_REMOTES = [{"prefix": f"{server.url}/platform/", "username": "bot", "token": token,
                                        **extra}]  # fmt: skip


def _run(folder, runner, values: dict) -> Task:
    files = {"skeleton/README.md": "# ${{ values.name }}\n", "skeleton/src/app.py": "print('hi')\n"}
    write_template(folder, template_yaml("pub", STEPS), files)
    register_file_template(folder / "template.yaml")
    return engine.run_task(service.create_task(runner, "template:default/pub", values, dispatch=False).pk)


def _step(task: Task) -> TaskStep:
    return TaskStep.objects.get(task=task, step_id="publish")


def _leaks(task: Task, secret: str) -> list[str]:
    step = _step(task)
    texts = [str(e.body) for e in task.events.all()] + [str(step.output), step.error, str(task.output), task.error]
    encoded = base64.b64encode(f"bot:{secret}".encode()).decode()
    return [t for t in texts if secret in t or encoded in t]


def test_pushes_to_an_allowed_https_remote_with_the_token(allow_tmp, settings, server, runner, caplog):
    _allow(settings, server)
    bare = server.bare("stop-finder")
    remote = f"{server.url}/platform/stop-finder.git"
    with caplog.at_level(logging.DEBUG):
        task = _run(allow_tmp / "t", runner, {"name": "stop-finder", "remote": remote})
    assert task.status == Task.Status.COMPLETED, task.error
    assert repo_files(bare) == {"README.md": b"# stop-finder\n", "src/app.py": b"print('hi')\n"}
    repo = git.Repo(bare)
    try:
        head = repo.commit("main")
        assert head.message.strip() == "Create stop-finder" and not head.parents
        assert (head.author.name, head.author.email) == ("Ana", "ana@example.com")
    finally:
        repo.close()
    output = _step(task).output
    assert output == {"remoteUrl": remote, "repoContentsUrl": f"git+{remote}@main", "commitHash": head.hexsha}
    assert _leaks(task, TOKEN) == [] and TOKEN not in caplog.text
    assert any(header.startswith("Basic ") for header in server.requests)  # the token travelled as a header


def test_a_new_branch_of_an_existing_repository(allow_tmp, settings, server, runner):
    _allow(settings, server)
    bare = server.root / "platform" / "existing.git"
    make_repo(bare, {"kept.txt": "old\n"})
    before = repo_files(bare)
    values = {"name": "x", "remote": f"{server.url}/platform/existing.git", "branch": "scaffolded"}
    task = _run(allow_tmp / "t", runner, values)
    assert task.status == Task.Status.COMPLETED, task.error
    assert repo_files(bare, "scaffolded") == {"README.md": b"# x\n", "src/app.py": b"print('hi')\n"}
    assert repo_files(bare) == before


def test_an_existing_branch_with_history_is_refused_and_kept(allow_tmp, settings, server, runner):
    _allow(settings, server)
    bare = server.root / "platform" / "existing.git"
    make_repo(bare, {"kept.txt": "old\n"})
    repo = git.Repo(bare)
    head = repo.commit("main").hexsha
    repo.close()
    task = _run(allow_tmp / "t", runner, {"name": "x", "remote": f"{server.url}/platform/existing.git"})
    assert task.status == Task.Status.FAILED
    assert "already has a branch 'main' with other history" in _step(task).error
    assert "nothing was changed" in _step(task).error
    repo = git.Repo(bare)
    try:
        assert repo.commit("main").hexsha == head and [h.name for h in repo.heads] == ["main"]
    finally:
        repo.close()


def test_a_wrong_token_fails_clearly_without_showing_it(allow_tmp, settings, server, runner):
    _allow(settings, server, token="wrong-token-987")
    bare = server.bare("svc")
    task = _run(allow_tmp / "t", runner, {"name": "svc", "remote": f"{server.url}/platform/svc.git"})
    assert task.status == Task.Status.FAILED
    error = _step(task).error
    assert "the server refused the push's credentials" in error and "SCAFFOLDER_GIT_REMOTES" in error
    assert _leaks(task, "wrong-token-987") == []
    assert not git.Repo(bare).heads


def test_a_remote_not_allowed_is_refused_before_any_request(allow_tmp, settings, server, runner):
    settings.SCAFFOLDER_GIT_REMOTES = [f"{server.url}/platform/"]
    server.bare("svc")
    refused = {
        f"{server.url}/other/svc.git": "is not an allowed git remote: an admin allows remotes in SCAFFOLDER_GIT",
        f"{server.url}/platform-evil/svc.git": "is not an allowed git remote",
        f"{server.url}/platform/../other/svc.git": "no query, fragment or '.'/'..' segments",
        f"http://bot:{TOKEN}@127.0.0.1/platform/svc.git": "the URL may not carry credentials",
    }
    for remote, says in refused.items():
        task = _run(allow_tmp / "t", runner, {"name": "svc", "remote": remote})
        assert task.status == Task.Status.FAILED, remote
        assert says in _step(task).error and TOKEN not in _step(task).error
    assert server.requests == []  # nothing reached the server


@pytest.mark.parametrize(
    ("remote", "says"),
    [
        ("git@github.com:org/repo.git", "ssh remotes are not supported"),
        ("ssh://git@github.com/org/repo.git", "ssh remotes are not supported"),
        ("git://github.com/org/repo.git", "publish:git pushes to https:// remotes"),
        ("ext::sh -c touch% /tmp/pwned", "publish:git pushes to https:// remotes"),
        ("https://git.example.com/platform/x.git?a=b", "no query"),
        ("https://git.example.com/platform/", "is not an allowed git remote"),
        ("https://git.example.com:99999/platform/x.git", "invalid port"),
        ("https://GIT.example.com/platform/svc.git", None),
    ],
)
def test_what_a_remote_may_be(settings, remote, says):
    settings.SCAFFOLDER_GIT_REMOTES = ["https://git.example.com/platform/"]
    if says is None:
        assert match_remote(remote).prefix == "https://git.example.com/platform/"
        return
    with pytest.raises(RemoteNotAllowed, match=says):
        match_remote(remote)


def test_an_http_remote_only_when_listed_as_http(settings):
    settings.SCAFFOLDER_GIT_REMOTES = ["https://git.example.com/platform/"]
    with pytest.raises(RemoteNotAllowed, match="not an allowed git remote"):
        match_remote("http://git.example.com/platform/svc.git")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ({"platform": "https://x/"}, "must be a JSON list"),
        ([42], r"SCAFFOLDER_GIT_REMOTES\[0\] must be a URL prefix or an object"),
        (["ssh://git@x/org/"], r"\[0\]: prefix 'ssh://git@x/org/' must be an https:// \(or http://\) URL"),
        (["https://x/org"], "must end with '/'"),
        (["https://bot:t@x/org/"], "may not hold credentials"),
        ([{"prefix": "https://x/", "tokn": "t"}], "unknown keys"),
        ([{"prefix": "https://x/", "token": "t", "tokenEnv": "T"}], "not both"),
        (
            [{"prefix": "https://x/", "tokenEnv": "CALLBOARD_TEST_UNSET_TOKEN"}],
            "'CALLBOARD_TEST_UNSET_TOKEN', which is not set",
        ),
        ([{"prefix": "https://x/", "username": "a:b", "token": "t"}], "without ':'"),
    ],
)
def test_a_malformed_setting_names_the_entry(settings, value, says):
    settings.SCAFFOLDER_GIT_REMOTES = value
    with pytest.raises(RemotesMisconfigured, match=says):
        allowed_remotes()


def test_token_from_an_environment_variable(settings, monkeypatch):
    monkeypatch.setenv("CALLBOARD_TEST_GIT_TOKEN", "from-env")
    settings.SCAFFOLDER_GIT_REMOTES = [{"prefix": "https://x/", "tokenEnv": "CALLBOARD_TEST_GIT_TOKEN"}]
    assert allowed_remotes()[0].token == "from-env" and "from-env" not in repr(allowed_remotes()[0])


def test_browse_url_on_a_github_host(allow_tmp, settings, server, runner):
    _allow(settings, server)
    settings.CATALOG_GITHUB_HOSTS = ["github.com", "127.0.0.1"]
    server.bare("svc")
    task = _run(allow_tmp / "t", runner, {"name": "svc", "remote": f"{server.url}/platform/svc.git"})
    assert task.status == Task.Status.COMPLETED, task.error
    assert _step(task).output["repoContentsUrl"] == f"{server.url}/platform/svc/blob/main"


def test_file_remotes_still_work(scaffold_dirs, runner):
    bare = scaffold_dirs / "target.git"
    task = _run(scaffold_dirs / "t", runner, {"name": "local", "remote": bare.as_uri()})
    assert task.status == Task.Status.COMPLETED, task.error
    assert repo_files(bare)["README.md"] == b"# local\n"
    assert _step(task).output["repoContentsUrl"] == f"git+{bare.resolve().as_uri()}@main"


def test_a_malformed_setting_is_reported_by_the_system_checks(settings):
    from django.core.checks import run_checks

    settings.SCAFFOLDER_GIT_REMOTES = ["ssh://git@x/org/"]
    errors = [e for e in run_checks() if e.id == "scaffolder.E001"]
    assert len(errors) == 1 and errors[0].msg.startswith("SCAFFOLDER_GIT_REMOTES[0]: prefix 'ssh://git@x/org/'")
    settings.SCAFFOLDER_GIT_REMOTES = ["https://x/org/"]
    assert not [e for e in run_checks() if e.id == "scaffolder.E001"]


def test_a_redirect_is_not_followed_so_the_token_stays_on_the_listed_host(allow_tmp, settings, server, runner):
    server.bare("svc")

    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", server.url + self.path)  # the real server: another host:port
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

    with serve_http(Redirect) as redirecting:
        settings.SCAFFOLDER_GIT_REMOTES = [{"prefix": f"{redirecting}/platform/", "username": "bot", "token": TOKEN}]
        task = _run(allow_tmp / "t", runner, {"name": "svc", "remote": f"{redirecting}/platform/svc.git"})
    assert task.status == Task.Status.FAILED
    assert _leaks(task, TOKEN) == []
    assert server.requests == []  # the redirect's target never saw a request, nor the header


def test_a_prefix_without_a_token_says_so_when_the_server_wants_one(allow_tmp, settings, server, runner):
    settings.SCAFFOLDER_GIT_REMOTES = [f"{server.url}/platform/"]
    server.bare("svc")
    task = _run(allow_tmp / "t", runner, {"name": "svc", "remote": f"{server.url}/platform/svc.git"})
    assert task.status == Task.Status.FAILED
    assert f"refused the push's credentials (no token is set for {server.url}/platform/ in SCAFFOLDER" in (
        _step(task).error
    )
