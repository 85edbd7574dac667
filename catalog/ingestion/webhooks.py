"""Push webhooks from GitHub and GitLab: verify the secret, find the affected locations."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from catalog.ingestion.sources import GitSource, SourceError, parse_target
from catalog.models import Location


class WebhookRejected(Exception):
    """The request is not a valid, authenticated push event."""


def verify_github(secret: str, body: bytes, signature_header: str) -> None:
    if not secret:
        raise WebhookRejected("CATALOG_WEBHOOK_SECRET is not set; webhooks are disabled")
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature_header or ""):
        raise WebhookRejected("Bad X-Hub-Signature-256")


def verify_gitlab(secret: str, token_header: str) -> None:
    if not secret:
        raise WebhookRejected("CATALOG_WEBHOOK_SECRET is not set; webhooks are disabled")
    if not hmac.compare_digest(secret, token_header or ""):
        raise WebhookRejected("Bad X-Gitlab-Token")


def _repo_key(url: str) -> str:
    """host/path without scheme, credentials or .git, lower-cased: how a repository is matched."""
    if url.startswith("git@") and ":" in url:  # scp-like ssh form
        host, _, path = url[4:].partition(":")
        url = f"ssh://{host}/{path}"
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    path = path[:-4] if path.endswith(".git") else path
    return f"{(parts.hostname or '').lower()}{path.lower()}"


def push_repositories(payload: dict) -> tuple[set[str], str]:
    """Repository keys named by a GitHub or GitLab push payload, and the pushed branch."""
    repo = payload.get("repository") or payload.get("project") or {}
    urls = [repo.get(k) for k in ("clone_url", "html_url", "ssh_url", "git_http_url", "git_ssh_url",
                                  "web_url", "url", "homepage")]  # fmt: skip
    keys = {_repo_key(u) for u in urls if isinstance(u, str) and u}
    ref = str(payload.get("ref") or "")
    branch = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    return keys, branch


def affected_locations(payload: dict) -> list[Location]:
    keys, branch = push_repositories(payload)
    if not keys:
        raise WebhookRejected("The payload names no repository")
    hits = []
    for location in Location.objects.filter(type=Location.Type.URL):
        try:
            source = parse_target(location.type, location.target)
        except SourceError:
            continue
        same_repo = isinstance(source, GitSource) and _repo_key(source.repo_url) in keys
        if same_repo and (not branch or source.ref in (branch, "HEAD")):
            hits.append(location)
    return hits
