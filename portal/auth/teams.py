"""Teams from GitHub and groups from GitLab, asked for at sign-in and added to the person's group claims.

GitHub (and GitHub Enterprise Server): ``GET /user/teams`` with the sign-in's access token (scope
``read:org``), ``per_page=100``, following ``Link: rel="next"``; each team becomes ``<org-login>/<team-slug>``
in lower case (``acme/payments``). GitLab (and self-hosted): the OIDC userinfo endpoint's ``groups`` claim
(scope ``openid``): every group's full path (``acme/platform/payments``).

A failed lookup never blocks a sign-in: the person gets in with the groups already known and the login
explainer shows what happened (``claims["teams"]``). Only the configured host is ever asked: redirects are
not followed and a next-page link to another host ends the lookup. Responses are read up to a bound.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from allauth.socialaccount import app_settings as allauth_settings
from django.conf import settings
from requests.utils import parse_header_links

from portal.auth.claims import MAX_GROUPS, group_names

logger = logging.getLogger(__name__)

GITHUB_COM = "https://github.com"
GITLAB_COM = "https://gitlab.com"
PER_PAGE = 100
MAX_PAGES = 10
MAX_BYTES = 2_000_000


class TeamsError(Exception):
    """Why the lookup failed, in words for the login explainer (``403 Forbidden: …``)."""


@dataclass
class TeamLookup:
    """What the sign-in asked the provider about teams, stored in ``claims["teams"]``."""

    source: str  # "GitHub teams" / "GitLab groups": shown next to each group it gave
    endpoint: str
    status: str  # fetched | failed | off
    detail: str
    groups: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- Where the provider lives ------------------------------------------------------------------------


def _provider_settings(provider_id: str) -> dict[str, Any]:
    return dict(allauth_settings.PROVIDERS.get(provider_id) or {})


def github_urls(app) -> dict[str, str]:
    """``{"web": ..., "api": ...}``: the app's ``github_url``, else ``GITHUB_URL``, else github.com."""
    app_url = str((getattr(app, "settings", None) or {}).get("github_url") or "")
    web = (app_url or _provider_settings("github").get("GITHUB_URL") or GITHUB_COM).rstrip("/")
    return {"web": web, "api": "https://api.github.com" if web == GITHUB_COM else f"{web}/api/v3"}


def gitlab_url(app) -> str:
    """The app's ``gitlab_url`` (allauth's own app setting), else ``GITLAB_URL``, else gitlab.com."""
    app_url = str((getattr(app, "settings", None) or {}).get("gitlab_url") or "")
    return (app_url or _provider_settings("gitlab").get("GITLAB_URL") or GITLAB_COM).rstrip("/")


def teams_enabled(provider_id: str, app) -> bool:
    """The app's ``teams`` setting (a SocialApp's JSON in the admin), else the provider's ``TEAMS`` (env)."""
    value = (getattr(app, "settings", None) or {}).get("teams")
    if value is None:
        value = _provider_settings(provider_id).get("TEAMS", True)
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


# --- HTTP ---------------------------------------------------------------------------------------------


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc) and a.path.startswith(b.path)


def _message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:120].decode("utf-8", "replace").strip()
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error_description") or data.get("error") or "")[:200]
    return ""


class _Client:
    """GETs against one host with one token, inside one time budget."""

    def __init__(self, base: str, token: str, timeout: float) -> None:
        self.base, self.timeout = base, timeout
        self.deadline = time.monotonic() + 3 * timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or netrc from the environment: only the configured host
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *exc_info) -> None:
        self.session.close()

    def get(self, url: str, hint: str = "") -> tuple[Any, requests.Response]:
        if not _same_origin(url, self.base):
            raise TeamsError(f"refused to follow {url!r}: not on {self.base}")
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TeamsError(f"gave up after {3 * self.timeout:g}s in all")
        try:
            response = self.session.get(url, timeout=min(self.timeout, remaining), stream=True, allow_redirects=False)
            with response:
                body = response.raw.read(MAX_BYTES + 1, decode_content=True)
        except (requests.Timeout, urllib3.exceptions.TimeoutError):  # waiting for headers, or for the body
            raise TeamsError(f"timed out after {self.timeout:g}s ({url})") from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise TeamsError(f"could not reach {self.base}: {type(exc).__name__}") from None
        status = response.status_code
        if status >= 300:
            raise TeamsError(self._refusal(response, body, hint))
        if len(body) > MAX_BYTES:
            raise TeamsError(f"response larger than {MAX_BYTES} bytes ({url})")
        try:
            return json.loads(body), response
        except ValueError:
            raise TeamsError(f"{status}: the response is not JSON ({url})") from None

    @staticmethod
    def _refusal(response: requests.Response, body: bytes, hint: str) -> str:
        status, headers = response.status_code, response.headers
        text = f"{status} {response.reason or ''}".strip()
        if 300 <= status < 400:
            return f"{text}: redirect to {headers.get('Location', '?')!r} not followed"
        if status == 429 or (status == 403 and headers.get("X-RateLimit-Remaining") == "0"):
            reset = headers.get("X-RateLimit-Reset") or headers.get("Retry-After") or "?"
            return f"{text}: rate limited (reset {reset})"
        extra = [message] if (message := _message(body)) else []
        if status in (401, 403) and hint:
            extra.append(hint)
        return text + (": " + "; ".join(extra) if extra else "")


