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
