"""Building an entity's docs: locate → copy and check → ``mkdocs build`` → publish. No Celery code here.

A build starts only when the docs' own sources changed: the hash of the checked config, every file of
the docs folder and the builder's version. Same commit as last time (git) costs one ``fetch`` and no read;
a known-bad source is not retried until it changes (or ``force``). While a build runs, and after it fails,
the last good site stays published.
"""

from __future__ import annotations

import hashlib
import json
import logging
import posixpath
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from catalog.ingestion.readers import SourceReader
from catalog.ingestion.sources import GitSource
from catalog.models import Entity
from portal.git import GitError
from techdocs import config as mkdocs_config
from techdocs import storage
from techdocs.generate import GenerateResult, run_mkdocs
from techdocs.indexing import index_site
from techdocs.models import DocSite
from techdocs.sources import (
    TECHDOCS_ENTITY,
    TECHDOCS_REF,
    DocsSourceError,
    Limits,
    annotations_of,
    copy_docs,
    docs_title,
    find_config,
    open_tree,
    resolve,
)

logger = logging.getLogger(__name__)


@dataclass
class BuildOutcome:
    entity_ref: str
    result: str  # built | unchanged | failed | refused | no-docs | borrowed
    message: str = ""

    def as_dict(self) -> dict:
        return {"entity": self.entity_ref, "result": self.result, "message": self.message}


def builder_version() -> str:
    """Part of every source hash: a new mkdocs-techdocs-core or allowlist rebuilds every site once."""
    parts = [version("mkdocs-techdocs-core"), version("mkdocs"), *settings.TECHDOCS_ALLOWED_PLUGINS,
             *settings.TECHDOCS_ALLOWED_MARKDOWN_EXTENSIONS, "1"]  # fmt: skip
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def build(entity_ref: str, *, force: bool = False) -> BuildOutcome:
    """Build and publish the docs of ``entity_ref`` if their sources changed (always with ``force``)."""
    entity = Entity.objects.filter(ref=entity_ref.lower()).first()
    if entity is None:
        return BuildOutcome(entity_ref, "no-docs", "no such entity")
    annotations = annotations_of(entity.body)
    if not annotations.get(TECHDOCS_REF):
        if annotations.get(TECHDOCS_ENTITY):
            return BuildOutcome(entity.ref, "borrowed", f"docs of {annotations[TECHDOCS_ENTITY]}")
        return BuildOutcome(entity.ref, "no-docs", f"no {TECHDOCS_REF} annotation")
    if settings.TECHDOCS_BUILDER == "external":
        return BuildOutcome(entity.ref, "no-docs", "TECHDOCS_BUILDER=external: sites are published from CI")
    site = DocSite.for_entity(entity)
    if settings.TECHDOCS_BUILDER == "both" and site.origin == DocSite.Origin.PUBLISHED and not force:
        return BuildOutcome(entity.ref, "unchanged", "published from CI, which wins over local builds")
    try:
        location = resolve(entity.body)
    except DocsSourceError as exc:
        return _refused(site, str(exc))
    with SourceReader() as reader, tempfile.TemporaryDirectory(prefix="callboard-docs-") as tmp:
        try:
            tree = open_tree(location, reader)
        except DocsSourceError as exc:
            return _failed(site, str(exc), "")
        site.source = location.display[:1000]
        if tree.sha and tree.sha == site.etag and not force and site.status in (DocSite.Status.OK,
                                                                               DocSite.Status.FAILED,
                                                                               DocSite.Status.REFUSED):  # fmt: skip
            return BuildOutcome(entity.ref, "unchanged", f"commit {tree.sha[:12]} already built")
        work = Path(tmp)
        try:
            checked, config_bytes = _checked_config(tree, docs_title(entity.body))
            digest, _files = copy_docs(tree, checked.docs_dir, work / "input", _limits())
        except (mkdocs_config.ConfigError, DocsSourceError) as exc:
            site.etag = tree.sha
            return _refused(site, str(exc))
        source_hash = _source_hash(config_bytes, digest)
        settled = site.status != DocSite.Status.PENDING
        if not force and settled and source_hash in (site.source_hash, site.attempted_hash):
            DocSite.objects.filter(pk=site.pk).update(etag=tree.sha, source=site.source)
            return BuildOutcome(entity.ref, "unchanged", "docs sources did not change")
        return _generate_and_publish(site, tree, source_hash, checked, work)


def _source_hash(config_bytes: bytes, docs_digest: str) -> str:
    return hashlib.sha256(b"\0".join([builder_version().encode(), config_bytes, docs_digest.encode()])).hexdigest()


def sources_hash(tree, title: str, digests: dict[tuple[str, str, str], str]) -> str:
    """The hash a build of ``entity`` would compare, without copying anything; ``digests`` remembers each
    docs folder's digest (entities sharing one docs folder at one commit read it once)."""
    checked, config_bytes = _checked_config(tree, title)
    key = (tree.location.display, tree.sha, checked.docs_dir)
    if key not in digests:
        digests[key] = copy_docs(tree, checked.docs_dir, None, _limits())[0]
    return _source_hash(config_bytes, digests[key])


def _limits() -> Limits:
    return Limits(max_files=settings.TECHDOCS_MAX_FILES, max_bytes=settings.TECHDOCS_MAX_SOURCE_BYTES)


def _checked_config(tree, title: str) -> tuple[mkdocs_config.CheckedConfig, bytes]:
    """The checked config and the bytes it hashes as; without a mkdocs file, Backstage's default named
    ``title``."""
    name = find_config(tree)
    if name is None:
        raw = mkdocs_config.default_config(title)
        checked = mkdocs_config.check(raw, "(generated mkdocs.yml)")
        return checked, mkdocs_config.dump(checked.config).encode()
    data = tree.read(name)
    checked = mkdocs_config.check(mkdocs_config.load(data, name), name)
    return checked, data


