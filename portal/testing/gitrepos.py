"""Build throwaway git repositories from folders or dicts of files, through portal.git."""

from __future__ import annotations

import tempfile
from pathlib import Path

from portal.git import create_repository_from_directory


def make_repo(bare_path: Path, files: dict[str, str | bytes], *, branch: str = "main", message: str = "c") -> str:
    """Commit ``files`` (path → content) as the whole tree of ``branch``; returns the sha."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode() if isinstance(content, str) else content)
        return create_repository_from_directory(root, bare_path, branch=branch, message=message)


def git_target(bare_path: Path, path: str = "catalog-info.yaml", ref: str = "main") -> str:
    return f"git+{Path(bare_path).resolve().as_uri()}@{ref}#path={path}"
