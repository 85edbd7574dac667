"""The one way Callboard talks to git. Every use is a ``with`` block.

Hardening (after Nautobot's GitRepo and the process leaks its tracker reports):
- no prompts (``GIT_TERMINAL_PROMPT=0``, no askpass), no system/global config, no hooks run;
- refs are validated against option injection before they reach a command line;
- only allowed protocols (``file``, ``https``, ``ssh``, ``git``; ``ext`` never);
- ``gc.autoDetach=false`` so no detached ``git gc`` outlives a worker;
- every command has a timeout; GitPython's persistent ``cat-file`` processes are closed on exit;
- URLs are logged with their credentials removed.

Repositories are data: a bare mirror per remote URL under the cache directory, read by commit sha.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit, urlunsplit

import git
from git.exc import GitCommandError

logger = logging.getLogger(__name__)

GIT_TIMEOUT_SECONDS = 120
_REF_RE = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/+-]{1,200}(?<!\.lock)(?<!/)$")
_SHA_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
ALLOWED_SCHEMES = {"file", "https", "http", "ssh", "git"}

_BASE_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "/bin/false",
    "SSH_ASKPASS": "/bin/false",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_PROTOCOL_FROM_USER": "0",
    "GIT_ALLOW_PROTOCOL": "file:https:http:ssh:git",
    "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
}
_CONFIG = [
    "-c", "gc.autoDetach=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "protocol.ext.allow=never",
    "-c", "core.fsmonitor=false",
    "-c", "init.defaultBranch=main",
]  # fmt: skip


class GitError(Exception):
    """A git operation failed; the message is safe to show to users (no credentials)."""


class PushRejected(GitError):
    """The remote refused the push because the branch exists and is not an ancestor (non-fast-forward)."""


def sanitize_url(url: str) -> str:
    """The URL without user info, for logs and error messages."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def validate_ref(ref: str) -> str:
    """A branch, tag or sha safe to pass to git (no option injection, no odd ranges)."""
    if not _REF_RE.match(ref or ""):
        raise GitError(f"Invalid git ref {ref!r}")
    return ref


