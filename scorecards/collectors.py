"""The built-in fact collectors, registered like a plugin's (``plugins.api.register_fact_collector``).

- ``files``: for every path a rule names (``file_exists``, ``file_matches``): what it is and, for a text file
  up to :data:`MAX_TEXT_BYTES` that a ``file_matches`` reads, its text. Key ``file:<path>``.
- ``dependencies``: declared dependencies from requirements.txt, pyproject.toml (PEP 621 and Poetry),
  package.json and go.mod in the entity's directory. Key ``dependencies``: ``{ecosystem: {name: declared}}``
  and ``errors`` (a manifest that does not parse, or is too large, says so there; the others still count).
- ``git``: the commit read and when it was made. Key ``last_commit``: ``{"commit", "at"}``.

Hostile repositories: every read is bounded, symbolic links are reported and never followed, binary files
are recognised (a NUL byte) and never decoded; whatever a collector raises becomes an ``error`` fact.
"""

from __future__ import annotations

from typing import Any

from plugins.api import FactCollector, FactSource, register_fact_collector
from scorecards import dependencies

MAX_TEXT_BYTES = 256 * 1024
MAX_MANIFEST_BYTES = 1024 * 1024
FILE_KEY = "file:"


def _file_fact(source: FactSource, path: str) -> dict[str, Any]:
    try:
        kind = source.kind(path)
    except Exception as exc:  # a path that leaves the repository, a broken tree
        return {"kind": "missing", "error": str(exc)}
    fact: dict[str, Any] = {"kind": kind}
    if kind == "missing":
        where = "the repository" if source.directory in ("", ".") else f"{source.directory}/ of the repository"
        fact["error"] = f"{path} does not exist in {where}"
    elif kind == "link":
        fact["error"] = f"{path} is a symbolic link; links are not followed"
    elif kind == "file" and path in source.text_paths:
        try:
            data = source.read(path, MAX_TEXT_BYTES)
        except Exception as exc:
            fact["error"] = str(exc)
        else:
            if b"\0" in data[:8192]:
                fact["error"] = f"{path} is a binary file"
            else:
                fact["text"] = data.decode("utf-8", "replace")
    return fact


def collect_files(source: FactSource) -> dict[str, Any]:
    return {f"{FILE_KEY}{path}": _file_fact(source, path) for path in source.wanted_paths}


def collect_dependencies(source: FactSource) -> dict[str, Any]:
    found: dict[str, Any] = {"pypi": {}, "npm": {}, "go": {}, "errors": []}
    for name, parse in dependencies.PARSERS.items():
        if source.kind(name) != "file":
            continue
        try:
            text = source.read(name, MAX_MANIFEST_BYTES)
            if b"\0" in text[:8192]:
                raise dependencies.ManifestError(f"{name} is a binary file")
            parsed = parse(text.decode("utf-8", "replace"))
        except Exception as exc:
            found["errors"].append(str(exc))
            continue
        ecosystem = dependencies.MANIFESTS[name]
        for package, declared in parsed.items():
            found[ecosystem].setdefault(package, declared)
    return {"dependencies": found}


def collect_git(source: FactSource) -> dict[str, Any]:
    return {"last_commit": {"commit": source.commit, "at": source.committed_at}}


BUILT_IN = (
    FactCollector("files", collect_files, "What the paths rules name are, and their text"),
    FactCollector("dependencies", collect_dependencies, "Declared dependencies from Python, npm and Go manifests"),
    FactCollector("git", collect_git, "The commit read and when it was made"),
)

for _collector in BUILT_IN:
    register_fact_collector(_collector, replace=True)
