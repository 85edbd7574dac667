"""Catalog rules as data: which kinds a location may contribute."""

import pytest

from catalog.ingestion.refresh import refresh_location, register_location
from catalog.models import CatalogRule, Entity, ProcessingError

pytestmark = pytest.mark.django_db

FILE = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: ops}
spec: {type: team, children: []}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: widget}
spec: {colour: blue}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: site}
spec: {type: website, lifecycle: production, owner: ops}
"""


@pytest.fixture
def location(allow_tmp):
    path = allow_tmp / "catalog-info.yaml"
    path.write_text(FILE)
    return register_location(str(path), type="file")


def refs():
    return set(Entity.objects.values_list("ref", flat=True))


def test_without_rules_everything_is_kept_and_unknown_kinds_are_stored(location):
    refresh_location(location.pk)
    assert refs() == {"group:default/ops", "gadget:default/widget", "component:default/site"}
    assert Entity.objects.get(ref="gadget:default/widget").known_kind is False


def test_deny_unknown_kinds(location):
    CatalogRule.objects.create(kind="<unknown>", action="deny")
    refresh_location(location.pk)
    assert "gadget:default/widget" not in refs()
    error = ProcessingError.objects.get(rule="catalog-rule")
    assert "gadget:default/widget" in error.message and "catalog rule" in error.message


def test_first_matching_rule_decides(location, allow_tmp):
    CatalogRule.objects.create(priority=1, kind="Component", spec_type="website", action="allow")
    CatalogRule.objects.create(priority=2, kind="*", action="deny", location_pattern=f"{allow_tmp}*")
    refresh_location(location.pk)
    assert refs() == {"component:default/site"}


def test_rule_added_later_orphans_what_it_refuses(location):
    refresh_location(location.pk)
    CatalogRule.objects.create(kind="group", action="deny")
    refresh_location(location.pk, force=True)
    assert Entity.objects.get(ref="group:default/ops").orphaned_at is not None
