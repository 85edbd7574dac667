"""An entity's repository at its current commit, read through the catalog's sources and ``portal.git``.

Where: the entity's ``backstage.io/source-location`` (``url:`` a git target or a GitHub/GitLab tree URL), else
the folder of the file that defined it (``backstage.io/managed-by-location``), parsed by the catalog's
``parse_target`` (the same allowed hosts and paths as descriptors). Which commit: the one the entity's last
refresh read (its location's manifest), fetched again only when the mirror lacks it or the source is in
another repository. Reads are bounded and never follow a symbolic link.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from catalog.ingestion.sources import GitSource, SourceError, parse_target
from portal.git import GitError, GitRepo, clean_repo_path

SOURCE_LOCATION = "backstage.io/source-location"
MANAGED_BY = "backstage.io/managed-by-location"


class RepositoryError(Exception):
    """The entity has no readable git repository; the message says why (safe to show)."""


def source_directory(body: dict) -> GitSource:
    """The git directory an entity's files live in (``path`` '.' for the repository root)."""
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    source = str(annotations.get(SOURCE_LOCATION) or "").strip()
    managed = str(annotations.get(MANAGED_BY) or "").strip()
    try:
        if source.startswith("url:"):
            target = source[4:]
            parsed = parse_target("url", target)
            if isinstance(parsed, GitSource):
                is_folder = parsed.style != "pip" and "/tree/" in target and parsed.path.endswith("catalog-info.yaml")
                path = posixpath.dirname(parsed.path) if is_folder else parsed.path.rstrip("/")
                return parsed.with_path(posixpath.normpath(path or "."))
        if managed.startswith("url:"):
            parsed = parse_target("url", managed[4:])
            if isinstance(parsed, GitSource):
                return parsed.with_path(posixpath.dirname(parsed.path) or ".")
    except SourceError as exc:
        raise RepositoryError(str(exc)) from exc
    raise RepositoryError("the entity is not read from a git repository (no url: source-location or location)")


@dataclass
class Checkout:
    """One entity's directory at one commit, for collectors (``plugins.facts.FactSource``)."""

    entity_ref: str
    entity: dict
    repo: GitRepo | None
    directory: str
    commit: str
    committed_at: int
    wanted_paths: tuple[str, ...] = ()
    text_paths: frozenset[str] = frozenset()
    _kinds: dict[str, str] = field(default_factory=dict)

    def _path(self, path: str) -> str:
        joined = posixpath.normpath(posixpath.join("" if self.directory in ("", ".") else self.directory, path))
        return clean_repo_path(joined)  # GitError when it leaves the repository

    def kind(self, path: str) -> str:
        if self.repo is None:
            return "missing"
        if path not in self._kinds:
            self._kinds[path] = self.repo.path_info(self.commit, self._path(path)).kind
        return self._kinds[path]

    def read(self, path: str, max_bytes: int) -> bytes:
        if self.repo is None:
            raise RepositoryError("no repository")
        return self.repo.read_file(self.commit, self._path(path), max_bytes=max_bytes)


class Repositories:
    """The git mirrors one collection opens (each once), closed on exit; commits fetched once per (url, ref)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = Path(cache_dir or settings.GIT_CACHE_DIR)
        self._open: dict[str, GitRepo] = {}
        self._fetched: dict[tuple[str, str], str] = {}
        self._present: set[tuple[str, str]] = set()
        self._times: dict[tuple[str, str], int] = {}

    def __enter__(self) -> Repositories:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for repo in self._open.values():
            repo.__exit__(None, None, None)
        self._open.clear()

    def repo(self, url: str) -> GitRepo:
        if url not in self._open:
            self._open[url] = GitRepo(url, self.cache_dir).__enter__()
        return self._open[url]

    def commit(self, source: GitSource, known: str = "") -> str:
        """The commit to read: ``known`` (what the last refresh read) when the mirror has it, else fetched."""
        repo = self.repo(source.repo_url)
        if known and ((source.repo_url, known) in self._present or repo.has_commit(known)):
            self._present.add((source.repo_url, known))
            return known
        key = (source.repo_url, source.ref)
        if key not in self._fetched:
            try:
                self._fetched[key] = repo.fetch(source.ref)
            except GitError as exc:
                raise RepositoryError(str(exc)) from exc
        return self._fetched[key]

    def committed_at(self, url: str, commit: str) -> int:
        if (url, commit) not in self._times:
            self._times[url, commit] = self.repo(url).committed_at(commit)
        return self._times[url, commit]
