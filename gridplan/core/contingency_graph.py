"""Bridges of the branch graph (numpy twin of ``ext/contingency_graph.pyx``).

A bridge is a branch whose outage splits the grid. One iterative depth-first search from
the slack bus(es) gives, for every bridge, the bus on its far side (``child``); the buses cut
off by the bridge are then the DFS subtree of ``child``: ``order[tin[child]:tout[child]]``.
Parallel branches are distinct edges, so a double circuit is never a bridge.
"""

from __future__ import annotations

import numpy as np


def bridge_tree(
    n_bus: int,
    f: np.ndarray,
    t: np.ndarray,
    active: np.ndarray,
    roots: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Depth-first search tree and bridges of the multigraph of active branches.

    Parameters
    ----------
    n_bus : int
        Number of buses (graph nodes ``0 .. n_bus-1``).
    f, t : int64 (n_branch,)
        End buses of each branch.
    active : uint8 (n_branch,)
        1 for branches in service (edges of the graph), 0 otherwise.
    roots : int64 (n_roots,)
        Buses to start the search from (the slack buses first); unreached buses are
        started from afterwards in index order.

    Returns
    -------
    is_bridge : uint8 (n_branch,)
        1 when the branch is a bridge.
    child : int64 (n_branch,)
        For a bridge, the end bus farther from the root (its subtree is cut off); -1 otherwise.
    tin, tout : int64 (n_bus,)
        DFS entry position of each bus and one past the last position of its subtree.
    order : int64 (n_bus,)
        Buses in DFS entry order (``order[tin[b]] == b``).
    """
    n_br = f.shape[0]
    deg = np.zeros(n_bus + 1, dtype=np.int64)
    act = np.flatnonzero(active)
    np.add.at(deg, f[act] + 1, 1)
    np.add.at(deg, t[act] + 1, 1)
    ptr = np.cumsum(deg)
    nbr = np.empty(ptr[-1], dtype=np.int64)
    eid = np.empty(ptr[-1], dtype=np.int64)
    fill = ptr[:-1].copy()
    for k in act:
        a, b = int(f[k]), int(t[k])
        nbr[fill[a]] = b
        eid[fill[a]] = k
        fill[a] += 1
        nbr[fill[b]] = a
        eid[fill[b]] = k
        fill[b] += 1

    tin = np.full(n_bus, -1, dtype=np.int64)
    tout = np.zeros(n_bus, dtype=np.int64)
    low = np.zeros(n_bus, dtype=np.int64)
    order = np.zeros(n_bus, dtype=np.int64)
    is_bridge = np.zeros(n_br, dtype=np.uint8)
    child = np.full(n_br, -1, dtype=np.int64)
    parent_edge = np.full(n_bus, -1, dtype=np.int64)
    pos = np.zeros(n_bus, dtype=np.int64)
    timer = 0
    starts = list(np.asarray(roots, dtype=np.int64)) + list(range(n_bus))
    for s in starts:
        if tin[s] >= 0:
            continue
        stack = [int(s)]
        tin[s] = low[s] = timer
        order[timer] = s
        timer += 1
        pos[s] = ptr[s]
        while stack:
            u = stack[-1]
            if pos[u] < ptr[u + 1]:
                j = pos[u]
                pos[u] += 1
                if eid[j] == parent_edge[u]:
                    continue
                w = nbr[j]
                if tin[w] < 0:
                    parent_edge[w] = eid[j]
                    tin[w] = low[w] = timer
                    order[timer] = w
                    timer += 1
                    pos[w] = ptr[w]
                    stack.append(int(w))
                elif tin[w] < low[u]:
                    low[u] = tin[w]
            else:
                stack.pop()
                tout[u] = timer
                if stack:
                    p = stack[-1]
                    if low[u] < low[p]:
                        low[p] = low[u]
                    if low[u] > tin[p]:
                        is_bridge[parent_edge[u]] = 1
                        child[parent_edge[u]] = u
    return is_bridge, child, tin, tout, order
