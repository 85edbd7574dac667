"""The form's catalog-backed pickers (EntityTagsPicker's suggestions, MyGroupsPicker, RepoBranchPicker) and the
review step's "Preview (dry run)", through Django's test client on a catalog read from git."""

import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from catalog.models import Location
from portal.testing.access import grant
from scaffolder.models import CreatedEntity, Task, TaskEvent, TaskStep
from scaffolder.tests.helpers import register_file_template, template_yaml, write_template
from scaffolder.tests.test_views import step

pytestmark = pytest.mark.django_db

PICKERS = """\
    - title: Team
      required: [team]
      properties:
        team: {title: Team, type: string, ui:field: MyGroupsPicker}
        tags: {title: Tags, type: array, items: {type: string}, ui:field: EntityTagsPicker}
        branch: {title: Branch, type: string, ui:field: RepoBranchPicker}
"""
KINDS = """\
    - title: Tags
      properties:
        tags: {title: Tags, type: array, items: {type: string}, ui:field: EntityTagsPicker,
               ui:options: {kinds: [Template]}}
"""
LOG = "    - {id: log, action: debug:log, input: {message: hi}}\n"


@pytest.fixture
def dev(demo_catalog):
    """The signed-in person is the catalog's user:default/dev, a member of platform-team."""
    user = get_user_model().objects.create_user("dev", "dev@example.com", "pw-dev-12345")
    grant("contributor", user=user)
    return user


@pytest.fixture
def pickers_form(client, dev, scaffold_dirs):
    register_file_template(write_template(scaffold_dirs / "pk", template_yaml("pickers", LOG, parameters=PICKERS)))
    client.force_login(dev)
    return "/create/templates/default/pickers/run/"


def test_my_groups_picker_offers_only_the_persons_groups(client, pickers_form):
    first = client.get(pickers_form)
    html = first.content.decode()
    select = re.search(r'<select id="f-team".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([^"]+)"', select) == ["group:default/platform-team"]
    # Another group is refused by the server (the select is all the browser offers).
    refused = step(client, pickers_form, first, team="group:default/web-experience-team")
    assert "is not one of the choices" in refused.content.decode()
    review = step(client, pickers_form, first, team="group:default/platform-team", branch="release/2.x")
    assert "Review" in review.content.decode() and "release/2.x" in review.content.decode()
    created = step(client, pickers_form, review, action="create")
    assert created.status_code == 302
    assert Task.objects.get().values == {"team": "group:default/platform-team", "branch": "release/2.x"}


def test_repo_branch_picker_is_a_text_input_whose_value_is_the_branch_name(client, pickers_form):
    html = client.get(pickers_form).content.decode()
    assert re.search(r'<input type="text" id="f-branch" name="branch"', html)
    assert "The name of a branch of the repository, e.g. main." in html


def test_entity_tags_picker_suggests_the_catalogs_tags_most_used_first(client, pickers_form):
    first = client.get(pickers_form)
    suggested = re.findall(r'name="tags.suggested" value="([^"]+)"', first.content.decode())
    assert suggested[0] == "python"  # on two templates; the rest by name
    assert set(suggested) >= {"python", "fastapi", "recommended", "library", "website", "node"}
    review = step(client, pickers_form, first, team="group:default/platform-team",
                  **{"tags.suggested": ["python", "library"], "tags": "gtfs, python"})  # fmt: skip
    created = step(client, pickers_form, review, action="create")
    assert created.status_code == 302
    assert Task.objects.get().values["tags"] == ["python", "library", "gtfs"]


def test_tag_suggestions_leave_out_unreadable_entities_and_other_kinds(client, dev, scaffold_dirs):
    grant("viewer", name="No websites", effect="deny", subject="signed_in", types="website")
    register_file_template(write_template(scaffold_dirs / "k", template_yaml("kinds", LOG, parameters=KINDS)))
    client.force_login(dev)
    html = client.get("/create/templates/default/kinds/run/").content.decode()
    suggested = set(re.findall(r'name="tags.suggested" value="([^"]+)"', html))
    assert suggested == {"python", "fastapi", "recommended", "library"}  # the website's tags are not readable


