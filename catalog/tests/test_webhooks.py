"""GitHub and GitLab push webhooks: secret-verified, refresh only the affected locations."""

import hashlib
import hmac
import json

import pytest

from catalog.ingestion.refresh import register_location
from catalog.models import Entity
from portal.testing.gitrepos import git_target, make_repo

pytestmark = pytest.mark.django_db

GROUP = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: %s}\nspec: {type: team, children: []}\n"


def github_post(client, body: dict, secret: str, event: str = "push"):
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return client.post("/api/catalog/webhooks/github", raw, content_type="application/json",
                       HTTP_X_HUB_SIGNATURE_256=signature, HTTP_X_GITHUB_EVENT=event)  # fmt: skip


@pytest.fixture
def repo(allow_tmp, settings):
    settings.CATALOG_WEBHOOK_SECRET = "s3cret"
    bare = allow_tmp / "org.git"
    make_repo(bare, {"catalog-info.yaml": GROUP % "first"})
    return bare


def test_github_push_refreshes_the_matching_location(client, repo, django_capture_on_commit_callbacks):
    location = register_location(git_target(repo))
    make_repo(repo, {"catalog-info.yaml": GROUP % "second"})
    payload = {"ref": "refs/heads/main", "repository": {"clone_url": repo.resolve().as_uri()}}
    with django_capture_on_commit_callbacks(execute=True):
        response = github_post(client, payload, "s3cret")
    assert response.status_code == 202
    assert response.json()["refreshing"] == [str(location.pk)]
    assert Entity.objects.filter(ref="group:default/second").exists()  # eager in tests


def test_other_branches_and_repositories_are_ignored(client, repo):
    register_location(git_target(repo))
    other_branch = {"ref": "refs/heads/feature", "repository": {"clone_url": repo.resolve().as_uri()}}
    assert github_post(client, other_branch, "s3cret").json()["refreshing"] == []
    other_repo = {"ref": "refs/heads/main", "repository": {"clone_url": "https://github.com/x/y.git"}}
    assert github_post(client, other_repo, "s3cret").json()["refreshing"] == []


def test_bad_signature_is_refused(client, repo):
    register_location(git_target(repo))
    response = github_post(client, {"repository": {"clone_url": "x"}}, "wrong")
    assert response.status_code == 403


def test_gitlab_token(client, repo):
    location = register_location(git_target(repo))
    body = json.dumps({"ref": "refs/heads/main", "project": {"git_http_url": repo.resolve().as_uri()}})
    ok = client.post("/api/catalog/webhooks/gitlab", body, content_type="application/json",
                     HTTP_X_GITLAB_TOKEN="s3cret")  # fmt: skip
    assert ok.json()["refreshing"] == [str(location.pk)]
    bad = client.post("/api/catalog/webhooks/gitlab", body, content_type="application/json",
                      HTTP_X_GITLAB_TOKEN="nope")  # fmt: skip
    assert bad.status_code == 403


def test_webhooks_disabled_without_a_secret(client, repo, settings):
    """A push that would refresh a location, signed with the empty secret, is refused: disabled, not unsigned."""
    location = register_location(git_target(repo))
    settings.CATALOG_WEBHOOK_SECRET = ""
    payload = {"ref": "refs/heads/main", "repository": {"clone_url": repo.resolve().as_uri()}}
    response = github_post(client, payload, "")
    assert response.status_code == 403
    assert "webhooks are disabled" in response.json()["error"]["message"]
    body = json.dumps({"ref": "refs/heads/main", "project": {"git_http_url": repo.resolve().as_uri()}})
    gitlab = client.post("/api/catalog/webhooks/gitlab", body, content_type="application/json",
                         HTTP_X_GITLAB_TOKEN="")  # fmt: skip
    assert gitlab.status_code == 403
    assert "webhooks are disabled" in gitlab.json()["error"]["message"]
    settings.CATALOG_WEBHOOK_SECRET = "s3cret"  # the same pushes, signed, would have refreshed it
    assert github_post(client, payload, "s3cret").json()["refreshing"] == [str(location.pk)]
