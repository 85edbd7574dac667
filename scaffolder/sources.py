"""Reading a template's files (skeletons) from where the catalog read the template: a local folder inside
CATALOG_ALLOWED_PATHS, or a folder of a git repository at the commit, through portal.git."""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from django.conf import settings
from django.core.cache import cache

from catalog.ingestion.sources import FileSource, GitSource, Source, SourceError, check_local_path, parse_target
from portal.git import GitError, GitRepo

MAX_FILES = 5_000
MAX_BYTES = 50 * 1024 * 1024


class FetchError(Exception):
    """A skeleton that cannot be read; the message says which path and why."""


@dataclass(frozen=True)
class SkeletonFile:
    path: str  # relative to the fetched folder, '/'-separated
    data: bytes
    mode: int


@dataclass(frozen=True)
class UploadedSource:
    """A file or folder among a dry run's uploaded files (``root``, a private temporary folder): relative URLs
    stay among them; absolute ones are read with the catalog's policy, as for any template."""

    root: str
    path: str

    kind = "upload"

    @property
    def target(self) -> str:
        return self.path

    def sibling(self, target: str) -> Source | UploadedSource:
        if "://" in target or target.startswith(("/", "file:", "git+")):
            return FileSource(self.path).sibling(target)
        here = posixpath.relpath(posixpath.dirname(self.path), self.root)
        joined = posixpath.normpath(posixpath.join(here, target))
        if joined == ".." or joined.startswith("../"):
            raise FetchError(f"{target!r} leaves the uploaded files")
        return UploadedSource(self.root, posixpath.join(self.root, joined) if joined != "." else self.root)


def read_uploaded_file(source: UploadedSource) -> bytes:
    real = _checked(source)
    if not os.path.isfile(real):
        raise FetchError(f"{posixpath.relpath(source.path, source.root)} is not among the uploaded files")
    if os.path.getsize(real) > MAX_BYTES:
        raise FetchError(f"{source.path} is larger than {MAX_BYTES} bytes")
    with open(real, "rb") as handle:
        return handle.read()


def _checked(source: UploadedSource) -> str:
    try:
        return check_local_path(source.path, roots=[os.path.realpath(source.root)])
    except SourceError as exc:
        raise FetchError(str(exc)) from exc


def template_base(source_file: str) -> Source:
    """The template file's source from its managed-by-location ref (``file:/x/t.yaml``, ``url:git+…``)."""
    kind, _, target = (source_file or "").partition(":")
    if kind not in ("file", "url") or not target:
        raise FetchError(f"The template's location {source_file!r} cannot be read")
    try:
        return parse_target(kind, target)
    except SourceError as exc:
        raise FetchError(str(exc)) from exc


def base_url(source: Source) -> str:
    if isinstance(source, FileSource):
        return f"file://{source.path}"
    return source.target


def resolve(base: Source, url: str) -> Source:
    """``url`` (relative to the template file, or absolute) as a source, with the catalog's policy."""
    try:
        source = base.sibling(url.rstrip("/") or ".")
    except SourceError as exc:
        raise FetchError(str(exc)) from exc
    # The catalog reads a folder URL (…/tree/main/x) as its catalog-info.yaml; a fetch means the folder.
    if isinstance(source, GitSource) and url.startswith(("https://", "http://")) and "catalog-info.yaml" not in url:
        source = source.with_path(source.path.removesuffix("catalog-info.yaml").rstrip("/") or ".")
    return source


def read_tree(source: Source) -> tuple[list[SkeletonFile], list[str], str]:
    """(files, directories, version) below ``source``; symbolic links are refused, sizes bounded."""
    if isinstance(source, GitSource):
        return _read_git(source)
    if isinstance(source, UploadedSource):
        return _read_local(source.path, _checked(source))
    return _read_local(source.path)


