"""In a real Chromium: the inbox and its badge, mute settings, the exemption request → approve flow, the
home panel, and the admin's blast-radius preview, at desktop width and on a 390 px phone."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from catalog.ownership import person
from portal.notifications import notify
from portal.testing.browser import shot, sign_in
from scorecards import evaluator
from scorecards.models import Exemption, RuleResult, Scorecard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def user(name: str, **fields):
    row = get_user_model().objects.create_user(name, f"{name}@example.com", f"pw-{name}-12345", **fields)
    person(row)
    return row


def as_user(page, live_server, name: str) -> None:
    page.context.clear_cookies()
    sign_in(page, name, f"pw-{name}-12345", base_url=live_server.url)
    page.wait_for_url(f"{live_server.url}/")


def fits(page, selector: str = "main") -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width}px)"


@pytest.fixture
def org(scored_org):
    evaluator.evaluate()
    return scored_org


def test_inbox_badge_mark_read_and_mute_settings(page, live_server, org):
    pat = user("pat")
    notify([pat], category="scorecards.level-dropped", title="component:default/checkout dropped from Gold to Silver",
           body="On the scorecard Production readiness: a rule of level Gold or below no longer passes.",
           url="/catalog/default/component/checkout/scorecards/")  # fmt: skip
    notify([pat], category="scorecards.exemption-decided",
           title="Exemption approved: component:default/ledger from described",
           body="sam approved it (fine until Q3).", url="/catalog/default/component/ledger/scorecards/")  # fmt: skip
    page.set_viewport_size(DESKTOP)
    as_user(page, live_server, "pat")
    badge = page.locator("#inbox-count")
    badge.wait_for()
    assert badge.inner_text() == "2"
    page.click("a.inbox-link")
    page.wait_for_url("**/notifications/")
    assert page.locator(".notification.unread").count() == 2
    shot(page, "notifications-inbox")
    page.locator(".notification").first.get_by_role("button", name="Mark read").click()
    expect(page.locator(".notification.unread")).to_have_count(1)
    expect(page.locator("#inbox-count")).to_have_text("1")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator(".notification.unread")).to_have_count(0)
    expect(page.locator("#inbox-count")).to_have_text("")
    page.set_viewport_size(PHONE)
    fits(page)
    shot(page, "notifications-inbox-phone")

    page.goto(f"{live_server.url}/notifications/settings/")
    page.get_by_label("Mute A scorecard level of something you own dropped").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/notifications/settings/")
    assert "1 category muted" in page.locator(".messages").inner_text()
    fits(page)
    shot(page, "notifications-settings-phone")
    page.set_viewport_size(DESKTOP)
    shot(page, "notifications-settings")
    assert notify([pat], category="scorecards.level-dropped", title="x") == 0


def test_request_an_exemption_then_the_scorecard_owner_approves_it(page, live_server, org, settings):
    settings.SCORECARDS_EVALUATE_ON_REFRESH = False
    user("pat"), user("sam")
    card = Scorecard.objects.get()
    card.spec = {**card.spec, "owner": "user:default/sam"}
    card.save()
    page.set_viewport_size(DESKTOP)
    as_user(page, live_server, "pat")
    assert page.locator("#scorecard-fixes").is_visible()
    assert "blocks Silver" in page.locator("#scorecard-fixes").inner_text()
    shot(page, "home-scorecard-fixes")
    page.set_viewport_size(PHONE)
    fits(page)
    shot(page, "home-scorecard-fixes-phone")

    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/catalog/default/component/ledger/scorecards/")
    rule = page.locator("[data-rule=described]")
    rule.get_by_role("button", name="Request exemption").click()
    rule.get_by_label("Reason").fill("The description moves to TechDocs next quarter")
    shot(page, "exemption-request-form")
    page.set_viewport_size(PHONE)
    fits(page)
    shot(page, "exemption-request-form-phone")
    rule.get_by_role("button", name="Send request").click()
    rule.locator("[data-state=pending]").wait_for()
    assert "exemption requested" in rule.inner_text()
    assert Exemption.objects.get().reason == "The description moves to TechDocs next quarter"

    page.set_viewport_size(DESKTOP)
    as_user(page, live_server, "sam")
    page.locator("#inbox-count").wait_for()
    assert page.locator("#inbox-count").inner_text() == "1"
    page.goto(f"{live_server.url}/scorecards/exemptions/")
    item = page.locator(".exemption-item").first
    assert "The description moves to TechDocs next quarter" in item.inner_text()
    shot(page, "exemption-requests")
    page.set_viewport_size(PHONE)
    fits(page)
    shot(page, "exemption-requests-phone")
    item.get_by_label("Note").fill("Fine until the docs move")
    item.get_by_role("button", name="Approve").click()
    page.locator(".exemption-item[data-state=approved]").wait_for()
    assert Exemption.objects.get().approved_by == "sam"
    evaluator.evaluate()
    assert RuleResult.objects.get(entity_ref="component:default/ledger", rule_id="described").status == "exempt"

    as_user(page, live_server, "pat")
    page.goto(f"{live_server.url}/notifications/")
    first = page.locator(".notification").first.inner_text()
    assert "Exemption approved: component:default/ledger from described" in first


def test_the_admin_previews_the_blast_radius_before_saving(page, live_server, org):
    get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-12345")
    rules = [{"id": "lifecycle", "level": "Bronze", "expression": "has(entity.spec.lifecycle)", "description": "L"},
             {"id": "system", "level": "Silver", "expression": "has_system(entity)", "description": "S"}]  # fmt: skip
    spec = {"owner": "group:default/payments", "appliesTo": 'entity.kind == "Component"',
            "levels": ["Bronze", "Silver"],
            "rules": rules}  # fmt: skip
    card = Scorecard.objects.create(name="basics", title="Basics", spec=spec)
    evaluator.evaluate()
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/admin/login/")
    sign_in(page, "root", "pw-root-12345")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/scorecards/scorecard/{card.pk}/change/")
    spec = page.locator("textarea[name=spec]")
    spec.fill(spec.input_value().replace('"has_system(entity)"', '"false"'))
    page.get_by_role("button", name="Preview level changes").click()
    page.locator("#blast-summary").wait_for()
    assert "1 entity would change level" in page.locator("#blast-summary").inner_text()
    row = page.locator("#blast-changes tbody tr")
    assert row.count() == 1 and row.inner_text().split("\t") == ["component:default/checkout", "Silver", "Bronze"]
    page.locator("#blast-radius").scroll_into_view_if_needed()
    shot(page, "admin-blast-radius")
    page.set_viewport_size(PHONE)
    shot(page, "admin-blast-radius-phone")
    assert Scorecard.objects.get(pk=card.pk).spec["rules"][1]["expression"] == "has_system(entity)"  # not saved
    page.set_viewport_size(DESKTOP)
    catalog_card = Scorecard.objects.get(source="catalog")
    page.goto(f"{live_server.url}/admin/scorecards/scorecard/{catalog_card.pk}/change/")
    copy = page.get_by_label("Edited spec (JSON)")
    copy.fill(copy.input_value().replace("has_description(entity) && owner_members(entity) >= 2", "true"))
    page.get_by_role("button", name="Preview level changes").click()
    page.locator("#blast-summary").wait_for()
    assert "1 entity would change level" in page.locator("#blast-summary").inner_text()
    page.locator("#blast-radius").scroll_into_view_if_needed()
    shot(page, "admin-what-if-catalog")
