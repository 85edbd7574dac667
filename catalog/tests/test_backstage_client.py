"""Backstage's own ``@backstage/catalog-client`` drives Callboard over HTTP, with a real worker ingesting what
it registers: every public method of ``CatalogClient``, each answer asserted (catalog/tests/backstage_client.js
calls them and prints the answers). Skipped, with the reason, where node or npm is missing or the client cannot
be installed; the install is cached (portal/testing/npm.py)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from portal.models import ApiToken
from portal.testing.access import grant
from portal.testing.celery import celery_worker
from portal.testing.npm import npm_package

CLIENT_VERSION = "1.16.4"  # docs/catalog.md names it: change both together
SCRIPT = Path(__file__).with_name("backstage_client.js")

ROOT = """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: root}
spec: {targets: [./components.yaml]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: [], members: [ana]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: ana}
spec: {memberOf: [team-a]}
"""
COMPONENTS = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ledger-api, title: The Ledger, tags: [java]}
spec: {type: service, lifecycle: production, owner: team-a, providesApis: [ledger], port: 8080}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: web-player, tags: [js]}
spec: {type: website, lifecycle: experimental, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: billing, tags: [java]}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: search-ui}
spec: {type: website, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: ledger}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: "openapi: 3.0.0"}
"""
EXTRA = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: extra-thing}
spec: {type: library, lifecycle: production, owner: team-a}
"""


@pytest.fixture(scope="module")
def client_dir():
    directory, reason = npm_package("@backstage/catalog-client", CLIENT_VERSION)
    if directory is None:
        pytest.skip(reason)
    return directory


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_backstage_catalog_client_call_for_call(client_dir, live_server, allow_tmp, user):
    (allow_tmp / "root.yaml").write_text(ROOT)
    (allow_tmp / "components.yaml").write_text(COMPONENTS)
    (allow_tmp / "extra.yaml").write_text(EXTRA)
    (allow_tmp / "moved.yaml").write_text(EXTRA)
    grant("platform-admin", user=user)
    _, token = ApiToken.issue(user, name="backstage-client")
    env = {
        **os.environ, "CLIENT_DIR": str(client_dir), "BASE_URL": live_server.url, "TOKEN": token,
        "ROOT_TARGET": str(allow_tmp / "root.yaml"), "EXTRA_TARGET": str(allow_tmp / "extra.yaml"),
        "MOVED_TARGET": str(allow_tmp / "moved.yaml"),
    }  # fmt: skip
    with celery_worker({"CATALOG_ALLOWED_PATHS": str(allow_tmp)}):
        done = subprocess.run(["node", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300, check=False)
    out = json.loads(done.stdout or "{}")
    assert done.returncode == 0 and "failed" not in out, (out.get("failed"), done.stderr[-2000:])
    root, extra = str(allow_tmp / "root.yaml"), str(allow_tmp / "extra.yaml")
    components = ["billing", "ledger-api", "search-ui", "web-player"]

    # addLocation: new, dry run (201, as the client insists), existing on a dry run, conflict, refresh.
    location_id = out["added"]["location"]["id"]
    assert out["added"] == {"location": {"id": location_id, "type": "file", "target": root}, "entities": []}
    assert out["dryRun"]["exists"] is False
    assert out["dryRun"]["location"] == {"id": f"file:{extra}", "type": "file", "target": extra}
    assert [e["metadata"]["name"] for e in out["dryRun"]["entities"]] == ["extra-thing"]
    assert out["dryRunExisting"]["exists"] is True
    assert out["conflict"] == {"name": "ResponseError", "status": 409, "errorName": "ConflictError",
                               "message": f"Location file:{root} already exists"}  # fmt: skip
    assert out["existing"]["location"]["id"] == location_id

    # Entities.
    assert out["getEntities"] == ["ledger-api", "ledger", "billing"]
    assert out["getEntitiesPaged"] == ["ledger-api", "search-ui"]
    assert out["byRefs"] == ["web-player", None, "team-a"]
    assert out["byRefsPredicate"] == [None, "ledger-api"]
    assert out["queryFilter"] == {"first": components[:3], "totalItems": 4, "second": components[3:],
                                  "back": components[:3], "secondNext": None}  # fmt: skip
    assert out["queryFullText"] == ["ledger", "ledger-api"]
    assert out["queryPredicate"] == {"first": ["billing", "ledger"], "second": ["ledger-api", "search-ui"],
                                     "totalItems": 4}  # fmt: skip
    assert out["queryPredicateAndFilter"] == ["ledger-api"]
    # Pages of the requested size, in Callboard's default order (by ref; Backstage's is by uid).
    assert out["stream"] == [["ledger", "billing"], ["ledger-api", "search-ui"], ["web-player"]]
    assert out["streamPredicate"] == [["billing", "ledger-api", "search-ui", "web-player"], ["team-a", "ana"]]
    assert out["getEntityByRef"] == "ledger-api"
    assert out["getEntityByRefMissing"] is None
    assert out["ancestors"] == {
        "root": "component:default/ledger-api",
        "items": [["ledger-api", ["location:default/root"]], ["root", []]],
    }
    assert out["facets"] == {"facets": {
        "kind": [{"value": "Component", "count": 4}],
        "spec.lifecycle": [{"value": "experimental", "count": 1}, {"value": "production", "count": 3}],
    }}  # fmt: skip
    assert out["facetsPredicate"] == {"facets": {
        "kind": [{"value": "API", "count": 1}, {"value": "Component", "count": 4}],
        "metadata.tags": [{"value": "java", "count": 2}, {"value": "js", "count": 1}],
    }}  # fmt: skip

    # Locations.
    assert out["getLocations"] == [{"id": location_id, "type": "file", "target": root}]
    assert out["queryLocations"] == {"items": out["getLocations"], "totalItems": 1, "pageInfo": {}}
    assert out["queryLocationsCursor"] is None
    assert out["streamLocations"] == [[extra], [root]]  # a page of one at a time, in target order
    assert out["getLocationById"] == out["getLocations"][0]
    assert out["getLocationByIdMissing"] is None
    assert out["getLocationByRef"] == out["getLocations"][0]
    assert out["getLocationByEntity"] == out["getLocations"][0]
    assert out["updateLocation"]["target"] == str(allow_tmp / "moved.yaml")
    assert out["movedEntity"] == "extra-thing"  # read again from the new target by the worker
    assert out["removedLocation"] is None
    assert out["removedEntity"] is None  # with the location that alone provided it

    # Writes on entities, validation, analysis, and a refused token.
    assert out["refreshed"] is True
    assert out["removedAndBack"] == "web-player"
    assert out["validateGood"] == {"valid": True}
    assert out["validateBad"]["valid"] is False
    assert any("metadata.name" in message for message in out["validateBad"]["messages"])
    assert out["analyze"] == {"existing": [["extra-thing", False]], "generate": []}
    assert out["unauthenticated"]["status"] == 401
    assert out["unauthenticated"]["errorName"] == "AuthenticationError"
