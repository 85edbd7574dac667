import pytest

from catalog.templatetags.catalog_refs import short_ref


@pytest.mark.parametrize(
    ("ref", "shown"),
    [("group:default/team-a", "team-a"), ("group:redhat/devs", "redhat/devs"), ("", "")],
)
def test_short_ref(ref, shown):
    assert short_ref(ref) == shown


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.com/x", True),
        ("mailto:team@example.com", True),
        ("javascript:alert(1)", False),
        (" JavaScript:alert(1)", False),
        ("data:text/html,<script>", False),
    ],
)
def test_safe_url(url, safe):
    from catalog.templatetags.catalog_refs import safe_url

    assert (safe_url(url) == url.strip()) is safe
