"""Refreshing real locations (files and git repositories) into the database."""

import pytest

from catalog.ingestion.refresh import refresh_location, register_location
from catalog.ingestion.sources import SourceError
from catalog.ingestion.writer import Summary
from catalog.models import Entity, Location, ProcessingError, Relation
from portal.testing.gitrepos import git_target, make_repo

pytestmark = pytest.mark.django_db

COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
  description: {description}
spec:
  type: service
  lifecycle: production
  owner: team-a
  providesApis: [{name}-api]
  dependsOn: [resource:db]
"""
API = """\
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {{name: {name}-api}}
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    $text: ./openapi.yaml
"""
GROUP = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
"""
LOCATION = """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: root}
spec:
  targets: [./components.yaml, ./groups.yaml]
"""


def repo_files(description="First version", extra=None):
    files = {
        "catalog-info.yaml": LOCATION,
        "components.yaml": COMPONENT.format(name="billing", description=description)
        + "---\n"
        + API.format(name="billing"),
        "openapi.yaml": "openapi: 3.0.0\ninfo: {title: Billing, version: '1'}\npaths: {}\n",
        "groups.yaml": GROUP,
    }
    files.update(extra or {})
    return files


@pytest.fixture
def repo(allow_tmp):
    bare = allow_tmp / "billing.git"
    make_repo(bare, repo_files())
    return bare


def entity(ref):
    return Entity.objects.get(ref=ref)


def test_git_location_with_nested_location_and_placeholder(repo):
    location = register_location(git_target(repo))
    result = refresh_location(location.pk)
    assert result.status == "ok", result.message
    assert result.summary.added == 4  # location, component, api, group
    component = entity("component:default/billing")
    assert component.owner_ref == "group:default/team-a"
    annotations = component.annotations
    assert annotations["backstage.io/managed-by-location"].endswith("#path=components.yaml")
    assert annotations["backstage.io/managed-by-origin-location"] == f"url:{git_target(repo)}"
    api = entity("api:default/billing-api")
    assert api.spec["definition"].startswith("openapi: 3.0.0")
    pairs = set(Relation.objects.filter(source_ref="group:default/team-a").values_list("type", "target_ref"))
    assert ("ownerOf", "component:default/billing") in pairs
    # A relation to an entity that does not exist is kept (dangling).
    assert Relation.objects.filter(source_ref="component:default/billing", type="dependsOn",
                                   target_ref="resource:default/db").exists()  # fmt: skip


def test_unchanged_refresh_writes_nothing(repo, django_assert_max_num_queries):
    location = register_location(git_target(repo))
    refresh_location(location.pk)
    before = entity("component:default/billing").updated_at
    with django_assert_max_num_queries(3):
        result = refresh_location(location.pk)
    assert not result.changed
    assert entity("component:default/billing").updated_at == before


def test_change_updates_etag_and_generation(repo):
    location = register_location(git_target(repo))
    refresh_location(location.pk)
    first = entity("component:default/billing")
    make_repo(repo, repo_files(description="Second version"))
    result = refresh_location(location.pk)
    second = entity("component:default/billing")
    assert result.summary.updated == 1
    assert second.uid == first.uid
    assert second.etag != first.etag
    assert second.generation == first.generation + 1
    assert second.description == "Second version"


def test_bad_yaml_keeps_last_good_version_and_shows_error(repo):
    location = register_location(git_target(repo))
    refresh_location(location.pk)
    make_repo(repo, repo_files(extra={"components.yaml": "apiVersion: [unclosed\n"}))
    refresh_location(location.pk)
    component = entity("component:default/billing")
    assert component.description == "First version"
    assert component.orphaned_at is None
    assert component.error_count >= 1
    error = ProcessingError.objects.filter(entity=component).first()
    assert "components.yaml" in error.file


