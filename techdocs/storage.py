"""Published sites in a Django storage, in Backstage's layout: ``{namespace}/{kind}/{name}/{path}``.

The storage is ``STORAGES["techdocs"]``: a folder under the data dir by default, any Django storage
(S3-compatible through django-storages) when configured. A site is published file by file and then its
``techdocs_metadata.json`` last, so a reader never sees metadata naming files that are not there yet;
files the new build no longer has are removed after it.
"""

from __future__ import annotations

import json
import mimetypes
import posixpath
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

METADATA = "techdocs_metadata.json"


def docs_storage() -> Storage:
    return storages["techdocs"]


def triplet(namespace: str, kind: str, name: str) -> str:
    return f"{namespace}/{kind}/{name}".lower()


def clean_path(path: str) -> str | None:
    """A site-relative path, or None when it would leave the site (``..``, absolute, NUL)."""
    if "\0" in path or "\\" in path:
        return None
    clean = posixpath.normpath("/" + path).lstrip("/")
    return clean if not clean.startswith("..") else None


def site_files(output: Path) -> list[str]:
    return sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file())


def publish(prefix: str, output: Path, metadata: dict) -> list[str]:
    """Copy a built site to the storage under ``prefix``; returns the files published."""
    storage = docs_storage()
    previous = read_metadata(prefix) or {}
    files = [f for f in site_files(output) if f != METADATA]
    for rel in files:
        _save(storage, f"{prefix}/{rel}", (output / rel).read_bytes())
    metadata = {**metadata, "files": [*files, METADATA]}
    _save(storage, f"{prefix}/{METADATA}", json.dumps(metadata, indent=2).encode())
    for stale in set(previous.get("files") or []) - set(metadata["files"]):
        if (clean := clean_path(str(stale))) is not None:
            storage.delete(f"{prefix}/{clean}")
    return metadata["files"]


def _save(storage: Storage, name: str, data: bytes) -> None:
    if storage.exists(name):
        storage.delete(name)
    storage.save(name, ContentFile(data))


def read_metadata(prefix: str) -> dict | None:
    storage = docs_storage()
    name = f"{prefix}/{METADATA}"
    if not storage.exists(name):
        return None
    with storage.open(name, "rb") as handle:
        try:
            data = json.loads(handle.read())
        except ValueError:
            return None
    return data if isinstance(data, dict) else None


def read_file(prefix: str, path: str) -> bytes | None:
    clean = clean_path(path)
    if clean is None:
        return None
    storage = docs_storage()
    name = f"{prefix}/{clean}"
    if not clean or not storage.exists(name):
        return None
    with storage.open(name, "rb") as handle:
        return handle.read()


def content_type(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "application/octet-stream"


def remove_site(prefix: str) -> None:
    storage = docs_storage()
    for rel in (read_metadata(prefix) or {}).get("files") or []:
        if (clean := clean_path(str(rel))) is not None:
            storage.delete(f"{prefix}/{clean}")
