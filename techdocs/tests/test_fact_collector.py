"""TechDocs' fact collector for scorecards' techdocs_fresh, registered through the plugin registry."""

from datetime import UTC, datetime

import pytest

from plugins.api import registry
from techdocs.sources import TECHDOCS_REF

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def test_the_collector_is_registered():
    from techdocs.registrations import site_facts

    assert registry["fact_collectors"]["techdocs"].collect is site_facts
    assert registry["fact_collectors"]["techdocs"].needs_repository is False


@pytest.mark.django_db
def test_the_techdocs_collector_reports_the_published_site():
    from techdocs.models import DocSite
    from techdocs.registrations import site_facts

    class Source:
        entity_ref = "component:default/checkout"
        entity = {"metadata": {"annotations": {TECHDOCS_REF: "dir:."}}}

    assert site_facts(Source()) == {"site": {"status": "pending", "published_at": None}}
    DocSite.objects.create(entity_ref=Source.entity_ref, namespace="default", kind="component", name="checkout",
                           status="ok", published_at=NOW)  # fmt: skip
    assert site_facts(Source())["site"]["published_at"] == NOW.timestamp()
    Source.entity = {"metadata": {}}
    assert site_facts(Source()) == {}
