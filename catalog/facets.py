"""Facet counts kept as one snapshot per catalog version, so that facet requests do not count live.

Counting a column over 100k entities costs PostgreSQL 60-80 ms however it is indexed, and a facet with a
filter on search rows 500 ms. Most facet questions name only the denormalised columns (kind, namespace,
type, lifecycle, owner), both as the facet and in the filter. One ``GROUP BY`` of those columns per
catalog version (25k cells at 100k entities, a few dozen without the owner) answers every such question
in memory. The worker builds the snapshots right after a refresh changes something (``warm``); a request
that finds none builds it once for everybody.

The catalog page counts its total and facets (with the effective owner and the system) from a second,
larger snapshot of the same kind (``page_counts``). A third keeps tags beside the low-cardinality columns:
the page's tag counts (``page_tag_counts``), tag facets filtered by kind and column facets within one tag.
Facets on other keys filtered by kind at most read a per-key snapshot kept in each process.

A filter on a column key means "an entity with this search row" (Backstage's semantics), so the snapshot
answers filters on a column only where the column and the search rows agree for every entity: a key
whose values are sometimes lists, too long to be indexed, or empty is answered live.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count

from catalog import predicates
from catalog.cache import VERSION, per_version
from catalog.filter_syntax import QueryError, parse_filter
from catalog.ingestion.search import MAX_VALUE_LENGTH
from catalog.models import Entity, SearchRow
from catalog.owners import effective_owner_expression

#: Backstage facet keys served from columns, and their column.
FACET_COLUMNS = {
    "kind": "kind", "metadata.namespace": "namespace", "spec.type": "spec_type",
    "spec.lifecycle": "lifecycle", "relations.ownedby": "owner_ref",
}  # fmt: skip
_CELL_COLUMNS = ("kind", "valid", *(c for c in FACET_COLUMNS.values() if c != "kind"))
_POSITION = {key: _CELL_COLUMNS.index(column) for key, column in FACET_COLUMNS.items()}
_OWNER = "relations.ownedby"
_TAGS = "metadata.tags"
#: Facet keys the tag snapshot keeps, and their position in its cells.
_TAG_POSITION = {"kind": 0, "spec.type": 1, "spec.lifecycle": 2, "metadata.namespace": 3}
#: Per-key snapshots of search-row facets: kept only up to this many (kind, value) pairs, for this many keys
#: per process (any key can be asked for, so they are not shared through the cache).
MAX_ROW_FACET_PAIRS = 20_000
ROW_FACET_KEYS = 32

Cell = tuple  # one row of a snapshot's GROUP BY: its columns (each snapshot names them), then the count


@dataclass(frozen=True)
class Snapshot:
    cells: list[Cell]  # (kind, valid, namespace, spec_type, lifecycle, owner_ref, count), one per combination
    coarse: list[Cell]  # the same without the owner: a few dozen cells, for questions not about owners
    exact: frozenset[str]  # column keys whose column agrees with the search rows (filterable here)
    spellings: dict[str, dict[str, tuple[str, ...]]]  # exact key -> lower-cased value -> the column's values


def _build() -> Snapshot:
    rows = Entity.objects.values_list(*_CELL_COLUMNS).annotate(n=Count("id")).order_by()
    cells = [tuple(row) for row in rows]
    coarse: Counter[tuple] = Counter()
    for *columns, count in cells:
        coarse[(*columns[:-1], "")] += count  # the owner blanked
    exact = frozenset(_exact_keys(cells))
    spellings: dict[str, dict[str, set[str]]] = {key: {} for key in exact}
    for cell in cells:
        for key in exact:
            if cell[1] and (value := cell[_POSITION[key]]):
                spellings[key].setdefault(value.lower(), set()).add(value)
    return Snapshot(
        cells,
        [(*cell, n) for cell, n in coarse.items()],
        exact,
        {
            key: {lower: tuple(sorted(found)) for lower, found in by_lower.items()}
            for key, by_lower in spellings.items()
        },
    )


def _exact_keys(cells: list[Cell]) -> list[str]:
    """Column keys where every valid entity with a value has exactly one search row, and no other row
    exists: counting both sides is enough, since each such entity contributes one row of its own."""
    exact = []
    for key, position in _POSITION.items():
        if key == "kind":
            continue
        with_value = [cell for cell in cells if cell[1] and cell[position]]
        if any(len(cell[position]) >= MAX_VALUE_LENGTH for cell in with_value):
            continue  # truncated in the column and not indexed as a search row: not comparable
        rows = SearchRow.objects.filter(key=key, value__isnull=False).count()
        if rows == sum(cell[-1] for cell in with_value):
            exact.append(key)
    return exact


def snapshot() -> Snapshot:
    return per_version("catalog:facet-cells:2", _build)  # a new name for a new shape


def column_spellings(key: str, values: list[str]) -> list[str] | None:
    """For a filter on ``key`` (lower-cased ``values``): the column's values that mean those search rows,
    or None when the column does not agree with the search rows (and never for ``kind``, which has its
    own ref-range condition). Exact values let the database use the column's statistics."""
    if key == "kind" or key not in FACET_COLUMNS:
        return None
    current = snapshot()
    if key not in current.exact:
        return None
    spellings = current.spellings[key]
    return sorted({spelling for value in values for spelling in spellings.get(value, ())})


