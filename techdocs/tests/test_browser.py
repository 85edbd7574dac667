"""TechDocs in a real Chromium: the Docs tab, navigation, deep links, a failed build, and script in Markdown."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from catalog.ingestion.refresh import refresh_location, register_location
from portal.testing.browser import shot, sign_in
from portal.testing.gitrepos import git_target, make_repo
from techdocs import builder
from techdocs.tests.test_build import MKDOCS, docs_files
from techdocs.tests.test_serve import HOSTILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = "/catalog/default/component/ledger/docs/"


@pytest.fixture
def repo(allow_tmp, docs_storage):
    bare = allow_tmp / "ledger.git"
    make_repo(bare, {**docs_files(), "docs/hostile.md": HOSTILE})
    refresh_location(register_location(git_target(bare), type="url").pk)
    assert builder.build("component:default/ledger").result == "built"
    return bare


@pytest.fixture
def signed_in(page, live_server, repo):
    get_user_model().objects.create_user("pat", "pat@example.com", "pw-pat-12345")
    sign_in(page, "pat", "pw-pat-12345", base_url=live_server.url)
    page.wait_for_url(f"{live_server.url}/")
    return page


def test_docs_tab_navigation_and_deep_links(signed_in, live_server):
    page = signed_in
    page.goto(f"{live_server.url}/catalog/default/component/ledger/")
    page.get_by_role("tab", name="Docs").click()
    expect(page.locator("#docs-content h1")).to_contain_text("Ledger")
    expect(page.locator("#docs-content img")).to_have_js_property("naturalWidth", 1)  # the image loaded
    shot(page, "techdocs-tab")
    page.locator(".docs-nav").get_by_role("link", name="Guide").click()
    page.wait_for_url(f"{live_server.url}{DOCS}guide/setup/")
    expect(page.locator("#docs-content h1")).to_contain_text("Setup")
    page.locator(".docs-toc").get_by_role("link", name="Configure").click()
    page.wait_for_url("**#configure")
    page.locator("#docs-content").get_by_role("link", name="home").click()  # a relative link back
    page.wait_for_url(f"{live_server.url}{DOCS}")
    page.goto(f"{live_server.url}{DOCS}guide/setup/#install")  # bookmarked deep link
    expect(page.locator("#docs-content h2").first).to_contain_text("Install")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "techdocs-tab-phone")


def test_script_in_markdown_does_not_run(signed_in, live_server):
    page = signed_in
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server.url}{DOCS}hostile/")
    expect(page.locator("#docs-content h1")).to_contain_text("Hostile")
    link = page.locator("#docs-content a", has_text="click")
    assert link.get_attribute("href") is None  # the javascript: URL was removed
    link.click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned") is None and not dialogs
    assert page.locator("#docs-content iframe, #docs-content script").count() == 0
    page.goto(f"{live_server.url}/api/techdocs/static/docs/default/component/ledger/hostile/index.html")
    assert page.evaluate("window.pwned") is None  # served as text, sandboxed: not rendered as a page
    shot(page, "techdocs-hostile-static")


def test_failed_build_shows_banner_and_last_good_site(signed_in, live_server, repo):
    make_repo(repo, {**docs_files(), "mkdocs.yml": MKDOCS + "theme: {name: no-such-theme}\n"})
    assert builder.build("component:default/ledger").result == "failed"
    page = signed_in
    page.goto(f"{live_server.url}{DOCS}")
    expect(page.locator("#docs-build-failed")).to_contain_text("The last docs build failed")
    expect(page.locator("#docs-content h1")).to_contain_text("Ledger")  # the last good build is still served
    page.locator("#docs-build-failed summary").click()
    expect(page.locator(".docs-log")).to_contain_text("no-such-theme")
    shot(page, "techdocs-failed")
    page.goto(f"{live_server.url}/docs/")
    expect(page.locator("#docs-list")).to_contain_text("failed")
    shot(page, "techdocs-home")
