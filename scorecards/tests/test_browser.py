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


def test_fact_rules_show_their_data_age_and_later_rules_when_they_count(page, live_server, allow_tmp):
    from scorecards import facts
    from scorecards.tests.test_facts import card_location, register, service_repo

    register(service_repo(allow_tmp, "docs-svc", {"README.md": "# Docs svc\n"}))
    path = card_location(allow_tmp, ("readme", 'file_exists(entity, "README.md")'),
                         ("runbook", 'file_matches(entity, "README.md", "(?im)^## runbook")'))  # fmt: skip
    card = (allow_tmp / "card.yaml").read_text()
    later = "    - {id: changelog, level: Silver, expression: 'file_exists(entity, \"CHANGELOG.md\")', " \
            "description: Keeps a changelog, enableOn: 2099-01-31}\n"  # fmt: skip
    (allow_tmp / "card.yaml").write_text(card + later)
    from catalog.ingestion.refresh import refresh_location

    refresh_location(path.pk)
    facts.collect()
    evaluator.evaluate()
    get_user_model().objects.create_user("viewer", "viewer@example.com", "pw-viewer-12345")
    sign_in(page, "viewer", "pw-viewer-12345", base_url=live_server.url)
    page.wait_for_url(f"{live_server.url}/")
    for width, name in ((1280, "scorecards-facts"), (390, "scorecards-facts-phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/catalog/default/component/docs-svc/scorecards/")
        runbook = page.locator("[data-rule=runbook]")
        assert "README.md does not match (?im)^## runbook" in runbook.locator(".why").inner_text()
        assert " s old" in runbook.inner_text() or " min old" in runbook.inner_text()
        assert "counts from 2099-01-31" in page.locator("[data-rule=changelog]").inner_text()
        assert "1 of 2 rules pass" in page.locator(".scorecard-meta").inner_text()  # the later rule is not counted
        right = page.evaluate(
            "Math.max(...[...document.querySelectorAll('#scorecards *')].map(e => e.getBoundingClientRect().right))"
        )
        assert right <= width, f"the Scorecards tab is wider than the page ({right}px)"
        shot(page, name)
