"""Local stand-ins for GitHub Enterprise Server and self-hosted GitLab, speaking their documented endpoints.

One ``http.server`` on 127.0.0.1 (ephemeral port) in a thread. It serves what a sign-in uses:

* GitHub Enterprise: ``/login/oauth/authorize`` (redirects back with ``code`` and ``state``),
  ``/login/oauth/access_token``, ``/api/v3/user``, ``/api/v3/user/emails`` and ``/api/v3/user/teams``
  (``per_page`` pages with ``Link: <…>; rel="next"``, ``X-OAuth-Scopes`` on every API answer).
* GitLab: ``/oauth/authorize``, ``/oauth/token``, ``/api/v4/user`` and ``/oauth/userinfo`` (``groups``).

Who is "signed in at the forge" is ``Forge.person`` (the login the next authorize hands a code to). A
person's ``teams_mode`` makes the teams endpoint misbehave: ``403``, ``ratelimit`` (403 with
``X-RateLimit-Remaining: 0``), ``500``, ``slow`` (answers after ``Forge.slow_seconds``), ``offsite`` (the
next-page link points at another host) or ``ok``. GitLab's userinfo honours ``403`` only.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

from portal.testing.httpserver import serve_http


@dataclass
class ForgeUser:
    login: str
    email: str
    uid: int
    teams: list[tuple[str, str]] = field(default_factory=list)  # GitHub (org login, team slug)
    groups: list[str] = field(default_factory=list)  # GitLab group full paths
    teams_mode: str = "ok"


@dataclass
class Forge:
    client_id: str
    client_secret: str
    users: dict[str, ForgeUser]
    person: str = ""
    per_page_cap: int = 2  # a small page so two people's teams already span two pages
    slow_seconds: float = 2.0
    scopes: str = "read:org, read:user, user:email"
    url: str = ""
    requests: list[str] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def user_for(self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> ForgeUser | None:
        auth = handler.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if " " in auth else (query.get("access_token") or [""])[0]
        login = self.tokens.get(token)
        return self.users.get(login) if login else None


def _handler(forge: Forge) -> type[BaseHTTPRequestHandler]:
    class ForgeHandler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, payload, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            forge.requests.append(f"GET {parts.path}?{parts.query}" if parts.query else f"GET {parts.path}")
            if parts.path in ("/login/oauth/authorize", "/oauth/authorize"):
                code = secrets.token_hex(8)
                forge.codes[code] = forge.person
                target = query["redirect_uri"][0]
                sep = "&" if "?" in target else "?"
                self._redirect(f"{target}{sep}{urlencode({'code': code, 'state': query.get('state', [''])[0]})}")
                return
            user = forge.user_for(self, query)
            if user is None:
                self._send(401, {"message": "Bad credentials"})
                return
            scopes = {"X-OAuth-Scopes": forge.scopes}
            if parts.path == "/api/v3/user":
                self._send(200, {"id": user.uid, "login": user.login, "name": user.login.title(), "email": None,
                                 "html_url": f"{forge.url}/{user.login}"}, scopes)  # fmt: skip
            elif parts.path == "/api/v3/user/emails":
                self._send(200, [{"email": user.email, "primary": True, "verified": True}], scopes)
            elif parts.path == "/api/v3/user/teams":
                self._teams(user, query, scopes)
            elif parts.path == "/api/v4/user":
                self._send(200, {"id": user.uid, "username": user.login, "name": user.login.title(),
                                 "email": user.email, "web_url": f"{forge.url}/{user.login}"})  # fmt: skip
            elif parts.path == "/oauth/userinfo":
                if user.teams_mode == "403":
                    self._send(403, {"error": "insufficient_scope"})
                    return
                self._send(200, {"sub": str(user.uid), "nickname": user.login, "groups": user.groups})
            else:
                self._send(404, {"message": "Not Found"})

        def _teams(self, user: ForgeUser, query: dict[str, list[str]], scopes: dict[str, str]) -> None:
            if user.teams_mode == "403":
                self._send(403, {"message": "Resource not accessible by integration"},
                           {"X-OAuth-Scopes": "read:user, user:email"})  # fmt: skip
                return
            if user.teams_mode == "ratelimit":
                self._send(403, {"message": "API rate limit exceeded"},
                           {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700000000"})  # fmt: skip
                return
            if user.teams_mode == "500":
                self._send(500, b"<html>Internal Server Error</html>")
                return
            if user.teams_mode == "slow":
                time.sleep(forge.slow_seconds)
            per_page = min(int((query.get("per_page") or ["30"])[0]), forge.per_page_cap)
            page = int((query.get("page") or ["1"])[0])
            items = user.teams[(page - 1) * per_page : page * per_page]
            teams = [{"id": i, "slug": slug, "name": slug.title(), "organization": {"login": org}}
                     for i, (org, slug) in enumerate(items)]  # fmt: skip
            headers = dict(scopes)
            if page * per_page < len(user.teams):
                base = "http://127.0.0.2:9" if user.teams_mode == "offsite" else forge.url
                headers["Link"] = f'<{base}/api/v3/user/teams?per_page={per_page}&page={page + 1}>; rel="next"'
            self._send(200, teams, headers)

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            forge.requests.append(f"POST {parts.path}")
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
            if parts.path not in ("/login/oauth/access_token", "/oauth/token"):
                self._send(404, {"message": "Not Found"})
                return
            client_ok = (form.get("client_id") or [""])[0] == forge.client_id
            secret_ok = (form.get("client_secret") or [""])[0] == forge.client_secret
            login = forge.codes.pop((form.get("code") or [""])[0], None)
            if not (client_ok and secret_ok and login):
                self._send(400, {"error": "bad_verification_code"})
                return
            token = secrets.token_hex(16)
            forge.tokens[token] = login
            self._send(200, {"access_token": token, "token_type": "bearer", "scope": forge.scopes})

    return ForgeHandler


@contextmanager
def run_forge(forge: Forge) -> Iterator[Forge]:
    """Serve ``forge`` on a free port of 127.0.0.1; ``forge.url`` is its base URL while the block runs."""
    with serve_http(_handler(forge)) as url:
        forge.url = url
        yield forge


def sign_in_through(client, provider: str, forge: Forge, login: str):
    """A real sign-in with Django's test client: the portal's redirects are followed to the forge and back.

    ``client`` POSTs allauth's login view, the forge's authorize endpoint is called over HTTP (it redirects
    back with a code), and the callback runs allauth's token exchange and API calls against the forge.
    Returns the callback's response.
    """
    forge.person = login
    start = client.post(f"/accounts/{provider}/login/")
    assert start.status_code == 302, start.status_code
    assert start["Location"].startswith(forge.url), start["Location"]

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(start["Location"], timeout=10)  # always the local forge (http://127.0.0.1)
        raise AssertionError("the forge's authorize endpoint did not redirect")
    except urllib.error.HTTPError as redirect:
        callback = redirect.headers["Location"]
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}")


def point_provider_at(settings, provider: str, forge: Forge) -> None:
    """Configure allauth's ``github`` or ``gitlab`` provider as GITHUB_URL/GITLAB_URL and its client id would."""
    url_key = {"github": "GITHUB_URL", "gitlab": "GITLAB_URL"}[provider]
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        provider: {
            **settings.SOCIALACCOUNT_PROVIDERS[provider],
            url_key: forge.url,
            "APPS": [{"client_id": forge.client_id, "secret": forge.client_secret, "settings": {}}],
        },
    }
