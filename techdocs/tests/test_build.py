"""Building docs from real file and git locations with real mkdocs: layout, metadata, rebuild rules."""

from __future__ import annotations

import json
import struct
import zlib

import pytest

from catalog.ingestion.refresh import refresh_location, register_location
from portal.testing.gitrepos import git_target, make_repo
from techdocs import builder, storage
from techdocs.models import DocSite
from techdocs.sources import resolve

pytestmark = pytest.mark.django_db

ENTITY = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
  annotations:
    backstage.io/techdocs-ref: {ref}
spec: {{type: service, lifecycle: production, owner: team-a}}
"""
MKDOCS = "site_name: Ledger docs\nnav:\n  - Home: index.md\n  - Guide: guide/setup.md\nplugins:\n  - techdocs-core\n"
INDEX = "# Ledger\n\nWelcome. See the [setup guide](guide/setup.md).\n\n![diagram](images/d.png)\n"
SETUP = "# Setup\n\n## Install\n\nRun it.\n\n## Configure\n\nBack [home](../index.md).\n"


def _png() -> bytes:
    """A valid PNG of one pixel."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\0\0\0\0\0")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG = _png()


def docs_files(name: str = "ledger", ref: str = "dir:.") -> dict[str, str | bytes]:
    return {
        "catalog-info.yaml": ENTITY.format(name=name, ref=ref),
        "mkdocs.yml": MKDOCS,
        "docs/index.md": INDEX,
        "docs/guide/setup.md": SETUP,
        "docs/images/d.png": PNG,
    }


def write(root, files) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)


@pytest.fixture
def git_docs(allow_tmp, docs_storage):
    bare = allow_tmp / "ledger.git"
    make_repo(bare, docs_files())
    location = register_location(git_target(bare), type="url")
    refresh_location(location.pk)
    return bare


def test_git_docs_build_publishes_backstage_layout(git_docs, docs_storage):
    outcome = builder.build("component:default/ledger")
    assert outcome.result == "built", outcome.message
    site = DocSite.objects.get(entity_ref="component:default/ledger")
    assert site.status == DocSite.Status.OK and site.site_name == "Ledger docs"
    root = docs_storage / "default" / "component" / "ledger"
    assert (root / "index.html").is_file() and (root / "guide" / "setup" / "index.html").is_file()
    metadata = json.loads((root / storage.METADATA).read_text())
    assert metadata["site_name"] == "Ledger docs"
    assert metadata["etag"] == site.etag and len(site.etag) == 40
    assert isinstance(metadata["build_timestamp"], int)
    assert "index.html" in metadata["files"] and storage.METADATA in metadata["files"]
    assert "images/d.png" in metadata["files"]


def test_unchanged_sources_start_no_build(git_docs):
    assert builder.build("component:default/ledger").result == "built"
    published = DocSite.objects.get().published_at
    assert builder.build("component:default/ledger").result == "unchanged"  # same commit: no read at all
    make_repo(git_docs, {**docs_files(), "README.md": "not docs"})  # a new commit, same docs
    outcome = builder.build("component:default/ledger")
    assert outcome.result == "unchanged" and "did not change" in outcome.message
    assert DocSite.objects.get().published_at == published
    make_repo(git_docs, {**docs_files(), "docs/index.md": "# Changed\n"})
    assert builder.build("component:default/ledger").result == "built"


def test_failed_build_keeps_last_good_site(git_docs, docs_storage):
    assert builder.build("component:default/ledger").result == "built"
    broken = {**docs_files(), "mkdocs.yml": MKDOCS + "theme: {name: no-such-theme}\n"}
    make_repo(git_docs, broken)
    outcome = builder.build("component:default/ledger")
    assert outcome.result == "failed"
    site = DocSite.objects.get()
    assert site.status == DocSite.Status.FAILED and site.error and "no-such-theme" in site.log
    assert site.published and (docs_storage / "default/component/ledger/index.html").is_file()
    assert builder.build("component:default/ledger").result == "unchanged"  # the same bad sources: not retried


def test_file_location_dir_ref(allow_tmp, docs_storage):
    repo = allow_tmp / "svc"
    write(repo, docs_files("svc-docs"))
    location = register_location(str(repo / "catalog-info.yaml"), type="file")
    refresh_location(location.pk)
    assert resolve(__import__("catalog").models.Entity.objects.get().body).source.path == str(repo)
    assert builder.build("component:default/svc-docs").result == "built"
    assert (docs_storage / "default/component/svc-docs/guide/setup/index.html").is_file()


def test_docs_and_code_commit_dates(allow_tmp, docs_storage, settings, logged_in_client):
    """The docs' last commit against the repository's: "docs N days older than code"."""
    import os
    import subprocess

    bare = allow_tmp / "dated.git"
    work = allow_tmp / "work"
    write(work, docs_files())

    def commit(when: str) -> None:
        env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        subprocess.run(["git", "-C", str(work), "add", "-A"], check=True, env=env)
        subprocess.run(["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", when],
                       check=True, env=env)  # fmt: skip

    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    commit("2026-01-01T12:00:00Z")
    (work / "src.py").write_text("print('code')\n")
    commit("2026-05-21T12:00:00Z")  # 140 days later, code only
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", str(bare), "main"], check=True)
    refresh_location(register_location(git_target(bare), type="url").pk)
    assert builder.build("component:default/ledger").result == "built"
    site = DocSite.objects.get()
    assert (site.docs_commit_at.date().isoformat(), site.code_commit_at.date().isoformat()) == ("2026-01-01",
                                                                                                "2026-05-21")
    assert site.docs_lag_days == 140 and site.stale
    page = logged_in_client.get("/catalog/default/component/ledger/docs/").content.decode()
    assert "docs 140 days older than code" in page
    assert "docs 140 days older than code" in logged_in_client.get("/docs/").content.decode()
