"""Serving built docs: the Docs tab and deep links, sanitised HTML, and Backstage's endpoints."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.ingestion.refresh import refresh_location, register_location
from portal.models import ApiToken
from portal.testing.gitrepos import git_target, make_repo
from techdocs import builder
from techdocs.models import DocSite
from techdocs.tests.test_build import INDEX, docs_files

pytestmark = pytest.mark.django_db

HOSTILE = (
    "# Hostile\n\n<script>window.pwned = 1</script>\n\n<img src=x onerror=\"window.pwned = 2\">\n\n"
    "[click](javascript:window.pwned=3)\n\n<iframe src=\"/admin/\"></iframe>\n\n"
    "<a href=\"/accounts/logout/\">portal path</a>\n"
)
DOCS = "/catalog/default/component/ledger/docs/"


@pytest.fixture
def built(allow_tmp, docs_storage):
    bare = allow_tmp / "ledger.git"
    make_repo(bare, {**docs_files(), "docs/hostile.md": HOSTILE})
    refresh_location(register_location(git_target(bare), type="url").pk)
    assert builder.build("component:default/ledger").result == "built"
    return bare


def test_docs_tab_shows_page_nav_and_toc(built, logged_in_client):
    page = logged_in_client.get(DOCS).content.decode()
    assert 'id="docs-content"' in page and "Welcome" in page
    assert 'href="guide/setup/"' in page  # a relative page link, resolved by the browser against the deep link
    assert 'src="/api/techdocs/static/docs/default/component/ledger/images/d.png"' in page
    deep = logged_in_client.get(DOCS + "guide/setup/")
    assert deep.status_code == 200
    html = deep.content.decode()
    assert "Configure" in html and 'href="#configure"' in html  # the table of contents
    assert 'href="../../"' in html  # back home, relative


def test_deep_link_to_a_file_goes_to_the_static_endpoint(built, logged_in_client):
    response = logged_in_client.get(DOCS + "images/d.png")
    assert response.status_code == 302
    assert response["Location"] == "/api/techdocs/static/docs/default/component/ledger/images/d.png"


def test_missing_page_says_so(built, logged_in_client):
    response = logged_in_client.get(DOCS + "no/such/page/")
    assert response.status_code == 200 and "No such page" in response.content.decode()


def test_script_in_markdown_is_removed(built, logged_in_client):
    html = logged_in_client.get(DOCS + "hostile/").content.decode()
    body = html.split('id="docs-content"', 1)[1].split("</article>", 1)[0]
    assert "Hostile" in body
    for bad in ("<script", "onerror", "javascript:", "<iframe", "/accounts/logout/", "pwned"):
        assert bad not in body, bad


def test_static_endpoint_never_renders_html(built, api_client):
    response = api_client.get("/api/techdocs/static/docs/default/component/ledger/hostile/index.html")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["X-Content-Type-Options"] == "nosniff"
    image = api_client.get("/api/techdocs/static/docs/default/component/ledger/images/d.png")
    assert image["Content-Type"] == "image/png"
    upper = api_client.get("/api/techdocs/static/docs/default/Component/Ledger/index.html")
    assert upper.status_code == 301 and upper["Location"].endswith("/default/component/ledger/index.html")
    assert api_client.get("/api/techdocs/static/docs/default/component/ledger/../../x").status_code == 404


def test_metadata_endpoints(built, api_client):
    metadata = api_client.get("/api/techdocs/metadata/techdocs/default/component/ledger").json()
    assert metadata["site_name"] == "Ledger docs" and "index.html" in metadata["files"]
    assert set(metadata) >= {"site_name", "site_description", "etag", "build_timestamp", "files"}
    entity = api_client.get("/api/techdocs/metadata/entity/default/component/ledger").json()
    assert entity["metadata"]["name"] == "ledger"
    assert entity["locationMetadata"]["type"] == "url" and "ledger.git" in entity["locationMetadata"]["target"]
    missing = api_client.get("/api/techdocs/metadata/techdocs/default/component/nobody")
    assert missing.status_code == 404 and missing.json()["error"]["name"] == "NotFoundError"


def test_sync_answers_from_the_last_build(built, api_client):
    response = api_client.get("/api/techdocs/sync/default/component/ledger")
    assert response["Content-Type"] == "text/event-stream"
    body = b"".join(response.streaming_content).decode()
    assert body == 'event: finish\ndata: {"updated": false}\n\n'
    assert DocSite.objects.get().published  # nothing rebuilt


def test_reading_docs_follows_the_entity_permission(built, client, django_user_model, settings):
    settings.CALLBOARD_DEFAULT_ROLE = "none"
    outsider = django_user_model.objects.create_user("outsider", password="x")
    client.force_login(outsider)
    assert client.get(DOCS).status_code == 404
    assert client.get("/api/techdocs/static/docs/default/component/ledger/index.html").status_code == 404
    assert client.get("/api/techdocs/metadata/techdocs/default/component/ledger").status_code == 404


def _site_archive(directory) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(directory, arcname="site")
    return buffer.getvalue()


def test_generate_then_publish_through_the_api(allow_tmp, docs_storage, admin_user, client, settings, tmp_path):
    settings.TECHDOCS_BUILDER = "external"
    checkout = tmp_path / "checkout"
    for rel, content in docs_files().items():
        (checkout / rel).parent.mkdir(parents=True, exist_ok=True)
        (checkout / rel).write_bytes(content.encode() if isinstance(content, str) else content)
    refresh_location(register_location(str(checkout / "catalog-info.yaml"), type="file").pk)
    call_command("techdocs", "generate", "--source-dir", str(checkout), "--output-dir", str(tmp_path / "out"),
                 "--etag", "abc123")  # fmt: skip
    generated = json.loads((tmp_path / "out" / "techdocs_metadata.json").read_text())
    assert generated["etag"] == "abc123" and "index.html" in generated["files"]
    _, raw = ApiToken.issue(admin_user, scopes=["techdocs:write"])
    url = "/api/techdocs/publish/default/component/ledger"
    upload = io.BytesIO(_site_archive(tmp_path / "out"))
    upload.name = "site.tar.gz"
    response = client.post(url, {"file": upload}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 201, response.content
    site = DocSite.objects.get()
    assert site.origin == DocSite.Origin.PUBLISHED and site.etag == "abc123"
    assert (docs_storage / "default/component/ledger/guide/setup/index.html").is_file()
    settings.TECHDOCS_BUILDER = "both"  # a site published from CI wins over the worker's builds
    assert builder.build("component:default/ledger").result == "unchanged"
    assert DocSite.objects.get().origin == DocSite.Origin.PUBLISHED
    _, read_only = ApiToken.issue(admin_user, scopes=["catalog:read"])
    upload.seek(0)
    refused = client.post(url, {"file": upload}, HTTP_AUTHORIZATION=f"Bearer {read_only}")
    assert refused.status_code == 403


def test_publish_refuses_links_and_traversal_in_the_archive(allow_tmp, docs_storage, tmp_path):
    from techdocs.publishing import PublishError, extract_site

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("site/passwd")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    buffer.seek(0)
    with pytest.raises(PublishError, match="no links"):
        extract_site(buffer, tmp_path / "x")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape.html")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    buffer.seek(0)
    with pytest.raises(tarfile.TarError):
        extract_site(buffer, tmp_path / "y")
    assert not (tmp_path / "escape.html").exists()


def test_cli_build_and_unknown_entity(built, capsys):
    call_command("techdocs", "build", "component:default/ledger", "--force")
    assert "component:default/ledger: built" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No entity"):
        call_command("techdocs", "build", "component:default/nobody")


def test_borrowed_docs(built, allow_tmp, logged_in_client):
    other = allow_tmp / "other"
    other.mkdir()
    (other / "catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ledger-worker\n  annotations:\n"
        "    backstage.io/techdocs-entity: component:default/ledger\nspec: {type: service, lifecycle: x, owner: a}\n"
    )
    refresh_location(register_location(str(other / "catalog-info.yaml"), type="file").pk)
    assert builder.build("component:default/ledger-worker").result == "borrowed"
    page = logged_in_client.get("/catalog/default/component/ledger-worker/docs/").content.decode()
    assert "These are the docs of" in page and "Welcome" in page
    assert INDEX  # the same site
