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

And what the scaffolder's ``publish:github`` / ``publish:gitlab`` use, when ``Forge.repos_root`` is set:

* GitHub: ``GET /api/v3/users/{owner}`` (``type`` ``User`` or ``Organization``), ``POST /api/v3/user/repos``,
  ``POST /api/v3/orgs/{org}/repos`` (422 when the name is taken), ``PUT /api/v3/repos/{owner}/{repo}/topics``.
* GitLab: ``GET /api/v4/namespaces/{id or url-encoded path}``, ``GET /api/v4/projects/{url-encoded path}``,
  ``POST /api/v4/projects`` (400 when taken).
* Git smart HTTP at ``/{owner}/{repo}.git`` for the repositories created (bare, under ``repos_root``):
  anyone may clone; a push needs HTTP basic auth whose password is a token the forge issued.

Changes to existing repositories (pull requests, reviewers, Pages, workflow dispatches; GitLab branches,
commits written into the repository, merge requests, users) are in ``portal/testing/forge_changes.py``;
``Forge.seed_repo`` makes an existing repository with files, and ``pulls``, ``merge_requests``, ``commits``,
``pages`` and ``dispatches`` record what was asked.

Every API call needs a token (``Authorization: Bearer|token …``, or GitLab's ``PRIVATE-TOKEN``); an unknown
one is a 401. ``Forge.created`` records each creation request's JSON body.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from portal.testing import forge_changes
from portal.testing.githttp import read_body, serve_git
from portal.testing.httpserver import serve_http

_GIT_PATH = re.compile(r"^/(?P<repo>[A-Za-z0-9._-]+/[A-Za-z0-9._-]+\.git)(?P<rest>/.*)$")


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
    orgs: set[str] = field(default_factory=set)  # GitHub organisations / GitLab groups
    repos_root: Path | None = None  # where created repositories live (bare), served over git smart HTTP
    repos: dict[str, dict] = field(default_factory=dict)  # "owner/repo" → the API's answer when created
    created: list[dict] = field(default_factory=list)  # the JSON bodies of creation requests
    pulls: dict[str, list[dict]] = field(default_factory=dict)  # "owner/repo" → its pull requests
    merge_requests: list[dict] = field(default_factory=list)
    commits: list[dict] = field(default_factory=list)  # GitLab commit requests written (their bodies)
    pages: dict[str, dict] = field(default_factory=dict)  # "owner/repo" → its Pages site
    dispatches: list[dict] = field(default_factory=list)  # workflow dispatches received

    def user_for(self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> ForgeUser | None:
        auth = handler.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if " " in auth else (query.get("access_token") or [""])[0]
        token = handler.headers.get("PRIVATE-TOKEN") or token
        login = self.tokens.get(token)
        return self.users.get(login) if login else None

    def git_user(self, handler: BaseHTTPRequestHandler) -> str | None:
        """The login a git request's basic auth (any user name, a token as password) belongs to."""
        scheme, _, value = handler.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            _, _, password = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return self.tokens.get(password)

    def create_repo(self, owner: str, name: str, answer: dict) -> dict | None:
        """A new bare repository for ``owner/name`` (None when it exists); ``answer`` is stored for it."""
        key = f"{owner}/{name}"
        if key in self.repos or self.repos_root is None:
            return None
        path = self.repos_root / owner / f"{name}.git"
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True)
        self.repos[key] = answer
        return answer

    def seed_repo(self, kind: str, owner: str, name: str, files: dict[str, str], branch: str = "main") -> dict:
        """An existing repository with ``files`` on ``branch`` (``kind`` github or gitlab shapes the answer)."""
        from portal.git import create_repository_from_directory

        web = f"{self.url}/{owner}/{name}"
        if kind == "github":
            answer = {"id": len(self.repos) + 1, "name": name, "full_name": f"{owner}/{name}", "html_url": web,
                      "clone_url": f"{web}.git", "default_branch": branch, "owner": {"login": owner}}  # fmt: skip
        else:
            answer = {"id": 500 + len(self.repos), "name": name, "path": name, "web_url": web,
                      "path_with_namespace": f"{owner}/{name}", "http_url_to_repo": f"{web}.git",
                      "default_branch": branch}  # fmt: skip
        assert self.create_repo(owner, name, answer) is not None, f"{owner}/{name} exists"
        with tempfile.TemporaryDirectory() as tmp:
            for path, content in files.items():
                (Path(tmp) / path).parent.mkdir(parents=True, exist_ok=True)
                (Path(tmp) / path).write_text(content)
            create_repository_from_directory(Path(tmp), self.repo_path(owner, name), branch=branch)
        return answer

    def namespaces(self) -> dict[int, str]:
        """GitLab namespace ids: each user's own (its uid) and each group's (1000 + its place)."""
        spaces = {u.uid: u.login for u in self.users.values()}
        spaces.update({1000 + i: group for i, group in enumerate(sorted(self.orgs))})
        return spaces

    def repo_path(self, owner: str, name: str) -> Path:
        assert self.repos_root is not None
        return self.repos_root / owner / f"{name}.git"


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
            if self._git(parts.path, b""):
                return
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
            if self._changes("GET", parts.path, query, user, {}):
                return
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
            elif parts.path.startswith("/api/v3/users/"):
                self._github_owner(unquote(parts.path[len("/api/v3/users/"):]))
            elif parts.path.startswith("/api/v4/namespaces/"):
                self._gitlab_namespace(unquote(parts.path[len("/api/v4/namespaces/"):]))
            elif parts.path.startswith("/api/v4/projects/"):
                project = forge.repos.get(unquote(parts.path[len("/api/v4/projects/"):]))
                if project is None:
                    self._send(404, {"message": "404 Project Not Found"})
                else:
                    self._send(200, project)
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

        def _git(self, path: str, body: bytes) -> bool:
            match = _GIT_PATH.match(path)
            if not match or forge.repos_root is None:
                return False
            serve_git(self, forge.repos_root, path, body, forge.git_user(self))
            return True

        # -- repositories (publish:github / publish:gitlab) ------------------------------------------
        def _github_owner(self, login: str) -> None:
            if login in forge.orgs:
                self._send(200, {"login": login, "type": "Organization"})
            elif login in forge.users:
                self._send(200, {"login": login, "type": "User"})
            else:
                self._send(404, {"message": "Not Found"})

        def _gitlab_namespace(self, key: str) -> None:
            for uid, path in forge.namespaces().items():
                if key in (path, str(uid)):
                    kind = "group" if path in forge.orgs else "user"
                    self._send(200, {"id": uid, "name": path, "path": path, "full_path": path, "kind": kind})
                    return
            self._send(404, {"message": "404 Namespace Not Found"})

        def _github_create(self, user: ForgeUser, owner: str, data: dict) -> None:
            name = str(data.get("name") or "")
            forge.created.append({"owner": owner, **data})
            web = f"{forge.url}/{owner}/{name}"
            answer = {"id": len(forge.repos) + 1, "name": name, "full_name": f"{owner}/{name}",
                      "owner": {"login": owner}, "private": bool(data.get("private")),
                      "visibility": data.get("visibility") or ("private" if data.get("private") else "public"),
                      "description": data.get("description"), "html_url": web, "clone_url": f"{web}.git",
                      "default_branch": "main"}  # fmt: skip
            if not name or forge.create_repo(owner, name, answer) is None:
                error = {"resource": "Repository", "code": "custom", "field": "name",
                         "message": "name already exists on this account"}  # fmt: skip
                self._send(422, {"message": "Repository creation failed.", "errors": [error]})
                return
            self._send(201, answer)

        def _gitlab_create(self, user: ForgeUser, data: dict) -> None:
            forge.created.append(dict(data))
            name = str(data.get("path") or data.get("name") or "")
            owner = forge.namespaces().get(int(data.get("namespace_id") or user.uid))
            if owner is None:
                self._send(404, {"message": "404 Namespace Not Found"})
                return
            web = f"{forge.url}/{owner}/{name}"
            answer = {"id": 500 + len(forge.repos), "name": name, "path": name, "web_url": web,
                      "path_with_namespace": f"{owner}/{name}", "http_url_to_repo": f"{web}.git",
                      "visibility": data.get("visibility") or "private",
                      "topics": data.get("topics") or [], "default_branch": "master"}  # fmt: skip
            if not name or forge.create_repo(owner, name, answer) is None:
                self._send(400, {"message": {"name": ["has already been taken"], "path": ["has already been taken"]}})
                return
            self._send(201, answer)

        def _changes(self, method: str, path: str, query: dict, user: ForgeUser, data: dict) -> bool:
            route = forge_changes.github if path.startswith("/api/v3/") else forge_changes.gitlab
            return route(self, forge, user, method, path, query, data)

        def _api_write(self, path: str, body: bytes) -> None:
            user = forge.user_for(self, {})
            if user is None:
                self._send(401, {"message": "Bad credentials"} if path.startswith("/api/v3") else
                           {"message": "401 Unauthorized"})  # fmt: skip
                return
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                self._send(400, {"message": "Problems parsing JSON"})
                return
            if self.command == "POST" and path == "/api/v3/user/repos":
                self._github_create(user, user.login, data)
            elif self.command == "POST" and (m := re.match(r"^/api/v3/orgs/([^/]+)/repos$", path)):
                if m[1] not in forge.orgs:
                    self._send(404, {"message": "Not Found"})
                    return
                self._github_create(user, m[1], data)
            elif self.command == "PUT" and (m := re.match(r"^/api/v3/repos/([^/]+)/([^/]+)/topics$", path)):
                repo = forge.repos.get(f"{m[1]}/{m[2]}")
                if repo is None:
                    self._send(404, {"message": "Not Found"})
                    return
                repo["topics"] = list(data.get("names") or [])
                self._send(200, {"names": repo["topics"]})
            elif self.command == "POST" and path == "/api/v4/projects":
                self._gitlab_create(user, data)
            elif not self._changes(self.command, path, parse_qs(urlsplit(self.path).query), user, data):
                self._send(404, {"message": "Not Found"})

        def do_PUT(self) -> None:
            path = urlsplit(self.path).path
            forge.requests.append(f"PUT {path}")
            self._api_write(path, read_body(self))

        def do_PATCH(self) -> None:
            path = urlsplit(self.path).path
            forge.requests.append(f"PATCH {path}")
            self._api_write(path, read_body(self))

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            forge.requests.append(f"POST {parts.path}")
            body = read_body(self)
            if self._git(parts.path, body):
                return
            if parts.path.startswith(("/api/v3/", "/api/v4/")):
                self._api_write(parts.path, body)
                return
            form = parse_qs(body.decode())
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
