"""The forges publish:github and publish:gitlab create repositories on: which hosts, their API, their token.

Only hosts listed in ``CATALOG_GITHUB_HOSTS`` / ``CATALOG_GITLAB_HOSTS`` are called (a template cannot make
Callboard call an arbitrary host). ``SCAFFOLDER_INTEGRATIONS`` gives a host its ``apiBaseUrl`` (GitHub
Enterprise's ``https://<host>/api/v3``, a self-hosted GitLab's ``https://<host>/api/v4`` by default) and the
``token`` used when a step passes none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3
from django.conf import settings

API_TIMEOUT_SECONDS = 30
MAX_ANSWER_BYTES = 1_000_000


class ForgeError(Exception):
    """A forge refused or failed a call; the message says which host, call and why (never the token)."""


@dataclass(frozen=True)
class ForgeHost:
    kind: str  # "github" | "gitlab"
    host: str
    api_base: str
    token: str = field(repr=False)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """(status, JSON answer) of ``method api_base + path``; redirects are not followed."""
        url = self.api_base + path
        headers = {"Authorization": f"Bearer {self.token}", "User-Agent": "Callboard-scaffolder"}
        if self.kind == "github":
            headers.update({"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})
        try:
            with requests.request(method, url, json=body, headers=headers, timeout=API_TIMEOUT_SECONDS,
                                  allow_redirects=False, stream=True) as response:  # fmt: skip
                raw = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise ForgeError(f"{method} {url} failed: {type(exc).__name__}") from None
        if len(raw) > MAX_ANSWER_BYTES:
            raise ForgeError(f"{method} {url}: the answer is larger than {MAX_ANSWER_BYTES} bytes")
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        if response.status_code == 401:
            raise ForgeError(f"{self.host} refused the token (401 from {method} {url}); check the token's scopes")
        return response.status_code, data

    def check_push_url(self, url: str, repo_host: str) -> str:
        """The clone URL a creation answered, if it points back at this forge (never elsewhere)."""
        parts, api = urlsplit(url or ""), urlsplit(self.api_base)
        allowed = {repo_host.lower(), (api.hostname or "").lower()}
        if parts.scheme not in ("https", api.scheme) or (parts.hostname or "").lower() not in allowed:
            raise ForgeError(f"{self.host} answered a clone URL on another host ({url!r}); not pushed")
        return url


def _default_api(kind: str, host: str) -> str:
    if kind == "github":
        return "https://api.github.com" if host == "github.com" else f"https://{host}/api/v3"
    return f"https://{host}/api/v4"


def forge_host(kind: str, host: str, token: str | None = None) -> ForgeHost:
    """The configured forge for ``host``; ForgeError when the host is not one of ``kind``'s or has no token."""
    setting = "CATALOG_GITHUB_HOSTS" if kind == "github" else "CATALOG_GITLAB_HOSTS"
    hosts = {h.lower() for h in getattr(settings, setting)}
    if host.lower() not in hosts:
        raise ForgeError(f"Host {host!r} is not a configured {kind} host: add it to {setting} "
                         "(and its API and token to SCAFFOLDER_INTEGRATIONS) to publish there")  # fmt: skip
    config = {k.lower(): v for k, v in settings.SCAFFOLDER_INTEGRATIONS.items()}.get(host.lower()) or {}
    api_base = str(config.get("apiBaseUrl") or _default_api(kind, host.lower())).rstrip("/")
    if urlsplit(api_base).scheme not in ("https", "http"):
        raise ForgeError(f"SCAFFOLDER_INTEGRATIONS[{host!r}].apiBaseUrl must be an http(s) URL")
    token = token or config.get("token") or ""
    if not token:
        raise ForgeError(f"No token for {host}: pass the step a token input, or set one for the host in "
                         "SCAFFOLDER_INTEGRATIONS")  # fmt: skip
    return ForgeHost(kind=kind, host=host.lower(), api_base=api_base, token=str(token))


def path_part(value: str) -> str:
    """One URL path segment (GitLab's url-encoded namespace paths included)."""
    return quote(value, safe="")
