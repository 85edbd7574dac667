"""Recently visited: the entity page records visits; home lists the latest 20 with links, in fixed queries.
Ownership overrides edited in the admin land in the audit log."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.ingestion.refresh import refresh_location, register_location
from catalog.models import Entity, Visit
from catalog.models.visits import KEEP_PER_USER
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

TEMPLATE = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: svc-{n}, title: Service {n}}}\n" \
           "spec: {{type: service, lifecycle: production, owner: team-a}}\n"  # fmt: skip


@pytest.fixture
def components(allow_tmp):
    path = allow_tmp / "catalog-info.yaml"
    path.write_text("---\n".join(TEMPLATE.format(n=n) for n in range(25)))
    refresh_location(register_location(str(path), type="file").pk)
    return [f"component:default/svc-{n}" for n in range(25)]


def home_visits(client) -> list[str]:
    html = client.get("/").content.decode()
    section = html.split('id="recently-visited"')[1].split("</section>")[0]
    return [chunk.split("</a>")[0].split(">")[-1] for chunk in section.split('<a href="')[1:]]


def test_entity_page_records_a_visit_and_home_links_it(logged_in_client, user, components):
    assert "Entities you open show up here." in logged_in_client.get("/").content.decode()
    logged_in_client.get("/catalog/default/component/svc-1/")
    logged_in_client.get("/catalog/default/component/svc-2/")
    logged_in_client.get("/catalog/default/component/svc-1/")  # revisit moves it to the top, no duplicate
    assert list(Visit.objects.filter(user=user).values_list("entity_ref", flat=True).order_by("-visited_at")) == [
        "component:default/svc-1", "component:default/svc-2",
    ]  # fmt: skip
    assert home_visits(logged_in_client) == ["Service 1", "Service 2"]
    html = logged_in_client.get("/").content.decode()
    assert 'href="/catalog/default/component/svc-1/"' in html


def test_tab_switches_and_other_users_do_not_count(logged_in_client, admin_client, user, components):
    logged_in_client.get("/catalog/default/component/svc-3/")
    logged_in_client.get("/catalog/default/component/svc-4/raw/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="tab-body")
    admin_client.get("/catalog/default/component/svc-5/")
    assert home_visits(logged_in_client) == ["Service 3"]


def test_only_the_latest_twenty_are_kept(logged_in_client, user, components):
    for n in range(25):
        logged_in_client.get(f"/catalog/default/component/svc-{n}/")
    assert Visit.objects.filter(user=user).count() == KEEP_PER_USER
    shown = home_visits(logged_in_client)
    assert shown[0] == "Service 24" and shown[-1] == "Service 5" and len(shown) == KEEP_PER_USER


def test_home_queries_do_not_grow_with_visits(logged_in_client, user, components):
    logged_in_client.get("/catalog/default/component/svc-0/")
    with CaptureQueriesContext(connection) as one:
        logged_in_client.get("/")
    for n in range(1, 25):
        logged_in_client.get(f"/catalog/default/component/svc-{n}/")
    with CaptureQueriesContext(connection) as many:
        logged_in_client.get("/")
    assert len(many.captured_queries) == len(one.captured_queries)


def test_recording_a_visit_costs_two_statements(user, components):
    from catalog.models.visits import record_visit

    with CaptureQueriesContext(connection) as queries:
        record_visit(user, components[0])
    assert len(queries.captured_queries) == 2


def test_an_entity_gone_from_the_catalog_shows_as_plain_text(logged_in_client, components):
    logged_in_client.get("/catalog/default/component/svc-7/")
    Entity.objects.filter(ref="component:default/svc-7").delete()
    html = logged_in_client.get("/").content.decode()
    assert "component:default/svc-7" in html and 'href="/catalog/default/component/svc-7/"' not in html


def test_ownership_override_in_admin_is_audited(admin_client, admin_user, components):
    response = admin_client.post("/admin/catalog/entityoverride/add/", {
        "entity_ref": "component:default/svc-1", "verified_owner": "group:default/team-b", "deprecation_note": "",
        "extra_tags": "[]", "note": "moved teams",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:1500]
    (event,) = AuditEvent.objects.filter(action="catalog.override.created")
    assert event.actor == admin_user
    assert event.changes["verified_owner"] == "group:default/team-b" and event.changes["updated_by"] == "root"
    assert AuditEvent.objects.filter(action="admin.addition", target_type="catalog.entityoverride").exists()
