"""The dependency graph around one entity: breadth-first over relations, laid out in columns as SVG."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from catalog.models import Relation
from catalog.permissions import hidden_refs
from catalog.relations_view import related

DEFAULT_TYPES = ("dependsOn", "dependencyOf", "providesApi", "consumesApi", "apiProvidedBy",
                 "apiConsumedBy", "partOf", "hasPart", "ownedBy")  # fmt: skip
MAX_NODES = 120
NODE_W, NODE_H, COL_GAP, ROW_GAP = 190, 34, 90, 14
CENTRE_UP_TO = 8  # columns this tall or shorter are centred vertically


@dataclass
class Graph:
    nodes: list[dict] = field(default_factory=list)
    edges: list[dict] = field(default_factory=list)
    width: int = 0
    height: int = 0
    truncated: bool = False


def build_graph(root_ref: str, *, depth: int = 1, types: tuple[str, ...] = DEFAULT_TYPES, user=None) -> Graph:
    """Nodes up to ``depth`` hops from the root, following only ``types``; one query per hop (two when the
    user's reading is restricted: entities they may not read are neither shown nor walked through)."""
    levels = {root_ref: 0}
    edges: set[tuple[str, str, str]] = set()
    frontier = {root_ref}
    truncated = False
    for hop in range(1, depth + 1):
        if not frontier:
            break
        rows = Relation.objects.filter(source_ref__in=frontier, type__in=types).values_list(
            "source_ref", "type", "target_ref"
        )
        rows = list(rows.distinct())
        hidden = hidden_refs({target for _, _, target in rows} - set(levels), user) if user is not None else set()
        next_frontier = set()
        for source, relation_type, target in rows:
            if target in hidden:
                continue
            if target not in levels:
                if len(levels) >= MAX_NODES:
                    truncated = True
                    continue
                levels[target] = hop
                next_frontier.add(target)
            edges.add((source, relation_type, target))
        frontier = next_frontier
    return _layout(root_ref, levels, edges, truncated)


def _layout(root_ref: str, levels: dict[str, int], edges, truncated: bool) -> Graph:
    """Columns by hop; each column ordered by its neighbours in the column before (fewer crossings);
    one curved edge per connected pair, labelled with every relation type between them."""
    resolved = related(set(levels))
    columns: dict[int, list[str]] = {}
    for ref, level in sorted(levels.items(), key=lambda item: (item[1], item[0])):
        columns.setdefault(level, []).append(ref)
    neighbours: dict[str, set[str]] = {}
    for source, _, target in edges:
        neighbours.setdefault(source, set()).add(target)
        neighbours.setdefault(target, set()).add(source)
    for level in sorted(columns)[1:]:
        before = {ref: index for index, ref in enumerate(columns[level - 1])}

        def barycenter(ref: str, before=before) -> tuple[float, str]:
            places = [before[n] for n in neighbours.get(ref, ()) if n in before]
            return (sum(places) / len(places) if places else len(before), ref)

        columns[level].sort(key=barycenter)
    tallest = max(len(refs) for refs in columns.values())
    height = max(1, tallest) * (NODE_H + ROW_GAP) + ROW_GAP
    positions = {}
    graph = Graph(truncated=truncated)
    centred = tallest <= CENTRE_UP_TO  # small graphs look best centred; big ones keep the root in view
    for level, refs in columns.items():
        x = 10 + level * (NODE_W + COL_GAP)
        offset = (height - len(refs) * (NODE_H + ROW_GAP)) // 2 if centred else 0
        for index, ref in enumerate(refs):
            y = offset + index * (NODE_H + ROW_GAP) + ROW_GAP // 2
            positions[ref] = (x, y)
            node = resolved[ref]
            label = node.title if len(node.title) <= 24 else node.title[:23] + "…"
            graph.nodes.append({"ref": ref, "x": x, "y": y, "label": label, "kind": node.kind, "exists": node.exists,
                                "url": node.path("entity_tab", "graph"), "root": ref == root_ref})  # fmt: skip
    # Every relation is stored both ways: keep the direction that reads away from the root.
    pairs: dict[tuple[str, str], list[str]] = {}
    for source, relation_type, target in sorted(edges, key=lambda e: (levels[e[0]], e)):
        if (target, source) in pairs:
            continue
        pairs.setdefault((source, target), []).append(relation_type)
    arriving = Counter(target for _, target in pairs)
    for (source, target), types in pairs.items():
        edge = _edge(positions[source], positions[target], ", ".join(types))
        edge["near"] = root_ref in (source, target)
        # Where many edges arrive at one node their labels would pile up: those stay in the hover title.
        edge["show_label"] = edge["near"] or arriving[target] <= 2
        graph.edges.append(edge)
    graph.width = 20 + (max(columns) + 1) * (NODE_W + COL_GAP)
    graph.height = height
    return graph


def _edge(start: tuple[int, int], end: tuple[int, int], label: str) -> dict:
    """An SVG path: an S-curve between columns, or an arc on the right for nodes in the same column."""
    (x1, y1), (x2, y2) = start, end
    y1, y2 = y1 + NODE_H // 2, y2 + NODE_H // 2
    if x1 == x2:
        bulge = x1 + NODE_W + COL_GAP // 2
        path = f"M {x1 + NODE_W} {y1} C {bulge} {y1}, {bulge} {y2}, {x2 + NODE_W} {y2}"
        return {"d": path, "label": label, "lx": x1 + NODE_W + 6, "ly": (y1 + y2) // 2, "anchor": "start"}
    sx, ex = (x1 + NODE_W, x2) if x2 > x1 else (x1, x2 + NODE_W)
    middle = (sx + ex) // 2
    path = f"M {sx} {y1} C {middle} {y1}, {middle} {y2}, {ex} {y2}"
    # The label ends just before the arrow, where edges fanning out of one node have separated.
    rightwards = ex > sx
    return {"d": path, "label": label, "lx": ex - 6 if rightwards else ex + 6, "ly": y2 - 4,
            "anchor": "end" if rightwards else "start"}  # fmt: skip
