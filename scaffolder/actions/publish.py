"""publish:git: push the workspace to a git repository: a new bare one under the data dir by default, a
``file://`` one under CATALOG_ALLOWED_PATHS, or an https remote an admin allows (scaffolder/git_remotes.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings

from catalog.ingestion.sources import SourceError, check_local_path
from plugins.scaffolder import ScaffolderAction
from portal.git import GitError, PushRejected, create_repository_from_directory, push_directory, validate_ref
from scaffolder.git_remotes import browse_url, match_remote
from scaffolder.templating import TemplateError, parse_repo_url

_REPO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_PLAIN = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


def local_repos_dir() -> Path:
    return Path(settings.LOCAL_REPOS_DIR) / "scaffolder"


def _repo_name(data: dict) -> str:
    name = data.get("repoName")
    if not name and data.get("repoUrl"):
        try:
            name = parse_repo_url(data["repoUrl"])["repo"]
        except TemplateError as exc:
            raise ValueError(str(exc)) from None
    if not name:
        raise ValueError("publish:git needs remoteUrl, repoName or repoUrl")
    if not _REPO_NAME.match(name) or name.endswith((".git", ".lock")):
        raise ValueError(f"repoName {name!r} may hold only letters, digits, '.', '_' and '-'")
    return name


def _is_file_url(remote: str) -> bool:
    return remote.lower().startswith("file:")


def _bare_path(data: dict) -> tuple[Path, bool]:
    """(bare repository path, whether it must be new)."""
    remote = data.get("remoteUrl")
    if not remote:
        return local_repos_dir() / f"{_repo_name(data)}.git", True
    parts = urlsplit(remote)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"remoteUrl {remote!r}: a file:// URL names a local path (file:///…), not a host")
    try:
        return Path(check_local_path(unquote(parts.path))), False
    except SourceError as exc:
        raise ValueError(str(exc)) from None


@dataclass(frozen=True)
class CommitInputs:
    """What every publish:* action commits: the folder, branch, message and author (inputs checked)."""

    source: Path
    branch: str
    message: str
    author_name: str
    author_email: str


def commit_inputs(ctx, default_branch: str = "main") -> CommitInputs:
    data = ctx.input
    branch = validate_ref(data.get("defaultBranch") or default_branch)
    author = data.get("gitAuthorName") or "Scaffolder"
    email = data.get("gitAuthorEmail") or "scaffolder@localhost"
    for field, value in (("gitAuthorName", author), ("gitAuthorEmail", email)):
        if not _PLAIN.match(value):
            raise ValueError(f"{field} must be one line of at most 200 characters")
    source = ctx.resolve(data.get("sourcePath") or ".", "sourcePath")
    if not source.is_dir():
        raise ValueError(f"sourcePath {data.get('sourcePath')!r} is not a directory in the workspace")
    return CommitInputs(source, branch, data.get("gitCommitMessage") or "initial commit", author, email)


def _push_to_remote(ctx, remote: str, commit: CommitInputs) -> None:
    """Push to an allowed https remote: its first commit on a new branch, never over existing history."""
    allowed = match_remote(remote)  # before anything is contacted
    try:
        sha = push_directory(
            commit.source, remote, branch=commit.branch, message=commit.message,
            author_name=commit.author_name, author_email=commit.author_email,
            username=allowed.username, password=allowed.token, follow_redirects=False,
        )  # fmt: skip
    except PushRejected:
        raise ValueError(f"remoteUrl {remote!r} already has a branch {commit.branch!r} with other history; "
                         "publish:git pushes only to an empty repository or a new branch (nothing was "
                         "changed): choose another defaultBranch or repository") from None  # fmt: skip
    except GitError as exc:
        text = str(exc)
        if any(s in text for s in ("Authentication failed", "could not read Username", " 401", " 403")):
            which = f"those set for {allowed.prefix}" if allowed.token else f"no token is set for {allowed.prefix}"
            raise ValueError(f"remoteUrl {remote!r}: the server refused the push's credentials ({which} in "
                             "SCAFFOLDER_GIT_REMOTES)") from None  # fmt: skip
        raise ValueError(f"remoteUrl {remote!r}: {text}") from None
    ctx.log(f"Pushed {sha[:12]} to {remote} ({commit.branch})")
    ctx.output("remoteUrl", remote)
    ctx.output("repoContentsUrl", browse_url(remote, commit.branch))
    ctx.output("commitHash", sha)


def publish_git(ctx) -> None:
    data = ctx.input
    remote = data.get("remoteUrl")
    if remote and not _is_file_url(remote):
        _push_to_remote(ctx, remote, commit_inputs(ctx))
        return
    commit = commit_inputs(ctx)
    branch = commit.branch
    bare, must_be_new = _bare_path(data)
    if must_be_new and bare.exists():
        raise FileExistsError(f"A repository named {bare.stem!r} already exists")
    sha = create_repository_from_directory(
        commit.source, bare, branch=branch, message=commit.message,
        author_name=commit.author_name, author_email=commit.author_email,
    )  # fmt: skip
    uri = bare.resolve().as_uri()
    ctx.log(f"Pushed {sha[:12]} to {uri} ({branch})")
    ctx.output("remoteUrl", uri)
    ctx.output("repoContentsUrl", f"git+{uri}@{branch}")
    ctx.output("commitHash", sha)


PUBLISH_GIT = ScaffolderAction(
    id="publish:git",
    handler=publish_git,
    description="Commits the workspace and pushes it to a git repository: remoteUrl (an https remote allowed by "
    "SCAFFOLDER_GIT_REMOTES, or file:// under CATALOG_ALLOWED_PATHS), or a new bare repository under the data "
    "dir named by repoName (or by the repo of repoUrl, so publish:github steps can be pointed here unchanged).",
    input_schema={
        "type": "object",
        "properties": {
            "remoteUrl": {
                "type": "string",
                "description": "https:// remote allowed by SCAFFOLDER_GIT_REMOTES, or "
                "file:// URL of a repository under CATALOG_ALLOWED_PATHS",
            },
            "repoName": {"type": "string", "description": "Name of the new local bare repository"},
            "repoUrl": {"type": "string", "description": "RepoUrlPicker value; its repo names the repository"},
            "defaultBranch": {"type": "string", "default": "main"},
            "gitCommitMessage": {"type": "string", "default": "initial commit"},
            "gitAuthorName": {"type": "string"},
            "gitAuthorEmail": {"type": "string"},
            "sourcePath": {"type": "string", "description": "Folder of the workspace to publish"},
            "description": {"type": "string"},
        },
    },
    output_schema={
        "type": "object",
        "properties": {
            # examples: what a dry run reports, since it pushes nothing
            "remoteUrl": {"type": "string", "examples": ["file:///var/lib/callboard/repos/scaffolder/example.git"]},
            "repoContentsUrl": {
                "type": "string", "examples": ["git+file:///var/lib/callboard/repos/scaffolder/example.git@main"]
            },
            "commitHash": {"type": "string", "examples": ["0" * 40]},
        },
    },
)
