import pytest

from catalog.templatetags.catalog_refs import short_ref


@pytest.mark.parametrize(
    ("ref", "shown"),
    [("group:default/team-a", "team-a"), ("group:redhat/devs", "redhat/devs"), ("", "")],
)
def test_short_ref(ref, shown):
    assert short_ref(ref) == shown
