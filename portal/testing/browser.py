"""Browser-test helpers shared by every app: screenshots to look at, and signing in through the form."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

SHOTS = Path(settings.DATA_DIR) / "screenshots"


def shot(page, name: str) -> None:
    """A full-page screenshot in ``$CALLBOARD_DATA_DIR/screenshots/<name>.png``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the top bar is sticky: scrolled full-page shots draw it mid-page
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page, login: str, password: str, *, base_url: str | None = None) -> None:
    """Fill the password form: on the page at hand, or on ``base_url``'s sign-in page when given."""
    if base_url is not None:
        page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click(".password-login button[type=submit]")


def sign_in_with_idp(page, base_url: str, button: str, username: str, password: str) -> None:
    """From the portal's sign-in page through a test IdP's form (``#idp-username``, ``#idp-password``, ``#idp-submit``)
    back to ``base_url``: where the portal lands depends on whether the IdP's answer was accepted."""
    page.goto(f"{base_url}/")
    assert "/accounts/login/" in page.url
    page.get_by_role("button", name=button).click()
    page.wait_for_selector("#idp-username")
    page.fill("#idp-username", username)
    page.fill("#idp-password", password)
    page.click("#idp-submit")
    page.wait_for_url(f"{base_url}/**")
