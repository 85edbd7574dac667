"""Every catalog page in a real Chromium: sign in, home, list with facets and search, entity tabs, register."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from catalog.ingestion.refresh import refresh_location, register_location
from portal.testing.access import grant
from portal.testing.browser import shot, sign_in
from portal.testing.gitrepos import git_target, make_repo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


ORG = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments, title: Payments Team}
spec: {type: team, children: [], members: [pat]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: pat}
spec: {memberOf: [payments], profile: {email: pat@example.com, displayName: Pat}}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: checkout, description: Takes payments, tags: [python]}
spec: {type: service, lifecycle: production, owner: payments, providesApis: [checkout-api],
       dependsOn: [resource:payments-db, component:ledger]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ledger, description: Double-entry ledger}
spec: {type: library, lifecycle: experimental, owner: payments}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: broken-one}
spec: {type: service, owner: payments}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: checkout-api}
spec:
  type: openapi
  lifecycle: production
  owner: payments
  definition: |
    openapi: 3.0.0
    info: {title: Checkout API, version: 1.0.0}
    paths:
      /orders:
        get:
          summary: List orders
          responses: {'200': {description: OK}}
"""


@pytest.fixture
def org(allow_tmp):
    bare = allow_tmp / "org.git"
    make_repo(bare, {"catalog-info.yaml": ORG})
    location = register_location(git_target(bare))
    refresh_location(location.pk)
    return bare


@pytest.fixture
def signed_in(page, live_server, org):
    get_user_model().objects.create_user("pat", "pat@example.com", "pw-pat-12345")
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    shot(page, "login")
    sign_in(page, "pat", "pw-pat-12345")
    page.wait_for_url(f"{live_server.url}/")
    return page


def test_home_shows_what_i_own_and_its_problems(signed_in):
    page = signed_in
    expect(page.get_by_role("heading", name="Owned by me and my teams")).to_be_visible()
    expect(page.get_by_role("link", name="checkout").first).to_be_visible()
    expect(page.get_by_text("Problems in what you own")).to_be_visible()
    shot(page, "home")


def test_catalog_list_facets_and_search(signed_in, live_server):
    page = signed_in
    page.goto(f"{live_server.url}/catalog/")
    expect(page.locator("#entity-table tbody tr")).to_have_count(6)
    page.locator("#facets a", has_text="Component").first.click()
    page.wait_for_url("**kind=Component**")
    expect(page.locator("#entity-table tbody tr")).to_have_count(3)
    page.fill("input[name=q]", "ledger")
    expect(page.locator("#entity-table tbody tr")).to_have_count(1)  # no eval: the CSP forbids it
    expect(page.locator("#entity-table").get_by_role("link", name="ledger")).to_be_visible()
    page.goto(f"{live_server.url}/catalog/")
    page.locator("#facets a", has_text="python").first.click()
    page.wait_for_url("**tag=python**")
    expect(page.locator("#entity-table tbody tr")).to_have_count(1)
    page.goto(f"{live_server.url}/catalog/?has_errors=true")
    expect(page.locator("#entity-table .badge.error")).to_have_count(1)
    shot(page, "catalog-list")


def test_entity_page_tabs(signed_in, live_server):
    page = signed_in
    page.goto(f"{live_server.url}/catalog/default/component/checkout/")
    expect(page.locator("#about").get_by_text("Takes payments")).to_be_visible()
    relations = page.locator("#relations")
    expect(relations.get_by_text("payments-db")).to_be_visible()  # dangling, still shown
    page.click("#star")
    page.wait_for_selector("#star:has-text('Starred')")
    shot(page, "entity-overview")
    page.get_by_role("tab", name="Dependencies").click()
    page.wait_for_selector("#graph .node")
    expect(page.locator("#graph .node").nth(3)).to_be_attached()  # waits for at least 4 nodes
    page.select_option("select[name=depth]", "2")
    page.wait_for_url("**depth=2**")
    shot(page, "entity-graph")
    page.goto(f"{live_server.url}/catalog/default/api/checkout-api/definition/")
    page.wait_for_selector("#swagger-ui .opblock-summary")
    expect(page.get_by_text("List orders")).to_be_visible()
    shot(page, "api-definition")
    page.goto(f"{live_server.url}/catalog/default/component/broken-one/")
    expect(page.locator("#processing-errors").get_by_text("lifecycle").first).to_be_visible()
    shot(page, "entity-errors")


