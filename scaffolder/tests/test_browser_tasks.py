"""The task pages in a real Chromium, with a real Celery worker running the task: the log appears live while
it runs, the page settles on the output links; a failed run offers the retry; phone and desktop widths."""

import shutil
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from portal.testing.access import grant
from portal.testing.browser import shot, sign_in
from portal.testing.celery import celery_worker
from scaffolder import engine, service
from scaffolder.tests.helpers import register_file_template, template_yaml, write_template

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STEPS = """\
    - {id: fetch, name: Fetch skeleton, action: fetch:template,
       input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}}
    - {id: wait, name: Think it over, action: debug:wait, input: {seconds: 3}}
    - {id: publish, name: Publish, action: publish:git, input: {repoName: '${{ parameters.name }}'}}
    - {id: register, name: Register, action: catalog:register,
       input: {repoContentsUrl: '${{ steps.publish.output.repoContentsUrl }}'}}
"""
OUTPUT = """\
    links:
      - {title: Repository, url: '${{ steps.publish.output.remoteUrl }}'}
      - {title: Open in catalog, icon: catalog, entityRef: '${{ steps.register.output.entityRef }}'}
    text: [{title: Next steps, content: 'Clone the repository and run make dev.'}]
"""
DESCRIPTOR = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: '${{ values.name }}'}
spec: {type: service, lifecycle: experimental, owner: team-a}
"""
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


@pytest.fixture
def ana(page, live_server, scaffold_dirs):
    path = write_template(scaffold_dirs / "tpl", template_yaml("new-service", STEPS, output=OUTPUT),
                          {"skeleton/catalog-info.yaml": DESCRIPTOR, "skeleton/README.md": "# ${{ values.name }}\n"})
    register_file_template(path)
    user = get_user_model().objects.create_user("ana", "ana@example.com", "pw-ana-12345")
    grant("contributor", user=user)
    sign_in(page, "ana", "pw-ana-12345", base_url=live_server.url)
    page.wait_for_url(f"{live_server.url}/")
    return user


def test_a_run_is_watched_live_and_ends_with_links(ana, page, live_server, scaffold_dirs):
    name = f"svc-{uuid.uuid4().hex[:6]}"
    # The worker publishes under its own data dir (this process's): the catalog may read it there.
    bare = Path(settings.DATA_DIR) / "repos" / "scaffolder" / f"{name}.git"
    try:
        watch_a_run(page, live_server, ana, name, {"CATALOG_ALLOWED_PATHS": f"{scaffold_dirs},{settings.DATA_DIR}"})
    finally:
        shutil.rmtree(bare, ignore_errors=True)


def watch_a_run(page, live_server, ana, name, env) -> None:
    with celery_worker(env):
        task = service.create_task(ana, "new-service", {"name": name})  # sent to the worker on commit
        page.set_viewport_size(DESKTOP)
        page.goto(f"{live_server.url}/create/tasks/{task.pk}/")
        log = page.locator("#task-log")
        # The wait step's line arrives while the task is still running: the page did not reload to show it.
        expect(log).to_contain_text("Waiting 3 s", timeout=30_000)
        expect(page.locator('#task-poller[data-finished="false"]')).to_have_count(1)
        expect(page.locator("#task-head .badge").first).to_have_text("processing")
        shot(page, "scaffolder-task-running-1280")
        page.set_viewport_size(PHONE)
        no_sideways_scroll(page)
        shot(page, "scaffolder-task-running-390")
        expect(page.locator("#task-head .badge").first).to_have_text("completed", timeout=60_000)
    expect(page.locator('#task-poller[data-finished="true"]')).to_have_count(1)
    expect(log).to_contain_text("Finished step Register")
    catalog_link = page.get_by_role("link", name="Open in catalog")
    expect(catalog_link).to_have_attribute("href", f"/catalog/default/component/{name}/")
    expect(page.locator(".task-steps .badge.task-completed")).to_have_count(4)
    no_sideways_scroll(page)
    shot(page, "scaffolder-task-completed-390")
    page.set_viewport_size(DESKTOP)
    shot(page, "scaffolder-task-completed-1280")
    lines = page.locator("#task-log .log-line").count()
    time.sleep(2)  # polling has stopped: nothing is appended twice
    assert page.locator("#task-log .log-line").count() == lines
    catalog_link.click()
    page.wait_for_url(f"{live_server.url}/catalog/default/component/{name}/")


def test_a_failed_run_offers_the_retry_and_the_list(ana, page, live_server, scaffold_dirs):
    (scaffold_dirs / "repos" / "scaffolder" / "taken.git").mkdir(parents=True)
    task = service.create_task(ana, "new-service", {"name": "taken"}, dispatch=False)
    engine.run_task(task.pk)  # publish fails: the repository exists
    service.create_task(ana, "new-service", {"name": "queued"}, dispatch=False)
    for viewport, width in ((DESKTOP, 1280), (PHONE, 390)):
        page.set_viewport_size(viewport)
        page.goto(f"{live_server.url}/create/tasks/{task.pk}/")
        expect(page.locator(".task-error")).to_contain_text("already exists")
        expect(page.get_by_role("button", name="Retry from failed step")).to_be_visible()
        no_sideways_scroll(page)
        shot(page, f"scaffolder-task-failed-{width}")
        page.goto(f"{live_server.url}/create/tasks/")
        expect(page.locator(".task-list tbody tr")).to_have_count(2)
        no_sideways_scroll(page)
        shot(page, f"scaffolder-task-list-{width}")
    page.select_option("select[name=status]", "failed")
    expect(page.locator(".task-list tbody tr")).to_have_count(1)
    page.goto(f"{live_server.url}/create/tasks/{task.pk}/")
    page.get_by_role("button", name="Retry from failed step").click()
    expect(page.locator("#task-log")).to_contain_text("Retried by")
