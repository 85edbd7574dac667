"""Reading sources: local files and files inside git repositories, through portal.git only.

One ``SourceReader`` serves one refresh. It fetches each (repository, ref) once, records what it read
in ``manifest`` (file stat or commit sha), and can tell cheaply whether a manifest is still current,
so a refresh of an unchanged location costs one ``ls-remote`` or a few ``stat`` calls.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from pathlib import Path

from django.conf import settings

from catalog.ingestion.sources import FileSource, GitSource, Source
from portal.git import GitError, GitRepo

MAX_DESCRIPTOR_BYTES = 1_048_576


class ReadError(Exception):
    """A source could not be read; the message is safe to show (no credentials)."""


class SourceReader:
    """Reads sources for one refresh; use as a context manager so git processes are closed."""

    def __init__(self, *, cache_dir: Path | None = None, max_bytes: int = MAX_DESCRIPTOR_BYTES):
        self.cache_dir = Path(cache_dir or settings.GIT_CACHE_DIR)
        self.max_bytes = max_bytes
        self.manifest: dict[str, str] = {}
        self._repos: dict[str, GitRepo] = {}
        self._shas: dict[tuple[str, str], str] = {}

    def __enter__(self) -> SourceReader:
        return self

    def __exit__(self, *exc_info) -> None:
        for repo in self._repos.values():
            repo.__exit__(None, None, None)
        self._repos.clear()

    # -- git -------------------------------------------------------------------------------------
    def _repo(self, url: str) -> GitRepo:
        if url not in self._repos:
            self._repos[url] = GitRepo(url, self.cache_dir).__enter__()
        return self._repos[url]

    def commit_for(self, source: GitSource) -> str:
        key = (source.repo_url, source.ref)
        if key not in self._shas:
            try:
                self._shas[key] = self._repo(source.repo_url).fetch(source.ref)
            except GitError as exc:
                raise ReadError(str(exc)) from exc
            self.manifest[f"git:{source.repo_url}@{source.ref}"] = self._shas[key]
        return self._shas[key]

    # -- reading ---------------------------------------------------------------------------------
    def read(self, source: Source) -> bytes:
        if isinstance(source, FileSource):
            return self._read_file(source.path)
        sha = self.commit_for(source)
        try:
            data = self._repo(source.repo_url).read_file(sha, source.path)
        except GitError as exc:
            raise ReadError(f"{source.path} at {source.ref}: {exc}") from exc
        if len(data) > self.max_bytes:
            raise ReadError(f"{source.path} is {len(data)} bytes; the limit is {self.max_bytes}")
        return data

    def _read_file(self, path: str) -> bytes:
        try:
            stat = os.stat(path)
        except FileNotFoundError as exc:
            raise ReadError(f"{path} does not exist") from exc
        except OSError as exc:
            raise ReadError(f"{path}: {exc.strerror}") from exc
        if not os.path.isfile(path):
            raise ReadError(f"{path} is not a file")
        if stat.st_size > self.max_bytes:
            raise ReadError(f"{path} is {stat.st_size} bytes; the limit is {self.max_bytes}")
        self.manifest[f"file:{path}"] = f"{stat.st_mtime_ns}:{stat.st_size}"
        with open(path, "rb") as handle:
            return handle.read(self.max_bytes + 1)

    def expand(self, source: Source) -> list[Source]:
        """Glob targets become the matching files (sorted); others are returned as they are."""
        if not any(ch in source.target for ch in "*?["):
            return [source]
        if isinstance(source, FileSource):
            matches = sorted(glob.glob(source.path, recursive=True))
            return [FileSource(path) for path in matches if os.path.isfile(path)]
        sha = self.commit_for(source)
        prefix = source.path.split("*", 1)[0].rsplit("/", 1)[0] if "/" in source.path else ""
        entries = self._repo(source.repo_url).walk(sha, prefix)
        return [
            source.with_path(entry.path)
            for entry in sorted(entries, key=lambda e: e.path)
            if entry.is_file and fnmatch.fnmatchcase(entry.path, source.path)
        ]

    # -- change detection ------------------------------------------------------------------------
    def unchanged(self, manifest: dict[str, str]) -> bool:
        """True when every file and ref in a previous manifest is exactly as it was."""
        if not manifest:
            return False
        for key, recorded in manifest.items():
            kind, _, rest = key.partition(":")
            if kind == "file":
                try:
                    stat = os.stat(rest)
                except OSError:
                    return False
                if f"{stat.st_mtime_ns}:{stat.st_size}" != recorded:
                    return False
            elif kind == "git":
                url, _, ref = rest.rpartition("@")
                try:
                    head = self._repo(url).remote_head(ref)
                except GitError:
                    return False
                if head != recorded:
                    return False
            else:
                return False
        return True
