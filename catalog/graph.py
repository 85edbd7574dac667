"""The dependency graph around one entity: breadth-first over relations, laid out in columns as SVG."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.models import Relation
from catalog.permissions import hidden_refs
from catalog.relations_view import related

DEFAULT_TYPES = ("dependsOn", "dependencyOf", "providesApi", "consumesApi", "apiProvidedBy",
                 "apiConsumedBy", "partOf", "hasPart", "ownedBy")  # fmt: skip
MAX_NODES = 120
NODE_W, NODE_H, COL_GAP, ROW_GAP = 190, 34, 90, 14


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
    resolved = related(set(levels))
    columns: dict[int, list[str]] = {}
    for ref, level in sorted(levels.items(), key=lambda item: (item[1], item[0])):
        columns.setdefault(level, []).append(ref)
    tallest = max(len(refs) for refs in columns.values())
    height = max(1, tallest) * (NODE_H + ROW_GAP) + ROW_GAP
    positions = {}
    graph = Graph(truncated=truncated)
    for level, refs in columns.items():
        x = 10 + level * (NODE_W + COL_GAP)
        offset = (height - len(refs) * (NODE_H + ROW_GAP)) // 2
        for index, ref in enumerate(refs):
            y = offset + index * (NODE_H + ROW_GAP) + ROW_GAP // 2
            positions[ref] = (x, y)
            node = resolved[ref]
            label = node.title if len(node.title) <= 24 else node.title[:23] + "…"
            graph.nodes.append({"ref": ref, "x": x, "y": y, "label": label, "kind": node.kind,
                                "url": node.url, "root": ref == root_ref, "exists": node.exists})  # fmt: skip
    drawn: set[frozenset[str]] = set()
    for source, relation_type, target in sorted(edges, key=lambda e: (levels[e[0]], e)):
        pair = frozenset((source, target))
        (x1, y1), (x2, y2) = positions[source], positions[target]
        if x1 == x2 or pair in drawn:
            continue  # every relation is stored both ways: draw each pair once, from the nearer end
        drawn.add(pair)
        start_x, end_x = (x1 + NODE_W, x2) if x2 > x1 else (x1, x2 + NODE_W)
        graph.edges.append({"x1": start_x, "y1": y1 + NODE_H // 2, "x2": end_x, "y2": y2 + NODE_H // 2,
                            "label": relation_type, "lx": (start_x + end_x) // 2,
                            "ly": (y1 + y2) // 2 + NODE_H // 2 - 4})  # fmt: skip
    graph.width = 20 + (max(columns) + 1) * (NODE_W + COL_GAP)
    graph.height = height
    return graph
