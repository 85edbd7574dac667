"""Templates from ../shared/backstage-corpus run unchanged (publish:github pointed at publish:git)."""

import pytest
import yaml

from catalog.models import Entity
from scaffolder import engine, service
from scaffolder.models import Task, TaskStep
from scaffolder.tests.helpers import copy_template, register_file_template, repo_files

pytestmark = pytest.mark.django_db

SAMPLES = "backstage-sample-templates"


def test_demo_template_skeleton_with_binary_files_and_conditions(shared_dir, scaffold_dirs, runner):
    """The corpus demo-template's own steps up to fetch:template (the rest need GitHub), then the workspace
    is published so its files can be compared."""
    source = shared_dir / "backstage-corpus" / "templates" / "demo-template"
    folder = copy_template(source, scaffold_dirs / "demo-template")
    doc = yaml.safe_load((folder / "template.yaml").read_text())
    steps = [s for s in doc["spec"]["steps"] if s["id"] in ("list-inputs", "fetch-skeleton")]
    doc["spec"]["steps"] = [*steps, {"id": "publish", "action": "publish:git", "input": {"repoName": "demo-site"}}]
    del doc["spec"]["output"]
    (folder / "template.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    register_file_template(folder / "template.yaml")
    values = {"name": "Ana", "mode": "dark", "topics": ["writing-templates", "builtin-actions"],
              "repoUrl": "github.com?owner=northwind&repo=demo-site"}  # fmt: skip
    task = engine.run_task(service.create_task(runner, "demo-template", values, dispatch=False).pk)
    assert task.status == Task.Status.COMPLETED, task.error
    files = repo_files(scaffold_dirs / "repos" / "scaffolder" / "demo-site.git")
    skeleton = source / "skeleton"
    assert files["rocket.gif"] == (skeleton / "rocket.gif").read_bytes()  # binary: byte for byte
    assert files["favicon.svg"] == (skeleton / "favicon.svg").read_bytes()  # no expressions: unchanged
    html = files["index.html"].decode()
    assert "setAttribute('data-theme', 'dark')" in html and "Boosters are a go Ana!" in html
    assert "Writing Templates" in html or "writing-templates" in html
    assert "${{" not in html and "{%" not in html
    assert "https://northwind.github.io/demo-site/" in files[".github/workflows/pages.yml"].decode()
    log = [e.body.get("message", "") for e in task.events.all()]
    assert any("- Owner: northwind" in m and "- Topics: writing-templates,builtin-actions" in m for m in log)


def test_springboot_template_end_to_end(shared_dir, scaffold_dirs, runner):
    """Templated folder and file names, copyWithoutRender, publish and register: the whole template."""
    source = shared_dir / "backstage-corpus" / "templates" / "software-templates" / "springboot-grpc-template"
    folder = copy_template(source, scaffold_dirs / "springboot")
    entity = register_file_template(folder / "template.yaml")
    values = {"component_id": "greeter", "java_package_name": "greeter", "description": "Says hello",
              "owner": "group:team-a", "repoUrl": "github.com?owner=northwind&repo=greeter"}  # fmt: skip
    task = engine.run_task(service.create_task(runner, entity.name, values, dispatch=False).pk)
    steps = dict(TaskStep.objects.filter(task=task).values_list("step_id", "status"))
    assert task.status == Task.Status.COMPLETED, (task.error, steps)
    files = repo_files(scaffold_dirs / "repos" / "scaffolder" / "greeter.git")
    assert "greeter.sh" in files
    assert "src/main/java/com/example/greeter/Application.java" in files
    assert "src/test/java/com/example/greeter/ApplicationTest.java" in files
    assert b"/usr/share/greeter/greeter.jar" in files["greeter.sh"]
    assert not any("${{" in path for path in files)
    component = Entity.objects.get(ref="component:default/greeter")
    assert component.body["metadata"]["description"] == "Says hello"
    assert task.output["links"][1] == {"title": "Open in catalog", "icon": "catalog",
                                       "entityRef": "component:default/greeter"}  # fmt: skip


@pytest.mark.parametrize(("values", "links", "texts"), [
    ({"name": "meteo", "enableCI": "Yes", "showDetails": True},
     ["Backstage Homepage", "CI Dashboard", "CI Docs"], ["Summary", "CI Details", "CI Setup Instructions"]),
    ({"name": "meteo", "enableCI": "No", "showDetails": False}, ["Backstage Homepage"], ["Summary"]),
])  # fmt: skip
def test_conditional_output_sample_drops_links_and_texts_whose_if_is_false(
    shared_dir, scaffold_dirs, runner, values, links, texts
):
    source = shared_dir / "backstage-corpus" / "templates" / SAMPLES / "conditional-output-demo"
    entity = register_file_template(copy_template(source, scaffold_dirs / "out") / "template.yaml")
    task = engine.run_task(service.create_task(runner, entity.ref, values, dispatch=False).pk)
    assert task.status == Task.Status.COMPLETED, task.error
    assert [link["title"] for link in task.output["links"]] == links
    assert [text["title"] for text in task.output["text"]] == texts
    if values["enableCI"] == "Yes":
        assert task.output["links"][1]["url"] == "https://ci.example.com/meteo"
        assert "ci-setup --name meteo" in task.output["text"][2]["content"]


def test_conditional_parameters_sample_skips_the_pages_whose_if_is_false(shared_dir, scaffold_dirs, runner):
    """Only the chosen cloud's page is validated (a GCP run needs no AWS region), and the output follows."""
    source = shared_dir / "backstage-corpus" / "templates" / SAMPLES / "conditional-parameters-demo"
    entity = register_file_template(copy_template(source, scaffold_dirs / "params") / "template.yaml")
    values = {"name": "meteo", "cloudProvider": "GCP", "gcpProjectId": "nw-meteo", "enableMonitoring": False}
    task = engine.run_task(service.create_task(runner, entity.ref, values, dispatch=False).pk)
    assert task.status == Task.Status.COMPLETED, task.error
    assert [text["title"] for text in task.output["text"]][:2] == ["Summary", "GCP Details"]
    assert "AWS Details" not in [text["title"] for text in task.output["text"]]
    log = [e.body.get("message", "") for e in task.events.all()]
    assert any("Creating meteo on GCP." in m for m in log)
    with pytest.raises(service.InvalidRequest) as refused:  # the GCP page is required once GCP is chosen
        service.create_task(runner, entity.ref, {"name": "meteo", "cloudProvider": "GCP"}, dispatch=False)
    assert "gcpProjectId" in str(refused.value.errors)
