"""The catalog list (facets, search, keyset pagination) and the entity page with its tabs."""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog import facets as facet_snapshot
from catalog.cache import versioned_key
from catalog.filtersets import EntityFilterSet
from catalog.models import Entity, EntityOverride, Star
from catalog.models.visits import record_visit
from catalog.owners import effective_owner, effective_owner_expression
from catalog.permissions import REGISTER, can, entity_filter, owner_actions, readable
from plugins.tabs import tabs_for
from portal.access import access_version, subject_for
from portal.bookkeeping import best_effort

PAGE_SIZE = 50
FACETS = [
    ("kind", "kind", "Kind"),
    ("type", "spec_type", "Type"),
    ("owner", "effective_owner", "Owner"),
    ("lifecycle", "lifecycle", "Lifecycle"),
    ("system", "system_ref", "System"),
    ("namespace", "namespace", "Namespace"),
]
# Facet columns that are expressions (annotated only on the query counting them): the owner that counts is
# an admin's verified owner, else spec.owner (catalog/owners.py).
COMPUTED = {"effective_owner": effective_owner_expression}
FACET_PARAMS = {"type": "spec_type", "lifecycle": "lifecycle", "namespace": "namespace", "system": "system_ref"}

FACET_CACHE_SECONDS = 300


def _summary(queryset, params, filter_params, user) -> dict:
    """The listing's total and facet counts, cached until the catalog (or the access rules) change.

    Every page of a listing shares them (``after`` is not part of the key). The cache is shared only
    between people who may read everything; anyone else gets their own entry, so counts never reveal
    entities across different visibilities.
    """
    params = params.copy()
    params.pop("after", None)
    unrestricted = entity_filter(user).unrestricted
    personal = str(user.pk) if params.get("mine") or params.get("starred") else ""
    if not unrestricted:
        personal = f"restricted:{user.pk}:{access_version()}"
    key = versioned_key("catalog:listing", params.urlencode(), personal)
    summary = cache.get(key)
    if summary is None:
        summary = (_from_snapshot(queryset, params, filter_params) if unrestricted else None) or {
            "total": queryset.count(),
            "facets": _count_facets(queryset, params),
        }
        cache.set(key, summary, FACET_CACHE_SECONDS)
    return summary


def _facet_items(rows, param: str, params) -> list[dict]:
    selected = {v.lower() for v in params.get(param, "").split(",") if v}
    items = []
    for value, count in rows:
        query = params.copy()
        query[param] = "" if value.lower() in selected else value
        query.pop("after", None)
        items.append({"value": value, "count": count, "on": value.lower() in selected, "query": query.urlencode()})
    return items


def _count_facets(queryset, params) -> list[dict]:
    rows_by_column = {}
    for _, column, _ in FACETS:
        rows = queryset.annotate(**{column: COMPUTED[column]()}) if column in COMPUTED else queryset
        rows = rows.exclude(**{column: ""}).values_list(column).annotate(n=Count("id")).order_by("-n", column)
        rows_by_column[column] = rows[:30]
    return _facet_list(rows_by_column, _count_tags(queryset), params)


def _facet_list(rows_by_column: dict, tags, params) -> list[dict]:
    """The page's facets in order, tags fourth, from each facet's commonest ``(value, count)`` rows."""
    facets = [
        {"param": param, "label": label, "items": _facet_items(rows_by_column[column], param, params)}
        for param, column, label in FACETS
    ]
    facets.insert(3, {"param": "tag", "label": "Tags", "items": _facet_items(tags, "tag", params)})
    return facets


def _top(counts) -> list[tuple[str, int]]:
    """The 30 commonest ``(value, count)`` pairs, as the database orders them: by count, then value."""
    return sorted(counts, key=lambda item: (-item[1], item[0]))[:30]


def _count_tags(queryset) -> list[tuple[str, int]]:
    """The 30 commonest tags within ``queryset``, read from the entities' ``tags`` column: one pass over
    the filtered rows, where joining their search rows costs three times as much. The same counts: a
    valid entity's tags are lower-case, short and strings only (validation), so its search rows are
    exactly its distinct tags; an entity that never processed has neither."""
    entities, params = queryset.order_by().values("id", "tags").query.sql_with_params()
    # The ORM's own SQL (its values stay parameters) inside constant text.
    unnest = facet_snapshot.UNNEST_TAGS[connection.vendor]
    sql = (
        f"SELECT j.value, COUNT(DISTINCT e.id) AS n FROM ({entities}) AS e, {unnest} "  # noqa: S608
        "GROUP BY j.value ORDER BY n DESC, j.value LIMIT 30"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(value, n) for value, n in cursor.fetchall()]


def _one_of(values: list[str], *, fold: bool) -> Callable[[str], bool]:
    """A test of a column value; ``fold``: ignoring case as the database's iexact does (ASCII only, where
    its case folding is Python's)."""
    wanted = {v.lower() for v in values}
    if fold:
        return lambda value: value.isascii() and value.lower() in wanted
    return wanted.__contains__


