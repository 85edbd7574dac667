"""The web pages through Django's test client: gallery, template page, the form's steps, errors and Create."""

import json
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.testing.access import grant
from scaffolder.models import Task
from scaffolder.tests.helpers import register_file_template, template_yaml, write_template

pytestmark = pytest.mark.django_db
RUN = "/create/templates/default/python-fastapi-service/run/"


@pytest.fixture
def signed_in(client, runner, demo_catalog):
    client.force_login(runner)
    return client


def state_of(response) -> str:
    return unescape(re.search(r'name="state" value="([^"]*)"', response.content.decode()).group(1))


def step(client, url, response, action="next", **fields):
    """POST the form as the browser would: the state and step it was given, plus the fields."""
    html = response.content.decode()
    number = re.search(r'name="step" value="(\d+)"', html).group(1)
    return client.post(url, {"state": state_of(response), "step": number, "action": action, **fields})


def test_gallery_lists_readable_templates_with_filters(client, user, demo_catalog):
    grant("viewer", name="No websites", effect="deny", subject="signed_in", types="website")
    client.force_login(user)
    html = client.get("/create/").content.decode()
    assert "Python FastAPI service" in html and "Shared Python library" in html
    assert "Static website" not in html  # not readable: not listed
    assert '<a href="/catalog/default/group/platform-team/">platform-team</a>' in html
    assert 'href="/create/templates/default/python-fastapi-service/run/">Choose</a>' in html
    assert 'href="/create/" aria-current="page">Create</a>' in html  # the top bar's item
    assert 'href="/create/templates/default/shared-python-library/run/"' in html  # dev's team owns it
    assert html.count(">Choose</a>") == 2
    assert "Shared Python library" not in client.get("/create/?tag=fastapi").content.decode()
    assert "Python FastAPI service" not in client.get("/create/?type=library").content.decode()
    assert (
        "Python FastAPI service"
        in client.get("/create/?owner=group:default/platform-team&q=fastapi tracing").content.decode()
    )
    assert "No template matches" in client.get("/create/?q=cobol").content.decode()


