"""The demo organisation's python-service template, read from a git repository, run by a real Celery worker:
the rendered skeleton is pushed to a new bare repository and registered in the catalog."""

import os
import shutil
import signal
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from catalog.models import Entity
from portal.models import JobRun
from portal.testing.celery import celery_worker
from scaffolder import engine, service
from scaffolder.actions.publish import local_repos_dir
from scaffolder.models import Task, TaskStep
from scaffolder.tasks import run_task
from scaffolder.tests.helpers import (
    DEMO_TEMPLATES,
    copy_template,
    register_file_template,
    register_git_templates,
    repo_files,
    template_yaml,
    write_template,
)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_demo_template_runs_on_a_real_worker(allow_tmp, runner):
    folder = copy_template(DEMO_TEMPLATES, allow_tmp / "templates")
    templates = register_git_templates(folder, allow_tmp / "templates.git")
    assert "template:default/python-fastapi-service" in [t.ref for t in templates]
    name = f"svc-{uuid.uuid4().hex[:8]}"
    values = {
        "name": name,
        "description": "Finds stops",
        "owner": "group:default/team-a",
        "system": "system:default/journeys",
        "repoUrl": f"github.com?owner=northwind&repo={name}",
        "port": 8010,
    }
    task = service.create_task(runner, "template:default/python-fastapi-service", values, dispatch=False)
    bare = local_repos_dir() / f"{name}.git"  # the worker's data dir is this process's
    env = {"CATALOG_ALLOWED_PATHS": f"{allow_tmp},{settings.DATA_DIR}"}
    try:
        with celery_worker(env) as queue:
            run_task.apply_async(args=[str(task.pk)], queue=queue)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and Task.objects.get(pk=task.pk).status not in Task.FINISHED:
                time.sleep(0.2)
        task.refresh_from_db()
        steps = dict(TaskStep.objects.filter(task=task).values_list("step_id", "status"))
        assert task.status == Task.Status.COMPLETED, (task.error, steps)
        assert steps == {"fetch": "completed", "publish": "completed", "register": "completed"}
        files = repo_files(bare)
        assert f'SERVICE_NAME = "{name}"'.encode() in files["app/main.py"]
        assert "catalog-info.yaml" in files and "docs/index.md" in files
        component = Entity.objects.get(ref=f"component:default/{name}")
        assert component.body["spec"]["owner"] == "group:default/team-a"
        assert component.body["metadata"]["annotations"]["github.com/project-slug"] == f"northwind/{name}"
        assert task.output["links"][1]["entityRef"] == f"component:default/{name}"
        assert task.output["links"][0]["url"] == bare.resolve().as_uri()
        assert "port 8010" in task.output["text"][0]["content"]
        job = JobRun.objects.get(name="scaffolder.run_task")
        assert job.status == JobRun.Status.SUCCEEDED and job.result["status"] == "completed"
        assert task.template_version and len(task.template_version) >= 40  # the commit it ran from
    finally:
        shutil.rmtree(bare, ignore_errors=True)


def _worker_pid(queue: str) -> int | None:
    """The pid of the worker this test started (a child of this process serving ``queue``), from /proc."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()  # noqa: SIM115 - a one-line read
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")  # noqa: SIM115
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and queue.encode() in cmdline:
            return int(entry)
    return None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finding the worker's pid reads /proc")
def test_a_worker_killed_mid_task_leaves_it_failed_not_processing(allow_tmp, runner):
    steps = "    - {id: wait, action: debug:wait, input: {seconds: 120}}\n"
    register_file_template(write_template(allow_tmp / "slow", template_yaml("slow", steps)))
    task = service.create_task(runner, "slow", {}, dispatch=False)
    env = {"CATALOG_ALLOWED_PATHS": f"{allow_tmp},{settings.DATA_DIR}"}
    with celery_worker(env) as queue:
        run_task.apply_async(args=[str(task.pk)], queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not task.steps.filter(status="processing").exists():
            time.sleep(0.2)
        assert task.steps.get().status == "processing"
        pid = _worker_pid(queue)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # the worker this test started, by its pid (celery_worker reaps it)
    task.refresh_from_db()
    assert task.status == Task.Status.PROCESSING  # nobody will finish it ...
    assert engine.fail_stale_tasks(timedelta(minutes=5)) == 0  # ... and its heartbeat is still fresh
    later = timezone.now() + timedelta(minutes=6)
    assert engine.fail_stale_tasks(timedelta(minutes=5), now=later) == 1  # what the sweeper does
    task.refresh_from_db()
    assert task.status == Task.Status.FAILED and task.error["name"] == "StaleTaskError"
    assert task.steps.get().status == "failed" and task.sealed_secrets == ""
