"""Declared dependencies read from manifests, and whether a declared version satisfies a wanted range.

Pure: no Django, no git. Parsers take the file's text and return ``{name: declared}`` (the constraint as
written); :func:`satisfies` compares the lowest version a declaration allows (its pin, else its lower bound)
with the wanted range: PEP 440 for Python (``packaging``), npm ranges for npm and Go (``node-semver``).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass

import nodesemver
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

#: Manifest file -> ecosystem. Read from the entity's source directory.
MANIFESTS = {"requirements.txt": "pypi", "pyproject.toml": "pypi", "package.json": "npm", "go.mod": "go"}


class ManifestError(ValueError):
    """A manifest that does not parse; the message says which file and where."""


def parse_requirements(text: str) -> dict[str, str]:
    found = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "git+", "http:", "https:", "file:", ".")):
            continue  # comments, options (-r, -e, --hash), URLs and paths carry no version to compare
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise ManifestError(f"requirements.txt line {number}: {exc}") from None
        found[canonicalize_name(requirement.name)] = str(requirement.specifier)
    return found


def parse_pyproject(text: str) -> dict[str, str]:
    """PEP 621 ``[project]`` dependencies (and optional ones), then Poetry's ``[tool.poetry]`` groups."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"pyproject.toml: {exc}") from None
    found: dict[str, str] = {}
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    lists = [project.get("dependencies") or [], *(project.get("optional-dependencies") or {}).values()]
    for entries in lists:
        for entry in entries if isinstance(entries, list) else ():
            try:
                requirement = Requirement(str(entry))
            except InvalidRequirement as exc:
                raise ManifestError(f"pyproject.toml [project] dependency {entry!r}: {exc}") from None
            found.setdefault(canonicalize_name(requirement.name), str(requirement.specifier))
    poetry = (data.get("tool") or {}).get("poetry") or {}
    tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {},
              *((group or {}).get("dependencies") or {} for group in (poetry.get("group") or {}).values())]  # fmt: skip
    for table in tables:
        for name, constraint in table.items() if isinstance(table, dict) else ():
            if name.lower() == "python":
                continue
            if isinstance(constraint, dict):
                constraint = constraint.get("version", "")
            found.setdefault(canonicalize_name(name), _poetry_to_pep440(str(constraint)))
    return found


def _poetry_to_pep440(constraint: str) -> str:
    """Poetry's ``^1.2`` / ``~1.2`` / ``1.2`` / ``*`` as a PEP 440 lower bound (enough to compare)."""
    constraint = constraint.strip()
    if constraint in ("", "*"):
        return ""
    if constraint[0] in "^~" and constraint[1:2] != "=":
        return f">={constraint[1:].strip()}"
    if constraint[0].isdigit():
        return f"=={constraint}"
    return constraint


def parse_package_json(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ManifestError(f"package.json: {exc}") from None
    if not isinstance(data, dict):
        raise ManifestError("package.json: the document is not an object")
    found: dict[str, str] = {}
    for table in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        for name, spec in (data.get(table) or {}).items() if isinstance(data.get(table), dict) else ():
            found.setdefault(str(name), str(spec))
    return found


_GO_REQUIRE = re.compile(r"^\s*([^\s()]+)\s+(v[^\s]+)")


def parse_go_mod(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    block = False
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if line.startswith("require ("):
            block = True
            continue
        if block and line == ")":
            block = False
            continue
        if block or line.startswith("require "):
            match = _GO_REQUIRE.match(line.removeprefix("require "))
            if match:
                found[match[1]] = match[2]
    return found


PARSERS = {"requirements.txt": parse_requirements, "pyproject.toml": parse_pyproject,
           "package.json": parse_package_json, "go.mod": parse_go_mod}  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def satisfies(ecosystem: str, name: str, declared: str, wanted: str) -> Verdict:
    """Does the lowest version ``declared`` allows satisfy ``wanted``? The reason says why not."""
    if ecosystem == "pypi":
        return _pypi(name, declared, wanted)
    return _semver(name, declared, wanted, go=ecosystem == "go")


def _pypi(name: str, declared: str, wanted: str) -> Verdict:
    try:
        wanted_set = SpecifierSet(wanted)
    except InvalidSpecifier:
        return Verdict(False, f'"{wanted}" is not a PEP 440 version range')
    try:
        declared_set = SpecifierSet(declared)
    except InvalidSpecifier:
        return Verdict(False, f"{name} is declared as {declared!r}, which is not a PEP 440 range")
    lowest = None
    for spec in declared_set:
        if spec.operator in ("==", "===", ">=", "~=", ">") and "*" not in spec.version:
            try:
                version = Version(spec.version)
            except InvalidVersion:
                continue
            lowest = version if lowest is None or version > lowest else lowest
    if lowest is None:
        return Verdict(False, f"{name} is declared without a lower bound ({declared or 'any version'})")
    if wanted_set.contains(lowest, prereleases=True):
        return Verdict(True)
    return Verdict(False, f"{name} {declared} allows {lowest}, which is not {wanted}")


def _semver(name: str, declared: str, wanted: str, *, go: bool) -> Verdict:
    if nodesemver.valid_range(wanted, True) is None:
        return Verdict(False, f'"{wanted}" is not a version range')
    lowest = _lowest_semver(declared.removeprefix("v") if go else declared)
    if lowest is None:
        return Verdict(False, f"{name} is declared as {declared!r}, which has no lower bound to compare")
    if nodesemver.satisfies(lowest, wanted, True):
        return Verdict(True)
    return Verdict(False, f"{name} {declared} allows {lowest}, which is not {wanted}")


def _lowest_semver(declared: str) -> str | None:
    try:
        ranges = nodesemver.make_range(declared, True).set
    except (ValueError, TypeError):
        return None
    lows = []
    for comparators in ranges:
        for comparator in comparators:
            if comparator.operator in (">=", ">", "", "=") and comparator.semver is not nodesemver.ANY:
                lows.append(comparator.semver)
    if not lows:
        return None
    return str(min(lows, key=nodesemver.cmp_to_key(lambda a, b: nodesemver.compare(a, b, True))))
