"""The git remotes publish:git may push to beyond file://, as an admin lists them in ``SCAFFOLDER_GIT_REMOTES``.

Each entry is a URL prefix (``https://git.example.com/platform/``), optionally with the credentials sent to
it: ``{"prefix": …, "username": …, "token": …}`` or ``"tokenEnv": "<environment variable>"``. A remote
matching no prefix is refused before anything is contacted (SSRF guard). Only https remotes (and http ones
when listed as such) are pushed to; ssh and scp-style remotes are refused (no keys or known_hosts to manage).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.conf import settings

SETTING = "SCAFFOLDER_GIT_REMOTES"
_SCHEMES = ("https", "http")
_SCP_LIKE = re.compile(r"^[^/:@]+@[^/:]+:")
_KEYS = {"prefix", "username", "token", "tokenEnv"}


class RemoteNotAllowed(ValueError):
    """The remote matches no allowed prefix, or is not a URL publish:git pushes to."""


class RemotesMisconfigured(ValueError):
    """``SCAFFOLDER_GIT_REMOTES`` is malformed; the message names the entry and the fix."""


@dataclass(frozen=True)
class AllowedRemote:
    prefix: str
    username: str = "git"
    token: str = field(default="", repr=False)


def _normalise(url: str) -> str:
    """scheme://host[:port]/path with scheme and host lower-cased (for prefix comparison)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise RemoteNotAllowed(f"{url!r} has an invalid port") from None
    host = (parts.hostname or "").lower() + (f":{port}" if port else "")
    return f"{parts.scheme.lower()}://{host}{parts.path}"


def _check_prefix(where: str, prefix: object) -> str:
    if not isinstance(prefix, str) or not prefix:
        raise RemotesMisconfigured(f"{where}: 'prefix' must be a URL such as https://git.example.com/platform/")
    parts = urlsplit(prefix)
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        raise RemotesMisconfigured(f"{where}: prefix {prefix!r} must be an https:// (or http://) URL; ssh remotes "
                                   "are not supported")  # fmt: skip
    if parts.username or parts.password or parts.query or parts.fragment:
        raise RemotesMisconfigured(f"{where}: prefix {prefix!r} may not hold credentials, a query or a fragment "
                                   "(put credentials in 'username' and 'token')")  # fmt: skip
    if not parts.path.endswith("/"):
        raise RemotesMisconfigured(f"{where}: prefix {prefix!r} must end with '/' (a folder of repositories)")
    return _normalise(prefix)


def _entry(index: int, raw: object) -> AllowedRemote:
    where = f"{SETTING}[{index}]"
    if isinstance(raw, str):
        return AllowedRemote(_check_prefix(where, raw), token="")
    if not isinstance(raw, dict):
        raise RemotesMisconfigured(f'{where} must be a URL prefix or an object {{"prefix": …, "token": …}}')
    unknown = set(raw) - _KEYS
    if unknown:
        raise RemotesMisconfigured(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    prefix = _check_prefix(where, raw.get("prefix"))
    if raw.get("token") and raw.get("tokenEnv"):
        raise RemotesMisconfigured(f"{where}: give 'token' or 'tokenEnv', not both")
    token = raw.get("token") or ""
    if raw.get("tokenEnv"):
        token = os.environ.get(str(raw["tokenEnv"]), "")
        if not token:
            raise RemotesMisconfigured(f"{where}: tokenEnv names {raw['tokenEnv']!r}, which is not set or empty")
    username = raw.get("username") or "git"
    for key, value in (("username", username), ("token", token)):
        if not isinstance(value, str) or any(c in value for c in "\r\n\x00") or (key == "username" and ":" in value):
            raise RemotesMisconfigured(f"{where}: '{key}' must be one line of text" +
                                       (" without ':'" if key == "username" else ""))  # fmt: skip
    return AllowedRemote(prefix, username, token)


def allowed_remotes() -> list[AllowedRemote]:
    """The setting, checked: RemotesMisconfigured names the entry at fault."""
    raw = getattr(settings, SETTING, None) or []
    if not isinstance(raw, list):
        raise RemotesMisconfigured(f"{SETTING} must be a JSON list of URL prefixes or objects")
    return [_entry(i, item) for i, item in enumerate(raw)]


def match_remote(url: str, field_name: str = "remoteUrl") -> AllowedRemote:
    """The allowed remote ``url`` falls under (the longest prefix), or RemoteNotAllowed saying how to allow it.

    Checked before any network access: scheme, no credentials in the URL, no ``..`` segments, a prefix match."""
    how = f"an admin allows remotes in {SETTING} (docs/configuration.md)"
    if _SCP_LIKE.match(url) or url.lower().startswith(("ssh://", "git+ssh://", "ssh+git://")):
        raise RemoteNotAllowed(f"{field_name} {url!r}: ssh remotes are not supported by publish:git; use the "
                               f"https URL of the repository ({how})")  # fmt: skip
    parts = urlsplit(url)
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        raise RemoteNotAllowed(f"{field_name} {url!r}: publish:git pushes to https:// remotes that {how}, "
                               "or to file:// repositories under CATALOG_ALLOWED_PATHS")  # fmt: skip
    if "@" in parts.netloc:
        raise RemoteNotAllowed(f"{field_name}: the URL may not carry credentials; {how} with their token")
    if parts.query or parts.fragment or any(seg in ("..", ".") for seg in unquote(parts.path).split("/")):
        raise RemoteNotAllowed(f"{field_name} {url!r}: no query, fragment or '.'/'..' segments allowed")
    normal = _normalise(url)
    matches = [r for r in allowed_remotes() if normal.startswith(r.prefix) and len(normal) > len(r.prefix)]
    if not matches:
        raise RemoteNotAllowed(f"{field_name} {url!r} is not an allowed git remote: {how}")
    return max(matches, key=lambda r: len(r.prefix))


def browse_url(remote_url: str, branch: str) -> str:
    """Where people see the pushed files: the forge's page on a GitHub or GitLab host, else the catalog's
    ``git+<remote>@<branch>`` target (which catalog:register can read too)."""
    parts = urlsplit(remote_url)
    host = (parts.hostname or "").lower()
    base = remote_url.removesuffix("/").removesuffix(".git")
    if host in {h.lower() for h in settings.CATALOG_GITHUB_HOSTS}:
        return f"{base}/blob/{branch}"
    if host in {h.lower() for h in settings.CATALOG_GITLAB_HOSTS}:
        return f"{base}/-/blob/{branch}"
    return f"git+{remote_url}@{branch}"


def check_setting(**_kwargs) -> list:
    """Django system check (``manage.py check``, runserver, migrate): a malformed setting is reported at start."""
    from django.core.checks import Error

    try:
        allowed_remotes()
    except RemotesMisconfigured as exc:
        return [Error(str(exc), hint="See SCAFFOLDER_GIT_REMOTES in docs/configuration.md", id="scaffolder.E001")]
    return []
