"""publish:git: push the workspace to a git repository (a new bare one under the data dir by default)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings

from catalog.ingestion.sources import SourceError, check_local_path
from plugins.scaffolder import ScaffolderAction
from portal.git import create_repository_from_directory, validate_ref
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


def _bare_path(data: dict) -> tuple[Path, bool]:
    """(bare repository path, whether it must be new)."""
    remote = data.get("remoteUrl")
    if not remote:
        return local_repos_dir() / f"{_repo_name(data)}.git", True
    parts = urlsplit(remote)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise ValueError(f"remoteUrl {remote!r}: publish:git pushes to file:// repositories under "
                         "CATALOG_ALLOWED_PATHS in this version")  # fmt: skip
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


def publish_git(ctx) -> None:
    data = ctx.input
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
    description="Commits the workspace and pushes it to a git repository: remoteUrl (file:// under "
    "CATALOG_ALLOWED_PATHS), or a new bare repository under the data dir named by repoName (or by the "
    "repo of repoUrl, so publish:github steps can be pointed here unchanged).",
    input_schema={
        "type": "object",
        "properties": {
            "remoteUrl": {"type": "string", "description": "file:// URL of a repository to push to"},
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
