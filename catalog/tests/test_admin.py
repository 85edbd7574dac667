"""The Django admin pages platform admins curate the catalog with."""

from pathlib import Path

import pytest

from catalog.ingestion.refresh import refresh_location, register_location
from catalog.models import Entity, Location

pytestmark = pytest.mark.django_db

GROUP = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: ops}\nspec: {type: team, children: []}\n"


@pytest.fixture
def location(allow_tmp):
    path = allow_tmp / "catalog-info.yaml"
    path.write_text(
        GROUP + "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: bad}\nspec: {}\n"
    )
    loc = register_location(str(path), type="file")
    refresh_location(loc.pk)
    return loc


@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalog/entity/",
        "/admin/catalog/entity/?has_errors=yes",
        "/admin/catalog/entity/?orphaned=no&kind__exact=Group",
        "/admin/catalog/location/",
        "/admin/catalog/processingerror/",
        "/admin/catalog/entityoverride/add/",
        "/admin/catalog/catalogrule/",
        "/admin/catalog/catalogrule/add/",
        "/admin/portal/apitoken/",
        "/admin/portal/jobrun/",
    ],
)
def test_admin_pages_render(admin_client, location, url):
    assert admin_client.get(url).status_code == 200


def test_entities_are_read_only_in_admin(admin_client, location):
    entity = location.entities.first()
    response = admin_client.post(f"/admin/catalog/entity/{entity.pk}/change/", {"title": "hacked"})
    assert response.status_code == 403


def test_refresh_now_action(admin_client, location):
    """The action reads the file again at once: what changed since the fixture's refresh is in the catalog."""
    checked = Location.objects.get(pk=location.pk).last_checked_at
    Path(location.target).write_text(GROUP.replace("{name: ops}", "{name: sre}"))
    response = admin_client.post(
        "/admin/catalog/location/", {"action": "refresh_now", "_selected_action": [str(location.pk)]}, follow=True
    )
    assert response.status_code == 200
    assert Entity.objects.filter(ref="group:default/sre").exists()
    assert Location.objects.get(pk=location.pk).last_checked_at > checked
    assert f"{location.target}: " in response.content.decode()


def test_non_staff_cannot_open_admin(logged_in_client):
    assert logged_in_client.get("/admin/catalog/entity/").status_code == 302