# --- The lookups --------------------------------------------------------------------------------------


def fetch_github_teams(api_url: str, token: str, *, timeout: float) -> tuple[list[str], str]:
    """``(["org/team-slug", ...], note)`` from ``GET /user/teams``, all pages up to MAX_PAGES."""
    with _Client(api_url, token, timeout) as client:
        return _github_pages(client, api_url)


def _github_pages(client: _Client, api_url: str) -> tuple[list[str], str]:
    url: str | None = f"{api_url}/user/teams?per_page={PER_PAGE}"
    teams: list[str] = []
    pages = skipped = 0
    scopes_hint = ""
    while url and pages < MAX_PAGES:
        data, response = client.get(url, hint="listing teams needs the read:org scope")
        scopes_hint = response.headers.get("X-OAuth-Scopes", "")
        if not isinstance(data, list):
            raise TeamsError(f"expected a list of teams, got {type(data).__name__} ({url})")
        for team in data:
            team = team if isinstance(team, dict) else {}
            organization = team.get("organization")
            org = organization.get("login") if isinstance(organization, dict) else None
            slug = team.get("slug")
            if isinstance(org, str) and isinstance(slug, str) and org.strip() and slug.strip():
                teams.append(f"{org.strip().lower()}/{slug.strip().lower()}")
            else:
                skipped += 1
        pages += 1
        nexts = [link for link in parse_header_links(response.headers.get("Link", "")) if link.get("rel") == "next"]
        url = nexts[0]["url"] if nexts else None
    notes = [f"{len(dict.fromkeys(teams))} team(s) on {pages} page(s)"]
    if url:
        notes.append(f"stopped after {MAX_PAGES} pages")
    if skipped:
        notes.append(f"{skipped} item(s) without organization login or slug skipped")
    if scopes_hint:
        notes.append(f"token scopes: {scopes_hint}")
    return teams, "; ".join(notes)


def fetch_gitlab_groups(base_url: str, token: str, *, timeout: float) -> tuple[list[str], str]:
    """``(["group/full/path", ...], note)`` from the OIDC userinfo endpoint's ``groups`` claim."""
    with _Client(base_url, token, timeout) as client:
        data, _ = client.get(f"{base_url}/oauth/userinfo", hint="the groups claim needs the openid scope")
    if not isinstance(data, dict):
        raise TeamsError(f"expected a JSON object from userinfo, got {type(data).__name__}")
    groups = data.get("groups")
    if not isinstance(groups, list):
        raise TeamsError("userinfo has no groups claim (was the openid scope granted?)")
    paths = [g.strip() for g in groups if isinstance(g, str) and g.strip()]
    return paths, f"{len(dict.fromkeys(paths))} group(s) from the userinfo groups claim"


def lookup_teams(sociallogin) -> TeamLookup | None:
    """Ask GitHub or GitLab for the person's teams; None for other providers. Never raises."""
    provider = sociallogin.account.get_provider()
    app = getattr(provider, "app", None)
    if provider.id == "github":
        api = github_urls(app)["api"]
        source, endpoint, fetch, base = "GitHub teams", f"GET {api}/user/teams", fetch_github_teams, api
    elif provider.id == "gitlab":
        base = gitlab_url(app)
        source, endpoint, fetch = "GitLab groups", f"GET {base}/oauth/userinfo", fetch_gitlab_groups
    else:
        return None
    if not teams_enabled(provider.id, app):
        return TeamLookup(source, endpoint, "off", "not asked: the lookup is off for this provider (teams: false)")
    token = getattr(getattr(sociallogin, "token", None), "token", "") or ""
    if not token:
        return TeamLookup(source, endpoint, "failed", "teams not fetched: the sign-in carried no access token")
    try:
        groups, note = fetch(base, token, timeout=settings.SSO_TEAMS_TIMEOUT)
    except TeamsError as exc:
        logger.warning("%s not fetched for %s: %s", source, sociallogin.account.uid, exc)
        return TeamLookup(source, endpoint, "failed", f"teams not fetched: {exc}")
    except Exception as exc:  # a bug here must not lock anyone out either
        logger.exception("%s lookup failed for %s", source, sociallogin.account.uid)
        return TeamLookup(source, endpoint, "failed", f"teams not fetched: {type(exc).__name__} (see the log)")
    groups = list(dict.fromkeys(groups))
    if len(groups) > MAX_GROUPS:
        note += f"; only the first {MAX_GROUPS} kept"
    return TeamLookup(source, endpoint, "fetched", note, groups[:MAX_GROUPS])


def add_team_groups(claims: dict[str, Any], lookup: TeamLookup | None) -> dict[str, Any]:
    """The claims with the lookup recorded and its groups appended to ``claims["groups"]``."""
    if lookup is None:
        return claims
    claims["teams"] = lookup.as_dict()
    claims["groups"] = group_names([*claims.get("groups", []), *lookup.groups])
    return claims
