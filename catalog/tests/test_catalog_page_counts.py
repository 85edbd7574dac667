"""The catalog page's total and facets: read from the per-version snapshot where the filters are columns,
and equal to counting them in the database."""

import importlib

import pytest
from django.db import connection
from django.db.models import Count
from django.http import QueryDict

from catalog import facets
from catalog.filtersets import EntityFilterSet
from catalog.ingestion.refresh import refresh_location, register_location
from catalog.models import Entity, EntityOverride, SearchRow
from catalog.views.entities import _column_tests, _count_facets, _count_tags, _from_snapshot

pytestmark = pytest.mark.django_db

CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: audio}
spec: {owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: player, tags: [java, data, java]}
spec: {type: Service, lifecycle: production, owner: team-a, system: audio}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: lookup, namespace: music, tags: [java]}
spec: {type: service, lifecycle: experimental, owner: team-b}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: web, tags: [js]}
spec: {type: website, lifecycle: production, owner: team-b, system: audio}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: artists}
spec: {type: openapi, lifecycle: production, owner: team-a, system: audio, definition: "openapi: 3.0.0"}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: broken}
spec: {type: service}
"""

QUERIES = [
    "",
    "kind=Component",
    "kind=component,api&after=component:default/player",
    "type=SERVICE",
    "lifecycle=production&kind=component",
    "namespace=music",
    "system=system:default/audio&type=website,openapi",
    "system=SYSTEM:default/Audio",
    "owner=group:default/team-a",
    "owned_by=group:default/team-c,group:default/team-b&kind=component",
    "type=&lifecycle=",
    "mine=1&x=stray&kind=api",
]


@pytest.fixture
def catalog(allow_tmp):
    path = allow_tmp / "catalog-info.yaml"
    path.write_text(CATALOG)
    refresh_location(register_location(str(path), type="file").pk)
    # An admin's verified owner replaces spec.owner in the owner facet and filter.
    EntityOverride.objects.create(entity_ref="component:default/web", verified_owner="group:default/team-c")


def _sorted(summary: dict) -> dict:
    """Facet items regardless of how the database orders equal counts."""
    return {
        "total": summary["total"],
        "facets": [
            {**facet, "items": sorted(facet["items"], key=lambda item: (-item["count"], item["value"]))}
            for facet in summary["facets"]
        ],
    }


@pytest.mark.parametrize("query", QUERIES)
def test_snapshot_counts_equal_the_database(catalog, query):
    params = QueryDict(query, mutable=True)
    live = EntityFilterSet(params, queryset=Entity.objects.all()).qs
    from_snapshot = _from_snapshot(live, params, params)
    assert from_snapshot is not None
    assert _sorted(from_snapshot) == _sorted({"total": live.count(), "facets": _count_facets(live, params)})
    assert from_snapshot["total"] or "team-c" in query or "music" in query
    # Tags are counted from the tags column: the same as the search rows count.
    rows = SearchRow.objects.filter(key="metadata.tags", entity__in=live).values_list("value").annotate(n=Count("*"))
    assert sorted(_count_tags(live)) == sorted(rows)


@pytest.mark.parametrize("query", ["lifecycle=production&kind=component", "type=SERVICE,website&namespace=default"])
def test_filters_on_columns_are_counted_without_a_query(catalog, query, django_assert_num_queries):
    facets.warm()  # as the worker does after a change
    params = QueryDict(query)
    with django_assert_num_queries(0):  # the total, the column facets and the tags: all from the snapshots
        summary = _from_snapshot(Entity.objects.all(), params, params)
    assert summary["facets"][3]["label"] == "Tags"
    assert {item["value"]: item["count"] for item in summary["facets"][3]["items"]} == {"java": 1, "data": 1, "js": 1}


def test_owner_override_counts(catalog):
    facets.warm()
    params = QueryDict("kind=component")
    summary = _from_snapshot(Entity.objects.all(), params, params)
    owners = {item["value"]: item["count"] for item in summary["facets"][2]["items"]}
    assert owners == {"group:default/team-a": 1, "group:music/team-b": 1, "group:default/team-c": 1}


@pytest.mark.parametrize("query", ["q=player", "tag=java", "has_errors=true", "starred=true", "type=\u017fervice"])
def test_filters_the_snapshot_cannot_answer(catalog, query):
    assert _column_tests(QueryDict(query)) is None


def test_pages_share_their_counts(catalog, logged_in_client, django_assert_max_num_queries):
    first = logged_in_client.get("/catalog/?kind=component")
    assert first.status_code == 200
    after = first.context["next_query"] or "kind=component&after=component:default/broken"
    with django_assert_max_num_queries(8) as captured:
        page = logged_in_client.get(f"/catalog/?{after}")
    # No count and no facet query: every page of a listing shares its cached summary.
    assert not [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert page.context["total"] == first.context["total"] == 4


def test_filters_ignoring_case_have_planner_statistics(catalog):
    """PostgreSQL (migration 0010): an ANALYZE gathers statistics on the upper-cased columns that the
    page's filters compare, so the planner does not guess one row for ``UPPER(lifecycle) = 'PRODUCTION'``
    (and choose a sequential scan for a page of 50). SQLite has no such statistics, nor needs them."""
    if connection.vendor != "postgresql":
        return
    migration = importlib.import_module("catalog.migrations.0010_case_insensitive_filter_statistics")
    with connection.schema_editor() as editor:  # the suite builds its tables from the models, not migrations
        migration.forwards(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_entity")
        cursor.execute(
            "SELECT expr, most_common_vals::text FROM pg_stats_ext_exprs WHERE statistics_name = 'entity_upper_columns'"
        )
        gathered = dict(cursor.fetchall())
    assert "PRODUCTION" in gathered["upper((lifecycle)::text)"]
    assert set(gathered) == {"upper((spec_type)::text)", "upper((lifecycle)::text)", "upper((namespace)::text)"}
