"""When builds start: after a refresh that read new sources, only where the docs changed; never on a view."""

from __future__ import annotations

import json
import shutil

import pytest

from catalog.ingestion.refresh import refresh_location, register_location
from plugins.api import register_search_indexer, registry
from portal.models import JobRun
from portal.testing.gitrepos import git_target, make_repo
from techdocs.builder import generate_directory
from techdocs.models import DocSite
from techdocs.tests.test_build import docs_files

pytestmark = pytest.mark.django_db


def builds() -> list[str]:
    """The outcome of every build job started."""
    return [job.result.get("result") for job in JobRun.objects.filter(name="techdocs.build").order_by("created_at")]


@pytest.fixture
def on_refresh(settings, allow_tmp, docs_storage, django_capture_on_commit_callbacks):
    settings.TECHDOCS_BUILD_ON_REFRESH = True
    bare = allow_tmp / "ledger.git"

    def refresh(files: dict) -> None:
        make_repo(bare, files)
        location = register_location(git_target(bare), type="url")
        with django_capture_on_commit_callbacks(execute=True):
            refresh_location(location.pk)

    return refresh


def test_refresh_builds_only_when_the_docs_changed(on_refresh, logged_in_client):
    on_refresh(docs_files())
    assert builds() == ["built"]
    on_refresh({**docs_files(), "src/main.py": "print('code only')\n"})  # a new commit, same docs
    assert builds() == ["built"]  # a new commit: checked; the docs hash the same, so no build is queued
    on_refresh({**docs_files(), "docs/index.md": "# New\n"})
    assert builds() == ["built", "built"]
    on_refresh({**docs_files(), "docs/index.md": "# New\n"})  # nothing new at all: the refresh stops early
    assert builds() == ["built", "built"]
    logged_in_client.get("/catalog/default/component/ledger/docs/")  # a page view builds nothing
    logged_in_client.get("/api/techdocs/sync/default/component/ledger")
    assert builds() == ["built", "built"]


def test_pages_are_handed_to_search(allow_tmp, docs_storage):
    seen: dict = {}
    register_search_indexer("test", lambda source, ref, docs: seen.update({(source, ref): list(docs)}))
    try:
        make_repo(allow_tmp / "ledger.git", docs_files())
        refresh_location(register_location(git_target(allow_tmp / "ledger.git"), type="url").pk)
        from techdocs.builder import build

        assert build("component:default/ledger").result == "built"
    finally:
        registry["search"].pop("test")
    documents = {doc.url: doc for doc in seen[("techdocs", "component:default/ledger")]}
    setup = documents["/catalog/default/component/ledger/docs/guide/setup/"]
    assert setup.title == "Setup" and setup.headings == ("Setup", "Install", "Configure") and "Run it." in setup.text
    assert "/catalog/default/component/ledger/docs/" in documents


CORPUS_SETS = ["backstage-demo", "create-app-example-docs", "mkdocs-techdocs-core-fixture", "one-platform-systems"]


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS_SETS)
def test_corpus_docs_sets_build(shared_dir, tmp_path, name):
    source = shared_dir / "backstage-corpus" / "techdocs" / name
    if name == "backstage-demo" and not shutil.which("plantuml"):
        pytest.skip("its PlantUML page needs Debian's plantuml (scripts/services.sh installs it)")
    ok, log = generate_directory(source, tmp_path / "site", etag="corpus")
    assert ok, log
    metadata = json.loads((tmp_path / "site" / "techdocs_metadata.json").read_text())
    assert (tmp_path / "site" / "index.html").is_file() and metadata["etag"] == "corpus"
    assert metadata["site_name"] and "index.html" in metadata["files"]


def test_failed_site_is_listed_on_the_docs_home(on_refresh, logged_in_client):
    on_refresh({**docs_files(), "mkdocs.yml": "site_name: x\nhooks: [h.py]\n"})
    assert DocSite.objects.get().status == DocSite.Status.REFUSED
    page = logged_in_client.get("/docs/?status=refused").content.decode()
    assert "component:default/ledger" in page and "refused" in page
    assert "component:default/ledger" not in logged_in_client.get("/docs/?status=ok").content.decode()


def test_home_panel_lists_my_docs_needing_attention(on_refresh, admin_user, rf):
    from techdocs.registrations import docs_needing_attention

    on_refresh({**docs_files(), "mkdocs.yml": "site_name: x\nhooks: [h.py]\n"})
    request = rf.get("/")
    request.user = admin_user
    context = docs_needing_attention(request, {"group:default/team-a"})
    assert [(e.ref, s.status) for e, s in context["rows"]] == [("component:default/ledger", "refused")]
    assert docs_needing_attention(request, {"group:default/someone-else"}) is None
