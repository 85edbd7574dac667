"""debug:log, debug:wait, fs:rename, fs:delete and catalog:write."""

from __future__ import annotations

import os
import shutil
import stat
import time

import yaml

from plugins.scaffolder import ScaffolderAction
from scaffolder import workspace
from scaffolder.actions.fetch import glob_regex


def debug_log(ctx) -> None:
    if ctx.input.get("message") is not None:
        ctx.log(str(ctx.input["message"]))
    listing = ctx.input.get("listWorkspace")
    if listing:
        for path in sorted(_files(ctx.workspace)):
            line = path
            if listing == "with-contents":
                try:
                    line += ":\n" + (ctx.workspace / path).read_text("utf-8")
                except (UnicodeDecodeError, OSError):
                    line += ": (binary)"
            ctx.log(line)


MAX_WAIT_SECONDS = 600


def debug_wait(ctx) -> None:
    """Waits, checking every 0.1 s whether the task was cancelled."""
    data = ctx.input
    seconds = data.get("minutes", 0) * 60 + data.get("seconds", 0) + data.get("milliseconds", 0) / 1000
    if seconds > MAX_WAIT_SECONDS:
        raise ValueError(f"debug:wait waits at most {MAX_WAIT_SECONDS} seconds")
    ctx.log(f"Waiting {seconds:g} s")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if ctx.cancelled():
            ctx.log("Stopped waiting: the task was cancelled")
            return
        time.sleep(min(left, 0.1))


def catalog_write(ctx) -> None:
    entity = dict(ctx.input["entity"])
    metadata = dict(entity.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    if ctx.template_info.get("entityRef"):
        annotations["backstage.io/source-template"] = ctx.template_info["entityRef"]
    if ctx.template_info.get("version"):  # Callboard's census reads it (scaffolder/census.py)
        annotations["callboard.dev/template-version"] = ctx.template_info["version"]
    metadata["annotations"] = annotations
    entity["metadata"] = metadata
    path = ctx.input.get("filePath") or "catalog-info.yaml"
    text = yaml.safe_dump(entity, sort_keys=False, allow_unicode=True)
    workspace.write_file(ctx.workspace, path, text.encode("utf-8"))
    ctx.log(f"Wrote {path}")


def _files(root) -> list[str]:
    found = []
    for directory, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(directory, root)
        for name in filenames:
            found.append(name if rel == "." else f"{rel}/{name}")
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(directory, d))]
    return found


def fs_rename(ctx) -> None:
    for item in ctx.input["files"]:
        source = ctx.resolve(item["from"], "from")
        dest = ctx.resolve(item["to"], "to")
        if not os.path.lexists(source):
            raise FileNotFoundError(f"{item['from']} does not exist in the workspace")
        if os.path.lexists(dest):
            if not item.get("overwrite"):
                raise FileExistsError(f"{item['to']} already exists (set overwrite: true to replace it)")
            _remove(dest)
        parent = workspace.relative(item["to"], "to").parent
        workspace.ensure_dir(ctx.workspace, str(parent))
        os.rename(source, dest)
        ctx.log(f"Renamed {item['from']} to {item['to']}")


def fs_delete(ctx) -> None:
    for pattern in ctx.input["files"]:
        workspace.relative(pattern, "files")  # absolute or '..' patterns are refused before matching
        regex = glob_regex(pattern)
        matched = [p for p in _entries(ctx.workspace) if regex.match(p)]
        for path in sorted(matched, key=len):
            target = ctx.resolve(path, "files")
            if os.path.lexists(target):
                _remove(target)
                ctx.log(f"Deleted {path}")


def _entries(root) -> list[str]:
    found = []
    for directory, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(directory, root)
        for name in [*dirnames, *filenames]:
            found.append(name if rel == "." else f"{rel}/{name}")
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(directory, d))]
    return found


def _remove(path) -> None:
    if stat.S_ISDIR(os.lstat(path).st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)  # a link is removed, never followed


DEBUG_LOG = ScaffolderAction(
    id="debug:log",
    handler=debug_log,
    description="Writes a message into the log and/or lists the files in the workspace.",
    input_schema={
        "type": "object",
        "properties": {
            "message": {"type": "string", "description": "Message to output"},
            "listWorkspace": {"oneOf": [{"type": "boolean"}, {"enum": ["with-filenames", "with-contents"]}]},
        },
    },
    output_schema={"type": "object", "properties": {}},
    supports_dry_run=True,
    idempotent=True,
)

FS_RENAME = ScaffolderAction(
    id="fs:rename",
    handler=fs_rename,
    description="Renames files or directories in the workspace.",
    input_schema={
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["from", "to"],
                    "properties": {
                        "from": {"type": "string"},
                        "to": {"type": "string"},
                        "overwrite": {"type": "boolean"},
                    },
                },
            }
        },
    },
    output_schema={"type": "object", "properties": {}},
    supports_dry_run=True,
    idempotent=True,
)

FS_DELETE = ScaffolderAction(
    id="fs:delete",
    handler=fs_delete,
    description="Deletes files and directories in the workspace matching globs (dotfiles included).",
    input_schema={
        "type": "object",
        "required": ["files"],
        "properties": {"files": {"type": "array", "items": {"type": "string"}}},
    },
    output_schema={"type": "object", "properties": {}},
    supports_dry_run=True,
    idempotent=True,
)

_NUMBER = {"type": "number", "minimum": 0}

DEBUG_WAIT = ScaffolderAction(
    id="debug:wait",
    handler=debug_wait,
    description="Waits a while (at most 10 minutes); stops early when the task is cancelled.",
    input_schema={"type": "object", "properties": {"minutes": _NUMBER, "seconds": _NUMBER, "milliseconds": _NUMBER}},
    output_schema={"type": "object", "properties": {}},
)

CATALOG_WRITE = ScaffolderAction(
    id="catalog:write",
    handler=catalog_write,
    description="Writes a catalog descriptor into the workspace, annotated with backstage.io/source-template.",
    input_schema={
        "type": "object",
        "required": ["entity"],
        "properties": {
            "entity": {"type": "object", "description": "The entity to write"},
            "filePath": {"type": "string", "default": "catalog-info.yaml"},
        },
    },
    output_schema={"type": "object", "properties": {}},
    supports_dry_run=True,
    idempotent=True,
)
