"""fetch:template and fetch:plain: copy a skeleton folder into the workspace, rendering it or not."""

from __future__ import annotations

import re
from typing import Any

from plugins.scaffolder import ScaffolderAction
from scaffolder import sources, workspace
from scaffolder.templating import TemplateError, render_text

_URL = {"type": "string", "description": "Folder relative to the template file, or an absolute URL"}
_TARGET = {"type": "string", "description": "Where in the workspace to put the files", "default": "./"}


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A globby-style pattern (``**``, ``*``, ``?``, ``{a,b}``) as a regex over '/'-separated paths."""
    out, i = [], 0
    pattern = pattern[2:] if pattern.startswith("./") else pattern
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "{" and (group := re.match(r"\{([^{}]*,[^{}]*)\}", pattern[i:])):
            out.append("(?:" + "|".join(re.escape(p) for p in group.group(1).split(",")) + ")")
            i += group.end()
            continue
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("^" + "".join(out) + "(?:/.*)?$")


def matcher(patterns: list[str]):
    """True for paths matched by the patterns (a later ``!pattern`` takes a match back)."""
    compiled = [(p.startswith("!"), glob_regex(p[1:] if p.startswith("!") else p)) for p in patterns or []]

    def matches(path: str) -> bool:
        hit = False
        for negated, regex in compiled:
            if regex.match(path):
                hit = not negated
        return hit

    return matches


def is_binary(data: bytes) -> bool:
    if b"\x00" in data[:8000]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _fetch(ctx) -> tuple[list[sources.SkeletonFile], list[str]]:
    url = ctx.input["url"]
    if ctx.template_source is None:
        raise sources.FetchError("This task has no template location to resolve the URL from")
    source = sources.resolve(ctx.template_source, url)
    files, dirs, version = sources.read_tree(source)
    ctx.log(f"Fetching {url} ({len(files)} files{', commit ' + version[:12] if version else ''})")
    return files, dirs


def _skip(path: str) -> bool:
    """Backstage skips entries whose rendered path is empty, absolute or has an empty segment."""
    return not path or path.startswith("/") or "//" in path or path.endswith("/")


def fetch_template(ctx) -> None:
    data = ctx.input
    extension = data.get("templateFileExtension")
    if extension is True:
        extension = ".njk"
    if extension and not extension.startswith("."):
        extension = "." + extension
    cookiecutter = bool(data.get("cookiecutterCompat"))
    verbatim = matcher(data.get("copyWithoutTemplating") or [])
    legacy = matcher(data.get("copyWithoutRender") or [])
    if extension and (data.get("copyWithoutTemplating") or data.get("copyWithoutRender") or cookiecutter):
        raise ValueError(
            "templateFileExtension cannot be combined with copyWithoutTemplating, "
            "copyWithoutRender or cookiecutterCompat"
        )
    target = data.get("targetPath") or "./"
    root = ctx.resolve(target, "targetPath")
    workspace.ensure_dir(ctx.workspace, target)
    values = data.get("values") or {}
    context: dict[str, Any] = {"cookiecutter": values} if cookiecutter else {"values": values}
    files, dirs = _fetch(ctx)
    written = 0
    for rel_dir in dirs:
        if legacy(rel_dir):
            continue
        path = _render(rel_dir, context, cookiecutter)
        if not _skip(path):
            workspace.ensure_dir(root, path)
    for item in files:
        path, render = item.path, True
        if legacy(item.path):
            render = False
        elif extension:
            render = path.endswith(extension)
            if render:
                path = path[: -len(extension)]
            path = _render(path, context, cookiecutter)
        else:
            render = not verbatim(item.path)
            path = _render(path, context, cookiecutter)
        if _skip(path):
            continue
        content = item.data
        if render and not is_binary(content):
            text = content.decode("utf-8")
            try:
                content = render_text(
                    text,
                    context,
                    cookiecutter=cookiecutter,
                    trim=bool(data.get("trimBlocks")),
                    lstrip=bool(data.get("lstripBlocks")),
                ).encode("utf-8")
            except TemplateError as exc:
                raise TemplateError(f"{item.path}: {exc}") from None
        if workspace.write_file(root, path, content, mode=item.mode, replace=bool(data.get("replace"))):
            written += 1
    ctx.log(f"Wrote {written} files to {target}")


def _render(path: str, context: dict[str, Any], cookiecutter: bool) -> str:
    try:
        return render_text(path, context, cookiecutter=cookiecutter)
    except TemplateError as exc:
        raise TemplateError(f"file name {path!r}: {exc}") from None


def fetch_plain(ctx) -> None:
    target = ctx.input.get("targetPath") or "./"
    root = ctx.resolve(target, "targetPath")
    workspace.ensure_dir(ctx.workspace, target)
    files, dirs = _fetch(ctx)
    for rel_dir in dirs:
        workspace.ensure_dir(root, rel_dir)
    for item in files:
        workspace.write_file(root, item.path, item.data, mode=item.mode)
    ctx.log(f"Copied {len(files)} files to {target}")


FETCH_TEMPLATE = ScaffolderAction(
    id="fetch:template",
    handler=fetch_template,
    description="Downloads a skeleton, renders its file names and text files with the given values, "
    "and places the result in the workspace.",
    input_schema={
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": _URL,
            "targetPath": _TARGET,
            "values": {"type": "object", "description": "Values handed to the skeleton as `values`"},
            "copyWithoutTemplating": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Globs of files copied without rendering their content",
            },
            "copyWithoutRender": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Deprecated: globs copied with neither name nor content rendered",
            },
            "cookiecutterCompat": {"type": "boolean", "description": "`{{ cookiecutter.x }}` syntax"},
            "templateFileExtension": {
                "type": ["boolean", "string"],
                "description": "Render only files with this extension (true: .njk)",
            },
            "replace": {"type": "boolean", "description": "Overwrite files already in the workspace"},
            "trimBlocks": {"type": "boolean", "description": "Remove the first newline after a block tag"},
            "lstripBlocks": {"type": "boolean", "description": "Strip whitespace before a block tag"},
            "token": {"type": ["string", "boolean"]},
        },
    },
    output_schema={"type": "object", "properties": {}},
    examples=[{"description": "Render ./skeleton", "example": {"url": "./skeleton", "values": {"name": "x"}}}],
    supports_dry_run=True,
    idempotent=True,
)

FETCH_PLAIN = ScaffolderAction(
    id="fetch:plain",
    handler=fetch_plain,
    description="Downloads a folder and places it in the workspace as it is.",
    input_schema={
        "type": "object",
        "required": ["url"],
        "properties": {"url": _URL, "targetPath": _TARGET, "token": {"type": ["string", "boolean"]}},
    },
    output_schema={"type": "object", "properties": {}},
    supports_dry_run=True,
    idempotent=True,
)


def _fetch_file(ctx) -> bytes:
    from catalog.ingestion.readers import ReadError, SourceReader

    if ctx.template_source is None:
        raise sources.FetchError("This task has no template location to resolve the URL from")
    source = sources.resolve(ctx.template_source, ctx.input["url"])
    if isinstance(source, sources.UploadedSource):
        return sources.read_uploaded_file(source)
    try:
        with SourceReader(max_bytes=sources.MAX_BYTES) as reader:
            return reader.read(source)
    except ReadError as exc:
        raise sources.FetchError(str(exc)) from None


def fetch_plain_file(ctx) -> None:
    data = _fetch_file(ctx)
    workspace.write_file(ctx.workspace, ctx.input["targetPath"], data)
    ctx.log(f"Copied {ctx.input['url']} to {ctx.input['targetPath']}")


def fetch_template_file(ctx) -> None:
    data = _fetch_file(ctx)
    cookiecutter = bool(ctx.input.get("cookiecutterCompat"))
    values = ctx.input.get("values") or {}
    if not is_binary(data):
        text = render_text(data.decode("utf-8"), {"cookiecutter": values} if cookiecutter else {"values": values},
                           cookiecutter=cookiecutter, trim=bool(ctx.input.get("trimBlocks")),
                           lstrip=bool(ctx.input.get("lstripBlocks")))  # fmt: skip
        data = text.encode("utf-8")
    if workspace.write_file(ctx.workspace, ctx.input["targetPath"], data, replace=bool(ctx.input.get("replace"))):
        ctx.log(f"Rendered {ctx.input['url']} to {ctx.input['targetPath']}")
    else:
        ctx.log(f"{ctx.input['targetPath']} exists; kept (replace: true overwrites it)")


_FILE_TARGET = {"type": "string", "description": "File path in the workspace"}

FETCH_PLAIN_FILE = ScaffolderAction(
    id="fetch:plain:file",
    handler=fetch_plain_file,
    description="Downloads a single file and places it in the workspace.",
    input_schema={
        "type": "object",
        "required": ["url", "targetPath"],
        "properties": {"url": _URL, "targetPath": _FILE_TARGET, "token": {"type": ["string", "boolean"]}},
    },
    output_schema={"type": "object", "properties": {}},
    supports_dry_run=True,
    idempotent=True,
)

FETCH_TEMPLATE_FILE = ScaffolderAction(
    id="fetch:template:file",
    handler=fetch_template_file,
    description="Downloads a single file, renders it with the given values and places it in the workspace.",
    input_schema={
        "type": "object",
        "required": ["url", "targetPath"],
        "properties": {
            "url": _URL,
            "targetPath": _FILE_TARGET,
            "values": {"type": "object"},
            "cookiecutterCompat": {"type": "boolean"},
            "replace": {"type": "boolean"},
            "trimBlocks": {"type": "boolean"},
            "lstripBlocks": {"type": "boolean"},
            "token": {"type": ["string", "boolean"]},
        },
    },
    output_schema={"type": "object", "properties": {}},
    supports_dry_run=True,
    idempotent=True,
)
