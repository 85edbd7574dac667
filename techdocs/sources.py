"""Where an entity's docs come from, and copying them out of the repository into a build directory.

Every read goes through the catalog's readers (``catalog.ingestion``): the same allowed paths, hosts and
hardened git wrapper as descriptors. Nothing here runs the repository's code.

- ``backstage.io/techdocs-ref: dir:<path>``: relative to the entity's ``backstage.io/source-location``
  (else the file that defined it, ``managed-by-location``);
- ``backstage.io/techdocs-ref: url:<repo tree URL or git+ target>``: that directory;
- ``backstage.io/techdocs-entity: <ref>``: the docs of another entity (nothing is built for this one).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from catalog.ingestion.readers import ReadError, SourceReader
from catalog.ingestion.sources import FileSource, GitSource, Source, SourceError, parse_target
from portal.git import GitError

TECHDOCS_REF = "backstage.io/techdocs-ref"
TECHDOCS_ENTITY = "backstage.io/techdocs-entity"
CONFIG_NAMES = ("mkdocs.yaml", "mkdocs.yml")  # Backstage's order: .yaml first


class DocsSourceError(Exception):
    """The docs cannot be located or read; the message says where and why (safe to show)."""


@dataclass(frozen=True)
class DocsLocation:
    """A docs directory: on the local filesystem or inside a git repository at a ref."""

    source: Source  # for git: ``path`` is the directory ('.' for the repository root)

    @property
    def display(self) -> str:
        if isinstance(self.source, FileSource):
            return f"dir:{self.source.path}"
        return f"url:{self.source.target}"

    @property
    def type_and_target(self) -> tuple[str, str]:
        """Backstage's ``locationMetadata``: ``{type, target}``."""
        if isinstance(self.source, FileSource):
            return "dir", self.source.path
        return "url", self.source.target


def annotations_of(body: dict) -> dict:
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    return annotations if isinstance(annotations, dict) else {}


def docs_title(body: dict) -> str:
    """The site name Backstage gives docs without a mkdocs file: the entity's title, else its name."""
    metadata = body.get("metadata") or {}
    return str(metadata.get("title") or metadata.get("name") or "")


def documented(queryset):
    """The entities of ``queryset`` that have docs of their own (``backstage.io/techdocs-ref``)."""
    return queryset.filter(body__metadata__annotations__has_key=TECHDOCS_REF)


def has_docs(body: dict) -> bool:
    return bool(annotations_of(body).get(TECHDOCS_REF) or annotations_of(body).get(TECHDOCS_ENTITY))


def resolve(body: dict) -> DocsLocation:
    """The docs directory of an entity with ``backstage.io/techdocs-ref``."""
    annotations = annotations_of(body)
    ref = str(annotations.get(TECHDOCS_REF) or "").strip()
    kind, _, value = ref.partition(":")
    value = value.strip()
    try:
        if kind == "url" and value:
            return DocsLocation(_directory(parse_target("url", value), value))
        if kind == "dir" and value:
            if posixpath.isabs(value):
                raise DocsSourceError(f"{TECHDOCS_REF} {ref!r}: dir: paths are relative to the entity's source")
            return DocsLocation(_relative_to(_base_directory(annotations), value))
    except SourceError as exc:
        raise DocsSourceError(f"{TECHDOCS_REF} {ref!r}: {exc}") from exc
    raise DocsSourceError(f"{TECHDOCS_REF} {ref!r} is not dir:<path> or url:<target>")


def _base_directory(annotations: dict) -> Source:
    """The directory the entity's source lives in: its source-location, else its descriptor's folder."""
    source_location = str(annotations.get("backstage.io/source-location") or "")
    if source_location.startswith("url:"):
        target = source_location[4:]
        return _directory(parse_target("url", target), target)
    managed = str(annotations.get("backstage.io/managed-by-location") or "")
    kind, _, target = managed.partition(":")
    if kind == "file" and target:
        return FileSource(posixpath.dirname(parse_target("file", target).path))
    if kind == "url" and target:
        source = parse_target("url", target)
        if isinstance(source, GitSource):
            return source.with_path(posixpath.dirname(source.path) or ".")
    raise SourceError("the entity has no source-location or managed-by-location to resolve dir: against")


def _directory(source: Source, target: str) -> Source:
    """``parse_target`` reads a tree URL as the ``catalog-info.yaml`` inside it; take the directory back."""
    if isinstance(source, GitSource):
        is_tree = "/tree/" in target or target.rstrip().endswith("/") or source.style == "pip"
        if is_tree and source.style != "pip" and source.path.endswith("catalog-info.yaml"):
            return source.with_path(posixpath.dirname(source.path) or ".")
        return source.with_path(source.path.rstrip("/") or ".")
    return source


def _relative_to(base: Source, relative: str) -> Source:
    if isinstance(base, FileSource):
        joined = posixpath.normpath(posixpath.join(base.path, relative))
        return parse_target("file", joined)  # the allowed-paths check, after resolving links
    joined = posixpath.normpath(posixpath.join(base.path, relative))
    if joined == ".." or joined.startswith("../"):
        raise SourceError(f"{relative!r} leaves the repository")
    return base.with_path(joined)


# -- copying the docs sources out ---------------------------------------------------------------------


@dataclass
class Limits:
    max_files: int = 5_000
    max_bytes: int = 100 * 1024 * 1024


