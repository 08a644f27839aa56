# Shared by the kernels that group entries by a small integer key (``include``d, not a module).

cdef inline void counting_order(
    const long[::1] key, Py_ssize_t m, long[::1] start, long[::1] order
) noexcept nogil:
    """Entries ``e`` grouped by ``key[e]`` (0 <= key < m), stable: group r is
    ``order[start[r]:start[r + 1]]``. ``start`` holds m + 1 numbers, ``order`` one per entry."""
    cdef Py_ssize_t e, r
    cdef Py_ssize_t ne = key.shape[0]
    for r in range(m + 1):
        start[r] = 0
    for e in range(ne):
        start[key[e] + 1] += 1
    for r in range(m):
        start[r + 1] += start[r]
    for e in range(ne):
        order[start[key[e]]] = e
        start[key[e]] += 1
    for r in range(m, 0, -1):
        start[r] = start[r - 1]
    start[0] = 0
