# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Bridges of the branch graph by one iterative DFS (nogil). Twin: gridplan/core/contingency_graph.py."""

import numpy as np

cimport numpy as cnp

cnp.import_array()


def bridge_tree(long n_bus, const long[::1] f, const long[::1] t, const unsigned char[::1] active,
                const long[::1] roots):
    """See :func:`gridplan.core.contingency_graph.bridge_tree`."""
    cdef Py_ssize_t n_br = f.shape[0]
    cdef Py_ssize_t n_roots = roots.shape[0]
    cdef cnp.ndarray[long, ndim=1] ptr_a = np.zeros(n_bus + 1, dtype=np.int64)
    cdef long[::1] ptr = ptr_a
    cdef Py_ssize_t k, i
    for k in range(n_br):
        if active[k]:
            ptr[f[k] + 1] += 1
            ptr[t[k] + 1] += 1
    for i in range(n_bus):
        ptr[i + 1] += ptr[i]
    cdef long m = ptr[n_bus]
    cdef long[::1] nbr = np.empty(m, dtype=np.int64)
    cdef long[::1] eid = np.empty(m, dtype=np.int64)
    cdef long[::1] fill = np.array(ptr_a[:n_bus], dtype=np.int64)
    cdef cnp.ndarray[long, ndim=1] tin_a = np.full(n_bus, -1, dtype=np.int64)
    cdef cnp.ndarray[long, ndim=1] tout_a = np.zeros(n_bus, dtype=np.int64)
    cdef cnp.ndarray[long, ndim=1] order_a = np.zeros(n_bus, dtype=np.int64)
    cdef cnp.ndarray[unsigned char, ndim=1] isb_a = np.zeros(n_br, dtype=np.uint8)
    cdef cnp.ndarray[long, ndim=1] child_a = np.full(n_br, -1, dtype=np.int64)
    cdef long[::1] tin = tin_a
    cdef long[::1] tout = tout_a
    cdef long[::1] order = order_a
    cdef unsigned char[::1] isb = isb_a
    cdef long[::1] child = child_a
    cdef long[::1] low = np.zeros(n_bus, dtype=np.int64)
    cdef long[::1] pedge = np.full(n_bus, -1, dtype=np.int64)
    cdef long[::1] pos = np.zeros(n_bus, dtype=np.int64)
    cdef long[::1] stack = np.zeros(n_bus + 1, dtype=np.int64)
    cdef long sp, u, w, j, p, s, timer = 0, a, b, si
    with nogil:
        for k in range(n_br):
            if active[k]:
                a = f[k]
                b = t[k]
                nbr[fill[a]] = b
                eid[fill[a]] = k
                fill[a] += 1
                nbr[fill[b]] = a
                eid[fill[b]] = k
                fill[b] += 1
        for si in range(n_roots + n_bus):
            s = roots[si] if si < n_roots else si - n_roots
            if tin[s] >= 0:
                continue
            sp = 0
            stack[0] = s
            tin[s] = timer
            low[s] = timer
            order[timer] = s
            timer += 1
            pos[s] = ptr[s]
            while sp >= 0:
                u = stack[sp]
                if pos[u] < ptr[u + 1]:
                    j = pos[u]
                    pos[u] += 1
                    if eid[j] == pedge[u]:
                        continue
                    w = nbr[j]
                    if tin[w] < 0:
                        pedge[w] = eid[j]
                        tin[w] = timer
                        low[w] = timer
                        order[timer] = w
                        timer += 1
                        pos[w] = ptr[w]
                        sp += 1
                        stack[sp] = w
                    elif tin[w] < low[u]:
                        low[u] = tin[w]
                else:
                    sp -= 1
                    tout[u] = timer
                    if sp >= 0:
                        p = stack[sp]
                        if low[u] < low[p]:
                            low[p] = low[u]
                        if low[u] > tin[p]:
                            isb[pedge[u]] = 1
                            child[pedge[u]] = u
    return isb_a, child_a, tin_a, tout_a, order_a