def warm() -> None:
    """Build the snapshots for the current catalog version (called by the worker after a change)."""
    snapshot()
    _page_snapshot()
    _tag_snapshot()


def kinds_only(filters: list[str]) -> list[str] | None:
    """The kinds a filter list restricts to when it says nothing else ([] = every kind); None otherwise."""
    kinds: list[str] = []
    for value in filters:
        try:
            conditions = parse_filter(value)
        except QueryError:
            return None
        if set(conditions) != {"kind"} or not conditions["kind"]:
            return None
        kinds += conditions["kind"]  # values of one key, and separate filters, are ORed
    return kinds


def _conditions(filters: list[str], exact: frozenset[str]) -> list[list[tuple[int, set[str]]]] | None:
    """Each filter as [(cell position, lower-cased values)], or None if a condition needs search rows."""
    parsed = []
    for value in filters:
        try:
            conditions = parse_filter(value)
        except QueryError:
            return None
        tests = _tests(conditions, _POSITION, exact)
        if tests is None:
            return None
        parsed.append(tests)
    return parsed


def _tests(conditions: dict, positions: dict[str, int], exact: frozenset[str]) -> list[tuple[int, set[str]]] | None:
    """One filter's conditions as [(cell position, lower-cased values)], or None if one needs search rows."""
    tests = []
    for key, values in conditions.items():
        if key not in positions or not values or "" in values or (key != "kind" and key not in exact):
            return None
        tests.append((positions[key], set(values)))
    return tests


def _matches(cell: Cell, filters: list[list[tuple[int, set[str]]]]) -> bool:
    if not filters:
        return True
    if not cell[1] and any(position != 0 for tests in filters for position, _ in tests):
        # An entity that never processed has no search rows: only its kind can match.
        filters = [tests for tests in filters if all(position == 0 for position, _ in tests)]
    return any(all(cell[position].lower() in values for position, values in tests) for tests in filters)


def column_counts(facet: str, filters: list[str]) -> list[dict] | None:
    """``[{value, count}]`` sorted by value from the snapshot (or, within one tag, the tag snapshot); None
    if the facet is not a column or a filter condition cannot be answered from the columns."""
    facet = facet.lower()
    if facet not in FACET_COLUMNS:
        return None
    current = snapshot()
    parsed = _conditions(filters, current.exact)
    if parsed is None:
        return _within_one_tag(facet, filters, current.exact)
    about_owners = facet == _OWNER or any(p == _POSITION[_OWNER] for tests in parsed for p, _ in tests)
    position = _POSITION[facet]
    totals: Counter[str] = Counter()
    for cell in current.cells if about_owners else current.coarse:
        if cell[position] and _matches(cell, parsed):
            totals[cell[position]] += cell[-1]
    return [{"value": value, "count": count} for value, count in sorted(totals.items())]


