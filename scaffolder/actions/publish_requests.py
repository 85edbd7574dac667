"""publish:github:pull-request and publish:gitlab:merge-request: propose the workspace's files as a change to
an existing repository (Backstage's inputs and outputs; docs/scaffolder.md).

GitHub: the files are committed on top of the target branch and pushed as ``branchName`` over HTTPS with the
token, then ``POST /repos/{owner}/{repo}/pulls`` opens the pull request (and requests reviewers). GitLab, as
Backstage does: ``POST /projects/:id/repository/branches``, one ``POST …/repository/commits`` whose actions
carry the files, then ``POST /projects/:id/merge_requests``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import posixpath
import re
from pathlib import Path

from plugins.scaffolder import ScaffolderAction
from portal.git import GitError, clean_repo_path, push_changes_on_branch, validate_ref
from scaffolder.actions.publish_forge import answer_message, forge_target
from scaffolder.forges import ForgeError, ForgeHost, path_part
from scaffolder.sources import MAX_BYTES, MAX_FILES

_ONE_LINE = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


def _branch(name: str, what: str) -> str:
    try:
        return validate_ref(name)
    except GitError:
        raise ValueError(f"{what} {name!r} is not a valid branch name") from None


def repo_subpath(value: str | None, what: str) -> str:
    """A folder of the target repository ('' for its root); '..', '.git' and control characters refused."""
    value = (value or "").strip()
    if value in ("", ".", "./", "/"):
        return ""
    if "\\" in value or any(ord(ch) < 32 for ch in value):
        raise ValueError(f"{what} {value!r} is not a plain repository path")
    try:
        path = clean_repo_path(value)
    except GitError:
        raise ValueError(f"{what} {value!r} leaves the repository") from None
    if path.split("/")[0] == ".git":
        raise ValueError(f"{what} {value!r} is inside the repository's .git")
    return path


def _author(data: dict) -> tuple[str, str]:
    name = data.get("gitAuthorName") or "Scaffolder"
    email = data.get("gitAuthorEmail") or "scaffolder@localhost"
    for field, value in (("gitAuthorName", name), ("gitAuthorEmail", email)):
        if not _ONE_LINE.match(value):
            raise ValueError(f"{field} must be one line of at most 200 characters")
    return name, email


def _source_dir(ctx, path: str | None) -> Path:
    source = ctx.resolve(path or ".", "sourcePath")
    if not source.is_dir():
        raise ValueError(f"sourcePath {path!r} is not a directory in the workspace")
    return source


# -- GitHub -------------------------------------------------------------------------------------------
def publish_github_pull_request(ctx) -> None:
    data = ctx.input
    if data.get("forceFork"):
        raise ValueError("forceFork is not supported: Callboard opens pull requests from a branch of the "
                         "repository itself (the token needs push access)")  # fmt: skip
    forge, owner, repo = forge_target(data, "github")
    branch = _branch(data["branchName"], "branchName")
    target_path = repo_subpath(data.get("targetPath"), "targetPath")
    source = _source_dir(ctx, data.get("sourcePath"))
    author = _author(data)
    slug = f"/repos/{path_part(owner)}/{path_part(repo)}"
    status, info = forge.call("GET", slug)
    if status != 200 or not isinstance(info, dict):
        raise ForgeError(f"{forge.host}: repository {owner}/{repo} not found ({status} from GET {slug})")
    base = _branch(data.get("targetBranchName") or str(info.get("default_branch") or "main"), "targetBranchName")
    remote = forge.check_push_url(str(info.get("clone_url") or ""), forge.host)
    existing = _open_pull(forge, slug, owner, branch) if data.get("update") else None
    try:
        sha = push_changes_on_branch(source, remote, base=branch if existing else base, branch=branch,
                                     target_path=target_path, message=data.get("commitMessage") or data["title"],
                                     author_name=author[0], author_email=author[1], username="x-access-token",
                                     password=forge.token)  # fmt: skip
    except GitError as exc:
        raise ForgeError(f"Pushing branch {branch!r} to {remote} failed (an existing branch is only added to "
                         f"with update: true and an open pull request): {exc}") from None  # fmt: skip
    ctx.log(f"Pushed {sha[:12]} to {owner}/{repo} as {branch} (on {existing['head']['ref'] if existing else base})")
    if existing:
        status, pull = forge.call("PATCH", f"{slug}/pulls/{existing['number']}",
                                  {"title": data["title"], "body": data.get("description") or ""})  # fmt: skip
        if status != 200 or not isinstance(pull, dict):
            raise ForgeError(f"{forge.host}: updating pull request #{existing['number']} failed "
                             f"({status}: {answer_message(pull)})")  # fmt: skip
    else:
        body = {"title": data["title"], "body": data.get("description") or "", "head": branch, "base": base,
                "draft": bool(data.get("draft"))}  # fmt: skip
        status, pull = forge.call("POST", f"{slug}/pulls", body)
        if status != 201 or not isinstance(pull, dict):
            raise ForgeError(f"{forge.host}: pull request creation failed ({status}: {answer_message(pull)})")
    number = pull.get("number")
    ctx.log(f"Pull request #{number}: {pull.get('html_url')}")
    if data.get("reviewers") or data.get("teamReviewers"):
        _request_reviewers(ctx, forge, slug, number, data)
    ctx.output("targetBranchName", (pull.get("base") or {}).get("ref") or base)
    ctx.output("remoteUrl", pull.get("html_url"))
    ctx.output("pullRequestNumber", number)


def _open_pull(forge: ForgeHost, slug: str, owner: str, branch: str) -> dict | None:
    status, pulls = forge.call("GET", f"{slug}/pulls?state=open&head={path_part(owner)}:{path_part(branch)}")
    return pulls[0] if status == 200 and isinstance(pulls, list) and pulls and isinstance(pulls[0], dict) else None


def _request_reviewers(ctx, forge: ForgeHost, slug: str, number, data: dict) -> None:
    body = {"reviewers": list(data.get("reviewers") or []),
            "team_reviewers": list(dict.fromkeys(data.get("teamReviewers") or []))}  # fmt: skip
    status, answer = forge.call("POST", f"{slug}/pulls/{number}/requested_reviewers", body)
    if status == 201:  # as in Backstage, reviewers that cannot be added are logged, the step goes on
        ctx.log(f"Added users [{', '.join(body['reviewers'])}] and teams [{', '.join(body['team_reviewers'])}] "
                f"as reviewers to pull request #{number}")  # fmt: skip
    else:
        ctx.log(f"Failure when adding reviewers to pull request #{number}: {status} {answer_message(answer)}")


# -- GitLab -------------------------------------------------------------------------------------------
def _serialize(root: Path) -> list[tuple[str, bytes, bool]]:
    """(relative path, content, executable) of every file below ``root`` (.git skipped), bounded."""
    files, total = [], 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git" and not os.path.islink(os.path.join(folder, d)))
        for name in sorted(names):
            path = Path(folder, name)
            if path.is_symlink():
                continue
            data = path.read_bytes()
            total += len(data)
            if len(files) >= MAX_FILES or total > MAX_BYTES:
                raise ValueError(f"The files to commit exceed {MAX_FILES} files or {MAX_BYTES} bytes")
            files.append((path.relative_to(root).as_posix(), data, os.access(path, os.X_OK)))
    return files


def _user_id(ctx, forge: ForgeHost, username: str) -> int | None:
    status, users = forge.call("GET", f"/users?username={path_part(username)}")
    if status == 200 and isinstance(users, list) and users and isinstance(users[0], dict):
        return users[0].get("id")
    ctx.log(f"Failed to find gitlab user id for {username}; proceeding without them")
    return None


def _commit_action(forge: ForgeHost, pid: str, path: str, data: bytes, remote: set[str], ref: str,
                   default: str) -> str:  # fmt: skip
    if default != "auto":
        return default
    if path not in remote:
        return "create"
    status, info = forge.call("GET", f"/projects/{pid}/repository/files/{path_part(path)}?ref={path_part(ref)}")
    if status == 200 and isinstance(info, dict) and info.get("content_sha256") == hashlib.sha256(data).hexdigest():
        return "skip"
    return "update"


def publish_gitlab_merge_request(ctx) -> None:
    data = ctx.input
    forge, owner, repo = forge_target(data, "gitlab")
    project = f"{owner}/{repo}"
    pid = path_part(project)
    branch = _branch(data["branchName"], "branchName")
    target_path = repo_subpath(data.get("targetPath"), "targetPath")
    # Backstage: sourcePath, else (for backward compatibility) targetPath, else the whole workspace.
    root = _source_dir(ctx, data.get("sourcePath") or data.get("targetPath") or ".")
    files = _serialize(root)
    assignee_id = _user_id(ctx, forge, data["assignee"]) if data.get("assignee") else None
    reviewer_ids = None
    if data.get("reviewers") is not None:
        reviewer_ids = [i for i in (_user_id(ctx, forge, r) for r in data["reviewers"]) if i is not None]
    target = data.get("targetBranchName")
    if not target:
        status, info = forge.call("GET", f"/projects/{pid}")
        if status != 200 or not isinstance(info, dict):
            raise ForgeError(f"{forge.host}: project {project} not found ({status} from GET /projects/{pid})")
        target = info.get("default_branch")
        if not target:
            raise ForgeError(f"{forge.host}: project {project} has no default branch; give targetBranchName")
    target = _branch(str(target), "targetBranchName")
    commit_action = data.get("commitAction") or "auto"
    remote: set[str] = set()
    if commit_action == "auto":
        query = f"ref={path_part(target)}&recursive=true&per_page=100" + (f"&path={path_part(target_path)}"
                                                                          if target_path else "")  # fmt: skip
        status, tree = forge.call("GET", f"/projects/{pid}/repository/tree?{query}")
        if status == 200 and isinstance(tree, list):
            remote = {str(item.get("path")) for item in tree if isinstance(item, dict)}
        else:
            ctx.log(f"Could not list the files of {project} ({target}): {status}")
    actions = []
    for rel, content, executable in files:
        path = posixpath.join(target_path, rel) if target_path else rel
        action = _commit_action(forge, pid, path, content, remote, target, commit_action)
        if action != "skip":
            actions.append({"action": action, "file_path": path, "encoding": "base64",
                            "content": base64.b64encode(content).decode(), "execute_filemode": executable})  # fmt: skip
    status, existing = forge.call("GET", f"/projects/{pid}/repository/branches/{path_part(branch)}")
    if status == 200 and isinstance(existing, dict):
        if actions:
            status, mrs = forge.call("GET", f"/projects/{pid}/merge_requests?source_branch={path_part(branch)}")
            also = (f" Additionally, there is a Merge Request for this branch: {mrs[0].get('web_url')}"
                    if status == 200 and isinstance(mrs, list) and mrs else "")  # fmt: skip
            raise ForgeError(f"The branch creation failed because the branch already exists at: "
                             f"{existing.get('web_url')}.{also}")  # fmt: skip
        ctx.log(f"Using existing branch {branch} without modification.")
    else:
        status, answer = forge.call("POST", f"/projects/{pid}/repository/branches", {"branch": branch, "ref": target})
        if status != 201:
            raise ForgeError(f"The branch creation failed. Please check that your repo does not already contain a "
                             f"branch named '{branch}'. {status}: {answer_message(answer)}")  # fmt: skip
    if actions:
        author = _author(data) if data.get("gitAuthorName") or data.get("gitAuthorEmail") else None
        body = {"branch": branch, "commit_message": data.get("commitMessage") or data["title"], "actions": actions,
                **({"author_name": author[0], "author_email": author[1]} if author else {})}  # fmt: skip
        status, commit = forge.call("POST", f"/projects/{pid}/repository/commits", body)
        if status != 201 or not isinstance(commit, dict):
            raise ForgeError(f"Committing the changes to {branch} failed. Please check that none of the files "
                             f"created by the template already exists. {status}: {answer_message(commit)}")  # fmt: skip
        ctx.log(f"Committed {len(actions)} files to {project} ({branch}): {str(commit.get('id'))[:12]}")
    else:
        ctx.log(f"Nothing to commit to {project}: the files are already there")
    body = {"source_branch": branch, "target_branch": target, "title": data["title"],
            "description": data.get("description") or "", "remove_source_branch": bool(data.get("removeSourceBranch")),
            "assignee_id": assignee_id, "reviewer_ids": reviewer_ids}  # fmt: skip
    status, mr = forge.call("POST", f"/projects/{pid}/merge_requests", {k: v for k, v in body.items() if v is not None})
    if status != 201 or not isinstance(mr, dict):
        raise ForgeError(f"Merge request creation failed. {status}: {answer_message(mr)}")
    ctx.log(f"Merge request !{mr.get('iid')}: {mr.get('web_url')}")
    ctx.output("projectid", project)
    ctx.output("targetBranchName", target)
    ctx.output("projectPath", project)
    ctx.output("mergeRequestUrl", mr.get("web_url"))


_TOKEN = {"type": ["string", "boolean"], "description": "Token to use instead of the host's configured one"}
_REPO_URL = {"type": "string", "description": "host?owner=…&repo=… (RepoUrlPicker) of an existing repository"}

PUBLISH_GITHUB_PULL_REQUEST = ScaffolderAction(
    id="publish:github:pull-request",
    handler=publish_github_pull_request,
    description="Commits the workspace (or sourcePath) into targetPath on top of the target branch, pushes it "
    "as branchName and opens a pull request (POST /repos/{owner}/{repo}/pulls). Hosts: CATALOG_GITHUB_HOSTS.",
    input_schema={
        "type": "object",
        "required": ["repoUrl", "branchName", "title", "description"],
        "properties": {
            "repoUrl": _REPO_URL,
            "branchName": {"type": "string", "description": "The new branch the pull request comes from"},
            "targetBranchName": {"type": "string", "description": "The branch it targets (default: the repository's)"},
            "title": {"type": "string"},
            "description": {"type": "string", "description": "The pull request's body"},
            "draft": {"type": "boolean"},
            "targetPath": {"type": "string", "description": "Folder of the repository the files go to"},
            "sourcePath": {"type": "string", "description": "Folder of the workspace to commit"},
            "token": _TOKEN,
            "reviewers": {"type": "array", "items": {"type": "string"}},
            "teamReviewers": {"type": "array", "items": {"type": "string"}},
            "commitMessage": {"type": "string", "description": "Default: the title"},
            "update": {"type": "boolean", "description": "Add to the branch of an open pull request, update it"},
            "forceFork": {"type": "boolean", "description": "Not supported (refused when true)"},
            "gitAuthorName": {"type": "string"},
            "gitAuthorEmail": {"type": "string"},
            "forceEmptyGitAuthor": {"type": "boolean", "description": "Accepted, ignored"},
            "createWhenEmpty": {"type": "boolean", "description": "Accepted, ignored (an empty change is committed)"},
            "allowedHosts": {"type": "array", "items": {"type": "string"}},
        },
    },
    output_schema={
        "type": "object",
        "properties": {
            "targetBranchName": {"type": "string", "description": "The branch the pull request targets"},
            "remoteUrl": {"type": "string", "description": "The pull request's html_url"},
            "pullRequestNumber": {"type": "integer"},
        },
    },
    examples=[{"description": "Propose a new service folder",
               "example": {"repoUrl": "github.com?owner=northwind&repo=services", "branchName": "add-stop-finder",
                           "title": "Add stop-finder", "description": "Made by a template",
                           "targetPath": "stop-finder"}}],
)  # fmt: skip

PUBLISH_GITLAB_MERGE_REQUEST = ScaffolderAction(
    id="publish:gitlab:merge-request",
    handler=publish_gitlab_merge_request,
    description="Creates branchName from the target branch, commits the workspace's files to it through the "
    "commits API and opens a merge request. Hosts: CATALOG_GITLAB_HOSTS.",
    input_schema={
        "type": "object",
        "required": ["repoUrl", "branchName", "title"],
        "properties": {
            "repoUrl": _REPO_URL,
            "title": {"type": "string"},
            "description": {"type": "string"},
            "branchName": {"type": "string", "description": "The source branch of the merge request"},
            "targetBranchName": {"type": "string", "description": "Default: the project's default branch"},
            "sourcePath": {"type": "string", "description": "Folder of the workspace (default: targetPath, then .)"},
            "targetPath": {"type": "string", "description": "Folder of the repository the files go to"},
            "token": _TOKEN,
            "commitAction": {
                "type": "string",
                "enum": ["create", "update", "delete", "skip", "auto"],
                "description": "auto (default): create, update or skip each file",
            },
            "removeSourceBranch": {"type": "boolean"},
            "assignee": {"type": "string", "description": "GitLab username"},
            "reviewers": {"type": "array", "items": {"type": "string"}},
            "commitMessage": {"type": "string", "description": "Default: the title"},
            "gitAuthorName": {"type": "string"},
            "gitAuthorEmail": {"type": "string"},
            "projectid": {"type": "string", "description": "Deprecated in Backstage; ignored"},
            "allowedHosts": {"type": "array", "items": {"type": "string"}},
        },
    },
    output_schema={
        "type": "object",
        "properties": {
            "targetBranchName": {"type": "string"},
            "projectid": {"type": "string"},
            "projectPath": {"type": "string"},
            "mergeRequestUrl": {"type": "string"},
        },
    },
)
