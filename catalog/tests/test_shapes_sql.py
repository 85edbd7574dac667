"""The database-assembled entity documents (catalog/shapes_sql.py) equal the Python-shaped ones."""

import json

import pytest
from django.utils import timezone

from catalog import shapes_sql
from catalog.ingestion.refresh import refresh_location, register_location
from catalog.models import Entity, EntityOverride
from catalog.shapes import entities_to_backstage, for_shaping

pytestmark = pytest.mark.django_db

RICH = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: Team-A, title: "Équipe A ✓", description: "quotes \\" and \\\\ backslashes"}
spec: {type: team, children: [team-b], members: [ana, Bob]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b}
spec: {type: team, parent: Team-A, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: ana, annotations: {github.com/user-login: ana}}
spec: {memberOf: [Team-A], profile: {email: ana@example.com, displayName: "Ana 😀"}}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: Bob}
spec: {memberOf: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc
  labels: {tier: "1"}
  tags: [java, z-last, a-first]
  links: [{url: "https://example.com", title: Docs}]
spec:
  type: service
  lifecycle: production
  owner: Team-A
  dependsOn: [resource:db, component:Zeta, component:alpha]
  providesApis: [svc-api]
  numbers: {int: 7, big: 12345678901234567890, float: 1.5, exp: 1.0e-7, zero: 0.0, neg: -3}
  nested: {list: [1, "two", null, true, false, {deep: [[]]}], empty: {}}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: svc-api}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: "openapi: 3.0.0\\ninfo: {}"}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: broken}
spec: {type: service, lifecycle: production}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: custom}
spec: {anything: [1, 2]}
"""


def assert_same_documents(entities) -> None:
    rows = list(shapes_sql.with_shaped_json(Entity.objects.filter(pk__in=[e.pk for e in entities])).order_by("ref"))
    from_sql = json.loads(shapes_sql.items_json(rows))
    from_python = entities_to_backstage(for_shaping(Entity.objects.filter(pk__in=[e.pk for e in entities])))
    assert from_sql == from_python


def test_rich_entities_are_the_same_both_ways(allow_tmp):
    (allow_tmp / "catalog-info.yaml").write_text(RICH)
    location = register_location(str(allow_tmp / "catalog-info.yaml"), type="file")
    refresh_location(location.pk)
    EntityOverride.objects.create(entity_ref="component:default/svc", extra_tags=["überprüft"], note="n")
    Entity.objects.filter(ref="user:default/bob").update(orphaned_at=timezone.now())
    entities = list(Entity.objects.all())
    assert len(entities) == 8 and any(e.error_count for e in entities)
    assert_same_documents(entities)
    svc = next(e for e in json.loads(shapes_sql.items_json(list(
        shapes_sql.with_shaped_json(Entity.objects.filter(ref="component:default/svc"))))))  # fmt: skip
    assert "überprüft" in json.dumps(svc["overrides"], ensure_ascii=False)


@pytest.mark.corpus
def test_backstage_example_catalog_is_the_same_both_ways(shared_dir, settings):
    root = shared_dir / "backstage-corpus"
    settings.CATALOG_ALLOWED_PATHS = [str(root)]
    location = register_location(str(root / "catalog/backstage-examples/all.yaml"), type="file")
    refresh_location(location.pk)
    entities = list(Entity.objects.all())
    assert len(entities) > 20
    assert_same_documents(entities)


def test_the_api_page_is_written_by_the_database(api_client, allow_tmp, django_assert_num_queries):
    (allow_tmp / "catalog-info.yaml").write_text(RICH)
    refresh_location(register_location(str(allow_tmp / "catalog-info.yaml"), type="file").pk)
    api_client.get("/api/catalog/entities?limit=1")
    with django_assert_num_queries(3):  # the page; the rows with errors or orphaned: them, their errors
        body = api_client.get("/api/catalog/entities?limit=50").json()
    assert [e["metadata"]["name"] for e in body][:2] == ["svc-api", "broken"]
    shaped = api_client.get("/api/catalog/entities?limit=50&fields=metadata.name").json()
    assert shaped[0] == {"metadata": {"name": "svc-api"}}
    query = api_client.get("/api/catalog/entities/by-query?limit=3").json()
    assert len(query["items"]) == 3 and query["totalItems"] == 8 and "nextCursor" in query["pageInfo"]


def test_by_name_documents_are_the_same_both_ways(allow_tmp):
    (allow_tmp / "catalog-info.yaml").write_text(RICH)
    refresh_location(register_location(str(allow_tmp / "catalog-info.yaml"), type="file").pk)
    EntityOverride.objects.create(entity_ref="component:default/svc", extra_tags=["überprüft"])
    Entity.objects.filter(ref="user:default/bob").update(orphaned_at=timezone.now())
    for entity in for_shaping(Entity.objects.all()):
        from_python = entities_to_backstage([entity])[0]
        assert json.loads(shapes_sql.readable_entity_json(entity.ref)) == from_python  # every reader
        assert json.loads(shapes_sql.entity_json(Entity.objects.all(), entity.ref)) == from_python  # filtered
    with pytest.raises(Entity.DoesNotExist):
        shapes_sql.readable_entity_json("component:default/nowhere")
