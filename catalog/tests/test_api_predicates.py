"""Backstage's client calls beyond GET: predicate queries and facets, location queries, cursors that keep their
page size, write endpoints' status codes, and errors as plain messages in Backstage's shape."""

import base64
import json

import pytest

from catalog.ingestion.refresh import refresh_location, register_location
from catalog.tests.test_api_backstage import CATALOG, names
from portal.access import current_policy
from portal.testing.access import grant

pytestmark = pytest.mark.django_db

EXTRA = """\
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: counter, annotations: {example.com/replicas: "3"}}
spec: {type: service, lifecycle: production, owner: team-b, port: 8080, public: true}
"""


@pytest.fixture
def catalog(allow_tmp):
    path = allow_tmp / "catalog-info.yaml"
    path.write_text(CATALOG + EXTRA)
    location = register_location(str(path), type="file")
    refresh_location(location.pk)
    return location


def query(client, body: dict) -> dict:
    response = client.post("/api/catalog/entities/by-query", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


PREDICATES = [
    ({}, ["Artist-Lookup", "ana", "artists", "counter", "team-a", "web-player"]),
    ({"kind": "component"}, ["Artist-Lookup", "counter", "web-player"]),
    ({"kind": "COMPONENT", "spec.type": "Service"}, ["Artist-Lookup", "counter"]),  # equality ignores case
    ({"$all": []}, ["Artist-Lookup", "ana", "artists", "counter", "team-a", "web-player"]),
    ({"$any": []}, []),  # an empty $any matches nothing
    ({"$any": [{"kind": "user"}, {"kind": "group"}]}, ["ana", "team-a"]),
    ({"$not": {"kind": "component"}}, ["ana", "artists", "team-a"]),
    ({"$all": [{"kind": "component"}, {"$not": {"spec.type": "service"}}]}, ["web-player"]),
    ({"kind": {"$in": ["API", "group"]}}, ["artists", "team-a"]),
    ({"spec.lifecycle": {"$in": []}}, []),
    ({"metadata.description": {"$exists": True}}, ["Artist-Lookup"]),
    ({"kind": "component", "metadata.description": {"$exists": False}}, ["counter", "web-player"]),
    ({"metadata.tags": {"$contains": "JAVA"}}, ["Artist-Lookup"]),
    ({"metadata.tags": "js"}, ["web-player"]),
    ({"relations": {"$contains": {"type": "ownedBy", "targetRef": "group:default/team-a"}}},
     ["Artist-Lookup", "artists"]),
    ({"relations": {"$contains": {"type": "memberOf"}}}, ["ana"]),
    ({"relations": {"$contains": {"type": "ownedby", "targetRef": {"$in": ["group:default/team-b"]}}}},
     ["counter", "web-player"]),
    ({"spec.port": 8080}, ["counter"]),  # numbers compare as the strings JavaScript prints
    ({"spec.port": 8080.0}, ["counter"]),
    ({"spec.public": True}, ["counter"]),
    ({"metadata.annotations.example.com/replicas": 3}, ["counter"]),
    ({"metadata.name": {"$hasPrefix": "ART"}}, ["Artist-Lookup", "artists"]),
    ({"metadata.name": "artist-lookup"}, ["Artist-Lookup"]),
    ({"$any": [{"kind": "api"}, {"$all": [{"kind": "user"}, {"$not": {"metadata.name": "nobody"}}]}]},
     ["ana", "artists"]),
    ({"$not": {}}, []),
    ({"$any": [{}, {"kind": "user"}]}, ["Artist-Lookup", "ana", "artists", "counter", "team-a", "web-player"]),
]  # fmt: skip


@pytest.mark.parametrize(("predicate", "expected"), PREDICATES)
def test_predicate_semantics(api_client, catalog, predicate, expected):
    body = query(api_client, {"query": predicate})
    assert names(body["items"]) == expected
    assert body["totalItems"] == len(expected)
    by_refs = api_client.post(
        "/api/catalog/entities/by-refs",
        {"entityRefs": ["component:default/counter", "user:default/ana"], "query": predicate},
        format="json",
    ).json()["items"]
    assert [e["metadata"]["name"] for e in by_refs if e] == [n for n in ("counter", "ana") if n in expected]


@pytest.mark.parametrize(
    ("predicate", "fragment"),
    [
        ("component", "expected an object"),
        ({"$all": {"kind": "x"}}, "$all takes an array"),
        ({"$nope": []}, "unknown operator"),
        ({"kind": {"$regex": "x"}}, "unknown operator"),
        ({"kind": {"$in": [{"a": 1}]}}, "query.kind.$in[0]"),
        ({"metadata.tags": {"$contains": {"a": 1}}}, "only for relations"),
    ],
)
def test_a_malformed_predicate_is_an_input_error_saying_where(api_client, catalog, predicate, fragment):
    for url in ("/api/catalog/entities/by-query", "/api/catalog/entity-facets"):
        response = api_client.post(url, {"query": predicate, "facets": ["kind"]}, format="json")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["name"] == "InputError"
        assert fragment in error["message"]
        assert not error["message"].startswith("[")


def _decoded(cursor: str) -> dict:
    return json.loads(base64.b64decode(cursor, validate=True))  # standard base64, as the client's atob reads


def test_a_predicate_cursor_carries_the_predicate_and_the_page_size(api_client, catalog):
    predicate = {"$not": {"kind": "group"}}
    order = [{"field": "metadata.name", "order": "desc"}]
    first = query(api_client, {"query": predicate, "limit": 2, "orderBy": order})
    assert [e["metadata"]["name"] for e in first["items"]] == ["web-player", "counter"]
    cursor = first["pageInfo"]["nextCursor"]
    assert _decoded(cursor)["query"] == predicate  # what Backstage's client looks for to POST it
    second = query(api_client, {"cursor": cursor})  # no limit: the cursor's page size
    # Ordered ignoring case, as Backstage orders: "artists" > "artist-lookup" > "ana".
    assert [e["metadata"]["name"] for e in second["items"]] == ["artists", "Artist-Lookup"]
    third = query(api_client, {"cursor": second["pageInfo"]["nextCursor"]})
    assert [e["metadata"]["name"] for e in third["items"]] == ["ana"]
    assert "nextCursor" not in third["pageInfo"]
    back = query(api_client, {"cursor": third["pageInfo"]["prevCursor"]})
    assert [e["metadata"]["name"] for e in back["items"]] == ["artists", "Artist-Lookup"]
    assert query(api_client, {"cursor": cursor, "limit": 1})["items"][0]["metadata"]["name"] == "artists"


def test_a_get_cursor_keeps_its_page_size_and_has_no_query(api_client, catalog):
    first = api_client.get("/api/catalog/entities/by-query?limit=2&orderField=metadata.name,asc").json()
    cursor = first["pageInfo"]["nextCursor"]
    assert "query" not in _decoded(cursor)
    second = api_client.get("/api/catalog/entities/by-query", {"cursor": cursor}).json()
    assert len(second["items"]) == 2
    listing = api_client.get("/api/catalog/entities?limit=2")
    after = listing["Link"].split("after=")[1].split(">")[0]
    from urllib.parse import unquote

    page = api_client.get("/api/catalog/entities", {"after": unquote(after)}).json()
    assert len(page) == 2


def test_full_text_and_fields_in_a_predicate_query(api_client, catalog):
    body = query(
        api_client,
        {"query": {"kind": "component"}, "fullTextFilter": {"term": "PLAY", "fields": ["metadata.name"]},
         "fields": ["metadata.name", "kind"], "totalItems": "exclude"},
    )  # fmt: skip
    assert body["items"] == [{"kind": "Component", "metadata": {"name": "web-player"}}]
    assert "totalItems" not in body


@pytest.mark.parametrize(
    "predicate",
    [
        None,
        {"kind": "component"},
        {"$any": [{"kind": "api"}, {"kind": "component", "spec.lifecycle": "production"}]},
        {"metadata.tags": "java"},
        {"$not": {"kind": "component"}},
        {"relations": {"$contains": {"type": "ownedBy", "targetRef": "group:default/team-a"}}},
        {"spec.type": {"$hasPrefix": "serv"}},
    ],
)
def test_predicate_facets_count_as_the_entities_answer(api_client, catalog, predicate):
    body = {"facets": ["kind", "spec.type", "metadata.tags", "relations.ownedBy"]}
    if predicate is not None:
        body["query"] = predicate
    response = api_client.post("/api/catalog/entity-facets", body, format="json")
    assert response.status_code == 200, response.content
    facets = response.json()["facets"]
    entities = query(api_client, {"query": predicate} if predicate is not None else {})["items"]
    kinds: dict[str, int] = {}
    for entity in entities:
        kinds[entity["kind"]] = kinds.get(entity["kind"], 0) + 1
    assert facets["kind"] == [{"value": k, "count": n} for k, n in sorted(kinds.items())]
    tags = sorted({t for e in entities for t in e["metadata"].get("tags", [])})
    assert [f["value"] for f in facets["metadata.tags"]] == tags


def test_predicate_endpoints_cost_what_the_get_endpoints_do(api_client, catalog, django_assert_num_queries):
    current_policy()
    api_client.get("/api/catalog/entities?limit=1")  # the token is remembered
    with django_assert_num_queries(2):  # the page, totalItems
        query(api_client, {"query": {"$not": {"kind": "group"}}, "limit": 2})
    with django_assert_num_queries(2):
        query(api_client, {"query": {"kind": "component", "metadata.tags": "java"}})
    api_client.get("/api/catalog/entity-facets?facet=kind&filter=kind=component")  # builds the snapshots
    with django_assert_num_queries(0):  # said as a filter: from the snapshot, then the cache
        api_client.post("/api/catalog/entity-facets", {"facets": ["spec.type"], "query": {"kind": "component"}},
                        format="json")  # fmt: skip
    with django_assert_num_queries(1):  # kind from the snapshot's cells, tags counted live; then cached
        api_client.post("/api/catalog/entity-facets",
                        {"facets": ["kind", "metadata.tags"], "query": {"$not": {"kind": "group"}}}, format="json")
    with django_assert_num_queries(0):
        api_client.post("/api/catalog/entity-facets",
                        {"facets": ["kind", "metadata.tags"], "query": {"$not": {"kind": "group"}}}, format="json")


def test_a_restricted_reader_queries_only_what_it_may_read(api_client, catalog, django_assert_num_queries):
    grant("viewer", name="users are private", effect="deny", subject="signed_in", kinds="User")
    body = query(api_client, {"query": {"$not": {"kind": "group"}}})
    assert names(body["items"]) == ["Artist-Lookup", "artists", "counter", "web-player"]
    facets = api_client.post("/api/catalog/entity-facets", {"facets": ["kind"], "query": {"$not": {"kind": "api"}}},
                             format="json").json()["facets"]  # fmt: skip
    assert facets["kind"] == [{"value": "Component", "count": 3}, {"value": "Group", "count": 1}]
    locations = api_client.post("/api/catalog/locations/by-query", {}, format="json").json()
    assert locations["totalItems"] == 1


def test_location_queries(api_client, catalog, allow_tmp, user):
    grant("platform-admin", user=user)
    more = []
    for i in range(3):
        path = allow_tmp / f"more-{i}.yaml"
        path.write_text(CATALOG.split("---")[0].replace("team-a", f"team-{i}x"))
        more.append(register_location(str(path), type="file"))
    everything = api_client.post("/api/catalog/locations/by-query", {}, format="json").json()
    assert everything["totalItems"] == 4
    assert {item["id"] for item in everything["items"]} == {str(loc.pk) for loc in [catalog, *more]}
    assert set(everything["items"][0]) == {"id", "type", "target"}
    first = api_client.post("/api/catalog/locations/by-query", {"limit": 3}, format="json").json()
    assert len(first["items"]) == 3
    rest = api_client.post("/api/catalog/locations/by-query", {"cursor": first["pageInfo"]["nextCursor"]},
                           format="json").json()  # fmt: skip
    assert len(rest["items"]) == 1 and "nextCursor" not in rest["pageInfo"]
    target = str(allow_tmp / "more-1.yaml").upper()
    found = api_client.post("/api/catalog/locations/by-query", {"query": {"target": target}}, format="json").json()
    assert [item["id"] for item in found["items"]] == [str(more[1].pk)]
    found = api_client.post("/api/catalog/locations/by-query",
                            {"query": {"$not": {"target": {"$hasPrefix": str(allow_tmp / "more")}}}},
                            format="json").json()  # fmt: skip
    assert [item["id"] for item in found["items"]] == [str(catalog.pk)]
    found = api_client.post("/api/catalog/locations/by-query", {"query": {"id": {"$in": [str(more[0].pk), "x"]}}},
                            format="json").json()  # fmt: skip
    assert [item["id"] for item in found["items"]] == [str(more[0].pk)]
    assert api_client.post("/api/catalog/locations/by-query", {"query": {"$any": []}},
                           format="json").json()["items"] == []  # fmt: skip


def test_write_endpoints_answer_backstage_status_codes(api_client, catalog, allow_tmp, user):
    grant("platform-admin", user=user)
    path = allow_tmp / "new.yaml"
    path.write_text(CATALOG.split("---")[0].replace("team-a", "team-new"))
    dry = api_client.post("/api/catalog/locations?dryRun=true", {"type": "file", "target": str(path)}, format="json")
    assert dry.status_code == 201  # Backstage's client throws on anything but 201
    assert dry.json()["exists"] is False
    assert dry.json()["location"]["id"] == f"file:{path}"
    assert [e["metadata"]["name"] for e in dry.json()["entities"]] == ["team-new"]
    existing = api_client.post("/api/catalog/locations?dryRun=true", {"type": "file", "target": catalog.target},
                               format="json")  # fmt: skip
    assert existing.status_code == 201 and existing.json()["exists"] is True
    created = api_client.post("/api/catalog/locations", {"type": "file", "target": str(path)}, format="json")
    assert created.status_code == 201
    assert created.json()["entities"] == []
    location_id = created.json()["location"]["id"]
    again = api_client.post("/api/catalog/locations", {"type": "file", "target": str(path)}, format="json")
    assert again.status_code == 409 and again.json()["error"]["name"] == "ConflictError"
    refresh = api_client.post("/api/catalog/locations?onConflict=refresh", {"type": "file", "target": str(path)},
                              format="json")  # fmt: skip
    assert refresh.status_code == 201 and refresh.json()["location"]["id"] == location_id
    moved = allow_tmp / "moved.yaml"
    moved.write_text(path.read_text())
    put = api_client.put(f"/api/catalog/locations/{location_id}", {"type": "file", "target": str(moved)},
                         format="json")  # fmt: skip
    assert put.status_code == 200 and put.json() == {"id": location_id, "type": "file", "target": str(moved)}
    assert api_client.post("/api/catalog/refresh", {"entityRef": "component:default/counter"},
                           format="json").status_code == 200  # fmt: skip
    assert api_client.delete(f"/api/catalog/locations/{location_id}").status_code == 204


def test_errors_are_plain_messages_in_backstage_shape(api_client, catalog, user):
    grant("platform-admin", user=user)
    response = api_client.post("/api/catalog/locations", {"type": "file", "target": "/etc/passwd"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "request", "response"}
    assert body["error"]["name"] == "InputError"
    message = body["error"]["message"]
    assert "/etc/passwd" in message and not message.startswith("[") and '\\"' not in message
    assert body["request"] == {"method": "POST", "url": "/api/catalog/locations"}
    assert body["response"] == {"statusCode": 400}
    for bad in (
        api_client.post("/api/catalog/entities/by-refs", {"entityRefs": "x"}, format="json"),
        api_client.get("/api/catalog/entities/by-query?limit=x"),
        api_client.post("/api/catalog/entities/by-query", [1], format="json"),
    ):
        assert bad.status_code == 400
        assert not bad.json()["error"]["message"].startswith("[")
    missing = api_client.get("/api/catalog/entities/by-name/component/default/nope")
    assert missing.status_code == 404 and missing.json()["error"]["name"] == "NotFoundError"


def test_validate_entity_names_the_entity(api_client):
    entity = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": {"name": "ledger-api"},
              "spec": {"type": "service", "owner": "team-a"}}  # fmt: skip
    response = api_client.post("/api/catalog/validate-entity", {"entity": entity, "location": "url:https://x/y.yaml"},
                               format="json")  # fmt: skip
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["message"].startswith("component:default/ledger-api in url:https://x/y.yaml › document 1 › ")


def test_a_read_token_may_post_queries_but_not_writes(catalog, user):
    from portal.testing.access import token_client

    grant("platform-admin", user=user)
    reader = token_client(user, scopes=["catalog:read"])
    for url, body in [
        ("/api/catalog/entities/by-query", {"query": {"kind": "api"}}),
        ("/api/catalog/entities/by-refs", {"entityRefs": ["api:default/artists"]}),
        ("/api/catalog/entity-facets", {"facets": ["kind"]}),
        ("/api/catalog/locations/by-query", {}),
    ]:
        assert reader.post(url, body, format="json").status_code == 200, url
    refused = reader.post("/api/catalog/locations", {"type": "file", "target": catalog.target}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "This token lacks the 'catalog:write' scope."


def test_ref_order_pages_follow_the_last_ref(api_client, catalog, allow_tmp):
    first = query(api_client, {"query": {}, "limit": 2})
    pages, body = [first], first
    while body["pageInfo"].get("nextCursor"):
        last = body["items"][-1]
        last_ref = f"{last['kind']}:default/{last['metadata']['name']}".lower()
        assert _decoded(body["pageInfo"]["nextCursor"])["afterRef"] == last_ref
        body = query(api_client, {"cursor": body["pageInfo"]["nextCursor"]})
        pages.append(body)
    refs = [f"{e['kind']}:{e['metadata']['name']}".lower() for page in pages for e in page["items"]]
    assert len(refs) == 6 and refs == sorted(refs)
    back = query(api_client, {"cursor": pages[2]["pageInfo"]["prevCursor"]})
    assert back["items"] == pages[1]["items"]
    # A page added before the cursor's position does not shift the next page (keyset, not offset).
    (allow_tmp / "catalog-info.yaml").write_text(CATALOG + EXTRA + EXTRA.replace("counter", "aaa-first"))
    refresh_location(catalog.pk, force=True)
    assert query(api_client, {"cursor": pages[1]["pageInfo"]["nextCursor"]})["items"] == pages[2]["items"]


SNAPSHOT_PREDICATES = [
    {"$not": {"kind": "component"}},
    {"$not": {"spec.type": "service"}},
    {"$any": [{"kind": "api"}, {"$all": [{"kind": "component"}, {"$not": {"spec.lifecycle": "production"}}]}]},
    {"spec.lifecycle": {"$exists": False}},
    {"$all": [{"spec.type": {"$exists": True}}, {"$not": {"kind": "widget"}}]},
    {"relations": {"$contains": {"type": "ownedBy", "targetRef": {"$in": ["group:default/team-a"]}}}},
    {"$not": {"relations.ownedBy": "group:default/team-b"}},
    {"kind": {"$in": []}},
    {"$not": {"metadata.namespace": "DEFAULT"}},
]


@pytest.mark.parametrize("odd", [False, True], ids=["plain", "odd-entities"])
@pytest.mark.parametrize("predicate", SNAPSHOT_PREDICATES)
def test_predicate_facets_from_the_snapshot_answer_like_a_live_count(api_client, allow_tmp, odd, predicate):
    """Entities that never processed (columns, no search rows) and list-valued lifecycles (search rows, no
    column) are counted from the cells exactly as the SQL conditions count them."""
    from catalog import facets
    from catalog.api.backstage.query import apply_predicate
    from catalog.api.backstage.views import EntityFacetsView
    from catalog.models import Entity
    from catalog.predicates import parse
    from catalog.tests.test_api_backstage import ODD

    path = allow_tmp / "catalog-info.yaml"
    path.write_text(CATALOG + EXTRA + (ODD if odd else ""))
    refresh_location(register_location(str(path), type="file").pk)
    names = ["kind", "spec.type", "spec.lifecycle", "metadata.namespace", "relations.ownedBy"]
    node = parse(predicate)
    live = EntityFacetsView._count(names, [], apply_predicate(Entity.objects.all(), node), restricted=True)
    from_cells = {facet: facets.predicate_counts(facet, node) for facet in names}
    assert {facet: counts for facet, counts in from_cells.items() if counts is not None} == {
        facet: live[facet] for facet, counts in from_cells.items() if counts is not None
    }
    assert from_cells["kind"] is not None or (odd and "spec.lifecycle" in json.dumps(predicate))
    answer = api_client.post("/api/catalog/entity-facets", {"facets": names, "query": predicate}, format="json")
    assert answer.json()["facets"] == live


def test_unknown_paths_and_ids_are_not_found_errors(api_client):
    for method, url in [("get", "/api/catalog/nope"), ("get", "/api/catalog/locations/not-a-uuid"),
                        ("delete", "/api/catalog/entities/by-uid/x"), ("post", "/api/catalog/entities/nope")]:
        response = getattr(api_client, method)(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["name"] == "NotFoundError"
        assert response.json()["response"] == {"statusCode": 404}
