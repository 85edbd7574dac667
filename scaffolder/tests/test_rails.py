"""fetch:rails: Backstage's argument mapping, the corpus rails-demo template end to end against the GitHub
stand-in, and hostile templates (argument injection, network, writes outside the workspace, links, time).

The runs need Ruby on Rails (``rails``, Debian's ruby-rails; scripts/services.sh installs it) and Linux
namespaces (unshare); they skip with the reason where either is missing."""

import http.server
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml

from catalog.models import Entity
from portal import sandbox
from portal.testing.celery import celery_worker
from scaffolder import engine, service
from scaffolder.actions.rails import RailsError, check_rails_arguments, rails_arguments
from scaffolder.models import Task, TaskEvent
from scaffolder.tasks import run_task
from scaffolder.tests.helpers import register_file_template, repo_files, template_yaml, write_template
from scaffolder.tests.test_corpus_publish import github  # noqa: F401 - the GitHub stand-in fixture

needs_rails = pytest.mark.skipif(
    shutil.which("rails") is None or not sandbox.write_confinement_available(),
    reason="needs `rails` on PATH (apt-get install ruby-rails) and Linux namespaces (unshare)",
)


# --- Backstage's railsArgumentResolver, case for case -------------------------------------------------
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, []),
        (None, []),
        ({"minimal": True}, ["--minimal"]),
        ({"api": True}, ["--api"]),
        ({"skipBundle": True}, ["--skip-bundle"]),
        ({"skipWebpackInstall": True}, ["--skip-webpack-install"]),
        ({"skipActiveRecord": True}, ["--skip-active-record"]),
        ({"skipTest": True}, ["--skip-test"]),
        ({"skipActionCable": True}, ["--skip-action-cable"]),
        ({"skipActionMailer": True}, ["--skip-action-mailer"]),
        ({"skipActionMailbox": True}, ["--skip-action-mailbox"]),
        ({"skipActiveStorage": True}, ["--skip-active-storage"]),
        ({"skipActionText": True}, ["--skip-action-text"]),
        ({"force": True}, ["--force"]),
        ({"webpacker": "vue"}, ["--webpack", "vue"]),
        ({"webpacker": "svelte"}, []),  # not in Backstage's enum: left out, as Backstage does
        ({"database": "postgresql"}, ["--database", "postgresql"]),
        ({"railsVersion": "dev"}, ["--dev"]),
        ({"railsVersion": "fromImage"}, []),
        ({"template": "./rails.rb"}, ["--template", "/root/rails.rb"]),
        ({"template": "rails.rb"}, ["--template", "rails.rb"]),  # relative to the cwd (the work dir)
        ({"minimal": False, "api": False}, []),
        (
            {"force": True, "minimal": True, "skipTest": True, "api": True, "database": "mysql"},
            ["--minimal", "--api", "--skip-test", "--force", "--database", "mysql"],
        ),
    ],
)
def test_rails_arguments_follow_backstage(options, expected):
    assert rails_arguments("/root", options) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"template": "--template=/etc/passwd"}, "starts with '-'"),
        ({"template": "-m"}, "starts with '-'"),
        ({"template": "https://example.com/t.rb"}, "is a URL"),
        ({"template": "file:///etc/passwd"}, "is a URL"),
        ({"template": "/etc/passwd"}, "is absolute"),
        ({"template": "../../etc/passwd"}, "leaves the workspace"),
        ({"template": "./missing.rb"}, "is not a file of the fetched skeleton"),
        ({"template": "./link.rb"}, "symbolic link"),
        ({"webpacker": "react --dev"}, "webpacker must be one of"),
        ({"database": "-mpostgres"}, "database must be one of"),
        ({"railsVersion": "--skip-git"}, "railsVersion must be one of"),
        ({"api": "--api"}, "api must be a boolean"),
        ("--force", "must be an object"),
    ],
)
def test_hostile_rails_arguments_are_refused(tmp_path, options, message):
    (tmp_path / "t.rb").write_text("")
    (tmp_path / "link.rb").symlink_to("/etc/passwd")
    with pytest.raises(RailsError, match=message):
        check_rails_arguments(options, tmp_path)


# --- Runs -------------------------------------------------------------------------------------------
def run_rails(runner, folder, name, rails_args, template_rb="", app="shop", expect=Task.Status.COMPLETED):
    steps = (
        "    - {id: rails, action: fetch:rails, input: {url: ./skeleton, values: "
        f"{{name: {app}, railsArguments: {json.dumps(rails_args)}}}}}}}\n"
        f"    - {{id: p, action: publish:git, input: {{repoName: {name}}}}}\n"
    )
    files = {"skeleton/template.rb": template_rb} if template_rb else {"skeleton/README": "x"}
    register_file_template(write_template(folder / name, template_yaml(name, steps), files))
    task = engine.run_task(service.create_task(runner, name, {}, dispatch=False).pk)
    assert task.status == expect, task.error
    return task


