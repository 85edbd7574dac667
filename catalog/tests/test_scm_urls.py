"""GitHub/GitLab browser URLs read through git, against a real local git smart-HTTP server."""

import pytest

from catalog.ingestion.refresh import refresh_location, register_location
from catalog.models import Entity, Location
from portal.testing.githttp import git_http_server
from portal.testing.gitrepos import make_repo

pytestmark = pytest.mark.django_db

ROOT = """\
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: acme}
spec: {targets: [./services/billing.yaml]}
"""
BILLING = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: billing
  annotations: {backstage.io/techdocs-ref: "dir:."}
spec: {type: service, lifecycle: production, owner: payments}
"""


@pytest.fixture
def server(allow_tmp, settings):
    root = allow_tmp / "served"
    make_repo(root / "acme" / "billing.git", {"catalog-info.yaml": ROOT, "services/billing.yaml": BILLING})
    make_repo(root / "group" / "sub" / "app.git", {"catalog-info.yaml": BILLING.replace("billing", "app")})
    settings.CATALOG_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.CATALOG_GITHUB_HOSTS = ["127.0.0.1"]
    with git_http_server(root) as base:
        yield base


def test_github_blob_url(server):
    location = register_location(f"{server}/acme/billing/blob/main/catalog-info.yaml")
    result = refresh_location(location.pk)
    assert result.status == Location.Status.OK, result.message
    annotations = Entity.objects.get(ref="component:default/billing").annotations
    blob = f"{server}/acme/billing/blob/main/services/billing.yaml"
    assert annotations["backstage.io/managed-by-location"] == f"url:{blob}"
    assert annotations["backstage.io/source-location"] == f"url:{server}/acme/billing/tree/main/services/"
    assert annotations["backstage.io/edit-url"] == f"{server}/acme/billing/edit/main/services/billing.yaml"
    assert not refresh_location(location.pk).changed  # one ls-remote over HTTP, nothing else


def test_github_tree_url_reads_catalog_info(server):
    location = register_location(f"{server}/acme/billing/tree/main")
    assert refresh_location(location.pk).summary.added == 2


def test_gitlab_blob_url_with_subgroups(server):
    location = register_location(f"{server}/group/sub/app/-/blob/main/catalog-info.yaml")
    result = refresh_location(location.pk)
    assert result.status == Location.Status.OK, result.message
    annotations = Entity.objects.get(ref="component:default/app").annotations
    assert annotations["backstage.io/edit-url"] == f"{server}/group/sub/app/-/edit/main/catalog-info.yaml"


def test_missing_repository_is_a_located_error(server):
    location = register_location(f"{server}/acme/nope/blob/main/catalog-info.yaml")
    result = refresh_location(location.pk)
    assert result.status == Location.Status.ERROR
    assert "nope" in result.message or "fetch" in result.message
