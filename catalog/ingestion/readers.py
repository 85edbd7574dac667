"""Reading sources: local files and files inside git repositories, through portal.git only.

One ``SourceReader`` serves one refresh. It fetches each (repository, ref) once, records what it read
in ``manifest`` (file stat or commit sha), and can tell cheaply whether a manifest is still current,
so a refresh of an unchanged location costs one ``ls-remote`` or a few ``stat`` calls.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat as stat_module
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from catalog.ingestion.sources import (
    FileSource,
    GitSource,
    Source,
    SourceError,
    allowed_roots,
    check_local_path,
    has_magic,
    is_allowed_real_path,
)
from portal.git import GitError, GitRepo

MAX_DESCRIPTOR_BYTES = 1_048_576


class ReadError(Exception):
    """A source could not be read; the message is safe to show (no credentials, no content)."""

    def __init__(self, message: str, rule: str = "read-failed"):
        super().__init__(message)
        self.rule = rule


@dataclass
class Expansion:
    """What a target expands to: the files to read, and the links refused on the way (source, message)."""

    sources: list[Source]
    refused: list[tuple[Source, str]] = field(default_factory=list)


class SourceReader:
    """Reads sources for one refresh; use as a context manager so git processes are closed."""

    def __init__(self, *, cache_dir: Path | None = None, max_bytes: int = MAX_DESCRIPTOR_BYTES):
        self.cache_dir = Path(cache_dir or settings.GIT_CACHE_DIR)
        self.max_bytes = max_bytes
        self.manifest: dict[str, str] = {}
        self._repos: dict[str, GitRepo] = {}
        self._shas: dict[tuple[str, str], str] = {}
        self.roots = allowed_roots()  # CATALOG_ALLOWED_PATHS, real paths, once per refresh

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
        with os.fdopen(self._open_checked(path), "rb") as handle:
            stat = os.fstat(handle.fileno())
            if not stat_module.S_ISREG(stat.st_mode):
                raise ReadError(f"{path} is not a file")
            if stat.st_size > self.max_bytes:
                raise ReadError(f"{path} is {stat.st_size} bytes; the limit is {self.max_bytes}")
            self.manifest[f"file:{path}"] = f"{stat.st_mtime_ns}:{stat.st_size}"
            return handle.read(self.max_bytes + 1)

    def _open_checked(self, path: str) -> int:
        """Open a local file for reading only if what is opened lies inside ``CATALOG_ALLOWED_PATHS``.

        Every path reaching here was checked by its real path already (``parse_target``, glob expansion);
        this closes the gap between that check and the open. The last component is opened with
        ``O_NOFOLLOW``; when it is a link, the link's real path is checked and that is opened instead. Then
        the real path of the opened descriptor (``/proc/self/fd``) is checked, so a directory swapped for a
        link meanwhile is caught too. Where ``/proc`` is missing the real path is checked before the open
        (a swap between that check and the open then remains possible). Nothing is read from a refused
        file, so its content reaches no message.
        """
        if not _HAS_PROC_FDS:
            return _open(self._checked(path), path)
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                self._checked(path)  # outside the allowed paths: say so, not whether it exists
                raise _read_error(path, exc) from exc
            fd = _open(self._checked(path), path)  # a link: followed only into the allowed paths
        try:
            opened = os.readlink(f"{_PROC_FDS}/{fd}")
        except OSError:
            opened = None
        if opened is None or not is_allowed_real_path(opened, self.roots):
            os.close(fd)
            raise ReadError(f"Reading {path!r} is not allowed: it is outside CATALOG_ALLOWED_PATHS",
                            rule="path-not-allowed")  # fmt: skip
        return fd

    def _checked(self, path: str) -> str:
        try:
            return check_local_path(path, self.roots)
        except SourceError as exc:
            raise ReadError(str(exc), rule="path-not-allowed") from exc

    def expand(self, source: Source) -> Expansion:
        """Glob targets become the matching files (sorted); others are returned as they are.

        Local globs never leave ``CATALOG_ALLOWED_PATHS``: every directory entered and every file matched
        is checked by its real path; a symbolic link (to a file or a directory) that leads outside is
        refused with an error, not followed. Git globs match paths in the commit's tree only."""
        if not has_magic(source.path):
            return Expansion([source])
        if isinstance(source, FileSource):
            matches, refused = expand_local_glob(source.path, self.roots)
            return Expansion([FileSource(p) for p in matches], [(FileSource(p), m) for p, m in refused])
        sha = self.commit_for(source)
        fixed = source.path.split("/")
        fixed = fixed[: next(i for i, part in enumerate(fixed) if has_magic(part))]
        entries = self._repo(source.repo_url).walk(sha, "/".join(fixed))
        return Expansion([
            source.with_path(entry.path)
            for entry in sorted(entries, key=lambda e: e.path)
            if entry.is_file and fnmatch.fnmatchcase(entry.path, source.path)
        ])  # fmt: skip

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


