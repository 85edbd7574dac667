"""The scorecard pages in a real Chromium: the scorecard page's chart and htmx filter, the initiative's
burn-up, at desktop width and on a phone (screenshots of every page)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from portal import clock
from portal.testing.browser import shot, sign_in
from scorecards import evaluator
from scorecards.models import EntityScore, Initiative, Scorecard, Transition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {"index": "/scorecards/", "scorecard": "/scorecards/default/production-readiness/",
         "initiative": "/scorecards/initiatives/silver/", "team": "/scorecards/teams/default/payments/",
         "group-tab": "/catalog/default/group/payments/team-scorecards/"}  # fmt: skip


@pytest.fixture
def history(scored_org):
    """First evaluated ten days ago; ledger reached Silver four days ago (as if its team had fixed it)."""
    now = clock.now()
    evaluator.evaluate(now=now - timedelta(days=10))
    card = Scorecard.objects.get(name="production-readiness")
    Transition.objects.create(scorecard=card, entity_ref="component:default/ledger", before="Bronze", after="Silver",
                              at=now - timedelta(days=4))  # fmt: skip
    EntityScore.objects.filter(entity_ref="component:default/ledger").update(level="Silver")
    Initiative.objects.create(slug="silver", title="Production readiness Silver", scorecard=card,
                              target_level="Silver", owner="group:default/payments",
                              starts_at=now - timedelta(days=8), deadline=(now + timedelta(days=6)).date())  # fmt: skip
    return card


@pytest.fixture
def signed_in(page, live_server, history):
    get_user_model().objects.create_user("viewer", "viewer@example.com", "pw-viewer-12345")
    sign_in(page, "viewer", "pw-viewer-12345", base_url=live_server.url)
    page.wait_for_url(f"{live_server.url}/")
    return page


def widest(page) -> float:
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def test_the_scorecard_page_charts_and_filters_without_reloading(signed_in, live_server):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Scorecards", exact=True).first.click()
    page.wait_for_url("**/scorecards/")
    page.locator("[data-scorecard='scorecard:default/production-readiness']").click()
    page.wait_for_url("**/scorecards/default/production-readiness/")
    assert page.locator("#distribution .chart-bar svg rect").count() == 3  # no level, Silver, Gold (Bronze: none)
    assert page.locator("#trend svg polygon").count() >= 2
    assert page.locator("#leaderboard [data-team]").first.get_attribute("data-team") == "group:default/payments"
    assert page.locator("#entities [data-entity]").count() == 3
    page.evaluate("window.__kept = true")  # gone if the page reloads
    page.select_option("select[name=level]", "Gold")
    expect(page.locator("#entities [data-entity]")).to_have_count(1)
    assert page.locator("#entities [data-entity]").get_attribute("data-entity") == "component:default/checkout"
    assert page.evaluate("window.__kept") is True and "level=Gold" in page.url
    page.select_option("select[name=level]", "")
    expect(page.locator("#entities [data-entity]")).to_have_count(3)


def test_the_initiative_page_draws_the_burn_up_from_the_history(signed_in, live_server):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/scorecards/initiatives/silver/")
    points = page.locator("#burnup polyline.done").get_attribute("points").split()
    assert len(points) == 9  # eight days ago to today
    heights = [float(p.split(",")[1]) for p in points]
    assert heights[0] == heights[3] > heights[4] == heights[-1]  # one more done four days ago (SVG y grows down)
    assert page.locator("#burnup line.deadline").count() == 1 and page.locator("#overdue").count() == 0
    assert "2 of 3" in page.locator("#progress").inner_text()
    assert page.locator("#left [data-entity]").count() == 1


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_fits_and_is_screenshotted(signed_in, live_server, width):
    page = signed_in
    page.set_viewport_size({"width": width, "height": 900})
    for name, path in PAGES.items():
        page.goto(f"{live_server.url}{path}")
        assert page.locator("main h1, main .scorecards, main #team-scorecards").first.is_visible(), name
        assert widest(page) <= width, f"{name} is wider than {width}px ({widest(page)}px)"
        shot(page, f"scorecards-{name}-{width}")
