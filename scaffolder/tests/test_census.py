"""Day two: each entity a template created is recorded with the template version and values, and the census
groups them by version, marking those behind the template's current version."""

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string

from catalog.ingestion.refresh import refresh_location
from catalog.models import Entity
from portal.testing.access import grant, token_client
from portal.testing.gitrepos import git_target, make_repo
from scaffolder import census, engine, service
from scaffolder.models import CreatedEntity, Task
from scaffolder.tests.helpers import register_file_template, template_yaml, write_template

pytestmark = pytest.mark.django_db
PARAMS = """\
    - title: About
      required: [name]
      properties:
        name: {type: string}
        password: {type: string, ui:widget: password}
"""
STEPS = """\
    - id: fetch
      action: fetch:template
      input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}
    - id: write
      action: catalog:write
      input:
        entity:
          apiVersion: backstage.io/v1alpha1
          kind: Component
          metadata: {name: '${{ parameters.name }}'}
          spec: {type: service, lifecycle: experimental, owner: group:default/team-a}
    - {id: publish, action: publish:git, input: {repoName: '${{ parameters.name }}'}}
    - id: register
      action: catalog:register
      input: {repoContentsUrl: '${{ steps.publish.output.repoContentsUrl }}'}
"""


@pytest.fixture
def template(scaffold_dirs):
    path = write_template(scaffold_dirs / "tpl", template_yaml("svc", STEPS, parameters=PARAMS),
                          {"skeleton/README.md": "# ${{ values.name }}\n"})  # fmt: skip
    return register_file_template(path)


def _run(user, name: str) -> Task:
    task = service.create_task(user, "template:default/svc", {"name": name, "password": "hunter22"}, dispatch=False)
    task = engine.run_task(task.pk)
    assert task.status == Task.Status.COMPLETED, task.error
    return task


def _new_version(template: Entity) -> Entity:
    path = template.location.target
    with open(path, "a") as handle:
        handle.write("# a new version\n")
    assert refresh_location(template.location_id, force=True).status == "ok"
    return Entity.objects.get(pk=template.pk)


def test_created_entities_are_recorded_with_version_and_values(template, runner):
    task = _run(runner, "alpha")
    row = CreatedEntity.objects.get()
    assert (row.task, row.template_ref, row.entity_ref) == (task, "template:default/svc", "component:default/alpha")
    assert row.template_version == task.template_version and row.template_etag == task.template_etag
    assert row.values == {"name": "alpha"}  # the secret field is not stored
    annotations = Entity.objects.get(ref="component:default/alpha").body["metadata"]["annotations"]
    assert annotations["backstage.io/source-template"] == "template:default/svc"
    assert annotations["callboard.dev/template-version"] == task.template_version


def test_census_groups_by_version_and_marks_those_behind(template, runner):
    first = _run(runner, "alpha")
    _run(runner, "beta")
    template = _new_version(template)
    latest = _run(runner, "gamma")
    assert latest.template_version != first.template_version
    Entity.objects.filter(ref="component:default/beta").delete()  # unregistered since
    result = census.template_census(template)
    assert [(g["version"], g["count"], g["latest"], g["behind"]) for g in result] == [
        (latest.template_version, 1, True, False), (first.template_version, 2, False, True)]  # fmt: skip
    assert [(i["ref"], i["inCatalog"], i["owner"]) for i in result[1]["entities"]] == [
        ("component:default/beta", False, ""), ("component:default/alpha", True, "group:default/team-a")]  # fmt: skip
    html = render_to_string("scaffolder/_census.html", {"census": result})
    assert html.count('class="badge warning"') == 1 and html.count('class="badge ok"') == 1
    assert 'href="/catalog/default/component/alpha' in html and "no longer in the catalog" in html
    assert first.template_version[:12] in html


def test_entities_annotated_elsewhere_count_too(template, runner, allow_tmp):
    """A component Backstage made (catalog:write's annotations, no task here) is counted by its annotation."""
    descriptor = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                  "metadata": {"name": "legacy", "annotations": {
                      "backstage.io/source-template": "template:default/svc",
                      "callboard.dev/template-version": "0123456789abcdef"}},
                  "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}}  # fmt: skip
    bare = allow_tmp / "legacy.git"
    make_repo(bare, {"catalog-info.yaml": yaml.safe_dump(descriptor)})
    from catalog.ingestion.refresh import register_location

    assert refresh_location(register_location(git_target(bare), type="url").pk, force=True).status == "ok"
    result = census.template_census(template)
    assert [(g["version"], g["count"], g["behind"]) for g in result] == [("0123456789abcdef", 1, True)]
    assert result[0]["entities"][0]["ref"] == "component:default/legacy"


def test_empty_census_renders():
    assert "Nothing has been created from this template yet." in render_to_string("scaffolder/_census.html",
                                                                                   {"census": []})  # fmt: skip


def test_census_api(template, runner, django_assert_max_num_queries):
    _run(runner, "alpha")
    _run(runner, "beta")
    client = token_client(runner)
    with django_assert_max_num_queries(12):
        response = client.get("/api/scaffolder/v2/templates/default/template/svc/census")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["templateRef"] == "template:default/svc" and body["latestVersion"]
    [group] = body["versions"]
    assert group["count"] == 2 and group["latest"] is True and group["behind"] is False
    assert {i["ref"] for i in group["entities"]} == {"component:default/alpha", "component:default/beta"}
    assert group["entities"][0]["createdAt"].endswith("Z") and group["entities"][0]["values"] == {"name": "beta"}
    assert client.get("/api/scaffolder/v2/templates/default/template/nope/census").status_code == 404
    assert client.get("/api/scaffolder/v2/templates/default/component/svc/census").status_code == 404


def test_census_lists_only_entities_the_person_may_read(template, runner):
    _run(runner, "alpha")
    stranger = get_user_model().objects.create_user("eve", "eve@example.com", "pw-eve-12345")
    template = Entity.objects.get(pk=template.pk)
    assert census.template_census(template, stranger)[0]["count"] == 1  # everyone reads the catalog by default
    grant("viewer", name="Team A's services are private", effect="deny", subject="signed_in",
          owners="group:default/team-a")  # fmt: skip
    assert census.template_census(template, stranger) == []
    assert census.template_census(template, runner) == []  # the rule denies every signed-in person
    assert census.template_census(template)[0]["count"] == 1  # the service itself sees all