def test_register_existing_component(signed_in, live_server, allow_tmp):
    page = signed_in
    grant("contributor", user=get_user_model().objects.get(username="pat"))  # viewers may not register
    bare = allow_tmp / "new.git"
    make_repo(bare, {"catalog-info.yaml": ORG.split("---")[3].replace("ledger", "fresh-lib")})
    page.goto(f"{live_server.url}/catalog/register/")
    page.fill("input[name=target]", git_target(bare))
    page.click("text=Analyze")
    page.wait_for_selector("#analysis")
    expect(page.get_by_text("component:default/fresh-lib")).to_be_visible()
    shot(page, "register-preview")
    page.click("#import-button")
    page.wait_for_url("**/catalog/")
    expect(page.get_by_text("Registered")).to_be_visible()
    page.goto(f"{live_server.url}/catalog/register/?target=https://evil.example.com/x/y/blob/main/c.yaml")
    expect(page.locator("#register-error")).to_be_visible()


def test_deep_graph_of_the_demo_org_stays_readable(page, live_server, settings, tmp_path):
    from django.core.management import call_command

    settings.LOCAL_REPOS_DIR = tmp_path / "repos"
    settings.GIT_CACHE_DIR = tmp_path / "cache"
    settings.CATALOG_ALLOWED_PATHS = [str(tmp_path)]
    call_command("demo", "load", stdout=StringIO())
    get_user_model().objects.create_user("pat", "pat@example.com", "pw-pat-12345")
    sign_in(page, "pat", "pw-pat-12345", base_url=live_server.url)
    page.goto(f"{live_server.url}/catalog/default/component/rider-bff/graph/?depth=3")
    page.wait_for_selector("#graph .node")
    expect(page.locator("#graph .node").nth(10)).to_be_attached()  # waits for more than 10 nodes
    nodes = page.locator("#graph .node").count()  # drawn now: the edges are drawn with them
    expect(page.locator("#graph path.edge").nth(nodes - 2)).to_be_attached()  # at least nodes - 1 edges
    shot(page, "entity-graph-deep")


def test_home_shows_recently_visited(signed_in, live_server):
    page = signed_in
    expect(page.locator("#recently-visited").get_by_text("Entities you open show up here.")).to_be_visible()
    for path in ("component/ledger", "api/checkout-api", "component/checkout"):
        page.goto(f"{live_server.url}/catalog/default/{path}/")
    page.get_by_role("link", name="Home").click()
    page.wait_for_url(f"{live_server.url}/")
    links = page.locator("#recently-visited a")
    expect(links).to_have_text(["checkout", "checkout-api", "ledger"])
    shot(page, "home-recently-visited")
    links.nth(1).click()
    page.wait_for_url("**/catalog/default/api/checkout-api/")


