"""The corpus rails-demo template in a real Chromium: its form (railsArguments on the second page) and the
page of a dry-run task whose fetch:rails step ran rails new, on a phone and a desktop."""

import shutil

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from portal.testing.access import grant
from portal.testing.browser import shot, sign_in
from scaffolder import engine, service
from scaffolder.models import Task
from scaffolder.tests.helpers import register_file_template
from scaffolder.tests.test_browser_tasks import DESKTOP, PHONE, no_sideways_scroll
from scaffolder.tests.test_rails import needs_rails

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.django_db(transaction=True)]


@needs_rails
def test_rails_demo_form_and_task_page(page, live_server, scaffold_dirs, shared_dir):
    shutil.copytree(shared_dir / "backstage-corpus" / "templates" / "software-templates" / "rails-demo",
                    scaffold_dirs / "t")  # fmt: skip
    entity = register_file_template(scaffold_dirs / "t" / "template.yaml")
    user = get_user_model().objects.create_user("ana", "ana@example.com", "pw-ana-12345")
    grant("contributor", user=user)
    values = {"name": "rails-shop", "owner": "group:default/team-a", "dryRun": True,
              "repoUrl": "github.com?owner=northwind&repo=rails-shop",
              "railsArguments": {"template": "./rails-template-file.rb", "api": True}}  # fmt: skip
    task = engine.run_task(service.create_task(user, entity.ref, values, dispatch=False).pk)
    assert task.status == Task.Status.COMPLETED, task.error
    sign_in(page, "ana", "pw-ana-12345", base_url=live_server.url)
    page.wait_for_url(f"{live_server.url}/")
    for viewport, width in ((DESKTOP, 1280), (PHONE, 390)):
        page.set_viewport_size(viewport)
        page.goto(f"{live_server.url}/create/templates/default/rails-demo/run/")
        expect(page.locator("body")).to_contain_text("Unique name of the component")
        page.get_by_label("Name").fill("rails-shop")
        page.get_by_label("Owner").fill("group:default/team-a")
        page.get_by_role("button", name="Next").click()
        expect(page.locator("body")).to_contain_text("arguments to run the rails new command")
        no_sideways_scroll(page)
        shot(page, f"scaffolder-rails-demo-form-{width}")
        page.goto(f"{live_server.url}/create/tasks/{task.pk}/")
        log = page.locator("#task-log")
        expect(log).to_contain_text("Running rails new rails-shop --api --template")
        expect(log).to_contain_text("rakefile    example.rake")
        expect(log).to_contain_text("Gemfile")  # debug:log listWorkspace
        expect(log).not_to_contain_text("hint:")  # git init's advice is not in the log
        no_sideways_scroll(page)
        shot(page, f"scaffolder-rails-task-{width}")
