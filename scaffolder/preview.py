"""The form's "Preview (dry run)": the template's own folder and the values entered, through
``service.dry_run``; what it would write, as text to show. Nothing is stored (no task, repository or location).

Secrets entered in the form reach the dry run (so the template renders as it will) and are masked in every
file and log line shown. Files are shown as text up to ``MAX_SHOWN_BYTES`` each; binary ones by size only.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied

from catalog.models import Entity
from scaffolder import service, sources
from scaffolder.secrets import Masker

MAX_SHOWN_BYTES = 64 * 1024


@dataclass(frozen=True)
class PreviewFile:
    path: str
    size: int
    executable: bool
    text: str | None  # None: binary (not UTF-8, or a NUL byte)
    truncated: bool


@dataclass
class Preview:
    files: list[PreviewFile] = field(default_factory=list)
    log: list[dict[str, str]] = field(default_factory=list)  # {step, status, message}
    errors: list[str] = field(default_factory=list)


def template_folder(entity: Entity) -> list[dict[str, str]]:
    """The folder of the template's file (its skeletons beside it), read as ``fetch:template`` reads it, as
    the dry run's ``directoryContents``: relative URLs (``./skeleton``) resolve among these files."""
    base = sources.template_base(service.template_source_file(entity))
    files, _dirs, _version = sources.read_tree(sources.resolve(base, "."))
    return [{"path": f.path, "base64Content": base64.b64encode(f.data).decode("ascii")} for f in files]


def _shown(item: dict[str, Any], masker: Masker) -> PreviewFile:
    data = base64.b64decode(item.get("base64Content") or "")
    executable = bool(item.get("executable"))
    try:
        text = data[:MAX_SHOWN_BYTES].decode("utf-8") if b"\0" not in data else None
    except UnicodeDecodeError:  # cut inside a character: drop the partial one
        text = data[:MAX_SHOWN_BYTES].decode("utf-8", errors="ignore") if len(data) > MAX_SHOWN_BYTES else None
    return PreviewFile(item["path"], len(data), executable, None if text is None else masker.text(text),
                       len(data) > MAX_SHOWN_BYTES)  # fmt: skip


def _log(result: dict[str, Any], masker: Masker) -> list[dict[str, str]]:
    lines = []
    for entry in result.get("log") or []:
        body = entry.get("body") or {}
        lines.append({"step": str(body.get("stepId") or ""), "status": str(body.get("status") or ""),
                      "message": masker.text(str(body.get("message") or ""))})  # fmt: skip
    return lines


def dry_run_preview(user, entity: Entity, values: dict[str, Any], secret_values: dict[str, Any]) -> Preview:
    """Dry-run ``entity`` with ``values`` (secret fields included in ``secret_values``, merged already into
    ``values`` or not): the files it would write and its step log, secrets masked; or what stopped it."""
    from scaffolder.dryrun import DryRunFailed

    masker = Masker(secret_values)
    try:
        body = {"template": entity.body, "values": values, "directoryContents": template_folder(entity)}
        result = service.dry_run(user, body)
    except sources.FetchError as exc:
        return Preview(errors=[f"The template's folder cannot be read: {masker.text(str(exc))}"])
    except service.InvalidRequest as exc:
        return Preview(errors=[masker.text(e) for e in exc.errors])
    except PermissionDenied as exc:
        return Preview(errors=[str(exc) or "You may not run this template."])
    except DryRunFailed as exc:
        return Preview(log=_log(exc.result, masker), errors=[masker.text(exc.error.get("message", ""))],
                       files=[_shown(f, masker) for f in exc.result.get("directoryContents") or []])  # fmt: skip
    return Preview(files=[_shown(f, masker) for f in result["directoryContents"]], log=_log(result, masker))
