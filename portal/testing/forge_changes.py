"""The stand-in forge's endpoints for changes to existing repositories (``portal/testing/forge.py``).

GitHub (``/api/v3``):

* ``GET /repos/{o}/{r}`` (``default_branch``), ``POST /repos/{o}/{r}/pulls`` (the head branch must exist, one
  open pull request per head: 422 otherwise), ``GET /repos/{o}/{r}/pulls?head=o:branch&state=open``,
  ``PATCH /repos/{o}/{r}/pulls/{n}``, ``POST /repos/{o}/{r}/pulls/{n}/requested_reviewers`` (users must be
  forge users, teams ``org/slug`` of the organisation: 422 otherwise),
* ``POST /repos/{o}/{r}/pages`` (409 once enabled), ``POST /repos/{o}/{r}/actions/workflows/{id}/dispatches``
  (404 unless ``.github/workflows/{id}`` is in the repository at ``ref``; 422 for an unknown ref; 204).

GitLab (``/api/v4``; ``:id`` is the project id or its url-encoded path):

* ``GET /users?username=``, ``GET /projects/:id/repository/branches/:branch``,
  ``POST /projects/:id/repository/branches``, ``GET /projects/:id/repository/tree?ref=&recursive=&path=``,
  ``GET /projects/:id/repository/files/:path?ref=`` (``content_sha256``),
  ``POST /projects/:id/repository/commits`` (``actions`` create/update/delete/move/chmod, written as a real
  commit on the branch; 400 for a file that exists on create or is missing on update/delete),
  ``GET /projects/:id/merge_requests?source_branch=``, ``POST /projects/:id/merge_requests`` (409 for a second
  open one from the same source branch).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote

_RUN_ENV = {"PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}


def git(bare: Path, *args: str, data: bytes | None = None, env: dict[str, str] | None = None) -> str | None:
    """Run git in the bare repository; None when it fails."""
    result = subprocess.run(["git", "-C", str(bare), *args], input=data, capture_output=True, check=False,
                            env={**_RUN_ENV, **(env or {})})  # fmt: skip
    return result.stdout.decode() if result.returncode == 0 else None


def branch_sha(bare: Path, branch: str) -> str | None:
    out = git(bare, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
    return out.strip() if out else None


def tree_files(bare: Path, ref: str) -> dict[str, tuple[str, str]]:
    """path → (mode, blob sha) of every file at ``ref``."""
    out = git(bare, "ls-tree", "-r", "-z", ref) or ""
    files = {}
    for entry in filter(None, out.split("\0")):
        meta, _, path = entry.partition("\t")
        mode, _, sha = meta.split(" ")
        files[path] = (mode, sha)
    return files


def commit_actions(bare: Path, branch: str, message: str, actions: list[dict], author: tuple[str, str]) -> str:
    """Apply GitLab commit ``actions`` to ``branch`` as one commit; returns its sha. ValueError says why not."""
    parent = branch_sha(bare, branch)
    if parent is None:
        raise ValueError("You can only create or edit files when you are on a branch")
    files = tree_files(bare, parent)
    for action in actions:
        kind, path = action.get("action"), str(action.get("file_path") or "").strip("/")
        if not path or ".." in path.split("/"):
            raise ValueError(f"Invalid file path {path!r}")
        if kind == "create" and path in files:
            raise ValueError(f"A file with this name already exists: {path}")
        if kind in ("update", "delete", "chmod") and path not in files:
            raise ValueError(f"A file with this name doesn't exist: {path}")
        if kind == "delete":
            del files[path]
            continue
        if kind == "move":
            files[path] = files.pop(str(action.get("previous_path") or ""), files.get(path) or ("100644", ""))
        if kind in ("create", "update"):
            content = str(action.get("content") or "").encode()
            if action.get("encoding") == "base64":
                content = base64.b64decode(content)
            sha = (git(bare, "hash-object", "-w", "--stdin", data=content) or "").strip()
            files[path] = (files.get(path, ("100644", ""))[0], sha)
        if kind not in ("create", "update", "delete", "move", "chmod"):
            raise ValueError(f"Unknown action {kind!r}")
        if "execute_filemode" in action and action["execute_filemode"] is not None:
            files[path] = ("100755" if action["execute_filemode"] else "100644", files[path][1])
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        lines = "".join(f"{mode} {sha}\t{path}\0" for path, (mode, sha) in files.items())
        git(bare, "update-index", "-z", "--index-info", data=lines.encode(), env=env)
        tree = (git(bare, "write-tree", env=env) or "").strip()
    name, email = author
    who = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
           "GIT_COMMITTER_EMAIL": email}  # fmt: skip
    sha = (git(bare, "commit-tree", tree, "-p", parent, "-m", message, env=who) or "").strip()
    if not sha or git(bare, "update-ref", f"refs/heads/{branch}", sha, parent) is None:
        raise ValueError("The commit could not be written")
    return sha


# -- GitHub -------------------------------------------------------------------------------------------
_GH_REPO = re.compile(r"^/api/v3/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)(?P<rest>/.*)?$")


def github(handler, forge, user, method: str, path: str, query: dict, data: dict) -> bool:
    """Answer a GitHub repository call; False when ``path`` is not one of these endpoints."""
    match = _GH_REPO.match(path)
    if not match:
        return False
    key, rest = f"{match['owner']}/{match['repo']}", match["rest"] or ""
    repo = forge.repos.get(key)
    if repo is None:
        handler._send(404, {"message": "Not Found"})
        return True
    bare = forge.repo_path(match["owner"], match["repo"])
    pulls = forge.pulls.setdefault(key, [])
    if method == "GET" and rest == "":
        handler._send(200, repo)
    elif method == "GET" and rest == "/pulls":
        head, state = (query.get("head") or [""])[0], (query.get("state") or ["open"])[0]
        found = [p for p in pulls if (not head or f"{match['owner']}:{p['head']['ref']}" == head)
                 and state in ("all", p["state"])]  # fmt: skip
        handler._send(200, found)
    elif method == "POST" and rest == "/pulls":
        _github_pull(handler, forge, key, bare, repo, data)
    elif (m := re.match(r"^/pulls/(\d+)(/requested_reviewers)?$", rest)) and method in ("PATCH", "POST"):
        pull = next((p for p in pulls if p["number"] == int(m[1])), None)
        if pull is None:
            handler._send(404, {"message": "Not Found"})
        elif m[2] and method == "POST":
            _github_reviewers(handler, forge, match["owner"], pull, data)
        elif not m[2] and method == "PATCH":
            pull.update({k: data[k] for k in ("title", "body", "state") if k in data})
            handler._send(200, pull)
        else:
            handler._send(404, {"message": "Not Found"})
    elif method == "POST" and rest == "/pages":
        if key in forge.pages:
            handler._send(409, {"message": "GitHub Pages is already enabled."})
            return True
        source = data.get("source") or {}
        forge.pages[key] = {"url": f"{forge.url}/api/v3/repos/{key}/pages", "status": None,
                            "html_url": f"{forge.url}/pages/{key}/", "build_type": data.get("build_type"),
                            "source": {"branch": source.get("branch"), "path": source.get("path")}}  # fmt: skip
        handler._send(201, forge.pages[key])
    elif method == "POST" and (m := re.match(r"^/actions/workflows/([^/]+)/dispatches$", rest)):
        ref = str(data.get("ref") or "")
        sha = branch_sha(bare, ref) or (git(bare, "rev-parse", "--verify", "--quiet", f"refs/tags/{ref}") or "")
        if not sha.strip():
            handler._send(422, {"message": f"No ref found for: {ref}"})
        elif f".github/workflows/{unquote(m[1])}" not in tree_files(bare, sha.strip()):
            handler._send(404, {"message": "Not Found"})
        else:
            forge.dispatches.append({"repo": key, "workflow": unquote(m[1]), "ref": ref,
                                     "inputs": data.get("inputs") or {}})  # fmt: skip
            handler._send(204, b"")
    else:
        handler._send(404, {"message": "Not Found"})
    return True


def _github_pull(handler, forge, key: str, bare: Path, repo: dict, data: dict) -> None:
    head, base = str(data.get("head") or ""), str(data.get("base") or repo.get("default_branch") or "main")
    head_sha = branch_sha(bare, head.rpartition(":")[2])
    if not data.get("title") or head_sha is None or branch_sha(bare, base) is None:
        error = {"resource": "PullRequest", "field": "head" if head_sha is None else "base", "code": "invalid"}
        handler._send(422, {"message": "Validation Failed", "errors": [error]})
        return
    pulls = forge.pulls[key]
    if any(p["head"]["ref"] == head and p["base"]["ref"] == base and p["state"] == "open" for p in pulls):
        handler._send(422, {"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom",
                      "message": f"A pull request already exists for {key.split('/')[0]}:{head}."}]})  # fmt: skip
        return
    number = sum(len(p) for p in forge.pulls.values()) + 1
    pull = {"number": number, "state": "open", "title": data["title"], "body": data.get("body"),
            "draft": bool(data.get("draft")), "html_url": f"{forge.url}/{key}/pull/{number}",
            "head": {"ref": head, "sha": head_sha}, "base": {"ref": base}, "requested_reviewers": [],
            "requested_teams": []}  # fmt: skip
    pulls.append(pull)
    handler._send(201, pull)


def _github_reviewers(handler, forge, owner: str, pull: dict, data: dict) -> None:
    users = list(data.get("reviewers") or [])
    teams = list(data.get("team_reviewers") or [])
    known_teams = {slug for u in forge.users.values() for org, slug in u.teams if org == owner}
    if any(u not in forge.users for u in users) or any(t not in known_teams for t in teams):
        handler._send(422, {"message": "Reviews may only be requested from collaborators. One or more of the "
                                       "users or teams you specified is not a collaborator."})  # fmt: skip
        return
    pull["requested_reviewers"] += [{"login": u} for u in users]
    pull["requested_teams"] += [{"slug": t} for t in teams]
    handler._send(201, pull)


# -- GitLab -------------------------------------------------------------------------------------------
_GL_PROJECT = re.compile(r"^/api/v4/projects/(?P<id>[^/]+)(?P<rest>/.*)$")


def _gitlab_project(forge, ident: str) -> tuple[str, dict] | None:
    ident = unquote(ident)
    for key, project in forge.repos.items():
        if ident in (key, str(project.get("id"))):
            return key, project
    return None


def gitlab(handler, forge, user, method: str, path: str, query: dict, data: dict) -> bool:
    """Answer a GitLab repository call; False when ``path`` is not one of these endpoints."""
    if method == "GET" and path == "/api/v4/users":
        name = (query.get("username") or [""])[0]
        found = [u for u in forge.users.values() if u.login == name]
        handler._send(200, [{"id": u.uid, "username": u.login, "name": u.login.title()} for u in found])
        return True
    match = _GL_PROJECT.match(path)
    if not match:
        return False
    found = _gitlab_project(forge, match["id"])
    if found is None:
        handler._send(404, {"message": "404 Project Not Found"})
        return True
    key, project = found
    bare, rest = forge.repo_path(*key.split("/", 1)), match["rest"]
    ref = (query.get("ref") or [project.get("default_branch") or "master"])[0]
    if method == "GET" and (m := re.match(r"^/repository/branches/(.+)$", rest)):
        sha = branch_sha(bare, unquote(m[1]))
        if sha is None:
            handler._send(404, {"message": "404 Branch Not Found"})
        else:
            handler._send(200, {"name": unquote(m[1]), "commit": {"id": sha},
                                "web_url": f"{project['web_url']}/-/tree/{unquote(m[1])}"})  # fmt: skip
    elif method == "POST" and rest == "/repository/branches":
        branch, source = str(data.get("branch") or ""), str(data.get("ref") or "")
        sha = branch_sha(bare, source)
        if branch_sha(bare, branch) is not None:
            handler._send(400, {"message": "Branch already exists"})
        elif sha is None or git(bare, "check-ref-format", "--branch", branch) is None:
            handler._send(400, {"message": "Invalid reference name"})
        else:
            git(bare, "update-ref", f"refs/heads/{branch}", sha)
            handler._send(201, {"name": branch, "commit": {"id": sha}})
    elif method == "GET" and rest == "/repository/tree":
        prefix = ((query.get("path") or [""])[0]).strip("/")
        sha = branch_sha(bare, ref)
        files = tree_files(bare, sha) if sha else {}
        handler._send(200, [{"path": p, "name": p.rsplit("/", 1)[-1], "type": "blob", "mode": mode, "id": blob}
                            for p, (mode, blob) in sorted(files.items())
                            if not prefix or p.startswith(prefix + "/")])  # fmt: skip
    elif method == "GET" and (m := re.match(r"^/repository/files/(.+)$", rest)):
        file_path = unquote(m[1])
        sha = branch_sha(bare, ref)
        entry = tree_files(bare, sha).get(file_path) if sha else None
        if entry is None:
            handler._send(404, {"message": "404 File Not Found"})
            return True
        content = subprocess.run(["git", "-C", str(bare), "cat-file", "blob", entry[1]], capture_output=True,
                                 check=True, env=_RUN_ENV).stdout  # fmt: skip
        handler._send(200, {"file_path": file_path, "ref": ref, "blob_id": entry[1],
                            "content_sha256": hashlib.sha256(content).hexdigest(), "encoding": "base64",
                            "content": base64.b64encode(content).decode()})  # fmt: skip
    elif method == "POST" and rest == "/repository/commits":
        try:
            author = (data.get("author_name") or user.login, data.get("author_email") or user.email)
            sha = commit_actions(bare, str(data.get("branch") or ""), str(data.get("commit_message") or ""),
                                 list(data.get("actions") or []), author)  # fmt: skip
        except ValueError as exc:
            handler._send(400, {"message": str(exc)})
            return True
        forge.commits.append({"project": key, **data})
        handler._send(201, {"id": sha, "short_id": sha[:8], "title": str(data.get("commit_message")).split("\n")[0],
                            "web_url": f"{project['web_url']}/-/commit/{sha}"})  # fmt: skip
    elif method == "GET" and rest == "/merge_requests":
        source = (query.get("source_branch") or [""])[0]
        handler._send(200, [mr for mr in forge.merge_requests
                            if mr["project"] == key and (not source or mr["source_branch"] == source)])  # fmt: skip
    elif method == "POST" and rest == "/merge_requests":
        _gitlab_merge_request(handler, forge, key, project, bare, data)
    else:
        handler._send(404, {"message": "404 Not Found"})
    return True


def _gitlab_merge_request(handler, forge, key: str, project: dict, bare: Path, data: dict) -> None:
    source, target = str(data.get("source_branch") or ""), str(data.get("target_branch") or "")
    if not data.get("title") or branch_sha(bare, source) is None or branch_sha(bare, target) is None:
        handler._send(400, {"message": "Invalid merge request: title, source_branch and target_branch must exist"})
        return
    opened = [mr for mr in forge.merge_requests if mr["project"] == key and mr["source_branch"] == source
              and mr["state"] == "opened"]  # fmt: skip
    if opened:
        handler._send(409, {"message": [f"Another open merge request already exists for this source branch: "
                                        f"!{opened[0]['iid']}"]})  # fmt: skip
        return
    iid = sum(1 for mr in forge.merge_requests if mr["project"] == key) + 1
    mr = {"id": 9000 + len(forge.merge_requests), "iid": iid, "project": key, "project_id": project["id"],
          "title": data["title"], "description": data.get("description"), "state": "opened",
          "source_branch": source, "target_branch": target,
          "force_remove_source_branch": bool(data.get("remove_source_branch")),
          "assignee_id": data.get("assignee_id"), "reviewer_ids": data.get("reviewer_ids") or [],
          "web_url": f"{project['web_url']}/-/merge_requests/{iid}"}  # fmt: skip
    forge.merge_requests.append(mr)
    handler._send(201, mr)
