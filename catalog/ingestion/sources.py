"""Location targets parsed into sources Callboard can read, with the SSRF and path policy applied.

Accepted targets:
- ``file`` locations: a local path (globs allowed), inside ``CATALOG_ALLOWED_PATHS``;
- ``url`` locations in pip's git form: ``git+<clone-url>@<ref>#path=<file>`` (``file://``, ``https://``,
  ``ssh://``, ``git://`` clone URLs);
- ``url`` locations in GitHub/GitLab browser form (``…/blob/<ref>/<path>``, ``…/tree/<ref>/<path>``,
  GitLab's ``/-/blob/``), read through git, not HTTP.

Network hosts must be in ``CATALOG_ALLOWED_HOSTS``; nothing else is ever contacted.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

from django.conf import settings


class SourceError(ValueError):
    """A target that cannot be read: malformed, or refused by policy. The message says which."""


@dataclass(frozen=True)
class FileSource:
    """A file on the local filesystem."""

    path: str

    kind = "file"

    @property
    def target(self) -> str:
        return self.path

    @property
    def location_ref(self) -> str:
        return f"file:{self.path}"

    def sibling(self, target: str) -> Source:
        """Resolve ``target`` written in a descriptor read from this file: a relative path (``./x``, ``x``,
        ``../x``) is relative to this file's directory, as in Backstage; the result is checked like any
        registered target (a glob may not contain ``..``; the path must stay inside the allowed paths)."""
        if _looks_remote(target):
            return parse_target("url", target)
        if not target.startswith(("/", "file:")):
            _refuse_dotdot_glob(target)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(self.path), target))
        return parse_target("file", target)


@dataclass(frozen=True)
class GitSource:
    """A path inside a git repository at a ref. ``style`` keeps how the user wrote it, for display."""

    repo_url: str
    ref: str
    path: str
    style: str = "pip"  # pip | github | gitlab
    web_base: str = ""  # https://github.com/org/repo for github/gitlab styles

    kind = "git"

    @property
    def target(self) -> str:
        if self.style == "github":
            return f"{self.web_base}/blob/{self.ref}/{quote(self.path)}"
        if self.style == "gitlab":
            return f"{self.web_base}/-/blob/{self.ref}/{quote(self.path)}"
        return f"git+{self.repo_url}@{self.ref}#path={self.path}"

    @property
    def location_ref(self) -> str:
        return f"url:{self.target}"

    @property
    def directory_target(self) -> str:
        """The target of this file's directory, ending in '/', for ``backstage.io/source-location``."""
        folder = posixpath.dirname(self.path)
        folder = f"{folder}/" if folder else ""
        if self.style == "github":
            return f"{self.web_base}/tree/{self.ref}/{folder}"
        if self.style == "gitlab":
            return f"{self.web_base}/-/tree/{self.ref}/{folder}"
        return f"git+{self.repo_url}@{self.ref}#path={folder or './'}"

    @property
    def edit_url(self) -> str:
        if self.style == "github" and not re.fullmatch(r"[0-9a-f]{40}", self.ref):
            return f"{self.web_base}/edit/{self.ref}/{quote(self.path)}"
        if self.style == "gitlab" and not re.fullmatch(r"[0-9a-f]{40}", self.ref):
            return f"{self.web_base}/-/edit/{self.ref}/{quote(self.path)}"
        return ""

    @property
    def view_url(self) -> str:
        return self.target if self.style in ("github", "gitlab") else ""

    def with_path(self, path: str) -> GitSource:
        return replace(self, path=path)

    def sibling(self, target: str) -> Source:
        """Resolve ``target`` relative to this file: same repo for relative and '/'-rooted paths."""
        if _looks_remote(target):
            return parse_target("url", target)
        rooted = target.startswith("/")
        _refuse_dotdot_glob(target)
        path = target.lstrip("/") if rooted else posixpath.join(posixpath.dirname(self.path), target)
        return self.with_path(_repo_path(path, target))


Source = FileSource | GitSource

_GITHUB_RE = re.compile(r"^/(?P<org>[^/]+)/(?P<repo>[^/]+)/(?P<mode>blob|tree)/(?P<ref>[^/]+)/?(?P<path>.*)$")
_GITLAB_RE = re.compile(r"^/(?P<project>.+?)/-/(?P<mode>blob|tree)/(?P<ref>[^/]+)/?(?P<path>.*)$")


def _looks_remote(target: str) -> bool:
    return target.startswith(("git+", "https://", "http://"))


def has_magic(path: str) -> bool:
    """True when ``path`` is a glob (``*``, ``?`` or ``[``), for files and for paths inside git trees."""
    return any(ch in path for ch in "*?[")


def _refuse_dotdot_glob(target: str) -> None:
    """A glob may not contain a ``..`` segment: ``*/..`` cannot be checked before it is expanded."""
    if has_magic(target) and ".." in target.split("/"):
        raise SourceError(f"Glob {target!r} contains '..'; a glob may not climb out of its directory")


def _repo_path(path: str, target: str) -> str:
    """A repository-relative path, normalised; refused when it leaves the repository."""
    _refuse_dotdot_glob(path)
    path = posixpath.normpath(path.lstrip("/"))
    if path == ".." or path.startswith("../"):
        raise SourceError(f"Path {path!r} in {target!r} leaves the repository")
    return path


