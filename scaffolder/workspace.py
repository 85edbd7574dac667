"""Paths inside a task's workspace: nothing an input names may lead outside it.

A relative path is refused when it is absolute, climbs with ``..``, or passes through a symbolic link
(links already in the workspace are never followed when writing, renaming or deleting).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath


class WorkspaceError(Exception):
    """A path that would leave the workspace, or an entry that cannot be written there."""


def relative(path: str, what: str = "path") -> PurePosixPath:
    """``path`` as a clean relative path; refused when absolute or when it climbs out."""
    if not isinstance(path, str):
        raise WorkspaceError(f"{what} must be a string, got {type(path).__name__}")
    if "\x00" in path:
        raise WorkspaceError(f"{what} {path!r} contains a NUL character")
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        raise WorkspaceError(f"{what} {path!r} is absolute; paths are relative to the workspace")
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise WorkspaceError(f"{what} {path!r} leaves the workspace ('..')")
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def resolve(root: Path, path: str, what: str = "path") -> Path:
    """The absolute path of ``path`` inside ``root``; no component of it may be a symbolic link."""
    rel = relative(path, what)
    current = Path(root)
    for part in rel.parts:
        if part == ".":
            continue
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(mode):
            raise WorkspaceError(f"{what} {path!r} passes through a symbolic link ({part}); links are not followed")
    return current


def write_file(root: Path, path: str, data: bytes, *, mode: int | None = None, replace: bool = True) -> bool:
    """Write ``data`` at ``path`` inside ``root``; False when it exists and ``replace`` is off."""
    target = resolve(root, path)
    ensure_dir(root, str(PurePosixPath(*relative(path).parts[:-1])) if len(relative(path).parts) > 1 else ".")
    if os.path.lexists(target):
        if stat.S_ISLNK(os.lstat(target).st_mode):
            raise WorkspaceError(f"{path!r} is a symbolic link; it is not written through")
        if not replace:
            return False
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o644 if mode is None else mode & 0o777)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    if mode is not None:
        os.chmod(target, mode & 0o777)
    return True


def ensure_dir(root: Path, path: str) -> Path:
    target = resolve(root, path)
    current = Path(root)
    for part in relative(path).parts:
        if part == ".":
            continue
        current = current / part
        if os.path.islink(current):
            raise WorkspaceError(f"{path!r} passes through a symbolic link; links are not followed")
        if not current.exists():
            current.mkdir()
        elif not current.is_dir():
            raise WorkspaceError(f"{path!r}: {part} exists and is not a directory")
    return target