@dataclass
class Copied:
    """What ``copy_tree`` wrote: the config file name, a hash of every byte, and the commit (git)."""

    config_name: str
    digest: str
    etag: str = ""
    files: list[str] = field(default_factory=list)


class _Tree:
    """One docs directory, read through the catalog's reader: list, read, and say what a link points to."""

    def __init__(self, location: DocsLocation, reader: SourceReader):
        self.location = location
        self.reader = reader
        self.sha = ""
        self.config_name: str | None = None
        if isinstance(location.source, GitSource):
            try:
                self.sha = reader.commit_for(location.source)
            except ReadError as exc:
                raise DocsSourceError(f"{location.display}: {exc}") from exc

    def exists(self, rel: str) -> bool:
        if isinstance(self.location.source, FileSource):
            return os.path.lexists(os.path.join(self.location.source.path, rel))
        return any(entry.path == self._repo_path(rel) for entry in self._walk(posixpath.dirname(rel)))

    def files(self, rel_dir: str) -> list[str]:
        """Files below ``rel_dir`` (relative to the docs directory), symlinks included, sorted."""
        if isinstance(self.location.source, FileSource):
            root = os.path.join(self.location.source.path, rel_dir)
            found = []
            base = os.path.realpath(self.location.source.path)
            for folder, dirs, names in os.walk(root, followlinks=False):
                for name in dirs:  # a linked folder is never entered; one that leads out is refused
                    real = os.path.realpath(os.path.join(folder, name))
                    if real != base and not real.startswith(base + os.sep):
                        rel = os.path.relpath(os.path.join(folder, name), self.location.source.path)
                        raise DocsSourceError(f"{rel} is a symbolic link out of the docs directory")
                found += [os.path.relpath(os.path.join(folder, n), self.location.source.path) for n in names]
            return sorted(found)
        prefix = self._repo_path(rel_dir)
        base = self.location.source.path
        return sorted(
            posixpath.relpath(entry.path, base) if base not in ("", ".") else entry.path
            for entry in self._walk(rel_dir)
            if entry.is_file and (prefix in ("", ".") or entry.path.startswith(prefix.rstrip("/") + "/"))
        )

    def read(self, rel: str) -> bytes:
        """The bytes of ``rel``; a symbolic link is followed only when it stays inside the docs directory."""
        if isinstance(self.location.source, FileSource):
            return self._read_local(rel)
        repo = self.reader._repo(self.location.source.repo_url)
        path = self._repo_path(rel)
        for _ in range(8):  # a chain of links inside the tree, bounded
            try:
                return repo.read_file(self.sha, path)
            except GitError as exc:
                if "symbolic link" not in str(exc):
                    raise DocsSourceError(f"{rel}: {exc}") from exc
            target = repo.repo.commit(self.sha).tree[path].data_stream.read().decode("utf-8", "replace")
            path = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            self._inside(rel, path)
        raise DocsSourceError(f"{rel}: too many symbolic links")

    def _read_local(self, rel: str) -> bytes:
        root = os.path.realpath(self.location.source.path)
        real = os.path.realpath(os.path.join(root, rel))
        if real != root and not real.startswith(root + os.sep):
            raise DocsSourceError(f"{rel} is a symbolic link out of the docs directory; links are not followed out")
        if not os.path.isfile(real):
            raise DocsSourceError(f"{rel} is not a file")
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(real, flags)
        with os.fdopen(fd, "rb") as handle:
            return handle.read()

    def _inside(self, rel: str, repo_path: str) -> None:
        base = self.location.source.path
        base = "" if base in ("", ".") else base.rstrip("/") + "/"
        outside = repo_path.startswith(("/", "../")) or repo_path == ".."
        if outside or not repo_path.startswith(base):
            raise DocsSourceError(f"{rel} is a symbolic link out of the docs directory; links are not followed out")

    def _repo_path(self, rel: str) -> str:
        base = self.location.source.path
        joined = posixpath.normpath(posixpath.join("" if base in ("", ".") else base, rel))
        return "" if joined == "." else joined

    def _walk(self, rel_dir: str):
        repo = self.reader._repo(self.location.source.repo_url)
        prefix = self._repo_path(rel_dir)
        try:
            return list(repo.walk(self.sha, prefix))
        except GitError as exc:
            raise DocsSourceError(f"{self.location.display}: {exc}") from exc


def find_config(tree: _Tree) -> str | None:
    tree.config_name = next((name for name in CONFIG_NAMES if tree.exists(name)), None)
    return tree.config_name


def open_tree(location: DocsLocation, reader: SourceReader) -> _Tree:
    return _Tree(location, reader)


def copy_docs(tree: _Tree, docs_dir: str, dest: Path | None, limits: Limits) -> tuple[str, list[str]]:
    """Copy ``docs_dir`` (relative, already checked) into ``dest/docs_dir`` (or only hash it, when ``dest``
    is None); returns (digest, files)."""
    digest = hashlib.sha256()
    total = 0
    copied: list[str] = []
    for rel in tree.files(docs_dir):
        if len(copied) >= limits.max_files:
            raise DocsSourceError(f"{docs_dir}/ has more than {limits.max_files} files (TECHDOCS_MAX_FILES)")
        data = tree.read(rel)
        total += len(data)
        if total > limits.max_bytes:
            raise DocsSourceError(
                f"{docs_dir}/ is larger than {limits.max_bytes // (1024 * 1024)} MiB (TECHDOCS_MAX_SOURCE_BYTES)"
            )
        if dest is not None:
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
        copied.append(rel)
    return digest.hexdigest(), copied
