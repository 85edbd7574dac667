"""Sites built elsewhere (a team's CI: ``techdocs generate`` or Backstage's ``techdocs-cli generate``)
published as they are, through ``manage.py techdocs publish`` or ``POST /api/techdocs/publish/…``."""

from __future__ import annotations

import json
import tarfile
import time
from pathlib import Path
from typing import BinaryIO

from django.utils import timezone

from catalog.models import Entity
from techdocs import storage
from techdocs.indexing import index_site
from techdocs.models import DocSite

MAX_ARCHIVE_BYTES = 200 * 1024 * 1024
MAX_ARCHIVE_FILES = 20_000


class PublishError(Exception):
    """The site cannot be published; the message says why."""


def extract_site(archive: BinaryIO, dest: Path) -> None:
    """Unpack a .tar(.gz) of a site: regular files and folders only, nothing outside ``dest``."""
    total = 0
    with tarfile.open(fileobj=archive, mode="r:*") as tar:
        members = tar.getmembers()
        if len(members) > MAX_ARCHIVE_FILES:
            raise PublishError(f"the archive has more than {MAX_ARCHIVE_FILES} entries")
        for member in members:
            if not (member.isfile() or member.isdir()):
                raise PublishError(f"{member.name}: only files and folders may be published (no links)")
            total += member.size
            if total > MAX_ARCHIVE_BYTES:
                raise PublishError(f"the site is larger than {MAX_ARCHIVE_BYTES // (1024 * 1024)} MiB")
        tar.extractall(dest, filter="data")  # refuses absolute paths, '..' and links out of dest


def publish_directory(entity: Entity, directory: Path) -> DocSite:
    """Publish a generated site folder as ``entity``'s docs (``index.html`` required)."""
    root = _site_root(directory)
    metadata_path = root / storage.METADATA
    try:
        generated = json.loads(metadata_path.read_text(encoding="utf-8")) if metadata_path.exists() else {}
    except ValueError as exc:
        raise PublishError(f"{storage.METADATA} is not JSON: {exc}") from exc
    if not isinstance(generated, dict):
        raise PublishError(f"{storage.METADATA} is not a JSON object")
    metadata = {
        "site_name": str(generated.get("site_name") or entity.name),
        "site_description": str(generated.get("site_description", "None")),
        "build_timestamp": int(generated.get("build_timestamp") or time.time() * 1000),
        "etag": str(generated.get("etag") or ""),
    }
    site = DocSite.for_entity(entity)
    files = storage.publish(site.prefix, root, metadata)
    index_site(site.entity_ref, site.namespace, site.kind, site.name, root)
    site.status = DocSite.Status.OK
    site.origin = DocSite.Origin.PUBLISHED
    site.site_name = metadata["site_name"][:300]
    site.site_description = metadata["site_description"]
    site.etag = metadata["etag"][:128]
    site.published_at = timezone.now()
    site.file_count = len(files)
    site.error = ""
    site.log = f"Published from outside ({len(files)} files)"
    site.save()
    return site


def _site_root(directory: Path) -> Path:
    """The folder holding ``index.html``: the directory itself, or its one sub-folder (``site/``)."""
    if (directory / "index.html").is_file():
        return directory
    children = [child for child in directory.iterdir() if child.is_dir()]
    if len(children) == 1 and (children[0] / "index.html").is_file():
        return children[0]
    raise PublishError("the site has no index.html at its top")
