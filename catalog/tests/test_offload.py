"""The parse helper process: a refresh that uses it stores exactly what a refresh in one process stores."""

import pytest

from catalog.ingestion.descriptor import process_file
from catalog.ingestion.offload import ParseHelper
from catalog.ingestion.refresh import refresh_location, register_location, unregister_location
from catalog.models import Entity, ProcessingError, Relation, SearchRow
from catalog.tests.test_refresh import API, COMPONENT, GROUP
from portal.testing.gitrepos import git_target, make_repo

pytestmark = pytest.mark.django_db

ROOT = """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: root}
spec:
  targets: [./components.yaml, ./groups.yaml, ./broken.yaml, ./missing.yaml, ./more/*.yaml, ./catalog-info.yaml]
"""
INVALID = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: Not_Valid!, tags: [x]}
spec: {type: service, lifecycle: production, owner: team-a}
"""
VIEW_URL_SCRIPT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: sneaky
  annotations: {backstage.io/view-url: "javascript:alert(1)"}
spec: {type: website, lifecycle: experimental, owner: group:team-a, system: shop}
"""


def org_files() -> dict[str, str]:
    many = "---\n".join(COMPONENT.format(name=f"svc-{i}", description=f"Service {i}") for i in range(40))
    return {
        "catalog-info.yaml": ROOT,
        "components.yaml": COMPONENT.format(name="billing", description="Bills") + "---\n" + API.format(name="billing"),
        "openapi.yaml": "openapi: 3.0.0\ninfo: {title: Billing, version: '1'}\npaths: {}\n",
        "groups.yaml": GROUP + "---\n" + GROUP,  # the second copy is a duplicate ref
        "broken.yaml": "kind: [unclosed\n",
        "more/a.yaml": many,
        "more/b.yaml": INVALID + "---\n" + VIEW_URL_SCRIPT + "---\n- not an object\n",
        "more/c.yaml": COMPONENT.format(name="half", description="Unreadable below") + "---\nkind: [unclosed\n",
    }


def snapshot(location) -> dict:
    entities = Entity.objects.filter(location=location).order_by("ref")
    columns = [f.attname for f in Entity._meta.concrete_fields if f.attname not in ("id", "uid", "location_id")]
    columns = [c for c in columns if c not in ("created_at", "updated_at")]
    relations = Relation.objects.filter(origin__location=location)
    search = SearchRow.objects.filter(entity__location=location)
    return {
        "entities": list(entities.values_list(*columns)),
        "relations": sorted(relations.values_list("source_ref", "type", "target_ref")),
        "search": sorted(search.values_list("entity__ref", "key", "value")),
        "errors": list(
            ProcessingError.objects.filter(location=location)
            .order_by("id")
            .values_list("entity_ref", "file", "document", "field", "rule", "message")
        ),
    }  # fmt: skip


def test_refresh_with_the_helper_stores_what_one_process_stores(allow_tmp, settings):
    bare = allow_tmp / "org.git"
    make_repo(bare, org_files())
    target = git_target(bare)

    settings.CATALOG_PARSE_HELPER_MIN_BYTES = 0  # one process
    location = register_location(target)
    alone = refresh_location(location.pk)
    expected = snapshot(location)
    unregister_location(location.pk)

    settings.CATALOG_PARSE_HELPER_MIN_BYTES = 1  # any file waiting goes to the helper
    location = register_location(target)
    shared = refresh_location(location.pk)

    assert shared.helper_rss_kb > 0 and alone.helper_rss_kb == 0  # the helper really ran, and only then
    assert shared.summary == alone.summary
    assert snapshot(location) == expected
    assert any(rule == "yaml-syntax" for *_, rule, _ in expected["errors"])
    assert any(rule == "duplicate-ref" for *_, rule, _ in expected["errors"])
    assert any(rule == "location-cycle" for *_, rule, _ in expected["errors"])
    assert not Entity.objects.filter(ref="component:default/half").exists()  # a half-read file adds nothing
    sneaky = Entity.objects.get(ref="component:default/sneaky")
    assert sneaky.body["metadata"]["annotations"]["backstage.io/view-url"].startswith("https://backstage.io/")
    billing_api = Entity.objects.get(ref="api:default/billing-api")  # its $text was read by the caller
    assert billing_api.body["spec"]["definition"].startswith("openapi: 3.0.0")


def test_a_helper_that_dies_leaves_the_work_to_the_caller():
    content = GROUP.encode()
    with ParseHelper() as helper:
        assert helper.start()
        assert helper.submit("a.yaml", content, 1_000_000, {}, {})
        result, prepared = helper.result("a.yaml")
        assert [str(e.ref) for e in result.entities] == ["group:default/team-a"]
        assert prepared[0].columns["kind"] == "Group"

        helper._process.kill()
        helper._process.wait()
        helper.submit("b.yaml", content, 1_000_000, {}, {})
        assert helper.result("b.yaml") is None  # the caller processes b.yaml itself
        assert helper.broken
        assert not helper.submit("c.yaml", content, 1_000_000, {}, {})


def test_the_helper_hands_back_files_whose_placeholders_need_a_read():
    content = API.format(name="billing").encode()
    with ParseHelper() as helper:
        helper.start()
        helper.submit("apis.yaml", content, 1_000_000, {}, {})
        assert helper.result("apis.yaml") is None
        assert not helper.broken
    assert process_file(content, file="apis.yaml").entities  # processed by the caller, with its reader


def test_a_failed_background_copy_fails_the_refresh_that_started_it():
    from django.db import IntegrityError, transaction

    from catalog.ingestion.bulk import BackgroundCopy

    expected = (IntegrityError,)
    try:
        import psycopg

        expected += (psycopg.errors.NotNullViolation,)  # raised on the copying thread, as psycopg raised it
    except ImportError:  # pragma: no cover - psycopg is a requirement
        pass
    copier = BackgroundCopy()

    def copy_a_bad_row() -> None:
        with transaction.atomic():
            copier.insert([(SearchRow._meta.db_table, ("entity_id", "key", "value"), [(1, None, "x")])])
            copier.wait()

    with pytest.raises(expected):
        copy_a_bad_row()
    assert not SearchRow.objects.exists()
