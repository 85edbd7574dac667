"""The Backstage-compatible REST API: paths, shapes, filter semantics, errors, query counts."""

import pytest

from catalog.ingestion.refresh import refresh_location, register_location
from catalog.models import Location
from portal.access import current_policy
from portal.testing.access import grant

pytestmark = pytest.mark.django_db

CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: [], members: [ana]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: ana}
spec: {memberOf: [team-a], profile: {email: ana@example.com}}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: Artist-Lookup
  description: Looks up artists
  tags: [java, data]
  annotations: {backstage.io/techdocs-ref: "dir:."}
spec: {type: service, lifecycle: production, owner: team-a, providesApis: [artists]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: web-player, tags: [js]}
spec: {type: website, lifecycle: experimental, owner: team-b, dependsOn: [component:artist-lookup]}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: artists}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: "openapi: 3.0.0"}
"""


@pytest.fixture
def catalog(allow_tmp):
    path = allow_tmp / "catalog-info.yaml"
    path.write_text(CATALOG)
    location = register_location(str(path), type="file")
    refresh_location(location.pk)
    return location


def names(items):
    return sorted(e["metadata"]["name"] for e in items)


def test_entities_list_shape(api_client, catalog):
    response = api_client.get("/api/catalog/entities")
    assert response.status_code == 200
    entities = response.json()
    assert len(entities) == 5
    component = next(e for e in entities if e["metadata"]["name"] == "Artist-Lookup")
    assert set(component) >= {"apiVersion", "kind", "metadata", "spec", "relations"}
    assert component["metadata"]["namespace"] == "default"
    assert component["metadata"]["uid"] and component["metadata"]["etag"]
    assert {"type": "ownedBy", "targetRef": "group:default/team-a"} in component["relations"]
    assert "status" not in component


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("filter=kind=component", ["Artist-Lookup", "web-player"]),
        ("filter=kind=component,spec.type=service", ["Artist-Lookup"]),
        ("filter=kind=user&filter=kind=group", ["ana", "team-a"]),
        (
            "filter=kind=component,spec.lifecycle=production,spec.lifecycle=experimental",
            ["Artist-Lookup", "web-player"],
        ),
        ("filter=metadata.tags.java", ["Artist-Lookup"]),
        ("filter=KIND=COMPONENT,metadata.name=artist-lookup", ["Artist-Lookup"]),
        ("filter=relations.memberof=group:default/team-a", ["ana"]),
        ("filter=metadata.annotations.backstage.io/techdocs-ref", ["Artist-Lookup"]),
        ("filter=spec.owner=team-b", ["web-player"]),
    ],
)
def test_filter_semantics(api_client, catalog, params, expected):
    response = api_client.get(f"/api/catalog/entities?{params}")
    assert response.status_code == 200, response.content
    assert names(response.json()) == sorted(expected)


def test_fields_projection(api_client, catalog):
    response = api_client.get("/api/catalog/entities?filter=kind=api&fields=metadata.name,kind")
    assert response.json() == [{"metadata": {"name": "artists"}, "kind": "API"}]
    annotations = api_client.get(
        "/api/catalog/entities?filter=metadata.name=artist-lookup&fields=metadata.annotations.backstage.io/techdocs-ref"
    ).json()
    assert annotations == [{"metadata": {"annotations": {"backstage.io/techdocs-ref": "dir:."}}}]


def in_order(items) -> list[str]:
    return [e["metadata"]["name"] for e in items]


def next_link(response) -> str:
    link = response["Link"]
    assert 'rel="next"' in link
    return link[1 : link.index(">")]


def test_pagination_with_link_header(api_client, catalog):
    """Pages follow each other in the requested order (lower-cased names, as Backstage compares them)."""
    first = api_client.get("/api/catalog/entities?limit=2&order=asc:metadata.name")
    assert in_order(first.json()) == ["ana", "Artist-Lookup"]
    second = api_client.get(next_link(first))
    assert in_order(second.json()) == ["artists", "team-a"]
    third = api_client.get(next_link(second))
    assert in_order(third.json()) == ["web-player"]
    assert "Link" not in third
    descending = api_client.get("/api/catalog/entities?limit=2&order=desc:metadata.name")
    assert in_order(descending.json()) == ["web-player", "team-a"]
    assert in_order(api_client.get(next_link(descending)).json()) == ["artists", "Artist-Lookup"]


def test_by_name_is_case_insensitive_and_404s(api_client, catalog):
    ok = api_client.get("/api/catalog/entities/by-name/COMPONENT/default/artist-lookup")
    assert ok.status_code == 200
    assert ok.json()["metadata"]["name"] == "Artist-Lookup"
    missing = api_client.get("/api/catalog/entities/by-name/component/default/nope")
    assert missing.status_code == 404
    body = missing.json()
    assert body["error"]["name"] == "NotFoundError"
    assert body["response"] == {"statusCode": 404}
    assert body["request"]["method"] == "GET"


def test_answers_are_json_whatever_the_accept_header_says(api_client, catalog):
    for accept in ("text/html", "application/xml", "*/*"):
        found = api_client.get("/api/catalog/entities/by-name/component/default/artist-lookup", HTTP_ACCEPT=accept)
        missing = api_client.get("/api/catalog/entities/by-name/component/default/nope", HTTP_ACCEPT=accept)
        facets = api_client.get("/api/catalog/entity-facets?facet=kind", HTTP_ACCEPT=accept)
        assert [found.status_code, missing.status_code, facets.status_code] == [200, 404, 200]
        assert {r["Content-Type"] for r in (found, missing, facets)} == {"application/json"}
        assert missing.json()["error"]["name"] == "NotFoundError"


def test_by_uid_get_and_delete(api_client, catalog, user):
    entity = api_client.get("/api/catalog/entities/by-name/api/default/artists").json()
    uid = entity["metadata"]["uid"]
    assert api_client.get(f"/api/catalog/entities/by-uid/{uid}").json()["metadata"]["name"] == "artists"
    denied = api_client.delete(f"/api/catalog/entities/by-uid/{uid}")
    assert denied.status_code == 403  # a viewer; the owner is team-a (tests/test_access_catalog.py)
    assert denied.json()["error"]["name"] == "NotAllowedError"
    grant("owner", user=user, owners="group:default/team-a")
    assert api_client.delete(f"/api/catalog/entities/by-uid/{uid}").status_code == 204


def test_by_refs_keeps_request_order(api_client, catalog):
    response = api_client.post(
        "/api/catalog/entities/by-refs",
        {"entityRefs": ["api:default/artists", "component:default/missing", "group:team-a"]},
        format="json",
    )
    items = response.json()["items"]
    assert [i["metadata"]["name"] if i else None for i in items] == ["artists", None, "team-a"]


def test_by_query_cursor_and_full_text(api_client, catalog):
    first = api_client.get("/api/catalog/entities/by-query?limit=2&orderField=metadata.name,asc").json()
    assert first["totalItems"] == 5
    assert in_order(first["items"]) == ["ana", "Artist-Lookup"]
    second = api_client.get(f"/api/catalog/entities/by-query?limit=2&cursor={first['pageInfo']['nextCursor']}").json()
    assert in_order(second["items"]) == ["artists", "team-a"]
    assert "prevCursor" in second["pageInfo"]
    text = api_client.get(
        "/api/catalog/entities/by-query?fullTextFilterTerm=LOOKUP&fullTextFilterFields=metadata.name"
    ).json()
    assert names(text["items"]) == ["Artist-Lookup"]
    # Several fields: columns (description) and search rows (spec.type) alike, case-insensitively.
    text = api_client.get(
        "/api/catalog/entities/by-query?fullTextFilterTerm=Looks%20UP&fullTextFilterFields=metadata.description,spec.type"
    ).json()
    assert names(text["items"]) == ["Artist-Lookup"]
    text = api_client.get("/api/catalog/entities/by-query?fullTextFilterTerm=OPENAPI&fullTextFilterFields=spec.type")
    assert names(text.json()["items"]) == ["artists"]


FACET_QUERIES = [
    "facet=kind&facet=spec.type",
    "facet=spec.lifecycle&filter=kind=component",
    "facet=relations.ownedBy&filter=kind=component,kind=api",
    "facet=spec.type&filter=kind=api&filter=kind=component",
    "facet=metadata.namespace&filter=kind=nothing",
    "facet=spec.type&filter=spec.lifecycle=production",
    "facet=relations.ownedBy&filter=spec.lifecycle=PRODUCTION,kind=component",
    "facet=kind&facet=spec.lifecycle&filter=relations.ownedby=group:default/team-a",
    "facet=spec.lifecycle&filter=metadata.namespace=default&filter=spec.type=website",
    "facet=kind&filter=spec.type=service,spec.type=openapi,metadata.namespace=default",
    "facet=metadata.tags&filter=kind=component",
    "facet=metadata.tags&facet=kind",
    "facet=spec.type&filter=metadata.tags=java",
    "facet=kind&facet=spec.lifecycle&filter=kind=component,metadata.tags=java",
    "facet=metadata.namespace&filter=metadata.tags=JAVA,spec.type=service",
    "facet=spec.type&filter=metadata.tags=java,spec.lifecycle=production",
    "facet=spec.type&filter=metadata.tags=java,metadata.tags=js",
    "facet=relations.ownedBy&filter=metadata.tags=java",
]


def _live(query: str) -> dict:
    """The same question counted live in the database, as for a reader who may not read everything."""
    from urllib.parse import parse_qs

    from catalog.api.backstage.views import EntityFacetsView
    from catalog.models import Entity

    params = parse_qs(query)
    return EntityFacetsView._count(params["facet"], params.get("filter", []), Entity.objects.all(), restricted=True)


@pytest.mark.parametrize("query", FACET_QUERIES)
def test_facet_snapshot_answers_like_a_live_count(api_client, catalog, query):
    from catalog import facets

    snapshot_answer = api_client.get(f"/api/catalog/entity-facets?{query}").json()["facets"]
    assert facets.kinds_only(["metadata.name,kind=api"]) is None
    assert facets.column_counts("kind", ["metadata.name,kind=api"]) is None
    assert _live(query) == snapshot_answer
    assert any(item["count"] for items in snapshot_answer.values() for item in items) or "nothing" in query


ODD = """\
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: odd, tags: [java]}
spec: {lifecycle: [production, beta], type: gadget, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: broken}
spec: {type: service}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: shop}
spec: {type: Website, lifecycle: production, owner: team-b}
"""


@pytest.mark.parametrize("query", FACET_QUERIES)
def test_facet_snapshot_where_columns_and_search_rows_disagree(api_client, allow_tmp, query):
    """A list-valued lifecycle has search rows but no column; an entity that never processed has columns
    but no search rows. The snapshot must not count either where a filter means search rows."""
    from catalog import facets

    path = allow_tmp / "catalog-info.yaml"
    path.write_text(CATALOG + ODD)
    refresh_location(register_location(str(path), type="file").pk)
    assert "spec.lifecycle" not in facets.snapshot().exact
    assert {"metadata.namespace", "spec.type"} <= facets.snapshot().exact
    snapshot_answer = api_client.get(f"/api/catalog/entity-facets?{query}").json()["facets"]
    assert _live(query) == snapshot_answer
    if query == "facet=spec.type&filter=spec.lifecycle=production":
        assert {"value": "gadget", "count": 1} in snapshot_answer["spec.type"]
    if query == "facet=kind&filter=spec.type=service,spec.type=openapi,metadata.namespace=default":
        assert snapshot_answer["kind"] == [{"value": "API", "count": 1}, {"value": "Component", "count": 1}]


@pytest.mark.parametrize("odd", [False, True], ids=["plain", "odd-entities"])
def test_a_facet_within_one_tag_is_answered_from_the_tag_snapshot(api_client, allow_tmp, odd,
                                                                  django_assert_num_queries):  # fmt: skip
    from catalog import facets

    path = allow_tmp / "catalog-info.yaml"
    path.write_text(CATALOG + (ODD if odd else ""))
    refresh_location(register_location(str(path), type="file").pk)
    facets.warm()  # as the worker does after a change
    api_client.get("/api/catalog/entities?limit=1")
    with django_assert_num_queries(0):
        answer = api_client.get("/api/catalog/entity-facets?facet=spec.type&filter=metadata.tags=java").json()
    expected = [{"value": "gadget", "count": 1}] if odd else []
    assert answer["facets"]["spec.type"] == [*expected, {"value": "service", "count": 1}]


def test_a_facet_within_one_tag_counts_live_where_tags_and_search_rows_disagree(api_client, catalog):
    from catalog import facets
    from catalog.cache import bump_catalog_version
    from catalog.models import SearchRow

    SearchRow.objects.filter(key="metadata.tags", value="java").delete()  # the column still says java
    bump_catalog_version()
    facets.warm()
    assert not facets._tag_snapshot().rows_agree
    query = "facet=spec.type&filter=metadata.tags=java"
    assert api_client.get(f"/api/catalog/entity-facets?{query}").json()["facets"] == _live(query)
    assert _live(query) == {"spec.type": []}


@pytest.mark.parametrize("odd", [False, True], ids=["plain", "odd-entities"])
@pytest.mark.parametrize(
    "conditions",
    [
        "spec.lifecycle=PRODUCTION",
        "spec.type=service,spec.type=website",
        "relations.ownedby=group:default/team-a",
        "metadata.namespace=default",
        "spec.lifecycle=production,metadata.namespace=default",
        "spec.lifecycle=nothing",
    ],
)
def test_filters_within_a_kind_mean_the_search_rows(api_client, allow_tmp, odd, conditions):
    """Within a kind, a column that agrees with the search rows is compared in the row instead; the
    answer is the same as the search rows give without a kind."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog import facets

    path = allow_tmp / "catalog-info.yaml"
    path.write_text(CATALOG + (ODD if odd else ""))
    refresh_location(register_location(str(path), type="file").pk)
    facets.warm()
    with CaptureQueriesContext(connection) as queries:
        within = api_client.get(f"/api/catalog/entities?filter=kind=component,{conditions}").json()
    probes_rows = any("catalog_searchrow" in query["sql"] for query in queries.captured_queries)
    assert probes_rows == (odd and "lifecycle" in conditions)
    anywhere = api_client.get(f"/api/catalog/entities?filter={conditions}").json()
    assert names(within) == names(e for e in anywhere if e["kind"] == "Component")
    assert names(within) or "website" in conditions or "nothing" in conditions or odd
    if odd and "website" in conditions:
        assert "shop" in names(within)  # spec.type "Website": the column's own spelling is compared