def task_log(task) -> str:
    return "\n".join(str(e.body.get("message", "")) for e in TaskEvent.objects.filter(task=task, type="log"))


def _published(folder, name):
    return repo_files(folder / "repos" / "scaffolder" / f"{name}.git")


@needs_rails
@pytest.mark.django_db
def test_rails_new_runs_offline_with_the_template_and_no_git_repository(runner, scaffold_dirs):
    template_rb = 'gem "rspec-rails"\nfile "lib/tasks/hello.rake", "task :hello"\n'
    run_rails(runner, scaffold_dirs, "plain-app", {"template": "./template.rb", "api": True, "skipTest": True},
              template_rb)  # fmt: skip
    files = _published(scaffold_dirs, "plain-app")
    assert b"gem 'rspec-rails'" in files["Gemfile"]
    assert files["lib/tasks/hello.rake"] == b"task :hello"
    assert b"module Shop" in files["config/application.rb"]
    assert b"config.api_only = true" in files["config/application.rb"]
    assert not [p for p in files if p.startswith(("test/", ".git/"))]
    assert "config/master.key" not in files  # rails' own .gitignore keeps it out of the repository


@needs_rails
@pytest.mark.django_db
def test_a_template_cannot_reach_the_network(runner, scaffold_dirs):
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        template_rb = (
            'require "net/http"\n'
            "outcome = begin\n"
            f'  Net::HTTP.get(URI("http://127.0.0.1:{server.server_address[1]}/leak")); "reached"\n'
            "rescue StandardError => e\n  e.class.name\nend\n"
            'file "network.txt", outcome\n'
        )
        run_rails(runner, scaffold_dirs, "net-app", {"template": "./template.rb"}, template_rb)
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []
    assert _published(scaffold_dirs, "net-app")["network.txt"] != b"reached"


@needs_rails
@pytest.mark.django_db
def test_a_template_cannot_write_outside_its_work_dir_nor_read_secrets(runner, scaffold_dirs, settings):
    in_tmp = scaffold_dirs / "outside.txt"  # /tmp is a fresh, empty tmpfs for rails new
    in_usr = Path("/usr/local/rails-escape-probe.txt")  # the rest of the file system is read-only
    in_code = settings.BASE_DIR / "rails-escape-probe.txt"  # Callboard's folders are hidden (empty tmpfs)
    secret = Path(settings.DATA_DIR) / "rails-probe-secret"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("s3cret")
    probes = {"tmp.txt": f'File.write("{in_tmp}", "pwned")', "usr.txt": f'File.write("{in_usr}", "pwned")',
              "code.txt": f'File.write("{in_code}", "pwned")', "secret.txt": f'File.read("{secret}")',
              "environ.txt": f'File.read("/proc/{os.getpid()}/environ")'}  # fmt: skip
    template_rb = "".join(
        f'outcome = begin; {code}; rescue SystemCallError => e; e.class.name; end\nfile "{name}", outcome\n'
        for name, code in probes.items()
    )
    try:
        run_rails(runner, scaffold_dirs, "fs-app", {"template": "./template.rb"}, template_rb)
    finally:
        secret.unlink()
    assert not in_tmp.exists() and not in_usr.exists() and not in_code.exists()
    files = _published(scaffold_dirs, "fs-app")
    assert files["tmp.txt"] == b"Errno::ENOENT"
    assert files["usr.txt"] == b"Errno::EROFS"
    assert files["code.txt"] == b"5"  # written into the hidden folder's throwaway tmpfs
    assert files["secret.txt"] == b"Errno::ENOENT"
    assert files["environ.txt"] == b"Errno::ENOENT"  # the worker's process is not in the sandbox's /proc


@needs_rails
@pytest.mark.django_db
def test_a_link_out_of_the_result_fails_the_step_and_publishes_nothing(runner, scaffold_dirs):
    template_rb = 'run "ln -s /etc/passwd leak"\n'
    task = run_rails(runner, scaffold_dirs, "link-app", {"template": "./template.rb"}, template_rb,
                     expect=Task.Status.FAILED)  # fmt: skip
    assert "symbolic link at leak (-> /etc/passwd)" in task.error["message"]
    assert not (scaffold_dirs / "repos" / "scaffolder" / "link-app.git").exists()


