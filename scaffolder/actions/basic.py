"""debug:log, fs:rename and fs:delete."""

from __future__ import annotations

import os
import shutil
import stat

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
)