def predicate_counts(facet: str, node: predicates.Node) -> list[dict] | None:
    """``[{value, count}]`` of a column facet among the entities a predicate matches, from the snapshot's
    cells where every condition is on a column that agrees with its search rows (``$not``, ``$any`` and
    ``$all`` included); None otherwise. A cell mirrors what the SQL conditions mean: kinds as ref ranges
    (whether processed or not), other keys as search rows (which only valid entities have)."""
    facet = facet.lower()
    if facet not in FACET_COLUMNS:
        return None
    current = snapshot()
    keys = _predicate_keys(node)
    if keys is None or any(key != "kind" and (key not in _POSITION or key not in current.exact) for key in keys):
        return None
    position = _POSITION[facet]
    totals: Counter[str] = Counter()
    for cell in current.cells if facet == _OWNER or _OWNER in keys else current.coarse:
        if cell[position] and _holds(node, cell):
            totals[cell[position]] += cell[-1]
    return [{"value": value, "count": count} for value, count in sorted(totals.items())]


def _predicate_keys(node: predicates.Node) -> set[str] | None:
    """The keys a predicate names, or None where a condition cannot be read from cells (a prefix, or an
    equality with the empty string, which a column cannot tell from a missing value)."""
    if isinstance(node, predicates.Field):
        if node.prefix is not None or (node.values is not None and "" in node.values):
            return None
        return {node.key}
    keys: set[str] = set()
    for part in (node.part,) if isinstance(node, predicates.NotOf) else node.parts:
        inner = _predicate_keys(part)
        if inner is None:
            return None
        keys |= inner
    return keys


def _holds(node: predicates.Node, cell: Cell) -> bool:
    if isinstance(node, predicates.NotOf):
        return not _holds(node.part, cell)
    if isinstance(node, predicates.AnyOf):
        return any(_holds(part, cell) for part in node.parts)
    if isinstance(node, predicates.AllOf):
        return all(_holds(part, cell) for part in node.parts)
    value = cell[_POSITION[node.key]]
    if node.values is not None:
        return (node.key == "kind" or cell[1]) and value.lower() in node.values
    has = bool(cell[1] and value)  # a search row: a valid entity with a value
    return has == node.exists


def row_counts(key: str, kinds: list[str]) -> list[dict] | None:
    """``[{value, count}]`` of a search-row key within ``kinds`` ([] = every kind): tags from the tag
    snapshot's valid entities where its tags mean the search rows, any other key from a per-key snapshot;
    None when the key has too many values to keep one."""
    totals: Counter[str] = Counter()
    if key == _TAGS and (tags := _tag_snapshot()).rows_agree:
        for kind in set(kinds) or tags.cells:
            for cell in tags.cells.get(kind, ()):
                if cell[5]:
                    totals[cell[4]] += cell[-1]
        return [{"value": value, "count": count} for value, count in sorted(totals.items())]
    kept, per_kind = VERSION.recent("facet-rows", key, lambda: _build_rows(key), size=ROW_FACET_KEYS)
    if not kept:
        return None
    for kind in set(kinds) or per_kind:
        totals.update(per_kind.get(kind, {}))
    return [{"value": value, "count": count} for value, count in sorted(totals.items())]


def _build_rows(key: str) -> tuple[bool, dict[str, dict[str, int]]]:
    rows = (
        SearchRow.objects.filter(key=key, value__isnull=False)
        .values_list("entity__kind", "value")
        .annotate(n=Count("*"))
        .order_by()
    )
    per_kind: dict[str, Counter[str]] = {}
    for pairs, (kind, value, count) in enumerate(rows.iterator(), start=1):
        if pairs > MAX_ROW_FACET_PAIRS:
            return False, {}  # remembered too: the next request counts live without trying again
        per_kind.setdefault(kind.lower(), Counter())[value] += count
    return True, {kind: dict(counts) for kind, counts in per_kind.items()}


