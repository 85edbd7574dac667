"""fetch:cookiecutter, natively: the skeleton's names and text files rendered with ``{{ cookiecutter.x }}``
in the scaffolder's sandboxed Jinja environment (fetch:template's cookiecutterCompat). No Docker, no
cookiecutter process, no hooks, no Jinja extensions (docs/scaffolder.md).

As in Backstage the fetched folder is the *contents* of the cookiecutter project: its ``cookiecutter.json``
gives the defaults the step's ``values`` override (a list is a choice: its first item; a string default is
rendered with the values before it), and its files, ``cookiecutter.json`` and ``hooks/`` included, are
rendered into ``targetPath``.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from plugins.scaffolder import ScaffolderAction
from scaffolder import workspace
from scaffolder.actions.fetch import _fetch, _skip, is_binary
from scaffolder.templating import TemplateError, render_text

MAX_JSON_BYTES = 1_000_000


def cookiecutter_context(defaults_json: bytes | None, values: dict[str, Any]) -> dict[str, Any]:
    """What ``cookiecutter --no-input`` would put in ``cookiecutter``: defaults from cookiecutter.json (in
    order), overridden by ``values``. ValueError names what is wrong."""
    defaults: dict[str, Any] = {}
    if defaults_json is not None:
        if len(defaults_json) > MAX_JSON_BYTES:
            raise ValueError(f"cookiecutter.json is larger than {MAX_JSON_BYTES} bytes")
        try:
            defaults = json.loads(defaults_json)
        except ValueError as exc:
            raise ValueError(f"cookiecutter.json is not valid JSON: {exc}") from None
        if not isinstance(defaults, dict):
            raise ValueError("cookiecutter.json must hold a JSON object")
    context: dict[str, Any] = {}
    for key, default in defaults.items():
        if key in values:
            value = values[key]
            if isinstance(default, list) and default and value not in default:
                raise ValueError(f"values.{key}: {value!r} is not one of cookiecutter.json's choices {default}")
            context[key] = value
        elif key.startswith("_") and not key.startswith("__"):
            context[key] = default  # private: kept as written, never rendered
        else:
            context[key] = _render_default(key, default[0] if isinstance(default, list) and default else default,
                                           context)  # fmt: skip
    context.update({k: v for k, v in values.items() if k not in context})
    return context


def _render_default(key: str, value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, str):
        try:
            return render_text(value, {"cookiecutter": context}, cookiecutter=True)
        except TemplateError as exc:
            raise TemplateError(f"cookiecutter.json {key}: {exc}") from None
    if isinstance(value, dict):
        return {k: _render_default(f"{key}.{k}", v, context) for k, v in value.items()}
    return value


def _verbatim(patterns: list[str]):
    """Cookiecutter's ``_copy_without_render``: fnmatch globs on the path or a folder above it."""

    def matches(path: str) -> bool:
        parts = path.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(fnmatch.fnmatch(c, p) for c in candidates for p in patterns)

    return matches


def fetch_cookiecutter(ctx) -> None:
    data = ctx.input
    if data.get("imageName"):
        ctx.log(f"imageName {data['imageName']!r} ignored: Callboard renders cookiecutter skeletons itself")
    if data.get("extensions"):
        ctx.log(f"Jinja extensions not loaded ({', '.join(data['extensions'])}): the sandboxed environment has "
                "Backstage's filters only")  # fmt: skip
    target = data.get("targetPath") or "./"
    root = ctx.resolve(target, "targetPath")
    files, dirs = _fetch(ctx)
    by_path = {f.path: f for f in files}
    defaults = by_path["cookiecutter.json"].data if "cookiecutter.json" in by_path else None
    values = dict(data.get("values") or {})
    context = cookiecutter_context(defaults, values)
    patterns = data.get("copyWithoutRender")
    if patterns is None:
        patterns = context.get("_copy_without_render") or []
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ValueError("copyWithoutRender (or cookiecutter.json's _copy_without_render) must be a list of globs")
    context["_copy_without_render"] = patterns
    verbatim = _verbatim(patterns)
    if any(f.path.startswith("hooks/") for f in files):
        ctx.log("hooks/ is copied as files and never run: Callboard runs no cookiecutter hooks")
    workspace.ensure_dir(ctx.workspace, target)
    env = {"cookiecutter": context}
    for rel_dir in dirs:
        path = _render_name(rel_dir, env)
        if not _skip(path):
            workspace.ensure_dir(root, path)
    written = 0
    for item in files:
        path = _render_name(item.path, env)
        if _skip(path):
            continue
        content = item.data
        if not verbatim(item.path) and not is_binary(content):
            try:
                content = render_text(content.decode("utf-8"), env, cookiecutter=True).encode("utf-8")
            except TemplateError as exc:
                raise TemplateError(f"{item.path}: {exc}") from None
        workspace.write_file(root, path, content, mode=item.mode, replace=True)
        written += 1
    ctx.log(f"Rendered {written} files to {target} (cookiecutter syntax, sandboxed)")


def _render_name(path: str, env: dict[str, Any]) -> str:
    try:
        return render_text(path, env, cookiecutter=True)
    except TemplateError as exc:
        raise TemplateError(f"file name {path!r}: {exc}") from None


FETCH_COOKIECUTTER = ScaffolderAction(
    id="fetch:cookiecutter",
    handler=fetch_cookiecutter,
    supports_dry_run=True,  # it writes only into the workspace
    idempotent=True,  # a retry re-runs it to rebuild the workspace
    description="Downloads a cookiecutter skeleton and renders its names and text files with "
    "`{{ cookiecutter.x }}` in the sandboxed environment (no hooks, no extensions, no Docker).",
    input_schema={
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "description": "Folder relative to the template file, or an absolute URL"},
            "targetPath": {"type": "string", "description": "Where in the workspace to put the files", "default": "./"},
            "values": {"type": "object", "description": "Values for cookiecutter (override cookiecutter.json)"},
            "copyWithoutRender": {"type": "array", "items": {"type": "string"},
                                  "description": "fnmatch globs copied with their content not rendered"},
            "extensions": {"type": "array", "items": {"type": "string"}, "description": "Ignored (logged)"},
            "imageName": {"type": "string", "description": "Ignored: no container is run"},
            "token": {"type": ["string", "boolean"]},
        },
    },
    output_schema={"type": "object", "properties": {}},
    examples=[{"description": "Render ./skeleton", "example": {"url": "./skeleton", "values": {"name": "x"}}}],
)  # fmt: skip