def parse_target(location_type: str, target: str) -> Source:
    """Turn a location (type, target) into a source, refusing what policy forbids."""
    target = (target or "").strip()
    if not target:
        raise SourceError("Empty target")
    if location_type == "file":
        if target.startswith("file://"):
            target = unquote(urlsplit(target).path)
        if target.endswith("/"):
            raise SourceError(f"File target {target!r} ends in a path separator; name a file")
        if has_magic(target):
            return FileSource(check_local_glob(target))
        return FileSource(check_local_path(str(Path(target).expanduser())))
    if location_type != "url":
        raise SourceError(f"Unsupported location type {location_type!r}; use 'url' or 'file'")
    if target.startswith("git+"):
        return _parse_pip_git(target)
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https"):
        raise SourceError(f"Unsupported URL {target!r}: use https://…, git+<clone-url>@<ref>#path=<file>")
    host = (parts.hostname or "").lower()
    _check_host(host, target)
    origin = f"{parts.scheme}://{parts.netloc}"
    github_hosts = {h.lower() for h in settings.CATALOG_GITHUB_HOSTS}
    gitlab_hosts = {h.lower() for h in settings.CATALOG_GITLAB_HOSTS}
    if match := _GITHUB_RE.match(parts.path) if host in github_hosts else None:
        web = f"{origin}/{match['org']}/{match['repo']}"
        return GitSource(
            repo_url=f"{web}.git",
            ref=unquote(match["ref"]),
            path=_repo_path(_directory_default(unquote(match["path"]), match["mode"]), target),
            style="github",
            web_base=web,
        )
    if match := _GITLAB_RE.match(parts.path) if host in gitlab_hosts or "/-/" in parts.path else None:
        web = f"{origin}/{match['project']}"
        return GitSource(
            repo_url=f"{web}.git",
            ref=unquote(match["ref"]),
            path=_repo_path(_directory_default(unquote(match["path"]), match["mode"]), target),
            style="gitlab",
            web_base=web,
        )
    raise SourceError(
        f"Cannot read {target!r}: Callboard reads GitHub/GitLab blob or tree URLs and "
        "git+<clone-url>@<ref>#path=<file> targets"
    )


def _directory_default(path: str, mode: str) -> str:
    path = path.strip("/")
    if mode == "tree" or not path:
        return posixpath.join(path, "catalog-info.yaml") if path else "catalog-info.yaml"
    return path


def _parse_pip_git(target: str) -> GitSource:
    rest, _, fragment = target[len("git+") :].partition("#")
    path = (parse_qs(fragment).get("path") or ["catalog-info.yaml"])[0]
    parts = urlsplit(rest)
    repo_path, ref = parts.path, "HEAD"
    if "@" in parts.path:
        repo_path, _, ref = parts.path.rpartition("@")
    repo_url = urlunsplit((parts.scheme, parts.netloc, repo_path, "", ""))
    if parts.scheme == "file":
        check_local_path(unquote(repo_path))
    elif parts.scheme in ("https", "http", "ssh", "git"):
        _check_host((parts.hostname or "").lower(), target)
    else:
        raise SourceError(f"Unsupported git URL scheme {parts.scheme!r} in {target!r}")
    return GitSource(repo_url=repo_url, ref=ref or "HEAD", path=_repo_path(path, target))


def _check_host(host: str, target: str) -> None:
    allowed = [h.lower() for h in settings.CATALOG_ALLOWED_HOSTS]
    if not host or not any(host == h or (h.startswith(".") and host.endswith(h)) for h in allowed):
        raise SourceError(
            f"Reading from host {host or '(none)'!r} is not allowed ({target}). "
            "Add it to CATALOG_ALLOWED_HOSTS if it is yours."
        )


def allowed_roots() -> list[str]:
    """The real paths (symlinks resolved) of ``CATALOG_ALLOWED_PATHS``."""
    return [os.path.realpath(root) for root in settings.CATALOG_ALLOWED_PATHS]


def is_allowed_real_path(real: str, roots: list[str] | None = None) -> bool:
    """True when ``real``, a path with no symbolic links left in it, is an allowed root or inside one."""
    for root in allowed_roots() if roots is None else roots:
        if real == root or real.startswith(root.rstrip("/") + "/"):
            return True
    return False


def check_local_path(path: str, roots: list[str] | None = None) -> str:
    """The real path of ``path`` (absolute, every symbolic link resolved) when it is inside
    ``CATALOG_ALLOWED_PATHS``; otherwise SourceError. The one check for every local path Callboard reads:
    registered targets, glob matches, nested Location targets, placeholders and ``git+file://`` clones.

    The message names the path as written, never where a link points."""
    real = os.path.realpath(path)
    if is_allowed_real_path(real, roots):
        return real
    if os.path.normpath(os.path.abspath(path)) != real:
        raise SourceError(
            f"Reading {path!r} is not allowed: it leads (through a symbolic link) outside CATALOG_ALLOWED_PATHS"
        )
    raise SourceError(f"Reading {path!r} is not allowed: it is outside CATALOG_ALLOWED_PATHS")


def check_local_glob(pattern: str) -> str:
    """An absolute, normalised glob whose fixed leading directory is inside ``CATALOG_ALLOWED_PATHS``.

    ``..`` is refused outright. What the glob matches is checked again, file by file, when it is expanded
    (:meth:`catalog.ingestion.readers.SourceReader.expand`)."""
    _refuse_dotdot_glob(pattern)
    pattern = os.path.normpath(os.path.abspath(pattern))
    parts = pattern.split("/")
    fixed = next(i for i, part in enumerate(parts) if has_magic(part))
    base = "/".join(parts[:fixed]) or "/"
    try:
        check_local_path(base)
    except SourceError:
        raise SourceError(f"Reading {pattern!r} is not allowed: it is outside CATALOG_ALLOWED_PATHS") from None
    return pattern