#: The catalog page's facet columns; the owner that counts there is the effective one (catalog/owners.py).
PAGE_COLUMNS = ("kind", "spec_type", "lifecycle", "namespace", "effective_owner", "system_ref")
#: The columns the page's tag snapshot keeps beside each tag: the filters that are not people or systems.
TAG_COLUMNS = PAGE_COLUMNS[:4]
#: Each database's way of reading one row per tag from the ``tags`` JSON column of ``e``, as ``j.value``.
UNNEST_TAGS = {
    "postgresql": "jsonb_array_elements_text(e.tags) AS j(value)",
    "sqlite": "json_each(e.tags) AS j",
}
Test = Callable[[str], bool]


@dataclass(frozen=True)
class PageSnapshot:
    cells: dict[str, list[Cell]]  # lower-cased kind -> (kind, type, lifecycle, namespace, owner, system, count)
    by_kind: dict[str, tuple[int, dict[str, Counter[str]]]]  # lower-cased kind -> (total, column -> counts)


def _build_page_cells() -> PageSnapshot:
    rows = (
        Entity.objects.annotate(effective_owner=effective_owner_expression())
        .values_list(*PAGE_COLUMNS)
        .annotate(n=Count("id"))
        .order_by()
    )
    cells: dict[str, list[Cell]] = {}
    totals: Counter[str] = Counter()
    per_kind: dict[str, dict[str, Counter[str]]] = {}
    for row in rows:
        cell = tuple(row)
        kind = cell[0].lower()
        cells.setdefault(kind, []).append(cell)
        totals[kind] += cell[-1]
        counts = per_kind.setdefault(kind, {column: Counter() for column in PAGE_COLUMNS})
        for column, value in zip(PAGE_COLUMNS, cell, strict=False):  # the last item is the count
            if value:
                counts[column][value] += cell[-1]
    return PageSnapshot(cells, {kind: (totals[kind], counts) for kind, counts in per_kind.items()})


def _page_snapshot() -> PageSnapshot:
    return per_version("catalog:page-facet-snapshot:2", _build_page_cells)


def _allowed(snapshot: PageSnapshot, kinds: list[str], column: str, test: Test) -> set[str]:
    """The values of ``column`` among ``kinds`` that pass ``test``: each distinct value tested once."""
    return {
        value
        for kind in kinds
        for value in snapshot.by_kind.get(kind, (0, {}))[1].get(column, ())
        if test(value)
    }


def _passing(cells: dict[str, list[Cell]], kinds: list[str], checks: list[tuple[int, set[str]]]):
    """The cells of ``kinds`` whose value at each checked position is one of the allowed values (the tests
    turned into sets of the values that pass: a set lookup per cell)."""
    for kind in kinds:
        for cell in cells.get(kind, ()):
            if all(cell[position] in allowed for position, allowed in checks):
                yield cell


def page_counts(kinds: list[str], tests: list[tuple[str, Test]]) -> tuple[int, dict[str, Counter[str]]]:
    """The catalog page's total and its per-column counts over the entities of ``kinds`` ([] = all) whose
    columns pass every other ``(column, test)``, from a per-version snapshot: one cell per distinct
    combination of the columns, grouped by kind, and each kind's counts summed up front for the page's
    commonest filter."""
    snapshot = _page_snapshot()
    counts: dict[str, Counter[str]] = {column: Counter() for column in PAGE_COLUMNS}
    selected = sorted(set(kinds)) if kinds else list(snapshot.by_kind)
    if not tests:
        total = 0
        for kind in selected:
            kind_total, per_column = snapshot.by_kind.get(kind, (0, {}))
            total += kind_total
            for column, values in per_column.items():
                counts[column].update(values)
        return total, counts
    checks = [(PAGE_COLUMNS.index(column), _allowed(snapshot, selected, column, test)) for column, test in tests]
    columns = list(enumerate(counts.values()))
    total = 0
    for cell in _passing(snapshot.cells, selected, checks):
        n = cell[-1]
        total += n
        for position, counter in columns:
            if cell[position]:
                counter[cell[position]] += n
    return total, counts