SECRET_FORM = """\
    - title: Service
      required: [name, password]
      properties:
        name: {title: Name, type: string}
        description: {title: Description, type: string}
        password: {title: Password, type: string, ui:field: Secret}
"""
SECRET_STEPS = """\
    - {id: fetch, name: Render, action: fetch:template,
       input: {url: ./skeleton, values: {name: '${{ parameters.name }}', description: '${{ parameters.description }}',
               password: '${{ parameters.password }}'}}}
    - {id: log, action: debug:log, input: {message: 'made ${{ parameters.name }} with ${{ parameters.password }}'}}
    - {id: publish, action: publish:git, input: {repoName: '${{ parameters.name }}'}}
    - {id: register, action: catalog:register, input: {repoContentsUrl: '${{ steps.publish.output.repoContentsUrl }}'}}
"""


def test_preview_shows_the_rendered_files_and_log_and_stores_nothing(client, dev, scaffold_dirs):
    files = {"skeleton/README.md": "# ${{ values.name }}\n\n${{ values.description }}\n",
             "skeleton/${{ values.name }}/config.env": "PASSWORD=${{ values.password }}\n",
             "skeleton/logo.bin": b"\x89PNG\0\0binary"}  # fmt: skip
    register_file_template(write_template(scaffold_dirs / "s",
                                          template_yaml("secretive", SECRET_STEPS, parameters=SECRET_FORM), files))
    client.force_login(dev)
    url = "/create/templates/default/secretive/run/"
    locations = Location.objects.count()
    first = client.get(url)
    name = f"pv-{uuid.uuid4().hex[:8]}"  # a repository nobody made before
    review = step(client, url, first, name=name, description="<b>bold</b> & more", password="s3cret-pass")
    html = review.content.decode()
    assert "Preview (dry run)" in html
    shown = step(client, url, review, action="preview", password="s3cret-pass")
    html = shown.content.decode()
    assert shown.status_code == 200
    paths = re.findall(r"<summary><code>([^<]+)</code>", html)
    assert paths == ["README.md", "logo.bin", f"{name}/config.env"]
    assert f"# {name}\n\n&lt;b&gt;bold&lt;/b&gt; &amp; more" in html and "<b>bold</b>" not in html
    assert "PASSWORD=***" in html and "s3cret-pass" not in html  # the secret rendered, and masked
    assert "Binary file: not shown." in html
    assert f"made {name} with ***" in html
    assert "Skipping because publish:git does not support dry-run" in html
    # Nothing was stored or published.
    assert not Task.objects.exists() and not TaskStep.objects.exists() and not TaskEvent.objects.exists()
    assert not CreatedEntity.objects.exists() and Location.objects.count() == locations
    assert not (Path(settings.DATA_DIR) / "repos" / "scaffolder" / f"{name}.git").exists()
    assert not (scaffold_dirs / "repos" / "scaffolder" / f"{name}.git").exists()


def test_preview_of_a_failing_step_says_which(client, dev, scaffold_dirs):
    steps = "    - {id: fetch, name: Render, action: fetch:template, input: {url: ./nowhere}}\n"
    register_file_template(write_template(scaffold_dirs / "f", template_yaml("failing", steps,
                                                                               parameters=SECRET_FORM)))  # fmt: skip
    client.force_login(dev)
    url = "/create/templates/default/failing/run/"
    review = step(client, url, client.get(url), name="x", password="s3cret-pass")
    html = step(client, url, review, action="preview", password="s3cret-pass").content.decode()
    assert 'class="errors-box"' in html and "nowhere" in html
    assert not Task.objects.exists()


def test_the_pickers_cost_a_fixed_number_of_queries(client, pickers_form, scaffold_dirs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(pickers_form)  # the tag snapshot is built once per catalog version, for everybody
    with CaptureQueriesContext(connection) as queries:
        html = client.get(pickers_form).content.decode()
    assert "group:default/platform-team" in html and 'name="tags.suggested"' in html
    # The template; the person's identity (twice: their groups, the read filter); their readable groups.
    assert len(queries) <= 4, [q["sql"] for q in queries]