def test_gallery_htmx_answers_the_results_only_in_a_fixed_number_of_queries(signed_in):
    with CaptureQueriesContext(connection) as queries:
        response = signed_in.get("/create/?q=python", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    html = response.content.decode()
    assert "<html" not in html and html.count('class="card template-card"') == 2
    assert len(queries) <= 6, [q["sql"] for q in queries]


def test_template_page(signed_in, runner):
    html = signed_in.get("/create/templates/default/python-fastapi-service/").content.decode()
    assert "<h1>Python FastAPI service</h1>" in html
    assert '<a href="/catalog/default/group/platform-team/">platform-team</a>' in html
    assert "0 tasks" in html and f'href="{RUN}">Choose</a>' in html
    # The parameters per page, in the file's order, with what is required.
    names = re.findall(r"<li><strong>([^<]+)</strong>", html)
    assert names == ["Name", "Description", "Owner", "System", "Repository", "HTTP port"]
    assert "1. About the service" in html and "2. Where to put the code" in html
    Task.objects.create(template_ref="template:default/python-fastapi-service", spec={}, created_by=runner)
    assert "1 task, last" in signed_in.get("/create/templates/default/python-fastapi-service/").content.decode()


def test_unreadable_or_unknown_template_is_404(client, user, demo_catalog):
    grant("contributor", user=user)
    grant("viewer", name="No websites", effect="deny", subject="signed_in", types="website")
    client.force_login(user)
    for url in (
        "/create/templates/default/static-website/",
        "/create/templates/default/static-website/run/",
        "/create/templates/default/nope/",
        "/create/templates/default/nope/run/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post("/create/templates/default/static-website/run/", {"action": "create"}).status_code == 404


def test_without_the_run_permission(client, user, demo_catalog):
    """The default viewer may read templates, not run them (dev's team owns the service template, so its
    owner role lets them run that one): the page says why, the form is a 403."""
    client.force_login(user)
    gallery = client.get("/create/").content.decode()
    assert 'href="/create/templates/default/static-website/run/"' not in gallery
    assert 'href="/create/templates/default/static-website/" title="You may not run this template">Details' in gallery
    html = client.get("/create/templates/default/static-website/").content.decode()
    assert 'href="/create/templates/default/static-website/run/"' not in html
    assert re.search(r"<button type=\"button\" disabled title=\"[^\"]+\">Choose</button>", html)
    assert "You cannot run this template" in html
    run = "/create/templates/default/static-website/run/"
    for response in (client.get(run), client.post(run, {"action": "create"})):
        assert response.status_code == 403
        assert "scaffolder.template.run" in response.content.decode()
    assert not Task.objects.exists()


def test_steps_errors_at_fields_and_create(signed_in, runner):
    first = signed_in.get(RUN)
    html = first.content.decode()
    assert 'aria-current="step"' in html and "About the service" in html
    assert 'name="name" value="" aria-describedby="f-name-help"  required autofocus' in html

    again = step(signed_in, RUN, first, name="Bad Name", description="", owner="platform-team", system="journeys")
    html = again.content.decode()
    assert re.search(r'id="f-name-errors"><li>Must match the pattern', html)
    assert re.search(r'id="f-description-errors"><li>Required\.</li>', html)
    assert 'value="Bad Name"' in html  # what was typed stays
    assert 'name="step" value="0"' in html

    second = step(
        signed_in, RUN, again, name="stop-finder", description="Finds stops.", owner="platform-team", system="journeys"
    )
    html = second.content.decode()
    assert 'name="step" value="1"' in html and 'name="repoUrl.owner"' in html
    assert '<input type="number" id="f-port" name="port" value="8000"' in html  # the default
    review = step(
        signed_in,
        RUN,
        second,
        **{"repoUrl.host": "github.com", "repoUrl.owner": "northwind", "repoUrl.repo": "stop-finder", "port": "8081"},
    )
    html = review.content.decode()
    assert '<h2 id="page-title">Review</h2>' in html and "github.com?owner=northwind&amp;repo=stop-finder" in html
    back = step(signed_in, RUN, review, action="back")
    assert 'value="stop-finder"' in back.content.decode()

    created = step(signed_in, RUN, review, action="create")
    task = Task.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/create/tasks/{task.pk}/"
    assert task.template_ref == "template:default/python-fastapi-service"
    assert task.created_by == runner
    assert task.values == {
        "name": "stop-finder",
        "description": "Finds stops.",
        "owner": "group:default/platform-team",
        "system": "system:default/journeys",
        "repoUrl": "github.com?owner=northwind&repo=stop-finder",
        "port": 8081,
    }


def test_create_checks_every_step_again(signed_in):
    """A state edited by hand (or a page's condition changed) is caught at Create, at the field."""
    state = json.dumps(
        {
            "values": {
                "name": "x",
                "description": "d",
                "owner": "group:default/platform-team",
                "repoUrl": "github.com?owner=northwind&repo=x",
            },
            "seen": [],
        }
    )
    response = signed_in.post(RUN, {"state": state, "step": "2", "action": "create"})
    html = response.content.decode()
    assert response.status_code == 200 and 'name="step" value="0"' in html
    assert re.search(r'id="f-system-errors"><li>Required\.</li>', html)
    assert not Task.objects.exists()


def test_htmx_create_redirects_the_browser(signed_in):
    state = json.dumps(
        {
            "values": {
                "name": "x",
                "description": "d",
                "owner": "group:default/platform-team",
                "system": "system:default/journeys",
                "port": 8000,
                "repoUrl": "github.com?owner=northwind&repo=x",
            },
            "seen": [],
        }
    )
    response = signed_in.post(RUN, {"state": state, "step": "2", "action": "create"}, HTTP_HX_REQUEST="true")
    task = Task.objects.get()
    assert response["HX-Redirect"] == f"/create/tasks/{task.pk}/"


def test_htmx_steps_answer_the_form_only(signed_in):
    response = signed_in.post(RUN, {"state": "", "step": "0", "action": "refresh"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="wizard"') and "<html" not in html


def test_hostile_state_is_a_fresh_start(signed_in):
    for state in ("not json", "[1, 2]", '{"values": "x", "seen": 5}'):
        response = signed_in.post(RUN, {"state": state, "step": "99", "action": "refresh"})
        assert response.status_code == 200
    response = signed_in.post(RUN, {"state": "{}", "step": "-3", "action": "next"})
    assert 'name="step" value="0"' in response.content.decode()


SECRET_PARAMS = """\
    - title: Credentials
      required: [name, token]
      properties:
        name: {type: string}
        token: {type: string, ui:field: Secret, minLength: 12}
    - title: More
      properties:
        pin: {type: string, ui:widget: password}
"""


def test_secrets_never_reach_the_html_the_state_the_session_or_the_task(client, runner, scaffold_dirs):
    path = write_template(
        scaffold_dirs / "secret",
        template_yaml(
            "secretive",
            "    - {id: log, action: debug:log, input: {message: 'made ${{ parameters.name }}'}}\n",
            parameters=SECRET_PARAMS,
        ),
    )
    register_file_template(path)
    client.force_login(runner)
    url = "/create/templates/default/secretive/run/"
    first = client.get(url)
    short = step(client, url, first, name="ana", token="short-one")
    html = short.content.decode()
    assert "short-one" not in html and "'***' is too short" in unescape(html)  # masked in the message, not echoed back
    second = step(client, url, short, name="ana", token="a-long-enough-secret")
    html = second.content.decode()
    assert 'name="step" value="1"' in html and "a-long-enough-secret" not in html
    assert '<input type="password" id="f-token" name="token" hx-preserve="true"' in html  # kept by the browser
    review = step(client, url, second, token="a-long-enough-secret", pin="9876")
    html = review.content.decode()
    assert "a-long-enough-secret" not in html and "9876" not in html and "••••••" in html
    created = client.post(
        url,
        {"state": state_of(review), "step": "2", "action": "create", "token": "a-long-enough-secret", "pin": "9876"},
    )
    assert created.status_code == 302
    task = Task.objects.get()
    assert task.values == {"name": "ana"}
    assert "a-long-enough-secret" not in json.dumps(task.spec) and "9876" not in json.dumps(task.spec)
    for session in client.session.items():
        assert "a-long-enough-secret" not in json.dumps(session, default=str)
    # Without the secrets (a browser without JavaScript loses them between steps): asked again, at the field.
    again = client.post(url, {"state": state_of(review), "step": "2", "action": "create"})
    assert re.search(r'id="f-token-errors"><li>Required\.</li>', again.content.decode())


def test_form_queries_do_not_grow_with_its_pickers(signed_in):
    """Each picker's choices are one query, read once per request (pickers with the same filter share it)."""
    with CaptureQueriesContext(connection) as first:
        response = signed_in.get(RUN)
    with CaptureQueriesContext(connection) as second:
        step(signed_in, RUN, response, name="stop-finder", description="d", owner="platform-team", system="journeys")

    def picker_queries(queries) -> int:
        return sum('"catalog_entity"."title" AS "title"' in q["sql"] for q in queries)

    assert picker_queries(first) == picker_queries(second) == 2  # owner and system
    # The template and the person's identity, then the two pickers (the page is built twice: read once).
    assert len(second) == 4, [q["sql"] for q in second]


def test_fields_keep_the_files_order_in_the_api_too(runner, demo_catalog):
    """PostgreSQL's jsonb sorts keys by length; the form and parameter-schema list them as the file does."""
    from portal.testing.access import token_client

    client = token_client(runner, scopes=["scaffolder:run"])
    body = client.get("/api/scaffolder/v2/templates/default/template/python-fastapi-service/parameter-schema").json()
    assert list(body["steps"][0]["schema"]["properties"]) == ["name", "description", "owner", "system"]
    assert list(body["steps"][0]["schema"]["properties"]["name"]) == [
        "title", "type", "description", "pattern", "maxLength", "ui:field", "ui:autofocus"]  # fmt: skip
