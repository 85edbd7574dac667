"""The demo's templates work on a laptop: loaded as `make run` loads them, run from the API by a real worker,
they publish to a local bare repository and register the new component in the catalog, with its owner."""

import shutil
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from catalog.demo import load_demo
from catalog.models import Entity
from portal.testing.access import token_client
from portal.testing.celery import celery_worker
from scaffolder.models import CreatedEntity, Task, TaskStep
from scaffolder.tests.helpers import DEMO_TEMPLATES, repo_files


def _values(template: str, name: str) -> dict:
    common = {"name": name, "owner": "group:default/team-a", "repoUrl": f"github.com?owner=northwind&repo={name}"}
    return {
        "python-fastapi-service": {**common, "description": "Finds stops", "system": "system:default/journeys"},
        "static-website": {**common, "title": "Network map", "description": "A map"},
        "shared-python-library": {**common, "description": "GTFS helpers"},
    }[template]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_demo_templates_create_publish_and_register_on_a_worker(allow_tmp, settings_repos, runner):
    shutil.copytree(DEMO_TEMPLATES, allow_tmp / "demo" / "templates")
    [(_repo, result)] = load_demo(source=allow_tmp / "demo")  # the demo loader, as `make run` runs it
    assert result.status == "ok", result.message
    assert "action: publish:git" in (DEMO_TEMPLATES / "python-service" / "template.yaml").read_text()
    client = token_client(runner)
    names = {t: f"demo-{uuid.uuid4().hex[:8]}" for t in
             ("python-fastapi-service", "static-website", "shared-python-library")}  # fmt: skip
    published = Path(settings.DATA_DIR) / "repos" / "scaffolder"  # publish:git's folder in the worker
    bares = [published / f"{name}.git" for name in names.values()]
    env = {"CATALOG_ALLOWED_PATHS": f"{allow_tmp},{settings.DATA_DIR}"}
    try:
        with celery_worker(env):
            ids = {}
            for template, name in names.items():
                response = client.post("/api/scaffolder/v2/tasks", {"templateRef": f"template:default/{template}",
                                       "values": _values(template, name)}, format="json")  # fmt: skip
                assert response.status_code == 201, response.content
                ids[template] = response.json()["id"]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and Task.objects.filter(pk__in=ids.values()).exclude(
                    status__in=Task.FINISHED).exists():  # fmt: skip
                time.sleep(0.2)
        for template, name in names.items():
            task = Task.objects.get(pk=ids[template])
            steps = dict(TaskStep.objects.filter(task=task).values_list("step_id", "status"))
            assert task.status == Task.Status.COMPLETED, (template, task.error, steps)
            assert steps == {"fetch": "completed", "publish": "completed", "register": "completed"}
            component = Entity.objects.get(ref=f"component:default/{name}")
            assert component.owner_ref == "group:default/team-a"
            annotations = component.body["metadata"]["annotations"]  # the descriptor says where it came from
            assert annotations["backstage.io/source-template"] == f"template:default/{template}"
            assert task.output["links"][1]["entityRef"] == component.ref
            row = CreatedEntity.objects.get(task=task)  # the census knows where it came from
            assert row.entity_ref == component.ref and row.template_version == task.template_version
            assert row.values["name"] == name
            files = repo_files(published / f"{name}.git")
            assert "catalog-info.yaml" in files and "${{" not in files["catalog-info.yaml"].decode()
    finally:
        for bare in bares:
            shutil.rmtree(bare, ignore_errors=True)


@pytest.fixture
def settings_repos(settings, allow_tmp):
    """The demo's own repositories under this test's folder (the published ones go to the worker's data dir)."""
    settings.LOCAL_REPOS_DIR = allow_tmp / "repos"
    return settings
