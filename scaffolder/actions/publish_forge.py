"""publish:github and publish:gitlab: create the repository through the forge's REST API, then push the
workspace to it over HTTPS with the token (Backstage's inputs and outputs; docs/scaffolder.md)."""

from __future__ import annotations

from plugins.scaffolder import ScaffolderAction
from portal.git import GitError, push_directory
from scaffolder.actions.publish import commit_inputs
from scaffolder.forges import ForgeError, ForgeHost, forge_host, path_part
from scaffolder.templating import TemplateError, parse_repo_url

VISIBILITIES = ("private", "internal", "public")


def forge_target(data: dict, kind: str) -> tuple[ForgeHost, str, str]:
    """(forge, owner, repo) from ``repoUrl``, parsed as Backstage's parseRepoUrl does."""
    try:
        parsed = parse_repo_url(data["repoUrl"])
    except TemplateError as exc:
        raise ValueError(f"repoUrl: {exc}") from None
    allowed = data.get("allowedHosts")
    if allowed and parsed["host"].lower() not in {str(h).lower() for h in allowed}:
        raise ValueError(f"repoUrl host {parsed['host']!r} is not in the step's allowedHosts {allowed}")
    owner = parsed.get("owner") or parsed.get("project") or ""
    if not owner:
        raise ValueError(f"repoUrl {data['repoUrl']!r} names no owner")
    return forge_host(kind, parsed["host"], data.get("token") or None), owner, parsed["repo"]


def _push(ctx, forge: ForgeHost, remote: str, username: str, default_branch: str) -> tuple[str, str]:
    commit = commit_inputs(ctx, default_branch)
    try:
        sha = push_directory(commit.source, remote, branch=commit.branch, message=commit.message,
                             author_name=commit.author_name, author_email=commit.author_email,
                             username=username, password=forge.token)  # fmt: skip
    except GitError as exc:
        raise ForgeError(f"Pushing to {remote} failed: {exc}") from None
    ctx.log(f"Pushed {sha[:12]} to {remote} ({commit.branch})")
    return sha, commit.branch


def answer_message(answer) -> str:
    if isinstance(answer, dict):
        errors = answer.get("errors") or []
        details = "; ".join(str(e.get("message") or e) if isinstance(e, dict) else str(e) for e in errors)
        message = answer.get("message") or ""
        message = "; ".join(map(str, message)) if isinstance(message, list) else str(message)  # GitLab's lists
        return " ".join(filter(None, [message, details])) or "no message"
    return "no message"


# -- GitHub -------------------------------------------------------------------------------------------
def publish_github(ctx) -> None:
    data = ctx.input
    forge, owner, repo = forge_target(data, "github")
    visibility = data.get("repoVisibility") or "private"
    status, answer = forge.call("GET", f"/users/{path_part(owner)}")
    if status != 200 or not isinstance(answer, dict):
        raise ForgeError(f"{forge.host}: owner {owner!r} not found ({status} from GET /users/{owner})")
    body = {
        "name": repo,
        "private": visibility == "private",
        "description": data.get("description") or "",
        "homepage": data.get("homepage"),
        "has_issues": data.get("hasIssues"),
        "has_wiki": data.get("hasWiki"),
        "has_projects": data.get("hasProjects"),
        "delete_branch_on_merge": data.get("deleteBranchOnMerge"),
        "allow_merge_commit": data.get("allowMergeCommit"),
        "allow_squash_merge": data.get("allowSquashMerge"),
        "allow_rebase_merge": data.get("allowRebaseMerge"),
        "allow_auto_merge": data.get("allowAutoMerge"),
    }
    body = {k: v for k, v in body.items() if v is not None}
    if answer.get("type") == "Organization":
        body["visibility"] = visibility
        path = f"/orgs/{path_part(owner)}/repos"
    elif visibility == "internal":
        raise ValueError("repoVisibility 'internal' needs an organisation owner; "
                         f"{owner!r} is a user on {forge.host}")  # fmt: skip
    else:
        path = "/user/repos"
    status, created = forge.call("POST", path, body)
    if status == 422:
        raise ForgeError(f"{forge.host}: cannot create {owner}/{repo}: {answer_message(created)}")
    if status != 201 or not isinstance(created, dict):
        raise ForgeError(f"{forge.host}: creating {owner}/{repo} failed ({status}: {answer_message(created)})")
    ctx.log(f"Created {created.get('html_url')} ({visibility})")
    if data.get("topics"):
        names = [str(t).lower() for t in data["topics"]]
        status, answer = forge.call("PUT", f"/repos/{path_part(owner)}/{path_part(repo)}/topics", {"names": names})
        if status != 200:  # as in Backstage: the repository is made, the topics are not worth failing for
            ctx.log(f"Skipping topics {' '.join(names)}: {status} {answer_message(answer)}")
    remote = forge.check_push_url(str(created.get("clone_url") or ""), forge.host)
    sha, branch = _push(ctx, forge, remote, "x-access-token", "main")
    ctx.output("remoteUrl", remote)
    ctx.output("repoContentsUrl", f"{created.get('html_url')}/blob/{branch}")
    ctx.output("commitHash", sha)