def test_invalid_entity_keeps_last_good_body(repo):
    location = register_location(git_target(repo))
    refresh_location(location.pk)
    broken = COMPONENT.format(name="billing", description="x").replace("  lifecycle: production\n", "")
    make_repo(repo, repo_files(extra={"components.yaml": broken + "---\n" + API.format(name="billing")}))
    refresh_location(location.pk)
    component = entity("component:default/billing")
    assert component.lifecycle == "production"
    assert component.error_count == 1
    assert "lifecycle" in ProcessingError.objects.get(entity=component).message


def test_removed_descriptor_orphans_its_entities(repo):
    location = register_location(git_target(repo))
    refresh_location(location.pk)
    files = repo_files()
    files["catalog-info.yaml"] = LOCATION.replace(", ./groups.yaml", "")
    make_repo(repo, files)
    result = refresh_location(location.pk)
    assert result.summary.orphaned == 1
    assert entity("group:default/team-a").orphaned_at is not None
    assert entity("component:default/billing").orphaned_at is None


def test_deleting_entities_takes_their_derived_rows(repo, settings):
    """Relations and search rows have no database constraint: Django's cascade must remove them."""
    from catalog.ingestion.refresh import delete_expired_orphans
    from catalog.models import SearchRow

    location = register_location(git_target(repo))
    refresh_location(location.pk)
    group, billing = entity("group:default/team-a"), entity("component:default/billing")
    assert Relation.objects.filter(origin=billing).exists() and SearchRow.objects.filter(entity=group).exists()
    files = repo_files()
    files["catalog-info.yaml"] = LOCATION.replace(", ./groups.yaml", "")
    make_repo(repo, files)
    refresh_location(location.pk)
    settings.CATALOG_ORPHAN_GRACE_DAYS = -1
    assert delete_expired_orphans() == 1  # the orphan (its rows go with it, not counted)
    billing.delete()
    for gone in (group, billing):
        assert not Relation.objects.filter(origin_id=gone.pk).exists()
        assert not SearchRow.objects.filter(entity_id=gone.pk).exists()


def test_second_location_with_same_ref_gets_a_conflict(repo, allow_tmp):
    first = register_location(git_target(repo))
    refresh_location(first.pk)
    other = allow_tmp / "other.git"
    make_repo(other, {"catalog-info.yaml": GROUP})
    second = register_location(git_target(other))
    result = refresh_location(second.pk)
    assert result.summary.conflicts == 1
    assert entity("group:default/team-a").location_id == first.pk
    conflict = ProcessingError.objects.get(location=second, rule="conflict")
    assert "already provided by another location" in conflict.message


def test_location_that_includes_itself_is_reported(allow_tmp):
    bare = allow_tmp / "loop.git"
    make_repo(bare, {"catalog-info.yaml": LOCATION.replace("[./components.yaml, ./groups.yaml]",
                                                           "[./catalog-info.yaml]")})  # fmt: skip
    location = register_location(git_target(bare))
    refresh_location(location.pk)
    assert ProcessingError.objects.filter(location=location, rule="location-cycle").exists()


def test_unreachable_remote_and_missing_ref(allow_tmp, repo):
    gone = register_location(git_target(allow_tmp / "missing.git"))
    result = refresh_location(gone.pk)
    assert result.status == Location.Status.ERROR
    assert result.message
    bad_ref = register_location(git_target(repo, ref="no-such-branch"))
    result = refresh_location(bad_ref.pk)
    assert result.status == Location.Status.ERROR


def test_file_location(allow_tmp):
    path = allow_tmp / "catalog-info.yaml"
    path.write_text(GROUP)
    location = register_location(str(path), type="file")
    assert refresh_location(location.pk).summary.added == 1
    assert not refresh_location(location.pk).changed


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example.com/o/r/blob/main/catalog-info.yaml",
        "git+https://169.254.169.254/latest@main#path=x",
        "git+file:///etc@main#path=passwd",
        "http://127.0.0.1:8000/admin",
    ],
)
def test_targets_outside_the_allowlists_are_refused(target, settings):
    settings.CATALOG_ALLOWED_HOSTS = ["github.com"]
    with pytest.raises(SourceError):
        register_location(target)


