"""Pairs -> clusters that do not chain: every two members match each other directly.

Connected components alone let A~B and B~C pull A and C together although they may be two
people sharing one phone. So a component of three or more records is first completed (its
missing member pairs are compared and scored), then rebuilt from its strongest links down,
joining two groups only when every cross pair is itself a link (complete linkage). A component
that is already complete is kept as it is. Everything runs on the small edge list.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]
MAX_COMPLETE = 60  # larger components are split greedily without comparing every member pair


def components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(i), np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def cluster(
    n: int,
    i: np.ndarray,
    j: np.ndarray,
    score: np.ndarray,
    link_at: float,
    scorer: Scorer,
    connect: Callable[[int, np.ndarray, np.ndarray], np.ndarray] = components,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Cluster label per record (-1 = no duplicate) and the extra pairs scored to check cliques.

    `i, j, score` are the pairs at or above `link_at`; `scorer(i, j)` scores any other pairs.
    `connect(n, i, j)` labels the connected components (any labels: only which records share
    one matters); a distributed engine passes its own for edge lists too large for one machine.
    """
    labels = connect(n, i, j) if len(i) else np.arange(n)
    size = np.bincount(labels, minlength=n)
    comp_edges = np.bincount(labels[i], minlength=n) if len(i) else np.zeros(n, np.int64)
    need = size * (size - 1) // 2
    bad = np.flatnonzero((size >= 3) & (comp_edges < need))
    extra_i = np.zeros(0, np.int64)
    extra_j = np.zeros(0, np.int64)
    extra_s = np.zeros(0, np.float64)
    out = np.where(size[labels] >= 2, labels, -1)
    if len(bad) == 0:
        return out, (extra_i, extra_j, extra_s)
    in_bad = np.isin(labels, bad)
    nodes = np.flatnonzero(in_bad)
    # complete the small broken components: every member pair not yet scored is scored now
    known = set(zip(i.tolist(), j.tolist(), strict=True))
    by_comp: dict[int, list[int]] = {}
    for node in nodes.tolist():
        by_comp.setdefault(int(labels[node]), []).append(node)
    mi: list[int] = []
    mj: list[int] = []
    for members in by_comp.values():
        if len(members) > MAX_COMPLETE:
            continue
        for x_pos, x in enumerate(members):
            for y in members[x_pos + 1 :]:
                if (x, y) not in known:
                    mi.append(x)
                    mj.append(y)
    if mi:
        extra_i = np.array(mi, np.int64)
        extra_j = np.array(mj, np.int64)
        extra_s = scorer(extra_i, extra_j)
    strong: dict[tuple[int, int], float] = {}
    sel = in_bad[i]
    for a, b, s in zip(i[sel].tolist(), j[sel].tolist(), score[sel].tolist(), strict=True):
        strong[(a, b)] = s
    for a, b, s in zip(extra_i.tolist(), extra_j.tolist(), extra_s.tolist(), strict=True):
        if s >= link_at:
            strong[(a, b)] = s
    strong_by_comp: dict[int, list[tuple[float, int, int]]] = {}
    for (a, b), sc in strong.items():
        strong_by_comp.setdefault(int(labels[a]), []).append((sc, a, b))
    for comp, members in by_comp.items():
        _complete_linkage(members, strong_by_comp.get(comp, []), strong, out)
    return out, (extra_i, extra_j, extra_s)


def _complete_linkage(
    members: list[int],
    comp_edges: list[tuple[float, int, int]],
    strong: dict[tuple[int, int], float],
    out: np.ndarray,
) -> None:
    """Merge groups along the strongest links, only when all cross pairs are links."""
    group = {m: m for m in members}
    parts: dict[int, list[int]] = {m: [m] for m in members}
    edges = sorted(comp_edges, key=lambda e: (-e[0], e[1], e[2]))
    for _, a, b in edges:
        ga, gb = group[a], group[b]
        if ga == gb:
            continue
        if all((min(x, y), max(x, y)) in strong for x in parts[ga] for y in parts[gb]):
            keep, drop = (ga, gb) if ga < gb else (gb, ga)
            for x in parts[drop]:
                group[x] = keep
            parts[keep].extend(parts.pop(drop))
    for root, part in parts.items():
        for x in part:
            out[x] = len(out) + root if len(part) >= 2 else -1