def validate_url(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise GitError(f"Git URL scheme {scheme or '(none)'!r} is not allowed in {sanitize_url(url)}")
    if url.startswith("-"):
        raise GitError("Git URL may not start with '-'")
    return url


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(_BASE_ENV)
    env.update(extra or {})
    return env


def _run(repo: git.Repo, *args: str, env: dict[str, str] | None = None) -> str:
    try:
        return repo.git.execute(
            ["git", *_CONFIG, *args],
            env=_env(env),
            kill_after_timeout=GIT_TIMEOUT_SECONDS,
            with_extended_output=False,
        )
    except GitCommandError as exc:
        stderr = (exc.stderr or "").strip().replace("stderr: ", "")
        raise GitError(f"git {args[0]} failed: {sanitize_url(stderr)[:500]}") from exc


@dataclass(frozen=True)
class TreeEntry:
    path: str
    is_file: bool


@dataclass(frozen=True)
class PathInfo:
    """What a path is at a commit: ``file``, ``link`` (a symbolic link), ``directory``, ``other`` (a
    submodule) or ``missing``; ``size`` in bytes for files and links."""

    kind: str
    size: int = 0


class GitRepo:
    """A bare mirror of one remote, kept under ``cache_dir`` and opened as a context manager."""

    def __init__(self, url: str, cache_dir: Path):
        self.url = validate_url(url)
        key = hashlib.sha256(url.encode()).hexdigest()[:24]
        self.path = Path(cache_dir) / f"{key}.git"
        self._lock_path = Path(cache_dir) / f"{key}.lock"
        self._repo: git.Repo | None = None

    def __enter__(self) -> GitRepo:
        if not (self.path / "HEAD").exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._writing():  # two workers meeting a new repository: one creates the mirror
                if not (self.path / "HEAD").exists():
                    shutil.rmtree(self.path, ignore_errors=True)  # what a crash mid-creation left
                    staging = Path(tempfile.mkdtemp(prefix=f"{self.path.name}.", dir=self.path.parent))
                    git.Repo.init(staging, bare=True).close()
                    os.rename(staging, self.path)  # whole or not at all: nobody opens a half-made mirror
        self._repo = git.Repo(self.path)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._repo is not None:
            self._repo.close()
            self._repo = None

    @property
    def repo(self) -> git.Repo:
        if self._repo is None:
            raise GitError("GitRepo used outside its with block")
        return self._repo

    def remote_head(self, ref: str) -> str | None:
        """The sha ``ref`` points at on the remote, without fetching objects (cheap change check)."""
        validate_ref(ref)
        if _SHA_RE.match(ref):
            return ref
        out = _run(self.repo, "ls-remote", "--", self.url, ref, f"refs/heads/{ref}", f"refs/tags/{ref}")
        for line in out.splitlines():
            sha, _, name = line.partition("\t")
            if name in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}", f"refs/tags/{ref}^{{}}"):
                return sha
        return None

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer of this mirror at a time, across processes (a file lock beside it): git's own lock files
        make a second concurrent ``init`` or ``fetch`` fail ("Unable to create … shallow.lock: File exists")
        instead of waiting."""
        with open(self._lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def fetch(self, ref: str) -> str:
        """Fetch ``ref`` (branch, tag or sha) and return the commit sha it resolves to."""
        validate_ref(ref)
        local = f"refs/callboard/{hashlib.sha1(ref.encode()).hexdigest()}"  # noqa: S324 - a name, not security
        with self._writing():
            _run(self.repo, "fetch", "--no-tags", "--depth=1", "--force", "--", self.url, f"+{ref}:{local}")
            return _run(self.repo, "rev-parse", "--verify", f"{local}^{{commit}}").strip()

    def commit_times(self, ref: str, paths: list[str], *, depth: int = 500) -> tuple[int | None, int | None]:
        """(newest commit touching ``paths``, newest commit) at ``ref``, in seconds since the epoch.

        Fetches up to ``depth`` commits of history first (the catalog's fetches are shallow); a path
        untouched in that window gives None for it."""
        validate_ref(ref)
        local = f"refs/callboard/{hashlib.sha1(ref.encode()).hexdigest()}"  # noqa: S324 - a name, not security
        with self._writing():
            _run(self.repo, "fetch", "--no-tags", f"--depth={int(depth)}", "--force", "--", self.url, f"+{ref}:{local}")
        clean = [_clean_path(path) for path in paths if path not in ("", ".")]
        newest = _run(self.repo, "log", "-1", "--format=%ct", local).strip()
        touched = _run(self.repo, "log", "-1", "--format=%ct", local, "--", *clean).strip() if clean else newest
        return (int(touched) if touched else None), (int(newest) if newest else None)

    def has_commit(self, sha: str) -> bool:
        try:
            _run(self.repo, "cat-file", "-e", f"{validate_ref(sha)}^{{commit}}")
        except GitError:
            return False
        return True

    def read_file(self, sha: str, path: str, *, max_bytes: int | None = None) -> bytes:
        """The bytes of ``path`` at commit ``sha``; GitError if it is missing, not a file, or larger than
        ``max_bytes`` (checked from the object's size before anything is read)."""
        tree = self.repo.commit(validate_ref(sha)).tree
        clean = _clean_path(path)
        try:
            blob = tree / clean
        except KeyError as exc:
            raise GitError(f"{clean} does not exist at {sha[:12]}") from exc
        if blob.type != "blob":
            raise GitError(f"{clean} is not a file at {sha[:12]}")
        if blob.mode == 0o120000:
            raise GitError(f"{clean} is a symbolic link; links are not followed")
        if max_bytes is not None and blob.size > max_bytes:
            raise GitError(f"{clean} is {blob.size} bytes; the limit is {max_bytes}")
        return blob.data_stream.read()

    def path_info(self, sha: str, path: str) -> PathInfo:
        """What ``path`` is at ``sha`` (without reading its content); never follows a link."""
        tree = self.repo.commit(validate_ref(sha)).tree
        try:
            item = tree / _clean_path(path)
        except KeyError:
            return PathInfo("missing")
        if item.type == "tree":
            return PathInfo("directory")
        if item.type != "blob":
            return PathInfo("other")
        return PathInfo("link" if item.mode == 0o120000 else "file", item.size)

    def committed_at(self, sha: str) -> int:
        """When the commit ``sha`` was made (committer time), in seconds since the epoch."""
        return int(self.repo.commit(validate_ref(sha)).committed_date)

    def walk(self, sha: str, prefix: str = "") -> Iterator[TreeEntry]:
        """Every file and directory below ``prefix`` at ``sha`` (symlinks reported as files, not followed)."""
        tree = self.repo.commit(validate_ref(sha)).tree
        if prefix:
            try:
                tree = tree / _clean_path(prefix)
            except KeyError:
                return
            if tree.type != "tree":  # a file or a symbolic link: nothing below it, and links are not followed
                return
        for item in tree.traverse():
            yield TreeEntry(path=item.path, is_file=item.type == "blob")


def _clean_path(path: str) -> str:
    """A repository-relative path with no traversal out of the repository."""
    pure = PurePosixPath("/" + path.lstrip("/"))
    parts: list[str] = []
    for part in pure.parts[1:]:
        if part in ("", "."):
            continue
        if part == "..":
            raise GitError(f"Path {path!r} leaves the repository")
        parts.append(part)
    if not parts:
        raise GitError("Empty path")
    return "/".join(parts)


def clean_repo_path(path: str) -> str:
    """Public form of the traversal check, for callers that join repository paths."""
    return _clean_path(path)


def _push_env(username: str, password: str, *, follow_redirects: bool = True) -> dict[str, str] | None:
    """HTTP basic credentials (and a redirect policy) as git configuration in the environment: never on a
    command line (``ps`` shows those) nor in a URL (error messages and reflogs keep those)."""
    config: dict[str, str] = {}
    if password:
        config["http.extraHeader"] = _basic_auth_header(username, password)
    if not follow_redirects:
        config["http.followRedirects"] = "false"
    return _config_env(config) if config else None


def _basic_auth_header(username: str, password: str) -> str:
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Authorization: Basic {pair}"


def _config_env(pairs: dict[str, str]) -> dict[str, str]:
    """Git configuration passed in the environment (``GIT_CONFIG_COUNT``/``KEY_n``/``VALUE_n``)."""
    env = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for index, (key, value) in enumerate(pairs.items()):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def _commit(repo: git.Repo, message: str, author_name: str, author_email: str) -> None:
    _run(
        repo,
        "-c", f"user.name={author_name}", "-c", f"user.email={author_email}",
        "commit", "--quiet", "--allow-empty", "-m", message,
    )  # fmt: skip


@contextmanager
def _committed_copy(
    source: Path, branch: str, message: str, author_name: str, author_email: str
) -> Iterator[git.Repo]:
    """A throwaway repository whose one commit on ``branch`` holds a copy of ``source``."""
    with tempfile.TemporaryDirectory(prefix="callboard-git-") as tmp:
        work = Path(tmp) / "work"
        shutil.copytree(source, work, symlinks=True)
        repo = git.Repo.init(work, initial_branch=branch)
        try:
            _run(repo, "add", "--all", ".")
            _commit(repo, message, author_name, author_email)
            yield repo
        finally:
            repo.close()


def push_directory(
    source: Path,
    remote_url: str,
    *,
    branch: str = "main",
    message: str = "initial commit",
    author_name: str = "Callboard",
    author_email: str = "callboard@localhost",
    username: str = "",
    password: str = "",
    follow_redirects: bool = True,
) -> str:
    """Commit a copy of ``source`` as the first commit of ``branch`` and push it to ``remote_url`` (a new,
    empty repository on a forge); returns the sha. ``username``/``password`` are sent as HTTP basic auth.

    Never forced: an existing ``branch`` refuses the push (PushRejected). ``follow_redirects=False`` keeps
    git on the host of ``remote_url`` (for remotes allowed by prefix)."""
    validate_ref(branch)
    validate_url(remote_url)
    env = _push_env(username, password, follow_redirects=follow_redirects)
    with _committed_copy(source, branch, message, author_name, author_email) as repo:
        try:
            _run(repo, "push", "--quiet", "--", remote_url, f"HEAD:refs/heads/{branch}", env=env)
        except GitError as exc:
            if "[rejected]" in str(exc) or "non-fast-forward" in str(exc):
                raise PushRejected(str(exc)) from exc
            raise
        return _run(repo, "rev-parse", "HEAD").strip()


def create_repository_from_directory(
    source: Path,
    bare_path: Path,
    *,
    branch: str = "main",
    message: str = "Initial commit",
    author_name: str = "Callboard",
    author_email: str = "callboard@localhost",
) -> str:
    """Make ``bare_path`` a bare repository whose ``branch`` holds a copy of ``source``; returns the sha.

    Used for the demo organisation, tests and the scaffolder's ``publish:git``. An existing repository gets
    a new commit only when the content differs.
    """
    validate_ref(branch)
    bare_path = Path(bare_path)
    if not (bare_path / "HEAD").exists():
        bare_path.parent.mkdir(parents=True, exist_ok=True)
        git.Repo.init(bare_path, bare=True, initial_branch=branch).close()
    with _committed_copy(source, branch, message, author_name, author_email) as repo:
        tree = _run(repo, "rev-parse", "HEAD^{tree}").strip()
        remote_url = bare_path.resolve().as_uri()
        current = None
        try:
            _run(repo, "fetch", "--quiet", "--", remote_url, f"+refs/heads/{branch}:refs/remotes/o/{branch}")
            current = _run(repo, "rev-parse", f"refs/remotes/o/{branch}").strip()
        except GitError:
            current = None
        if current and _run(repo, "rev-parse", f"{current}^{{tree}}").strip() == tree:
            return current
        if current:
            _run(repo, "reset", "--soft", current)
            _commit(repo, message, author_name, author_email)
        _run(repo, "push", "--quiet", "--force", "--", remote_url, f"HEAD:refs/heads/{branch}")
        return _run(repo, "rev-parse", "HEAD").strip()


def _copy_into_checkout(source: Path, work: Path, prefix: str) -> None:
    """Copy ``source``'s files to ``work/prefix`` without writing through a link the checkout holds."""
    for root, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        rel = Path(root).relative_to(source)
        for name in files:
            dest_rel = PurePosixPath(prefix, rel.as_posix(), name) if prefix else PurePosixPath(rel.as_posix(), name)
            current = work
            for part in dest_rel.parts[:-1]:
                current = current / part
                if current.is_symlink() or (current.exists() and not current.is_dir()):
                    raise GitError(f"{current.relative_to(work)} is a link or a file in the repository; "
                                   "not written through")  # fmt: skip
            current.mkdir(parents=True, exist_ok=True)
            dest = work / dest_rel
            if dest.is_symlink() or dest.is_file():
                dest.unlink()
            shutil.copy2(Path(root) / name, dest, follow_symlinks=False)


def push_changes_on_branch(
    source: Path,
    remote_url: str,
    *,
    base: str,
    branch: str,
    target_path: str = "",
    message: str,
    author_name: str = "Callboard",
    author_email: str = "callboard@localhost",
    username: str = "",
    password: str = "",
) -> str:
    """Commit ``source``'s files into ``target_path`` of the remote's ``base`` branch (kept files stay; these
    are added or replaced) and push that commit as ``branch`` (never forced: an existing branch not behind
    it refuses the push). Used for pull and merge requests; returns the sha."""
    for ref in (base, branch):
        validate_ref(ref)
    validate_url(remote_url)
    prefix = _clean_path(target_path) if target_path.strip("./") else ""
    if prefix.split("/")[0] == ".git":
        raise GitError(f"Path {target_path!r} is inside the repository's .git")
    env = _push_env(username, password)
    with tempfile.TemporaryDirectory(prefix="callboard-git-") as tmp:
        work = Path(tmp) / "work"
        repo = git.Repo.init(work, initial_branch=branch)
        try:
            _run(repo, "fetch", "--quiet", "--depth=1", "--", remote_url, f"+refs/heads/{base}:refs/remotes/o/base",
                 env=env)  # fmt: skip
            _run(repo, "checkout", "--quiet", "-B", branch, "refs/remotes/o/base")
            _copy_into_checkout(Path(source), work, prefix)
            _run(repo, "add", "--all", ".")
            _commit(repo, message, author_name, author_email)
            _run(repo, "push", "--quiet", "--", remote_url, f"HEAD:refs/heads/{branch}", env=env)
            return _run(repo, "rev-parse", "HEAD").strip()
        finally:
            repo.close()