def test_file_targets_outside_allowed_paths_are_refused():
    with pytest.raises(SourceError, match="CATALOG_ALLOWED_PATHS"):
        register_location("/etc/passwd", type="file")


def test_script_in_descriptor_is_never_executable(allow_tmp, logged_in_client):
    path = allow_tmp / "catalog-info.yaml"
    path.write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata:\n  name: xss\n  description: '<script>alert(1)</script>'\n"
        "  links: [{url: 'javascript:alert(2)', title: click}]\n"
        "spec: {type: service, lifecycle: production, owner: team-a}\n"
    )
    refresh_location(register_location(str(path), type="file").pk)
    page = logged_in_client.get("/catalog/default/component/xss/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "javascript:alert(2)" not in page


def test_ancestry_and_location_by_entity(repo, api_client):
    location = register_location(git_target(repo))
    refresh_location(location.pk)
    body = api_client.get("/api/catalog/entities/by-name/component/default/billing/ancestry").json()
    assert body["rootEntityRef"] == "component:default/billing"
    chain = [(item["entity"]["metadata"]["name"], item["parentEntityRefs"]) for item in body["items"]]
    assert chain == [("billing", ["location:default/root"]), ("root", [])]
    found = api_client.get("/api/catalog/locations/by-entity/component/default/billing").json()
    assert found == {"id": str(location.pk), "type": "url", "target": git_target(repo)}
    assert api_client.get("/api/catalog/locations/by-entity/component/default/nope").status_code == 404
    assert api_client.get("/api/catalog/entities/by-name/component/default/nope/ancestry").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_large_refresh_ends_with_vacuum_analyze(allow_tmp, monkeypatch):
    """Outside a transaction a large write is followed by VACUUM (ANALYZE) on PostgreSQL (a no-op on SQLite)."""
    from django.db import connection

    from catalog.ingestion import refresh

    monkeypatch.setattr(refresh, "TIDY_AFTER_ROWS", 1)  # "large" from the first row, for a small test file
    (allow_tmp / "catalog-info.yaml").write_text(GROUP)
    location = register_location(str(allow_tmp / "catalog-info.yaml"), type="file")
    assert refresh_location(location.pk).summary.added == 1
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'catalog_entity'")
            assert cursor.fetchone() == (True,)


GROUP_WITH = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {{name: {name}, description: {v}}}\n"


def _update_statements(folder, count: int) -> tuple[int, int]:
    """Ingest ``count`` groups, change every one, refresh: (queries of the update, longest entity UPDATE)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    folder.mkdir()
    path = folder / "catalog-info.yaml"

    def write(version: str) -> None:
        docs = [GROUP_WITH.format(name=f"{folder.name}-{i}", v=version) for i in range(count)]
        path.write_text("---\n".join(f"{doc}spec: {{type: team, children: []}}\n" for doc in docs))

    write("first")
    location = register_location(str(path), type="file")
    assert refresh_location(location.pk).summary.as_dict() == Summary(added=count).as_dict()
    write("second")
    with CaptureQueriesContext(connection) as queries:
        assert refresh_location(location.pk).summary.as_dict() == Summary(updated=count).as_dict()
    assert set(Entity.objects.filter(location=location).values_list("description", flat=True)) == {"second"}
    # (an executemany's SQL is logged as "N times: …")
    updates = [q["sql"].split(" times: ")[-1] for q in queries if 'UPDATE "catalog_entity"' in q["sql"]]
    return len(queries), max(len(sql) for sql in updates)


def test_an_update_of_every_entity_costs_the_same_statements_for_5_or_40(allow_tmp):
    """Changed entities are written like new ones, in statements whose number and size do not grow with the
    entities of a batch (bulk_update's CASE per row and column made an update 4.6x an ingest)."""
    assert _update_statements(allow_tmp / "few", 5) == _update_statements(allow_tmp / "more", 40)
