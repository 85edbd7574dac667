"""The sign-in page in a real Chromium: the sign-up link follows the switch, a wrong password is audited."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from portal.models import AuditEvent
from portal.testing.browser import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("open_signup", [False, True])
def test_sign_in_page_sign_up_link_and_a_failed_attempt(page, live_server, settings, open_signup):
    settings.ACCOUNT_ALLOW_SIGNUP = open_signup
    get_user_model().objects.create_user("pat", "pat@example.com", "pw-pat-12345")
    sign_in(page, "pat", "not-the-password", base_url=live_server.url)
    expect(page.locator(".password-login")).to_contain_text("username and/or password you specified are not correct")
    expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()
    expect(page.get_by_role("link", name="Create an account")).to_have_count(1 if open_signup else 0)
    shot(page, f"sign-in-signup-{'on' if open_signup else 'off'}")
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.target_repr == "pat" and event.ip == "127.0.0.1" and "not-the-password" not in str(event.changes)