@dataclass(frozen=True)
class TagSnapshot:
    cells: dict[str, list[Cell]]  # lower-cased kind -> (kind, type, lifecycle, namespace, tag, valid, count)
    rows_agree: bool  # every valid entity's distinct tags are exactly its metadata.tags search rows


def _build_tags() -> TagSnapshot:
    """Entities per (kind, type, lifecycle, namespace, tag, valid), grouped by lower-cased kind, and
    whether the tags column means what the search rows mean: counting both sides, as ``_exact_keys``
    does (validation keeps a valid entity's tags short and lower-case; a disagreement shows up as a
    different count, and the facets then count live)."""
    table = connection.ops.quote_name(Entity._meta.db_table)
    sql = (
        f"SELECT e.kind, e.spec_type, e.lifecycle, e.namespace, j.value, e.valid, COUNT(DISTINCT e.id) "  # noqa: S608
        f"FROM {table} AS e, {UNNEST_TAGS[connection.vendor]} "
        "GROUP BY e.kind, e.spec_type, e.lifecycle, e.namespace, j.value, e.valid"
    )
    cells: dict[str, list[Cell]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql)
        for *columns, valid, count in cursor.fetchall():
            cells.setdefault(columns[0].lower(), []).append((*columns, bool(valid), count))
    valid = [cell for kind_cells in cells.values() for cell in kind_cells if cell[5]]
    rows = SearchRow.objects.filter(key=_TAGS, value__isnull=False).count()
    agree = rows == sum(cell[-1] for cell in valid) and all(
        isinstance(cell[4], str) and cell[4] == cell[4].lower() and len(cell[4]) < MAX_VALUE_LENGTH for cell in valid
    )
    return TagSnapshot(cells, agree)


def _tag_snapshot() -> TagSnapshot:
    return per_version("catalog:tag-snapshot", _build_tags)


def page_tag_counts(kinds: list[str], tests: list[tuple[str, Test]]) -> Counter[str] | None:
    """Entities per tag among ``kinds`` ([] = all) whose columns pass every ``(column, test)``, from the
    per-version tag snapshot (the tags column, as the page counts them); None when a test is on a column
    it does not keep (the owner, the system), which the caller counts in the database."""
    if any(column not in TAG_COLUMNS for column, _ in tests):
        return None
    cells = _tag_snapshot().cells
    allowed = _page_snapshot()
    selected = sorted(set(kinds)) if kinds else list(cells)
    checks = [(TAG_COLUMNS.index(column), _allowed(allowed, selected, column, test)) for column, test in tests]
    counts: Counter[str] = Counter()
    for cell in _passing(cells, selected, checks):
        counts[cell[4]] += cell[-1]
    return counts


def _within_one_tag(facet: str, filters: list[str], exact: frozenset[str]) -> list[dict] | None:
    """A facet on kind, namespace, type or lifecycle within one tag (``filter=metadata.tags=java``, with
    conditions on those columns beside it), from the tag snapshot's valid entities; None otherwise. One tag
    only: an entity has each tag once, so its cell is counted once."""
    if facet not in _TAG_POSITION or len(filters) != 1:
        return None
    try:
        conditions = parse_filter(filters[0])
    except QueryError:
        return None
    tags = conditions.pop(_TAGS, None)
    if not tags or len(tags) != 1:
        return None
    tests = _tests(conditions, _TAG_POSITION, exact)
    current = _tag_snapshot() if tests is not None else None
    if current is None or not current.rows_agree:
        return None
    position, totals = _TAG_POSITION[facet], Counter()
    for kind_cells in current.cells.values():
        for cell in kind_cells:
            if cell[5] and cell[4] in tags and cell[position] and all(cell[p].lower() in v for p, v in tests):
                totals[cell[position]] += cell[-1]
    return [{"value": value, "count": count} for value, count in sorted(totals.items())]