def _read_local(root: str, real: str | None = None) -> tuple[list[SkeletonFile], list[str], str]:
    try:
        real = real or check_local_path(root)
    except SourceError as exc:
        raise FetchError(str(exc)) from exc
    if not os.path.isdir(real):
        raise FetchError(f"{root} is not a directory")
    files: list[SkeletonFile] = []
    dirs: list[str] = []
    total = 0
    for entry_path, rel in _walk(real):
        st = os.lstat(entry_path)
        if stat.S_ISLNK(st.st_mode):
            raise FetchError(f"{rel} in {root} is a symbolic link; skeletons may not contain links")
        if stat.S_ISDIR(st.st_mode):
            dirs.append(rel)
            continue
        if not stat.S_ISREG(st.st_mode):
            raise FetchError(f"{rel} in {root} is not a regular file")
        total += st.st_size
        if len(files) >= MAX_FILES or total > MAX_BYTES:
            raise FetchError(f"{root} holds more than {MAX_FILES} files or {MAX_BYTES} bytes")
        fd = os.open(entry_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            files.append(SkeletonFile(rel, handle.read(), st.st_mode & 0o777))
    return files, dirs, ""


def _walk(root: str) -> Iterator[tuple[str, str]]:
    stack = [("", root)]
    while stack:
        rel_dir, directory = stack.pop()
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            yield entry.path, rel
            if entry.is_dir(follow_symlinks=False):
                stack.append((rel, entry.path))


def _read_git(source: GitSource) -> tuple[list[SkeletonFile], list[str], str]:
    prefix = source.path.strip("/")
    prefix = "" if prefix in ("", ".") else prefix
    files: list[SkeletonFile] = []
    dirs: list[str] = []
    total = 0
    try:
        with GitRepo(source.repo_url, settings.GIT_CACHE_DIR) as repo:
            sha = repo.fetch(source.ref)
            tree = repo.repo.commit(sha).tree
            if prefix:
                try:
                    tree = tree / prefix
                except KeyError as exc:
                    raise FetchError(f"{prefix} does not exist at {sha[:12]}") from exc
            for item in tree.traverse():
                rel = item.path[len(prefix) + 1 :] if prefix else item.path
                if item.type == "tree":
                    dirs.append(rel)
                    continue
                if item.type != "blob":
                    continue  # submodules
                if item.mode == 0o120000:
                    raise FetchError(f"{rel} in {source.target} is a symbolic link; skeletons may not contain links")
                total += item.size
                if len(files) >= MAX_FILES or total > MAX_BYTES:
                    raise FetchError(f"{source.target} holds more than {MAX_FILES} files or {MAX_BYTES} bytes")
                files.append(SkeletonFile(rel, item.data_stream.read(), 0o755 if item.mode & 0o111 else 0o644))
    except GitError as exc:
        raise FetchError(str(exc)) from exc
    return files, dirs, sha


# Key order -------------------------------------------------------------------------------------------------
# PostgreSQL's jsonb keeps an object's keys sorted by length, not as written, and a form's fields are
# shown in the order the template lists them. So the template file is read once per entity version for
# its order (cached); when it cannot be read, the stored order stands.

ORDER_CACHE_SECONDS = 24 * 3600


def _written_parameters(entity) -> Any:
    from catalog.ingestion.readers import ReadError, SourceReader
    from scaffolder.service import template_source_file

    try:
        source = template_base(template_source_file(entity))
        with SourceReader() as reader:
            text = reader.read(source).decode("utf-8", "replace")
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict) and str(doc.get("kind", "")).lower() == "template" and isinstance(
                doc.get("metadata"), dict) and doc["metadata"].get("name") == entity.name:  # fmt: skip
                return (doc.get("spec") or {}).get("parameters")
    except (FetchError, ReadError, SourceError, GitError, OSError, yaml.YAMLError, UnicodeError):
        return None
    return None


def _in_order(stored: Any, written: Any) -> Any:
    """``stored`` with every object's keys in ``written``'s order (keys only ``stored`` has go last)."""
    if isinstance(stored, dict) and isinstance(written, dict):
        keys = [k for k in written if k in stored] + [k for k in stored if k not in written]
        return {k: _in_order(stored[k], written.get(k)) for k in keys}
    if isinstance(stored, list) and isinstance(written, list):
        return [_in_order(s, written[i] if i < len(written) else None) for i, s in enumerate(stored)]
    return stored


def ordered_spec(entity) -> dict[str, Any]:
    """The template's ``spec`` with its parameters' keys in the order the file lists them."""
    spec = entity.body.get("spec") if isinstance(entity.body.get("spec"), dict) else {}
    if not spec.get("parameters"):
        return spec
    key = f"scaffolder:param-order:{entity.ref}:{entity.etag}"
    written = cache.get(key)
    if written is None:
        written = _written_parameters(entity)
        cache.set(key, written if written is not None else False, ORDER_CACHE_SECONDS)
    if not written:
        return spec
    return {**spec, "parameters": _in_order(spec["parameters"], written)}
