"""The API tokens page in a real Chromium: create → secret shown once → the API accepts it → revoke → the API
refuses it. Also: the API docs still work under the Content-Security-Policy."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from portal.testing.browser import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "permissions": ["clipboard-read", "clipboard-write"]}


@pytest.fixture
def signed_in(page, live_server):
    get_user_model().objects.create_user("pat", "pat@example.com", "pw-pat-12345")
    sign_in(page, "pat", "pw-pat-12345", base_url=live_server.url)
    page.wait_for_url(f"{live_server.url}/")
    return page


def api_status(base: str, token: str) -> int:
    request = urllib.request.Request(f"{base}/api/v1/catalog/entities/", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_token_lifecycle_in_the_browser(signed_in, live_server):
    page = signed_in
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_url("**/accounts/tokens/")
    expect(page.get_by_text("No tokens yet.")).to_be_visible()
    page.fill("input[name=name]", "CI deploy job")
    page.check("input[value='catalog:read']")
    page.check("input[value='scaffolder:run']")
    page.select_option("select[name=expiry]", "90")
    shot(page, "tokens-form")
    page.click("text=Create token")
    secret_box = page.locator("#new-token-secret")
    expect(secret_box).to_be_visible()
    secret = secret_box.inner_text().strip()
    assert secret.startswith("cb_")
    page.click("#copy-token")
    expect(page.locator("#copy-token")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    row = page.locator("#token-table tbody tr").first
    expect(row).to_contain_text("CI deploy job")
    expect(row).to_contain_text("scaffolder:run")
    shot(page, "tokens-created")

    assert api_status(live_server.url, secret) == 200
    page.reload()
    assert secret not in page.content()  # shown once only
    expect(page.locator("#token-table tbody tr").first.locator("td").nth(4)).to_have_text("now")  # last used

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#token-table tbody tr").first).to_contain_text("revoked")
    shot(page, "tokens-revoked")
    assert api_status(live_server.url, secret) == 401


def test_dismissing_the_confirmation_keeps_the_token(signed_in, live_server):
    page = signed_in
    page.goto(f"{live_server.url}/accounts/tokens/")
    page.fill("input[name=name]", "keep me")
    page.click("text=Create token")
    secret = page.locator("#new-token-secret").inner_text().strip()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_timeout(300)
    expect(page.locator("#token-table tbody tr").first).to_contain_text("active")
    assert api_status(live_server.url, secret) == 200


def test_api_docs_work_under_the_csp(signed_in, live_server):
    page = signed_in
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector("#swagger-ui .opblock-summary")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/catalog/entities/").first).to_be_visible()
    shot(page, "api-docs")
    page.goto(f"{live_server.url}/api/redoc/")
    page.wait_for_selector("text=Callboard API")
    shot(page, "api-redoc")


def test_repeated_wrong_passwords_are_refused_with_a_clear_message(page, live_server):
    get_user_model().objects.create_user("pat", "pat@example.com", "pw-pat-12345")
    page.goto(f"{live_server.url}/accounts/login/")
    for _ in range(5):
        page.fill("input[name=login]", "pat")
        page.fill("input[name=password]", "not-my-password")
        page.click("button[type=submit]")
        expect(page.get_by_text("The username and/or password you specified are not correct.")).to_be_visible()
    page.fill("input[name=login]", "pat")
    page.fill("input[name=password]", "pw-pat-12345")  # the right one, too late
    page.click("button[type=submit]")
    expect(page.get_by_text("Too many failed login attempts. Try again later.")).to_be_visible()
    assert "/accounts/login/" in page.url
    shot(page, "login-rate-limited")


def test_revoke_without_javascript_asks_on_a_page(browser, live_server):
    from portal.models import ApiToken

    user = get_user_model().objects.create_user("pat", "pat@example.com", "pw-pat-12345")
    ApiToken.issue(user, name="legacy")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, "pat", "pw-pat-12345", base_url=live_server.url)
    page.goto(f"{live_server.url}/accounts/tokens/")
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("heading", name="Revoke this token?")).to_be_visible()
    shot(page, "token-revoke-confirm")
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_text("Revoked token “legacy”.")).to_be_visible()
    expect(page.locator("#token-table tbody tr").first).to_contain_text("revoked")
    context.close()