# -- GitLab -------------------------------------------------------------------------------------------
def publish_gitlab(ctx) -> None:
    data = ctx.input
    forge, owner, repo = forge_target(data, "gitlab")
    status, namespace = forge.call("GET", f"/namespaces/{path_part(owner)}")
    if status != 200 or not isinstance(namespace, dict) or "id" not in namespace:
        raise ForgeError(f"{forge.host}: namespace {owner!r} not found ({status} from GET /namespaces/{owner})")
    body = {"visibility": data.get("repoVisibility") or "private", "description": data.get("description"),
            "topics": data.get("topics") or None}  # fmt: skip
    body = {k: v for k, v in body.items() if v is not None}
    # settings win over the inputs, as in Backstage; never over where the project goes and its name.
    body.update({**(data.get("settings") or {}), "namespace_id": namespace["id"], "name": repo, "path": repo})
    if data.get("skipExisting"):
        status, existing = forge.call("GET", f"/projects/{path_part(owner + '/' + repo)}")
        if status == 200 and isinstance(existing, dict):
            remote = str(existing.get("http_url_to_repo") or "").removesuffix(".git")
            branch = data.get("defaultBranch") or "master"
            ctx.log(f"{remote} exists; skipExisting: nothing created or pushed")
            ctx.output("remoteUrl", remote)
            ctx.output("repoContentsUrl", f"{remote}/-/blob/{branch}")
            ctx.output("projectId", existing.get("id"))
            ctx.output("created", False)
            return
    status, created = forge.call("POST", "/projects", body)
    if status != 201 or not isinstance(created, dict):
        raise ForgeError(f"{forge.host}: cannot create {owner}/{repo} ({status}: {answer_message(created)})")
    ctx.log(f"Created {created.get('web_url')} (project {created.get('id')})")
    push_url = forge.check_push_url(str(created.get("http_url_to_repo") or ""), forge.host)
    sha, branch = _push(ctx, forge, push_url, "oauth2", "master")
    remote = push_url.removesuffix(".git")
    ctx.output("remoteUrl", remote)
    ctx.output("repoContentsUrl", f"{remote}/-/blob/{branch}")
    ctx.output("commitHash", sha)
    ctx.output("projectId", created.get("id"))
    ctx.output("created", True)


_COMMON = {
    "repoUrl": {"type": "string", "description": "host?owner=…&repo=… (RepoUrlPicker)"},
    "description": {"type": "string"},
    "repoVisibility": {"type": "string", "enum": list(VISIBILITIES), "default": "private"},
    "defaultBranch": {"type": "string"},
    "sourcePath": {"type": "string", "description": "Folder of the workspace to publish"},
    "gitCommitMessage": {"type": "string", "default": "initial commit"},
    "gitAuthorName": {"type": "string"},
    "gitAuthorEmail": {"type": "string"},
    "topics": {"type": "array", "items": {"type": "string"}},
    "token": {"type": "string", "description": "Token to use instead of the host's configured one"},
    "allowedHosts": {"type": "array", "items": {"type": "string"}, "description": "Hosts repoUrl may name"},
}
_OUTPUTS = {
    "remoteUrl": {"type": "string", "description": "Clone URL of the new repository"},
    "repoContentsUrl": {"type": "string", "description": "Browse URL of the pushed branch (catalog:register)"},
    "commitHash": {"type": "string"},
}

PUBLISH_GITHUB = ScaffolderAction(
    id="publish:github",
    handler=publish_github,
    description="Creates a GitHub repository (POST /user/repos or /orgs/{org}/repos) and pushes the workspace "
    "to it. Hosts: CATALOG_GITHUB_HOSTS; API and token: SCAFFOLDER_INTEGRATIONS.",
    input_schema={
        "type": "object",
        "required": ["repoUrl"],
        "properties": {
            **_COMMON,
            "defaultBranch": {"type": "string", "default": "main"},
            "homepage": {"type": "string"},
            "hasIssues": {"type": "boolean"},
            "hasWiki": {"type": "boolean"},
            "hasProjects": {"type": "boolean"},
            "deleteBranchOnMerge": {"type": "boolean"},
            "allowMergeCommit": {"type": "boolean"},
            "allowSquashMerge": {"type": "boolean"},
            "allowRebaseMerge": {"type": "boolean"},
            "allowAutoMerge": {"type": "boolean"},
        },
    },
    output_schema={"type": "object", "properties": _OUTPUTS},
    examples=[{"description": "A private repository in an organisation",
               "example": {"repoUrl": "github.com?owner=northwind&repo=stop-finder", "repoVisibility": "private"}}],
)  # fmt: skip

PUBLISH_GITLAB = ScaffolderAction(
    id="publish:gitlab",
    handler=publish_gitlab,
    description="Creates a GitLab project (POST /projects in the owner's namespace) and pushes the workspace "
    "to it. Hosts: CATALOG_GITLAB_HOSTS; API and token: SCAFFOLDER_INTEGRATIONS.",
    input_schema={
        "type": "object",
        "required": ["repoUrl"],
        "properties": {
            **_COMMON,
            "defaultBranch": {"type": "string", "default": "master"},
            "skipExisting": {"type": "boolean", "description": "An existing project is kept (created: false)"},
            "settings": {"type": "object", "description": "More fields of the project creation request"},
        },
    },
    output_schema={
        "type": "object",
        "properties": {**_OUTPUTS, "projectId": {"type": "integer"}, "created": {"type": "boolean"}},
    },
)
