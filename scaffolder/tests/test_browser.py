"""The template pages in a real Chromium: gallery filters, the template page, and a demo template's form with
its pickers filled in step by step through to Create; phones (390 px) never scroll sideways."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from portal.testing.access import grant
from portal.testing.browser import shot, sign_in
from scaffolder.models import Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def shot_settled(page, name: str) -> None:
    page.wait_for_timeout(300)  # htmx's settle and the spinner's fade: the picture shows the page at rest
    shot(page, name)


@pytest.fixture
def signed_in(page, live_server, demo_catalog):
    user = get_user_model().objects.get_or_create(username="dev")[0]
    user.set_password("pw-dev-12345")
    user.save()
    grant("contributor", user=user)
    sign_in(page, "dev", "pw-dev-12345", base_url=live_server.url)
    page.wait_for_url(f"{live_server.url}/")
    return page


@pytest.mark.parametrize("width", [1280, 390])
def test_fill_python_service_through_to_create(signed_in, live_server, width):
    page = signed_in
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/create/")
    expect(page.get_by_role("heading", name="Create something new")).to_be_visible()
    page.get_by_role("link", name="Create", exact=True).first.wait_for()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    shot(page, f"scaffolder-gallery-{width}")

    page.fill("input[name=q]", "library")
    expect(page.locator(".template-card")).to_have_count(1)
    page.fill("input[name=q]", "")
    page.select_option("select[name=type]", "website")
    expect(page.locator(".template-card")).to_have_count(1)
    expect(page.locator(".template-card h2")).to_have_text("Static website")
    page.select_option("select[name=type]", "")
    expect(page.locator(".template-card")).to_have_count(3)

    page.get_by_role("link", name="Python FastAPI service").click()
    expect(page.get_by_role("heading", name="What it asks")).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    shot(page, f"scaffolder-template-{width}")

    page.get_by_role("link", name="Choose").click()
    expect(page.locator(".stepper li.current")).to_contain_text("About the service")
    expect(page.locator("#f-name")).to_be_focused()  # ui:autofocus
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    shot_settled(page, f"scaffolder-form-step1-empty-{width}")

    # The browser checks what it can: the required name stops Next before any request.
    page.get_by_role("button", name="Next").click()
    assert page.evaluate("document.querySelector('#f-name').validity.valueMissing")
    page.fill("#f-name", "Not A Name!")
    page.fill("#f-description", "Finds stops near you.")
    page.fill("#f-owner", "group:default/platform-team")
    page.fill("#f-system", "journeys")  # defaultKind System: completed on the server
    page.evaluate("document.querySelector('#f-name').removeAttribute('pattern')")  # reach the server's check
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#f-name-errors")).to_contain_text("Must match the pattern")
    shot_settled(page, f"scaffolder-form-step1-errors-{width}")
    page.fill("#f-name", "stop-finder")
    page.get_by_role("button", name="Next").click()

    expect(page.locator(".stepper li.current")).to_contain_text("Where to put the code")
    expect(page.locator("#f-port")).to_have_value("8000")  # the schema's default
    expect(page.locator("#f-repoUrl-host")).to_have_value("github.com")
    expect(page.locator("#f-repoUrl-owner")).to_have_value("northwind")  # allowedOwners: one choice
    page.fill("#f-repoUrl-repo", "stop-finder")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    shot_settled(page, f"scaffolder-form-step2-{width}")
    page.get_by_role("button", name="Review").click()

    expect(page.locator(".stepper li.current")).to_contain_text("Review")
    review = page.locator("dl.review")
    expect(review.first).to_contain_text("stop-finder")
    expect(review.first).to_contain_text("system:default/journeys")
    expect(review.nth(1)).to_contain_text("github.com?owner=northwind&repo=stop-finder")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    shot_settled(page, f"scaffolder-form-review-{width}")

    # Back keeps what was entered; the stepper jumps back too.
    page.get_by_role("button", name="Back").click()
    expect(page.locator("#f-repoUrl-repo")).to_have_value("stop-finder")
    page.locator(".stepper .step-link").first.click()
    expect(page.locator("#f-name")).to_have_value("stop-finder")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Review").click()
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r".*/create/tasks/[0-9a-f-]{36}/$"))
    task = Task.objects.get()
    assert page.url.endswith(f"/create/tasks/{task.pk}/")
    assert task.values == {
        "name": "stop-finder",
        "description": "Finds stops near you.",
        "owner": "group:default/platform-team",
        "system": "system:default/journeys",
        "repoUrl": "github.com?owner=northwind&repo=stop-finder",
        "port": 8000,
    }


CONDITIONAL = """\
    - title: Database
      required: [name, password]
      properties:
        name: {title: Name, type: string, ui:field: EntityNamePicker, ui:autofocus: true}
        password: {title: Admin password, type: string, ui:field: Secret, minLength: 8}
        engine:
          title: Engine
          type: string
          enum: [postgres, mysql]
          enumNames: [PostgreSQL, MySQL]
          ui:widget: radio
      dependencies:
        engine:
          oneOf:
            - properties:
                engine: {enum: [postgres]}
                extensions: {title: Extensions, type: array, items: {type: string, enum: [postgis, pgvector]},
                             ui:widget: checkboxes}
            - properties:
                engine: {enum: [mysql]}
                charset: {title: Charset, type: string, default: utf8mb4}
    - title: Access
      properties:
        public: {title: Reachable from the internet, type: boolean}
        tags: {title: Tags, type: array, ui:field: EntityTagsPicker}
      if: {properties: {public: {const: true}}, required: [public]}
      then:
        properties:
          allowlist: {title: Allowed addresses, type: array, items: {type: string}, ui:help: One CIDR per line}
        required: [allowlist]