def _generate_and_publish(site: DocSite, tree, source_hash: str, checked, work: Path) -> BuildOutcome:
    sha = tree.sha
    started = time.monotonic()
    site.status = DocSite.Status.PENDING
    site.attempted_at = timezone.now()
    site.save(update_fields=["status", "attempted_at", "source"])
    output = work / "site"
    result, log, metadata = _build_site(checked, work, output, etag=sha or source_hash)
    site.etag = sha
    site.attempted_hash = source_hash
    if not result.ok:
        return _failed(site, _last_error(result.log), log)
    files = storage.publish(site.prefix, output, metadata)
    index_site(site.entity_ref, site.namespace, site.kind, site.name, output)
    site.docs_commit_at, site.code_commit_at = _commit_dates(tree, checked)
    site.status = DocSite.Status.OK
    site.origin = DocSite.Origin.LOCAL
    site.source_hash = source_hash
    site.site_name = metadata["site_name"][:300]
    site.site_description = metadata["site_description"]
    site.published_at = timezone.now()
    site.file_count = len(files)
    site.error = ""
    site.log = log[-50_000:]
    site.save()
    elapsed = time.monotonic() - started
    logger.info("Built docs of %s: %d files in %.1f s", site.entity_ref, len(files), elapsed)
    return BuildOutcome(site.entity_ref, "built", f"{len(files)} files in {elapsed:.1f} s")


def _commit_dates(tree, checked) -> tuple[datetime | None, datetime | None]:
    """When the docs (config and docs folder) and the repository last changed; git sources only."""
    source = tree.location.source
    if not isinstance(source, GitSource):
        return None, None
    base = "" if source.path in ("", ".") else source.path
    paths = [posixpath.join(base, checked.docs_dir), posixpath.join(base, tree.config_name or "mkdocs.yml")]
    try:
        docs, code = tree.reader._repo(source.repo_url).commit_times(source.ref, paths)
    except GitError as exc:
        logger.warning("No commit dates for the docs of %s: %s", source.target, exc)
        return None, None

    def when(seconds: int | None) -> datetime | None:
        return datetime.fromtimestamp(seconds, tz=UTC) if seconds is not None else None

    return when(docs), when(code)


def _build_site(checked, work: Path, output: Path, *, etag: str) -> tuple[GenerateResult, str, dict]:
    """Write the checked config beside the copied docs in ``work/input``, run mkdocs into ``output``;
    returns the result, the build log and ``techdocs_metadata.json``'s fields (``files`` aside)."""
    config_file = work / "input" / "mkdocs.yml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(mkdocs_config.dump(checked.config), encoding="utf-8")
    result = run_mkdocs(config_file, output, work)
    notes = [*checked.notes]
    if not result.isolated:
        notes.append("network isolation is not available on this host: the build ran with its network")
    generated = _json(output / storage.METADATA) if result.ok else {}
    metadata = {
        "site_name": str(generated.get("site_name") or checked.config.get("site_name") or ""),
        "site_description": str(generated.get("site_description", checked.config.get("site_description"))),
        "build_timestamp": int(time.time() * 1000),
        "etag": etag,
    }
    return result, "\n".join([*notes, result.log]).strip(), metadata


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _last_error(log: str) -> str:
    """The line that says why: mkdocs' first ``ERROR`` line, else the last line naming an error."""
    lines = [line.strip() for line in log.strip().splitlines() if line.strip()]
    logged = [line for line in lines if line.startswith(("ERROR", "CRITICAL"))]
    if logged:
        return logged[0].split("-", 1)[-1].strip()[:1000]
    errors = [line for line in lines if "error" in line.lower() or "exception" in line.lower()]
    return (errors or lines or ["mkdocs build failed"])[-1][:1000]


def _failed(site: DocSite, message: str, log: str) -> BuildOutcome:
    site.status = DocSite.Status.FAILED
    site.error = message
    site.log = log[-50_000:]
    site.attempted_at = timezone.now()
    site.save()
    return BuildOutcome(site.entity_ref, "failed", message)


def _refused(site: DocSite, message: str) -> BuildOutcome:
    site.status = DocSite.Status.REFUSED
    site.error = message
    site.log = f"Refused before anything ran: {message}"
    site.attempted_at = timezone.now()
    site.save()
    return BuildOutcome(site.entity_ref, "refused", message)


def generate_directory(source_dir: Path, output_dir: Path, *, etag: str = "", site_name: str = "") -> tuple[bool, str]:
    """``techdocs generate``: build a local checkout's docs into ``output_dir`` with the same checks and
    limits as the worker's builds (for a team's own CI). Returns (ok, log)."""
    from catalog.ingestion.sources import FileSource
    from techdocs.sources import DocsLocation

    source_dir = source_dir.resolve()
    with SourceReader() as reader, tempfile.TemporaryDirectory(prefix="callboard-docs-") as tmp:
        tree = open_tree(DocsLocation(FileSource(str(source_dir))), reader)
        work = Path(tmp)
        try:
            checked, _ = _checked_config(tree, site_name or source_dir.name)
            if site_name:
                checked.config["site_name"] = site_name
            copy_docs(tree, checked.docs_dir, work / "input", _limits())
        except (mkdocs_config.ConfigError, DocsSourceError) as exc:
            return False, f"Refused before anything ran: {exc}"
        result, log, metadata = _build_site(checked, work, work / "site", etag=etag)
        if not result.ok:
            return False, log
        files = storage.site_files(work / "site")
        metadata["files"] = sorted({*files, storage.METADATA})
        (work / "site" / storage.METADATA).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        output_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(work / "site", output_dir, dirs_exist_ok=True)
        return True, log
