# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Per-block N-1 statistics in one pass (nogil); twin: ``gridplan/core/contingency_stats.py``.

Element loading from branch loading, blanking of the outaged elements, worst value per
outage, running top-N worst outages per element, lowest/highest voltage per bus, and the
violation rows, for one block of solved outages: in one call (``block_stats``) or split into
``block_reduce`` (the block on its own, on any thread) and ``merge_block`` (in block order).
"""

import numpy as np

cimport numpy as cnp
from libc.math cimport INFINITY, isnan, NAN
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy

cnp.import_array()

ctypedef cnp.int64_t i64


cdef inline void _push(i64* v_pos, signed char* v_kind, i64* v_row, double* v_val,
                       Py_ssize_t at, i64 p, signed char kind, i64 row, double x) noexcept nogil:
    """Write violation row ``at``: outage ``p``, ``kind``, element/bus ``row``, value ``x``."""
    v_pos[at] = p
    v_kind[at] = kind
    v_row[at] = row
    v_val[at] = x


cdef bint _grow(i64** v_pos, signed char** v_kind, i64** v_row, double** v_val,
                Py_ssize_t cap) noexcept nogil:
    """Enlarge the four violation buffers to ``cap`` rows; False (buffers intact) on failure."""
    cdef void* a = realloc(v_pos[0], cap * sizeof(i64))
    if a == NULL:
        return False
    v_pos[0] = <i64*> a
    a = realloc(v_kind[0], cap * sizeof(signed char))
    if a == NULL:
        return False
    v_kind[0] = <signed char*> a
    a = realloc(v_row[0], cap * sizeof(i64))
    if a == NULL:
        return False
    v_row[0] = <i64*> a
    a = realloc(v_val[0], cap * sizeof(double))
    if a == NULL:
        return False
    v_val[0] = <double*> a
    return True


def block_stats(
    ld, mon_branch, vm, pos, ok, own_ptr, own_idx, mon_order, bus_order,
    double max_ld, double vm_lo, double vm_hi, eld,
    top_val, top_idx, vmin, vmin_idx, vmax, vmax_idx,
    o_ld, o_el, o_vmin, o_vmin_bus, o_vmax, o_vmax_bus,
):
    """Statistics of one block folded into the running arrays; returns violation rows
    ``(pos, kind, row, value)``: :func:`block_reduce` then :func:`merge_block`.

    See the twin for the meaning of every argument. Rows are handled in ascending ``pos``
    (ties go to the earlier outage); violations come out grouped by outage in that order,
    loading (kind 0, ``mon_order``) before voltage (kind 1 low, 2 high, ``bus_order``).
    """
    nb, n_mon, top, n_bus = ld.shape[0], mon_branch.shape[0], top_val.shape[1], vm.shape[1]
    cand_val = np.empty((n_mon, top))
    cand_pos = np.empty((n_mon, top), dtype=np.int64)
    o_val = np.empty((nb, 3))
    o_arg = np.empty((nb, 3), dtype=np.int64)
    b_val = np.empty((2, n_bus))
    b_pos = np.empty((2, n_bus), dtype=np.int64)
    rows = block_reduce(
        ld, mon_branch, vm, pos, ok, own_ptr, own_idx, mon_order, bus_order, max_ld, vm_lo,
        vm_hi, eld, cand_val, cand_pos, o_val, o_arg, b_val, b_pos,
    )
    merge_block(
        pos, o_val, o_arg, cand_val, cand_pos, b_val, b_pos, top_val, top_idx, vmin,
        vmin_idx, vmax, vmax_idx, o_ld, o_el, o_vmin, o_vmin_bus, o_vmax, o_vmax_bus,
    )
    return rows


def block_reduce(
    const double[:, ::1] ld,
    const i64[:, ::1] mon_branch,
    const double[:, ::1] vm,
    const i64[::1] pos,
    const unsigned char[::1] ok,
    const i64[::1] own_ptr,
    const i64[::1] own_idx,
    const i64[::1] mon_order,
    const i64[::1] bus_order,
    double max_ld,
    double vm_lo,
    double vm_hi,
    double[:, ::1] eld,
    double[:, ::1] cand_val,
    i64[:, ::1] cand_pos,
    double[:, ::1] o_val,
    i64[:, ::1] o_arg,
    double[:, ::1] b_val,
    i64[:, ::1] b_pos,
):
    """The order-free part of :func:`block_stats` for one block, into block-own outputs.

    Touches no running state, so blocks can be reduced on any thread at once; merged in
    block order by :func:`merge_block` they give exactly :func:`block_stats`'s results.
    See the twin for the outputs; returns the violation rows as :func:`block_stats` does.
    """
    cdef Py_ssize_t nb = ld.shape[0]
    cdef Py_ssize_t n_mon = mon_branch.shape[0]
    cdef Py_ssize_t n_bus = vm.shape[1]
    cdef Py_ssize_t top = cand_val.shape[1]
    cdef Py_ssize_t j, e, q, b, k, c
    cdef Py_ssize_t n_viol = 0, cap = 1024
    cdef i64 p
    cdef double x, y, best
    cdef i64 arg
    cdef cnp.ndarray[i64, ndim=1] order = np.argsort(np.asarray(pos), kind="stable")
    cdef i64[::1] rows = order
    cdef i64* v_pos = <i64*> malloc(cap * sizeof(i64))
    cdef signed char* v_kind = <signed char*> malloc(cap * sizeof(signed char))
    cdef i64* v_row = <i64*> malloc(cap * sizeof(i64))
    cdef double* v_val = <double*> malloc(cap * sizeof(double))
    cdef double lo, hi
    cdef i64 a_lo, a_hi
    cdef bint mon_in_order = True, bus_in_order = True
    cdef cnp.ndarray[i64, ndim=1] mb0_a = np.ascontiguousarray(np.asarray(mon_branch)[:, 0])
    cdef i64[::1] mb0 = mb0_a
    cdef cnp.ndarray[i64, ndim=1] extra_a = np.flatnonzero(
        (np.asarray(mon_branch)[:, 1:] >= 0).any(axis=1)
    ).astype(np.int64)
    cdef i64[::1] extra = extra_a
    cdef Py_ssize_t n_extra = extra_a.shape[0]
    for k in range(n_mon):
        if mon_order[k] != k:
            mon_in_order = False
            break
    for k in range(n_bus):
        if bus_order[k] != k:
            bus_in_order = False
            break
    cdef bint failed = v_pos == NULL or v_kind == NULL or v_row == NULL or v_val == NULL
    with nogil:
        for e in range(n_mon):
            for k in range(top):
                cand_val[e, k] = -INFINITY
                cand_pos[e, k] = -1
        for j in range(nb):
            o_val[j, 0] = NAN
            o_val[j, 1] = NAN
            o_val[j, 2] = NAN
            o_arg[j, 0] = -1
            o_arg[j, 1] = -1
            o_arg[j, 2] = -1
        for b in range(n_bus):
            b_val[0, b] = INFINITY
            b_val[1, b] = -INFINITY
            b_pos[0, b] = -1
            b_pos[1, b] = -1
        for q in range(0 if failed else nb):
            j = rows[q]
            for e in range(n_mon):
                eld[j, e] = ld[j, mb0[e]]
            for k in range(n_extra):
                e = extra[k]
                x = eld[j, e]
                for c in range(1, 3):
                    b = mon_branch[e, c]
                    if b >= 0:
                        y = ld[j, b]
                        if isnan(x) or (not isnan(y) and y > x):
                            x = y
                eld[j, e] = x
            for k in range(own_ptr[j], own_ptr[j + 1]):
                eld[j, own_idx[k]] = NAN
            if not ok[j]:
                continue
            p = pos[j]
            if n_viol + n_mon + n_bus > cap:
                while n_viol + n_mon + n_bus > cap:
                    cap *= 2
                if not _grow(&v_pos, &v_kind, &v_row, &v_val, cap):
                    failed = True
                    break
            best = -INFINITY
            arg = -1
            for e in range(n_mon):
                x = eld[j, e]
                if x > best and x < INFINITY:
                    best = x
                    arg = e
                # the block's own top-N per element (same insertion as block_stats)
                if x > cand_val[e, top - 1] and x < INFINITY:
                    k = top - 1
                    while k > 0 and cand_val[e, k - 1] < x:
                        cand_val[e, k] = cand_val[e, k - 1]
                        cand_pos[e, k] = cand_pos[e, k - 1]
                        k -= 1
                    cand_val[e, k] = x
                    cand_pos[e, k] = p
                if mon_in_order and x > max_ld:
                    _push(v_pos, v_kind, v_row, v_val, n_viol, p, 0, e, x)
                    n_viol += 1
            if arg >= 0:
                o_val[j, 0] = best
                o_arg[j, 0] = arg
            if not mon_in_order:
                for k in range(n_mon):
                    e = mon_order[k]
                    x = eld[j, e]
                    if x > max_ld:
                        _push(v_pos, v_kind, v_row, v_val, n_viol, p, 0, e, x)
                        n_viol += 1
            lo = INFINITY
            hi = -INFINITY
            a_lo = -1
            a_hi = -1
            for b in range(n_bus):
                x = vm[j, b]
                if x < lo and x > -INFINITY:
                    lo = x
                    a_lo = b
                if x > hi and x < INFINITY:
                    hi = x
                    a_hi = b
                if x < b_val[0, b] and x > -INFINITY:
                    b_val[0, b] = x
                    b_pos[0, b] = p
                if x > b_val[1, b] and x < INFINITY:
                    b_val[1, b] = x
                    b_pos[1, b] = p
                if bus_in_order and (x < vm_lo or x > vm_hi):
                    _push(v_pos, v_kind, v_row, v_val, n_viol, p, (1 if x < vm_lo else 2), b, x)
                    n_viol += 1
            if a_lo >= 0:
                o_val[j, 1] = lo
                o_arg[j, 1] = a_lo
            if a_hi >= 0:
                o_val[j, 2] = hi
                o_arg[j, 2] = a_hi
            if not bus_in_order:
                for k in range(n_bus):
                    b = bus_order[k]
                    x = vm[j, b]
                    if x < vm_lo or x > vm_hi:
                        _push(v_pos, v_kind, v_row, v_val, n_viol, p, (1 if x < vm_lo else 2), b, x)
                        n_viol += 1
    if failed:
        free(v_pos)
        free(v_kind)
        free(v_row)
        free(v_val)
        raise MemoryError("no memory for the violation rows")
    v_pos_a = np.empty(n_viol, dtype=np.int64)
    v_kind_a = np.empty(n_viol, dtype=np.int8)
    v_row_a = np.empty(n_viol, dtype=np.int64)
    v_val_a = np.empty(n_viol, dtype=np.float64)
    if n_viol:
        memcpy(cnp.PyArray_DATA(v_pos_a), v_pos, n_viol * sizeof(i64))
        memcpy(cnp.PyArray_DATA(v_kind_a), v_kind, n_viol * sizeof(signed char))
        memcpy(cnp.PyArray_DATA(v_row_a), v_row, n_viol * sizeof(i64))
        memcpy(cnp.PyArray_DATA(v_val_a), v_val, n_viol * sizeof(double))
    free(v_pos)
    free(v_kind)
    free(v_row)
    free(v_val)
    return v_pos_a, v_kind_a, v_row_a, v_val_a


def merge_block(
    const i64[::1] pos,
    const double[:, ::1] o_val,
    const i64[:, ::1] o_arg,
    const double[:, ::1] cand_val,
    const i64[:, ::1] cand_pos,
    const double[:, ::1] b_val,
    const i64[:, ::1] b_pos,
    double[:, ::1] top_val,
    i64[:, ::1] top_idx,
    double[::1] vmin,
    i64[::1] vmin_idx,
    double[::1] vmax,
    i64[::1] vmax_idx,
    double[::1] o_ld,
    i64[::1] o_el,
    double[::1] o_vmin,
    i64[::1] o_vmin_bus,
    double[::1] o_vmax,
    i64[::1] o_vmax_bus,
):
    """Fold a :func:`block_reduce` output into the running arrays (nogil, O(n_mon top + n_bus)).

    Blocks merged in the order :func:`block_stats` would have taken them give its results.
    """
    cdef Py_ssize_t nb = pos.shape[0]
    cdef Py_ssize_t n_mon = cand_val.shape[0]
    cdef Py_ssize_t top = top_val.shape[1]
    cdef Py_ssize_t n_bus = b_val.shape[1]
    cdef Py_ssize_t j, e, k, c, b
    cdef i64 p
    cdef double x
    with nogil:
        for j in range(nb):
            p = pos[j]
            if o_arg[j, 0] >= 0:
                o_ld[p] = o_val[j, 0]
                o_el[p] = o_arg[j, 0]
            if o_arg[j, 1] >= 0:
                o_vmin[p] = o_val[j, 1]
                o_vmin_bus[p] = o_arg[j, 1]
            if o_arg[j, 2] >= 0:
                o_vmax[p] = o_val[j, 2]
                o_vmax_bus[p] = o_arg[j, 2]
        for e in range(n_mon):
            # the candidates descend and the threshold only rises: the first miss ends it
            for c in range(cand_val.shape[1]):
                x = cand_val[e, c]
                if not (x > top_val[e, top - 1] and x < INFINITY):
                    break
                k = top - 1
                while k > 0 and top_val[e, k - 1] < x:
                    top_val[e, k] = top_val[e, k - 1]
                    top_idx[e, k] = top_idx[e, k - 1]
                    k -= 1
                top_val[e, k] = x
                top_idx[e, k] = cand_pos[e, c]
        for b in range(n_bus):
            x = b_val[0, b]
            if x < vmin[b]:
                vmin[b] = x
                vmin_idx[b] = b_pos[0, b]
            x = b_val[1, b]
            if x > vmax[b]:
                vmax[b] = x
                vmax_idx[b] = b_pos[1, b]