def test_facet_filters_the_snapshot_understands():
    from catalog.facets import kinds_only

    assert kinds_only([]) == []
    assert kinds_only(["kind=Component"]) == ["component"]
    assert kinds_only(["kind=api,kind=component"]) == ["api", "component"]
    assert kinds_only(["kind=api", "kind=group"]) == ["api", "group"]
    assert kinds_only(["kind"]) is None
    assert kinds_only(["kind=api,spec.type=openapi"]) is None
    assert kinds_only(["=x"]) is None


def test_facets(api_client, catalog):
    response = api_client.get("/api/catalog/entity-facets?facet=kind&facet=metadata.tags&filter=kind=component")
    facets = response.json()["facets"]
    assert {"value": "Component", "count": 2} in facets["kind"]
    assert {f["value"] for f in facets["metadata.tags"]} == {"java", "data", "js"}


def test_locations_endpoints(api_client, catalog, allow_tmp, user):
    grant("platform-admin", user=user)
    listing = api_client.get("/api/catalog/locations").json()
    assert listing[0]["data"]["id"] == str(catalog.pk)
    assert api_client.get(f"/api/catalog/locations/{catalog.pk}").json()["type"] == "file"
    path = allow_tmp / "more.yaml"
    path.write_text(CATALOG.split("---")[0])
    created = api_client.post("/api/catalog/locations", {"type": "file", "target": str(path)}, format="json")
    assert created.status_code == 201, created.content
    again = api_client.post("/api/catalog/locations", {"type": "file", "target": str(path)}, format="json")
    assert again.status_code == 409
    assert api_client.delete(f"/api/catalog/locations/{catalog.pk}").status_code == 204
    assert not Location.objects.filter(pk=catalog.pk).exists()


