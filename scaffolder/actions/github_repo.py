"""github:pages:enable and github:actions:dispatch: one REST call each on an existing repository."""

from __future__ import annotations

from urllib.parse import quote

from plugins.scaffolder import ScaffolderAction
from scaffolder.actions.publish_forge import answer_message, forge_target
from scaffolder.forges import ForgeError, path_part


def enable_pages(ctx) -> None:
    data = ctx.input
    forge, owner, repo = forge_target(data, "github")
    build = data.get("buildType") or "workflow"
    branch, path = data.get("sourceBranch") or "main", data.get("sourcePath") or "/"
    ctx.log(f'Attempting to enable GitHub Pages for {owner}/{repo} with "{build}" build type, on source branch '
            f'"{branch}" and source path "{path}"')  # fmt: skip
    call = f"/repos/{path_part(owner)}/{path_part(repo)}/pages"
    status, answer = forge.call("POST", call, {"build_type": build, "source": {"branch": branch, "path": path}})
    if status != 201:
        raise ForgeError(f"{forge.host}: enabling GitHub Pages for {owner}/{repo} failed ({status} from POST "
                         f"{call}: {answer_message(answer)})")  # fmt: skip
    ctx.log("Completed enabling GitHub Pages")


def dispatch_workflow(ctx) -> None:
    data = ctx.input
    forge, owner, repo = forge_target(data, "github")
    workflow, ref = str(data["workflowId"]), data["branchOrTagName"]
    ctx.log(f"Dispatching workflow {workflow} for repo {data['repoUrl']} on {ref}")
    call = f"/repos/{path_part(owner)}/{path_part(repo)}/actions/workflows/{quote(workflow, safe='')}/dispatches"
    status, answer = forge.call("POST", call, {"ref": ref, "inputs": data.get("workflowInputs") or {}})
    if status != 204:
        raise ForgeError(f"{forge.host}: dispatching workflow {workflow} on {owner}/{repo} failed ({status} from "
                         f"POST {call}: {answer_message(answer)})")  # fmt: skip
    ctx.log(f"Workflow {workflow} dispatched successfully")


_REPO_URL = {"type": "string", "description": "host?owner=…&repo=… of an existing repository"}
_TOKEN = {"type": ["string", "boolean"], "description": "Token to use instead of the host's configured one"}

GITHUB_PAGES_ENABLE = ScaffolderAction(
    id="github:pages:enable",
    handler=enable_pages,
    description="Enables GitHub Pages for a repository (POST /repos/{owner}/{repo}/pages).",
    input_schema={
        "type": "object",
        "required": ["repoUrl"],
        "properties": {
            "repoUrl": _REPO_URL,
            "buildType": {"type": "string", "enum": ["legacy", "workflow"], "default": "workflow"},
            "sourceBranch": {"type": "string", "default": "main"},
            "sourcePath": {"type": "string", "enum": ["/", "/docs"], "default": "/"},
            "token": _TOKEN,
            "allowedHosts": {"type": "array", "items": {"type": "string"}},
        },
    },
    output_schema={"type": "object", "properties": {}},
)

GITHUB_ACTIONS_DISPATCH = ScaffolderAction(
    id="github:actions:dispatch",
    handler=dispatch_workflow,
    description="Dispatches a GitHub Actions workflow "
    "(POST /repos/{owner}/{repo}/actions/workflows/{workflowId}/dispatches).",
    input_schema={
        "type": "object",
        "required": ["repoUrl", "workflowId", "branchOrTagName"],
        "properties": {
            "repoUrl": _REPO_URL,
            "workflowId": {"type": "string", "description": "The workflow's id or file name (pages.yml)"},
            "branchOrTagName": {"type": "string", "description": "The git ref to run it on"},
            "workflowInputs": {"type": "object", "description": "Inputs of its workflow_dispatch trigger"},
            "token": _TOKEN,
            "allowedHosts": {"type": "array", "items": {"type": "string"}},
        },
    },
    output_schema={"type": "object", "properties": {}},
)
