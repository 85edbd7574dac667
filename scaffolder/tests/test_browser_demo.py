"""The demo end to end, in a real Chromium with a real Celery worker (issue 15's "done means"): the demo is
loaded as `make run` loads it (org and templates), a person signs in, chooses each of the three demo templates
in the gallery, fills its form with the pickers, previews it (dry run), creates it, watches the task page
until it completes, follows the output link to the new component's catalog page (its owner shown), and the
template page's census then counts it. Every stage is shot at 1280 and 390 px."""

import re
import shutil
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from catalog.demo import load_demo
from catalog.models import Entity
from portal.testing.access import grant
from portal.testing.browser import shot, sign_in
from portal.testing.celery import celery_worker
from scaffolder.models import CreatedEntity, Task
from scaffolder.tests.helpers import DEMO_TEMPLATES

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DEMO_ORG = DEMO_TEMPLATES.parent / "org"
WIDTHS = (1280, 390)
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def both_widths(page, name: str, *, shots: bool = True) -> None:
    """Shoot the page at 1280 and 390 px (no sideways scroll on the phone), and leave it at 1280."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(150)  # htmx's settle: the picture shows the page at rest
        assert page.evaluate(NO_SIDEWAYS_SCROLL), (name, width)
        if shots:
            shot(page, f"scaffolder-demo-{name}-{width}")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


@pytest.fixture
def demo(allow_tmp, settings):
    """The demo's org, templates and the service kit (the services depend on it), loaded by the demo loader."""
    settings.LOCAL_REPOS_DIR = allow_tmp / "repos"
    for folder in (DEMO_ORG, DEMO_TEMPLATES, DEMO_TEMPLATES.parent / "service-kit"):
        shutil.copytree(folder, allow_tmp / "demo" / folder.name)
    for _repo, result in load_demo(source=allow_tmp / "demo"):
        assert result.status == "ok", result.message
    return allow_tmp


@pytest.fixture
def ana(page, live_server, demo):
    """ana-silva of the demo org (journeys-team), allowed to run templates, signed in through the form."""
    user = get_user_model().objects.create_user("ana-silva", "ana@example.com", "pw-ana-12345")
    grant("contributor", user=user)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    both_widths(page, "sign-in")
    sign_in(page, "ana-silva", "pw-ana-12345")
    page.wait_for_url(f"{live_server.url}/")
    return user


def fill_python_service(page, name: str) -> None:
    page.fill("#f-name", name)
    page.fill("#f-description", "Finds stops near you.")
    page.fill("#f-owner", "journeys-team")  # the OwnerPicker completes it to group:default/journeys-team
    page.fill("#f-system", "journey-planner")  # defaultKind System


def fill_static_website(page, name: str) -> None:
    page.fill("#f-name", name)
    page.fill("#f-title", "Network map")
    page.fill("#f-owner", "group:default/web-experience-team")


def fill_shared_library(page, name: str) -> None:
    page.fill("#f-name", name)
    page.fill("#f-description", "GTFS helpers")
    page.fill("#f-owner", "platform-team")


DEMOS = [  # (template, its title in the gallery, first step's filler, the owner the component gets)
    ("python-fastapi-service", "Python FastAPI service", fill_python_service, "journeys-team"),
    ("static-website", "Static website", fill_static_website, "web-experience-team"),
    ("shared-python-library", "Shared Python library", fill_shared_library, "platform-team"),
]


def test_each_demo_template_from_the_gallery_to_its_catalog_page_and_census(ana, page, live_server, demo):
    names = {template: f"demo-{uuid.uuid4().hex[:6]}" for template, *_ in DEMOS}
    bares = [Path(settings.DATA_DIR) / "repos" / "scaffolder" / f"{name}.git" for name in names.values()]
    try:
        with celery_worker({"CATALOG_ALLOWED_PATHS": f"{demo},{settings.DATA_DIR}"}):
            for number, (template, title, fill, owner) in enumerate(DEMOS):
                run_one(page, live_server.url, template, title, fill, owner, names[template], shots=number == 0)
    finally:
        for bare in bares:
            shutil.rmtree(bare, ignore_errors=True)
    assert Task.objects.filter(status=Task.Status.COMPLETED).count() == 3
    assert CreatedEntity.objects.count() == 3


def run_one(page, base: str, template: str, title: str, fill, owner: str, name: str, *, shots: bool) -> None:
    page.goto(f"{base}/create/")
    expect(page.locator(".template-card")).to_have_count(3)
    both_widths(page, "gallery", shots=shots)
    page.get_by_role("link", name=title).click()
    page.wait_for_url(f"{base}/create/templates/default/{template}/")
    expect(page.locator("#template-census")).to_be_visible()
    both_widths(page, "template-before", shots=shots)

    page.get_by_role("link", name="Choose").click()
    expect(page.locator(".stepper li.current")).to_have_count(1)
    fill(page, name)
    both_widths(page, "form-step1", shots=shots)
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#f-repoUrl-owner")).to_have_value("northwind")  # allowedOwners: its one choice
    page.fill("#f-repoUrl-repo", name)
    both_widths(page, "form-step2", shots=shots)
    page.get_by_role("button", name="Review").click()
    expect(page.locator(".stepper li.current")).to_contain_text("Review")
    expect(page.locator("dl.review").first).to_contain_text(name)
    expect(page.locator("dl.review").first).to_contain_text(f"group:default/{owner}")

    # The preview renders the skeleton with these values and creates nothing.
    page.get_by_role("button", name="Preview (dry run)").click()
    tree = page.locator("#dry-run .file-tree")
    expect(tree).to_contain_text("catalog-info.yaml")
    descriptor = tree.locator("li", has=page.locator("summary", has_text=re.compile(r"^catalog-info\.yaml")))
    descriptor.locator("summary").click()
    expect(descriptor.locator("pre")).to_contain_text(re.compile(rf"name: \"?{name}\"?\n"))
    expect(descriptor.locator("pre")).to_contain_text(f"group:default/{owner}")
    expect(page.locator("#dry-run")).to_contain_text("does not support dry-run")  # publish:git was skipped
    assert not Task.objects.filter(values__name=name).exists()
    both_widths(page, "form-preview", shots=shots)

    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r".*/create/tasks/[0-9a-f-]{36}/$"))
    expect(page.locator("#task-log")).to_contain_text("Beginning step", timeout=30_000)
    expect(page.locator("#task-head .badge").first).to_have_text("completed", timeout=90_000)
    expect(page.locator(".task-steps .badge.task-completed")).to_have_count(3)
    both_widths(page, "task-completed", shots=shots)

    page.get_by_role("link", name="Open in catalog").click()
    page.wait_for_url(f"{base}/catalog/default/component/{name}/")
    expect(page.locator(".entity-head .ref")).to_have_text(f"component:default/{name}")
    owner_row = page.locator("dt", has_text=re.compile("^Owner$")).locator("xpath=following-sibling::dd[1]")
    expect(owner_row.locator(f'a[href="/catalog/default/group/{owner}/"]')).to_be_visible()
    both_widths(page, "component", shots=shots)
    assert Entity.objects.get(ref=f"component:default/{name}").owner_ref == f"group:default/{owner}"

    page.goto(f"{base}/create/templates/default/{template}/")
    census = page.locator("#template-census")
    expect(census.locator("tbody tr")).to_have_count(1)
    expect(census.locator("tbody tr td").nth(1)).to_have_text("1")
    expect(census.locator(f'a[href="/catalog/default/component/{name}/"]')).to_have_count(1)
    expect(census.locator(".badge.ok")).to_have_text("latest")
    both_widths(page, "template-after", shots=shots)
