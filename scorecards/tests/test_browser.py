"""The entity page's Scorecards tab in a real Chromium, at desktop width and on a phone."""

import pytest
from django.contrib.auth import get_user_model

from portal.testing.browser import shot, sign_in
from scorecards import evaluator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page, live_server, scored_org):
    evaluator.evaluate()
    get_user_model().objects.create_user("viewer", "viewer@example.com", "pw-viewer-12345")
    sign_in(page, "viewer", "pw-viewer-12345", base_url=live_server.url)
    page.wait_for_url(f"{live_server.url}/")
    return page


def test_the_scorecards_tab_shows_level_results_why_and_how_to_fix(signed_in, live_server):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/catalog/default/component/orphan-svc/")
    page.get_by_role("tab", name="Scorecards").click()
    page.wait_for_url("**/scorecards/")
    card = page.locator(".scorecard").first
    assert card.locator("h2").inner_text() == "Production readiness"
    assert card.locator(".level").inner_text() == "No level yet"
    assert "1 of 4 rules pass (25%)" in card.locator(".scorecard-meta").inner_text()
    owner_rule = card.locator("[data-rule=owner-is-group]")
    assert owner_rule.get_attribute("data-result") == "failed"
    assert "the owner group:default/ghosts is not in the catalog" in owner_rule.locator(".why").inner_text()
    assert "Set spec.owner to a Group" in owner_rule.locator(".fix").inner_text()
    assert "failed since " in owner_rule.inner_text() and " s old" in owner_rule.inner_text()
    passed = card.locator("[data-rule=lifecycle-set]")
    assert passed.get_attribute("data-result") == "passed" and passed.locator(".why").count() == 0
    shot(page, "scorecards-tab")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/catalog/default/component/checkout/scorecards/")
    assert page.locator(".scorecard .level").inner_text() == "Gold"
    # The tab's content fits the phone (the site's top bar is wider than 390 px on every page: not this tab's).
    right = page.evaluate(
        "Math.max(...[...document.querySelectorAll('#scorecards *')].map(e => e.getBoundingClientRect().right))"
    )
    assert right <= 390, f"the Scorecards tab is wider than the phone ({right}px)"
    shot(page, "scorecards-tab-phone")


def test_entities_without_results_have_no_tab(signed_in, live_server):
    page = signed_in
    page.goto(f"{live_server.url}/catalog/default/component/site/")
    assert page.get_by_role("tab", name="Overview").is_visible()
    assert page.get_by_role("tab", name="Scorecards").count() == 0