def _column_tests(filter_params) -> tuple[list[str], list[tuple[str, Callable[[str], bool]]]] | None:
    """The listing's filters as its kinds and tests on the facet snapshot's other columns, or None if one
    needs the database (text, tags, errors, stars, orphans)."""
    kinds, tests = [], []
    for param, raw in filter_params.items():
        values = [v.strip() for v in raw.split(",") if v.strip()]
        if param not in EntityFilterSet.base_filters or not values:
            continue  # not a filter (the cursor, stray parameters), or one without a value
        if param == "kind":
            kinds = [v.lower() for v in values]
        elif param in ("owner", "owned_by"):  # refs are stored lower-cased
            tests.append(("effective_owner", _one_of(values, fold=False)))
        elif param in FACET_PARAMS and all(v.isascii() for v in values):
            tests.append((FACET_PARAMS[param], _one_of(values, fold=True)))
        else:
            return None
    return kinds, tests


def _from_snapshot(queryset, params, filter_params) -> dict | None:
    """The total and the column facets from the snapshot; tags from the tag snapshot unless the filter
    names an owner or a system, which are counted in the database (a narrow filter there)."""
    columns = _column_tests(filter_params)
    if columns is None:
        return None
    kinds, tests = columns
    total, counts = facet_snapshot.page_counts(kinds, tests)
    counted = facet_snapshot.page_tag_counts(kinds, tests)
    tags = _count_tags(queryset) if counted is None else _top(counted.items())
    return {"total": total, "facets": _facet_list({c: _top(counts[c].items()) for c in counts}, tags, params)}


def entity_list(request):
    params = request.GET.copy()
    if params.get("mine") == "1":
        refs = subject_for(request.user).refs  # the same memo the read filter uses
        params["owned_by"] = ",".join(refs) or "-"
    filterset = EntityFilterSet(params, queryset=readable(Entity.objects.all(), request.user), request=request)
    queryset = filterset.qs
    # Facets count within the other filters' result, as Backstage's facet pickers do.
    summary = _summary(queryset, request.GET, params, request.user)
    after = request.GET.get("after", "")
    page = list(queryset.filter(ref__gt=after).order_by("ref")[: PAGE_SIZE + 1] if after else
                queryset.order_by("ref")[: PAGE_SIZE + 1])  # fmt: skip
    has_next = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    for entity in page:
        entity.effective_owner = effective_owner(entity)
    next_query = None
    if has_next:
        next_params = request.GET.copy()
        next_params["after"] = page[-1].ref
        next_query = next_params.urlencode()
    starred = set(Star.objects.filter(user=request.user, entity_ref__in=[e.ref for e in page])
                  .values_list("entity_ref", flat=True)) if request.user.is_authenticated else set()  # fmt: skip
    context = {
        "entities": page,
        "total": summary["total"],
        "facets": summary["facets"],
        "q": request.GET.get("q", ""),
        "mine": request.GET.get("mine") == "1",
        "starred_only": request.GET.get("starred") == "true",
        "has_errors": request.GET.get("has_errors") == "true",
        "next_query": next_query,
        "first_query": _without(request.GET.copy(), "after"),
        "is_first": not after,
        "starred": starred,
        "may_register": can(request.user, REGISTER),
    }
    template = (
        "catalog/_entity_table.html"
        if request.htmx and request.htmx.target == "results"
        else "catalog/entity_list.html"
    )
    return render(request, template, context)


def _without(params, key: str) -> str:
    params.pop(key, None)
    return params.urlencode()


def get_entity(request, kind: str, namespace: str, name: str) -> Entity:
    """The entity, or 404 when it does not exist or the user may not read it (the same answer for both)."""
    ref = f"{kind}:{namespace}/{name}".lower()
    return get_object_or_404(readable(Entity.objects.all(), request.user), ref=ref)


def entity_detail(request, namespace: str, kind: str, name: str):
    return entity_tab(request, namespace, kind, name, tab="overview")


def entity_tab(request, namespace: str, kind: str, name: str, tab: str):

    entity = get_entity(request, kind, namespace, name)
    tabs = tabs_for(entity)
    current = next((t for t in tabs if t.slug == tab), None)
    if current is None:
        raise Http404(f"No tab {tab!r} for this entity")
    context = {
        "entity": entity,
        "tabs": tabs,
        "tab": current,
        "override": EntityOverride.objects.filter(entity_ref=entity.ref).first(),
        **current.render(request, entity),
    }
    if request.htmx and request.htmx.target == "tab-body":
        return render(request, current.template, context)
    # The page's header (star, owner buttons) is drawn on full page loads only.
    context["is_starred"] = (
        request.user.is_authenticated and Star.objects.filter(user=request.user, entity_ref=entity.ref).exists()
    )
    context["owner_actions"] = owner_actions(request.user, entity)
    if request.user.is_authenticated:
        # Full page loads only (tab switches are the same visit); skipped while SQLite is locked by a writer.
        best_effort(lambda: record_visit(request.user, entity.ref), "a visit")
    return render(request, "catalog/entity_detail.html", context)


@require_POST
def toggle_star(request, namespace: str, kind: str, name: str):
    entity = get_entity(request, kind, namespace, name)
    star, created = Star.objects.get_or_create(user=request.user, entity_ref=entity.ref)
    if not created:
        star.delete()
    if request.htmx:
        return render(request, "catalog/_star.html", {"entity": entity, "is_starred": created})
    return redirect(entity)