@needs_rails
@pytest.mark.django_db
def test_a_template_running_too_long_is_stopped(runner, scaffold_dirs, settings):
    settings.SCAFFOLDER_RAILS_TIMEOUT = 3
    task = run_rails(runner, scaffold_dirs, "slow-app", {"template": "./template.rb"}, "sleep 60\n",
                     expect=Task.Status.FAILED)  # fmt: skip
    assert "timed out" in task.error["message"]
    assert "rails new took longer than 3 s (SCAFFOLDER_RAILS_TIMEOUT) and was stopped" in task_log(task)


@pytest.mark.django_db
def test_injected_arguments_fail_the_step_before_rails_runs(runner, scaffold_dirs):
    task = run_rails(runner, scaffold_dirs, "inject", {"template": "--template=/etc/passwd"}, "",
                     expect=Task.Status.FAILED)  # fmt: skip
    assert "values.railsArguments.template '--template=/etc/passwd' starts with '-'" in task.error["message"]
    task = run_rails(runner, scaffold_dirs, "inject-name", {}, "", app="'-m'", expect=Task.Status.FAILED)
    assert "values.name '-m' cannot name a Rails application" in task.error["message"]
    task = run_rails(runner, scaffold_dirs, "inject-enum", {"database": "--dev"}, "", expect=Task.Status.FAILED)
    assert "Invalid input passed to action fetch:rails" in task.error["message"]


@pytest.mark.django_db
def test_a_worker_without_rails_gets_a_clear_step_error(runner, scaffold_dirs, settings):
    settings.SCAFFOLDER_RAILS_COMMAND = "rails-not-installed"
    task = run_rails(runner, scaffold_dirs, "no-rails", {}, "", expect=Task.Status.FAILED)
    assert "the `rails-not-installed` command is not installed on this worker" in task.error["message"]
    assert "never in Docker" in task.error["message"]


# --- The corpus template, unchanged, against the GitHub stand-in ---------------------------------------
@needs_rails
@pytest.mark.django_db
@pytest.mark.corpus
def test_corpus_rails_demo_publishes_to_github_and_registers(shared_dir, scaffold_dirs, github, runner):  # noqa: F811
    source = shared_dir / "backstage-corpus" / "templates" / "software-templates" / "rails-demo"
    shutil.copytree(source, scaffold_dirs / "t")
    entity = register_file_template(scaffold_dirs / "t" / "template.yaml")
    values = {"name": "rails-shop", "owner": "group:default/team-a", "dryRun": False,
              "repoUrl": "github.com?owner=northwind&repo=rails-shop",
              "railsArguments": {"template": "./rails-template-file.rb"}}  # the form's default  # fmt: skip
    task = engine.run_task(service.create_task(runner, entity.ref, values, dispatch=False).pk)
    assert task.status == Task.Status.COMPLETED, task.error
    files = repo_files(github.repo_path("northwind", "rails-shop"))
    assert b"gem 'rspec-rails'" in files["Gemfile"]
    assert b"i like backstage!" in files["lib/tasks/example.rake"]
    assert b"module RailsShop" in files["config/application.rb"]
    descriptor = yaml.safe_load(files["catalog-info.yaml"])
    assert descriptor["metadata"]["name"] == "rails-shop"
    component = Entity.objects.get(kind="Component", name="rails-shop")
    assert task.output["links"][1]["entityRef"] == component.ref


@needs_rails
@pytest.mark.worker
@pytest.mark.corpus
@pytest.mark.django_db(transaction=True)
def test_rails_demo_dry_run_on_a_real_worker(shared_dir, allow_tmp, runner):
    shutil.copytree(shared_dir / "backstage-corpus" / "templates" / "software-templates" / "rails-demo",
                    allow_tmp / "t")  # fmt: skip
    entity = register_file_template(allow_tmp / "t" / "template.yaml")
    values = {"name": "rails-shop", "owner": "group:default/team-a", "dryRun": True,
              "repoUrl": "github.com?owner=northwind&repo=rails-shop",
              "railsArguments": {"template": "./rails-template-file.rb", "minimal": True}}  # fmt: skip
    task = service.create_task(runner, entity.ref, values, dispatch=False)
    with celery_worker({"CATALOG_ALLOWED_PATHS": str(allow_tmp)}) as queue:
        run_task.apply_async(args=[str(task.pk)], queue=queue)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and Task.objects.get(pk=task.pk).status not in Task.FINISHED:
            time.sleep(0.2)
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED, task.error
    log = task_log(task)
    assert "Running rails new rails-shop --minimal --template" in log
    assert "lib/tasks/example.rake" in log  # debug:log's listing of the workspace