OWNED = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: refunds, description: Gives money back}
spec: {type: service, lifecycle: production, owner: payments}
"""


def test_owner_actions_on_the_entity_page(signed_in, live_server, allow_tmp):
    page = signed_in
    bare = allow_tmp / "refunds.git"
    make_repo(bare, {"catalog-info.yaml": OWNED})
    refresh_location(register_location(git_target(bare)).pk)
    page.goto(f"{live_server.url}/catalog/default/component/refunds/")
    expect(page.locator("#refresh-entity")).to_be_visible()
    expect(page.locator("#unregister-entity")).to_be_visible()
    shot(page, "owner-actions")
    page.click("#edit-overrides")
    page.wait_for_selector("#overrides-form")
    expect(page.locator("textarea[name=verified_owner]")).to_have_count(0)
    expect(page.locator("input[name=verified_owner]")).to_have_count(0)
    page.fill("textarea[name=deprecation_note]", "Use payouts instead")
    page.fill("input[name=extra_tags]", "pci, tier-1")
    shot(page, "owner-overrides-form")
    page.click("#save-overrides")
    page.wait_for_selector("#governance")
    expect(page.locator("#governance").get_by_text("Use payouts instead")).to_be_visible()
    page.click("#refresh-entity")
    page.wait_for_selector(".messages")
    expect(page.get_by_text("Refresh of")).to_be_visible()
    page.click("#unregister-entity")
    page.wait_for_selector("#unregister-confirm")
    expect(page.locator("#unregister-confirm").get_by_text("component:default/refunds")).to_be_visible()
    shot(page, "owner-unregister-confirm")
    page.click("#confirm-unregister")
    page.wait_for_url("**/catalog/")
    expect(page.get_by_text("Unregistered")).to_be_visible()
    # checkout's location also holds the group and the user, which pat does not own: no unregister button.
    page.goto(f"{live_server.url}/catalog/default/component/checkout/")
    expect(page.locator("#refresh-entity")).to_be_visible()
    expect(page.locator("#unregister-entity")).to_have_count(0)


def test_admin_why_page(page, live_server, org):
    get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-12345")
    get_user_model().objects.create_user("pat", "pat@example.com", "pw-pat-12345")
    grant("viewer", name="Libraries are private", effect="deny", subject="signed_in", types="library")
    page.goto(f"{live_server.url}/admin/login/")  # hands over to the portal's sign-in page
    sign_in(page, "root", "pw-root-12345")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/portal/rolegrant/")
    page.click("#why-link")
    page.fill("input[name=user]", "pat")
    page.select_option("select[name=action]", "catalog.entity.unregister")
    page.fill("input[name=entity]", "component:default/checkout")
    page.click("#why-form input[type=submit]")
    page.wait_for_selector("#why-answer")
    expect(page.locator("#why-answer").get_by_text("Allowed")).to_be_visible()
    expect(page.locator("#why-considered").get_by_text("Owners")).to_be_visible()
    shot(page, "admin-why-allowed")
    page.fill("input[name=entity]", "component:default/ledger")
    page.select_option("select[name=action]", "catalog.entity.read")
    page.click("#why-form input[type=submit]")
    page.wait_for_selector("#why-answer.denied")
    expect(page.locator("#why-answer").get_by_text("Libraries are private")).to_be_visible()
    shot(page, "admin-why-denied")


def test_admin_identity_review_in_the_list_and_on_the_change_page(page, live_server, org):
    from catalog import identity
    from portal.models import Identity

    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-12345")
    for name, email in [("pat", "pat@example.com"), ("casey", "casey@contractor.example"),
                        ("robin", "robin@contractor.example")]:  # fmt: skip
        person = get_user_model().objects.create_user(name, email, "pw-12345-long")
        identity.store(person, identity.local_claims(person))
    identity.mark_reviewed(Identity.objects.filter(user__username="robin"), root, "agency designer")
    page.goto(f"{live_server.url}/admin/login/")
    sign_in(page, "root", "pw-root-12345")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/portal/identity/")
    expect(page.locator("#changelist-filter")).to_contain_text("Unmatched, reviewed")
    expect(page.locator("#result_list")).to_contain_text("unmatched — reviewed by root")
    expect(page.locator("#result_list")).to_contain_text("unmatched — needs review")
    shot(page, "admin-identities-review-filter")
    page.get_by_role("link", name="Unmatched / needs review").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.get_by_role("link", name="casey").click()
    page.fill("#id_review_note", "contractor, no catalog entry")
    page.get_by_role("button", name="Mark reviewed").click()
    expect(page.locator(".messagelist")).to_contain_text("Marked reviewed")
    expect(page.locator("#review")).to_contain_text("Note: contractor, no catalog entry")
    shot(page, "admin-identity-reviewed")
    assert not Identity.objects.get(user__username="casey").needs_review


def test_verified_owner_in_the_catalog_list(signed_in, live_server):
    from catalog.models import EntityOverride

    EntityOverride.objects.create(entity_ref="component:default/ledger", verified_owner="group:default/platform",
                                  updated_by="root")  # fmt: skip
    page = signed_in
    page.goto(f"{live_server.url}/catalog/")
    row = page.locator("#entity-table tbody tr", has_text="ledger")
    expect(row).to_contain_text("platform ✔")
    expect(page.locator("#facets a", has_text="platform")).to_contain_text("1")
    shot(page, "catalog-list-verified-owner")
    page.goto(f"{live_server.url}/catalog/?mine=1")
    expect(page.locator("#entity-table tbody tr", has_text="checkout").first).to_be_visible()
    expect(page.locator("#entity-table tbody tr", has_text="ledger")).to_have_count(0)


def test_pages_fit_a_phone(signed_in, live_server):
    """At 390 px nothing makes the page scroll sideways: the top bar wraps, wide tables and tabs scroll
    inside themselves, long refs wrap."""
    page = signed_in
    page.set_viewport_size({"width": 390, "height": 844})
    paths = ["/", "/catalog/", "/catalog/default/component/checkout/", "/catalog/default/component/checkout/graph/",
             "/catalog/default/api/checkout-api/definition/", "/catalog/register/", "/accounts/tokens/"]  # fmt: skip
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    shot(page, "entity-phone")