def test_validate_entity(api_client):
    good = {"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "g"},
            "spec": {"type": "team", "children": []}}  # fmt: skip
    assert api_client.post("/api/catalog/validate-entity", {"entity": good, "location": "url:x"},
                           format="json").status_code == 200  # fmt: skip
    bad = {**good, "metadata": {"name": "not valid!"}}
    response = api_client.post("/api/catalog/validate-entity", {"entity": bad, "location": "url:x"}, format="json")
    assert response.status_code == 400
    assert "metadata.name" in response.json()["errors"][0]["message"]


def test_bad_query_is_an_input_error(api_client, catalog):
    response = api_client.get("/api/catalog/entities?fields=metadata.tags[0]")
    assert response.status_code == 400
    assert response.json()["error"]["name"] == "InputError"


def test_list_endpoints_do_not_grow_queries_with_size(api_client, catalog, django_assert_num_queries):
    current_policy()  # access rules are cached until they change (loading them costs two queries, once)
    api_client.get("/api/catalog/entities?limit=1")  # the token is remembered, its last use written
    # One query for a whole page in ref order (rows with their relations); none for the known token.
    with django_assert_num_queries(1):
        api_client.get("/api/catalog/entities")
    with django_assert_num_queries(1):
        api_client.get("/api/catalog/entities?filter=kind=api&limit=1")
    with django_assert_num_queries(2):  # + totalItems
        api_client.get("/api/catalog/entities/by-query?limit=50")
    with django_assert_num_queries(2):  # + count
        api_client.get("/api/v1/catalog/entities/")
    from catalog.facets import FACET_COLUMNS

    # The per-version facet snapshot (one GROUP BY, and a count of each column's search rows but the
    # kind's), then cached until the catalog changes.
    with django_assert_num_queries(len(FACET_COLUMNS)):
        api_client.get("/api/catalog/entity-facets?facet=kind")
    with django_assert_num_queries(0):
        api_client.get("/api/catalog/entity-facets?facet=kind")