"""
LOG_STEP = (
    "    - {id: log, action: debug:log, input: {message: 'db ${{ parameters.name }} pw=${{ parameters.password }}'}}\n"
)


@pytest.fixture
def conditional_template(scaffold_dirs):
    from scaffolder.tests.helpers import register_file_template, template_yaml, write_template

    path = write_template(scaffold_dirs / "db", template_yaml("database", LOG_STEP, parameters=CONDITIONAL))
    return register_file_template(path)


@pytest.mark.parametrize("width", [1280, 390])
def test_conditional_fields_and_a_secret_kept_in_the_browser(signed_in, live_server, conditional_template, width):
    page = signed_in
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/create/templates/default/database/run/")
    page.fill("#f-name", "orders-db")
    page.fill("#f-password", "s3cret-pass")
    expect(page.locator("text=Extensions")).to_have_count(0)
    page.get_by_label("PostgreSQL").check()  # a server round-trip draws the field its choice brings
    expect(page.get_by_label("postgis")).to_be_visible()
    expect(page.locator("#f-password")).to_have_value("s3cret-pass")  # the redraw kept the secret input
    page.get_by_label("MySQL").check()
    expect(page.locator("#f-charset")).to_have_value("utf8mb4")
    expect(page.get_by_label("postgis")).to_have_count(0)
    assert "s3cret-pass" not in page.content().replace(page.locator("#f-password").input_value(), "")
    shot_settled(page, f"scaffolder-form-conditional-{width}")
    page.get_by_role("button", name="Next").click()

    expect(page.locator(".stepper li.current")).to_contain_text("Access")
    page.get_by_label("Reachable from the internet").check()
    expect(page.locator("#f-allowlist")).to_be_visible()  # if/then: the field its condition brings
    page.get_by_role("button", name="Review").click()
    expect(page.locator("#f-allowlist-errors")).to_have_text("Required.")
    page.fill("#f-allowlist", "10.0.0.0/8\n192.168.0.0/16")
    page.fill("#f-tags", "db, Bad Tag")
    page.get_by_role("button", name="Review").click()
    expect(page.locator("#f-tags-errors")).to_contain_text("Not valid: Bad, Tag.")
    page.fill("#f-tags", "db, mysql")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    shot_settled(page, f"scaffolder-form-access-{width}")
    page.get_by_role("button", name="Review").click()

    expect(page.locator(".stepper li.current")).to_contain_text("Review")
    expect(page.locator("dl.review").first).to_contain_text("••••••")
    assert "s3cret-pass" not in page.content()
    shot_settled(page, f"scaffolder-form-conditional-review-{width}")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r".*/create/tasks/[0-9a-f-]{36}/$"))
    task = Task.objects.get()
    assert task.values == {
        "name": "orders-db",
        "engine": "mysql",
        "charset": "utf8mb4",
        "public": True,
        "allowlist": ["10.0.0.0/8", "192.168.0.0/16"],
        "tags": ["db", "mysql"],
    }
    # The secret reached the run (the log masks it) and was never stored.
    messages = [e.body.get("message", "") for e in task.events.all()]
    assert any("db orders-db pw=***" in m for m in messages), messages
    assert "s3cret-pass" not in str(task.spec) + str(task.values) + task.sealed_secrets