_PROC_FDS = "/proc/self/fd"
_HAS_PROC_FDS = os.path.isdir(_PROC_FDS)
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NOCTTY", 0)


def _open(path: str, shown: str) -> int:
    """``os.open`` for reading, never following a link in the last component, never blocking on a FIFO."""
    try:
        return os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise _read_error(shown, exc) from exc


def _read_error(shown: str, exc: OSError) -> ReadError:
    if isinstance(exc, FileNotFoundError):
        return ReadError(f"{shown} does not exist")
    return ReadError(f"{shown}: {exc.strerror}")


def expand_local_glob(pattern: str, roots: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The files an absolute glob matches, as ``glob.glob(pattern, recursive=True)`` finds them (``**`` is
    any number of directories; a name starting with '.' only matches a pattern part that does), but never
    outside ``roots`` (:func:`allowed_roots`): a symbolic link is followed only when its real path is inside
    them, and a directory reached twice (a link loop) is entered once.

    Returns (sorted matches, refused), refused holding (path, message) for each link that would have been
    followed (a matching file, or a directory to descend into) but leads outside. Raises SourceError when
    the glob's fixed leading directory is itself outside.
    """
    parts = pattern.split("/")
    first = next(i for i, part in enumerate(parts) if has_magic(part))
    base = "/".join(parts[:first]) or "/"
    matches: list[str] = []
    refused: list[tuple[str, str]] = []
    real_base = check_local_path(base, roots)
    entered: set[tuple[str, int]] = set()  # (real directory, pattern parts left): each visited once

    def listing(directory: str, part: str) -> list[tuple[str, bool, bool, bool]]:
        """(name, is a link, is a directory, is a file) of the entries of ``directory`` that ``part``
        matches; the last two follow links (a link's type is looked at, never its content)."""
        if not has_magic(part):
            path = os.path.join(directory, part)
            if not os.path.lexists(path):
                return []
            return [(part, os.path.islink(path), os.path.isdir(path), os.path.isfile(path))]
        hidden_ok = part.startswith(".")
        found = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    name = entry.name
                    if (hidden_ok or not name.startswith(".")) and fnmatch.fnmatchcase(name, part):
                        found.append((name, entry.is_symlink(), _is(entry.is_dir), _is(entry.is_file)))
        except OSError:
            return []
        return sorted(found)

    def follow(path: str, real_dir: str, name: str, link: bool) -> str | None:
        """The real path of an entry about to be used; None (and refused) for a link that leads outside."""
        if not link:
            return os.path.join(real_dir, name)
        real = os.path.realpath(path)
        if is_allowed_real_path(real, roots):
            return real
        refused.append((path, f"Reading {path!r} is not allowed: it is a symbolic link that leads outside "
                              "CATALOG_ALLOWED_PATHS; not followed"))  # fmt: skip
        return None

    def descend(path: str, real: str, rest: list[str]) -> None:
        if (real, len(rest)) not in entered:
            entered.add((real, len(rest)))
            visit(path, real, rest)

    def visit(directory: str, real_dir: str, rest: list[str]) -> None:
        head, tail = rest[0], rest[1:]
        if head == "**":
            if tail:
                visit(directory, real_dir, tail)  # zero directories
            for name, link, is_dir, is_file in listing(directory, "*"):
                path = os.path.join(directory, name)
                if (is_dir or (is_file and not tail)) and (real := follow(path, real_dir, name, link)):
                    if is_dir:
                        descend(path, real, rest)
                    else:
                        matches.append(path)
            return
        for name, link, is_dir, is_file in listing(directory, head):
            path = os.path.join(directory, name)
            if (is_dir if tail else is_file) and (real := follow(path, real_dir, name, link)):
                if tail:
                    descend(path, real, tail)
                else:
                    matches.append(path)

    if os.path.isdir(real_base):
        descend(base, real_base, parts[first:])
    return sorted(set(matches)), refused


def _is(test) -> bool:
    """A DirEntry type test; False when the entry vanished or a link is broken."""
    try:
        return test()
    except OSError:
        return False