def test_by_name_is_one_query_then_cached(api_client, catalog, django_assert_num_queries):
    url = "/api/catalog/entities/by-name/api/default/artists"
    current_policy()
    api_client.get("/api/catalog/entities?limit=1")
    with django_assert_num_queries(1):  # the entity with its relations (the token is remembered)
        body = api_client.get(url).json()
    assert {"type": "ownedBy", "targetRef": "group:default/team-a"} in body["relations"]
    assert {"type": "apiProvidedBy", "targetRef": "component:default/artist-lookup"} in body["relations"]
    with django_assert_num_queries(0):
        assert api_client.get(url).json() == body


def test_by_name_with_a_session_is_answered_from_memory(logged_in_client, catalog, django_assert_num_queries):
    url = "/api/catalog/entities/by-name/api/default/artists"
    current_policy()
    logged_in_client.get("/api/catalog/entities?limit=1")  # the user is read once, then remembered
    with django_assert_num_queries(1):  # the entity with its relations
        body = logged_in_client.get(url).json()
    with django_assert_num_queries(0):
        assert logged_in_client.get(url).json() == body


def test_by_name_cache_follows_catalog_changes(api_client, catalog, allow_tmp):
    url = "/api/catalog/entities/by-name/api/default/artists"
    assert api_client.get(url).json()["spec"]["type"] == "openapi"
    (allow_tmp / "catalog-info.yaml").write_text(CATALOG.replace("type: openapi", "type: grpc"))
    refresh_location(catalog.pk, force=True)
    assert api_client.get(url).json()["spec"]["type"] == "grpc"
