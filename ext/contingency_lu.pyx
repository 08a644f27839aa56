# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Multi-right-hand-side triangular solves on extracted SuperLU factors (nogil).

Twin: ``gridplan/core/contingency_lu.py``. The right-hand sides are stored row-major
(n, k) so every factor entry updates k contiguous numbers.
"""

import numpy as np

cimport numpy as cnp
from libc.string cimport memcpy

cnp.import_array()

include "counting_sort.pxi"


cdef enum:
    # columns solved together: a panel of n x PANEL numbers stays in cache while the
    # factors stream past (blocks of hundreds of columns spill out of the caches)
    PANEL = 64


def lu_solve_rows(
    const long[::1] l_ptr, const int[::1] l_idx, const double[::1] l_val,
    const long[::1] u_ptr, const int[::1] u_idx, const double[::1] u_val,
    const long[::1] perm_r, const long[::1] perm_c, const double[:, ::1] rhs,
):
    """Solve ``A X = rhs`` with ``Pr A Pc = L U`` (SuperLU convention); returns X (n, k).

    ``L`` is unit lower and ``U`` upper triangular, both CSC (int64 pointers, int32 indices),
    diagonal entries stored (``L`` diagonal first in each column, ``U`` diagonal last).
    :func:`lu_solve_comp` without compensation.
    """
    cdef Py_ssize_t k = rhs.shape[1]
    no_ptr = np.zeros(1, dtype=np.int64)
    no_idx = np.zeros(0, dtype=np.int32)
    no_val = np.zeros(0)
    return lu_solve_comp(
        l_ptr, l_idx, l_val, u_ptr, u_idx, u_val, perm_r, perm_c, rhs,
        np.zeros(k, dtype=np.int64), no_ptr, no_idx, no_val, no_ptr, no_idx, no_val,
        np.zeros((1, 0, 0)),
    )


def unit_reach_solve(
    const long[::1] t_ptr, const int[::1] t_idx, const double[::1] t_val,
    const double[::1] dinv, const long[::1] start, bint unit,
):
    """Sparse ``x_s = T^-1 e_s`` for every ``s`` in ``start``, T lower triangular CSC.

    ``unit``: T has a unit diagonal (``dinv`` unused); otherwise x_j is scaled by
    ``dinv[j]``. Diagonal entries are skipped wherever they are stored. The nonzero
    pattern is the reach of ``s`` in T's graph (depth-first search, Gilbert-Peierls), so
    the work is proportional to the nonzeros of the result, not to n. Returns CSR-like
    ``(ptr int64 (m+1), idx int32, val float64)``, one row per start, in solve order.
    """
    cdef Py_ssize_t n = t_ptr.shape[0] - 1
    cdef Py_ssize_t m = start.shape[0]
    cdef cnp.ndarray[cnp.uint8_t, ndim=1] mark_a = np.zeros(n, dtype=np.uint8)
    cdef cnp.ndarray[long, ndim=1] stack_a = np.empty(n, dtype=np.int64)
    cdef cnp.ndarray[long, ndim=1] pstack_a = np.empty(n, dtype=np.int64)
    cdef cnp.ndarray[long, ndim=1] reach_a = np.empty(n, dtype=np.int64)
    cdef cnp.ndarray[double, ndim=1] x_a = np.zeros(n)
    cdef cnp.uint8_t[::1] mark = mark_a
    cdef long[::1] stack = stack_a
    cdef long[::1] pstack = pstack_a
    cdef long[::1] reach = reach_a
    cdef double[::1] x = x_a
    cdef cnp.ndarray[long, ndim=1] ptr_a = np.zeros(m + 1, dtype=np.int64)
    cdef long[::1] ptr = ptr_a
    cdef Py_ssize_t cap = 16 * m + 16
    cdef cnp.ndarray[int, ndim=1] idx_a = np.empty(cap, dtype=np.int32)
    cdef cnp.ndarray[double, ndim=1] val_a = np.empty(cap)
    cdef int[::1] oidx = idx_a
    cdef double[::1] oval = val_a
    cdef Py_ssize_t s, head, top, j, p, i, r, q, nnz = 0
    cdef bint done
    cdef double xj
    for s in range(m):
        # depth-first search from start[s]: reach[top:n] in topological order
        top = n
        head = 0
        stack[0] = start[s]
        with nogil:
            while head >= 0:
                j = stack[head]
                if not mark[j]:
                    mark[j] = 1
                    pstack[head] = t_ptr[j]
                done = True
                for p in range(pstack[head], t_ptr[j + 1]):
                    i = t_idx[p]
                    if mark[i]:
                        continue
                    pstack[head] = p + 1
                    head += 1
                    stack[head] = i
                    done = False
                    break
                if done:
                    head -= 1
                    top -= 1
                    reach[top] = j
            x[start[s]] = 1.0
            for q in range(top, n):
                j = reach[q]
                if not unit:
                    x[j] *= dinv[j]
                xj = x[j]
                if xj == 0.0:
                    continue
                for p in range(t_ptr[j], t_ptr[j + 1]):
                    r = t_idx[p]
                    if r != j:
                        x[r] -= t_val[p] * xj
        if nnz + (n - top) > cap:
            cap = 2 * (nnz + (n - top))
            idx_a = np.resize(idx_a, cap)
            val_a = np.resize(val_a, cap)
            oidx = idx_a
            oval = val_a
        with nogil:
            for q in range(top, n):
                j = reach[q]
                oidx[nnz] = <int>j
                oval[nnz] = x[j]
                nnz += 1
                x[j] = 0.0
                mark[j] = 0
        ptr[s + 1] = nnz
    return ptr_a, idx_a[:nnz].copy(), val_a[:nnz].copy()


def sparse_row_dots(
    const long[::1] q_ptr, const int[::1] q_idx, const double[::1] q_val,
    const long[::1] h_ptr, const int[::1] h_idx, const double[::1] h_val,
    Py_ssize_t n, Py_ssize_t kmax,
):
    """``out[b, a, j] = q_(b kmax + a) . h_(b kmax + j)`` for sparse rows q and h (CSR-like)."""
    cdef Py_ssize_t nb = (q_ptr.shape[0] - 1) // kmax
    cdef cnp.ndarray[double, ndim=3] out_a = np.zeros((nb, kmax, kmax))
    cdef double[:, :, ::1] out = out_a
    cdef cnp.ndarray[double, ndim=1] w_a = np.zeros(n)
    cdef double[::1] w = w_a
    cdef Py_ssize_t b, a, j, p, rq, rh
    cdef double acc
    with nogil:
        for b in range(nb):
            for a in range(kmax):
                rq = b * kmax + a
                if q_ptr[rq] == q_ptr[rq + 1]:
                    continue
                for p in range(q_ptr[rq], q_ptr[rq + 1]):
                    w[q_idx[p]] = q_val[p]
                for j in range(kmax):
                    rh = b * kmax + j
                    acc = 0.0
                    for p in range(h_ptr[rh], h_ptr[rh + 1]):
                        acc = acc + w[h_idx[p]] * h_val[p]
                    out[b, a, j] = acc
                for p in range(q_ptr[rq], q_ptr[rq + 1]):
                    w[q_idx[p]] = 0.0
    return out_a


def combine_rows(
    Py_ssize_t m, Py_ssize_t ncol, const long[::1] row, const long[::1] src,
    const double[::1] coef,
    const long[::1] g_ptr, const int[::1] g_idx, const double[::1] g_val,
):
    """Sparse rows ``out_r = sum over entries e with row[e] == r of coef[e] g_(src[e])``.

    ``g`` and the result are CSR-like ``(ptr int64, idx int32, val float64)``; the result has
    ``m`` rows, columns in first-seen order. (Gustavson: one dense accumulator row.)
    """
    cdef Py_ssize_t ne = row.shape[0]
    cdef cnp.ndarray[long, ndim=1] ptr_a = np.zeros(m + 1, dtype=np.int64)
    cdef long[::1] ptr = ptr_a
    cdef cnp.ndarray[long, ndim=1] start_a = np.zeros(m + 1, dtype=np.int64)
    cdef long[::1] start = start_a
    cdef cnp.ndarray[long, ndim=1] order_a = np.empty(ne, dtype=np.int64)
    cdef long[::1] order = order_a
    cdef cnp.ndarray[long, ndim=1] mark_a = np.full(ncol, -1, dtype=np.int64)
    cdef long[::1] mark = mark_a
    cdef Py_ssize_t e, r, p, q, j, cap = 0, nnz = 0
    with nogil:
        for e in range(ne):
            cap += g_ptr[src[e] + 1] - g_ptr[src[e]]
        counting_order(row, m, start, order)
    cdef cnp.ndarray[int, ndim=1] idx_a = np.empty(max(cap, 1), dtype=np.int32)
    cdef cnp.ndarray[double, ndim=1] val_a = np.empty(max(cap, 1))
    cdef int[::1] oidx = idx_a
    cdef double[::1] oval = val_a
    with nogil:
        for r in range(m):
            for q in range(start[r], start[r + 1]):
                e = order[q]
                for p in range(g_ptr[src[e]], g_ptr[src[e] + 1]):
                    j = g_idx[p]
                    if mark[j] < ptr[r]:
                        mark[j] = nnz
                        oidx[nnz] = <int>j
                        oval[nnz] = coef[e] * g_val[p]
                        nnz += 1
                    else:
                        oval[mark[j]] += coef[e] * g_val[p]
            ptr[r + 1] = nnz
    return ptr_a, idx_a[:nnz].copy(), val_a[:nnz].copy()


def lu_solve_comp(
    const long[::1] l_ptr, const int[::1] l_idx, const double[::1] l_val,
    const long[::1] u_ptr, const int[::1] u_idx, const double[::1] u_val,
    const long[::1] perm_r, const long[::1] perm_c, const double[:, ::1] rhs,
    const long[::1] slot,
    const long[::1] q_ptr, const int[::1] q_idx, const double[::1] q_val,
    const long[::1] h_ptr, const int[::1] h_idx, const double[::1] h_val,
    const double[:, :, ::1] winv,
    out=None,
    live=None,
):
    """Solve ``(A + E_b D_b) x = rhs[:, c]`` for every column c, ``b = slot[c]``.

    Columns with ``live[c] == 0`` (uint8, optional) are not solved: their x is 0. Panels
    are made of live columns only.

    Sparse compensation: between the forward and the backward sweep of ``Pr A Pc = L U``
    each column is corrected by ``z -= H_b^T W_b^-1 Q_b z`` where the rows of ``Q_b``
    (``q_(b kmax + a)``) are ``D_b``'s rows mapped through ``U^-T`` and the rows of ``H_b``
    are ``L^-1 Pr E_b``; ``winv[b] = (I + Q_b H_b^T)^-1``. Only the few hundred nonzeros of
    these sparse rows are touched per column, never a dense ``A^-1 E`` column. The
    products ride along the sweeps (``Q z`` as rows of z become final in the forward sweep,
    ``H^T c`` as the backward sweep reaches each row), so z is read row by row, in cache.
    """
    cdef Py_ssize_t n = rhs.shape[0]
    cdef Py_ssize_t k = rhs.shape[1]
    cdef Py_ssize_t kmax = winv.shape[1]
    cdef cnp.ndarray[double, ndim=2] zarr = np.empty((n, PANEL))
    xarr = np.empty((n, k)) if out is None else out
    cdef cnp.ndarray[double, ndim=1] dinv_arr = np.empty(n)
    cdef cnp.ndarray[double, ndim=2] dy_arr = np.empty((PANEL, kmax))
    cdef cnp.ndarray[double, ndim=2] cc_arr = np.empty((PANEL, kmax))
    cdef double[:, ::1] z = zarr
    cdef double[:, ::1] x = xarr
    cdef double[::1] dinv = dinv_arr
    cdef double[:, ::1] dy = dy_arr
    cdef double[:, ::1] cc = cc_arr
    # per panel, the Q and H entries transposed to rows: (column in panel * kmax + a, value)
    cdef Py_ssize_t cap_q = 1, cap_h = 1
    cdef Py_ssize_t q_all = q_ptr[q_ptr.shape[0] - 1]
    cdef Py_ssize_t h_all = h_ptr[h_ptr.shape[0] - 1]
    cdef cnp.ndarray[long, ndim=1] qt_ptr_a = np.zeros(n + 1, dtype=np.int64)
    cdef cnp.ndarray[long, ndim=1] ht_ptr_a = np.zeros(n + 1, dtype=np.int64)
    cdef long[::1] qt_ptr = qt_ptr_a
    cdef long[::1] ht_ptr = ht_ptr_a
    cdef Py_ssize_t i, j, c, p, r, c0, w, q, b, a, rq, e
    live_b = np.ones(k, dtype=bool) if live is None else np.asarray(live) != 0
    cdef cnp.ndarray[long, ndim=1] lc_a = np.flatnonzero(live_b).astype(np.int64)
    cdef const long[::1] lc = lc_a
    cdef Py_ssize_t nl = lc_a.shape[0]
    if nl < k:
        xarr[:, ~live_b] = 0.0
    for q in range((nl + PANEL - 1) // PANEL):
        c0 = q * PANEL
        w = PANEL if nl - c0 > PANEL else nl - c0
        e = 0
        r = 0
        for c in range(w):
            b = slot[lc[c0 + c]]
            e += q_ptr[(b + 1) * kmax] - q_ptr[b * kmax]
            r += h_ptr[(b + 1) * kmax] - h_ptr[b * kmax]
        cap_q = max(cap_q, e)
        cap_h = max(cap_h, r)
    # keys are flat positions c * kmax + a in dy / cc, with the column c beside them
    cdef cnp.ndarray[int, ndim=1] qt_key_a = np.empty(cap_q, dtype=np.int32)
    cdef cnp.ndarray[int, ndim=1] qt_col_a = np.empty(cap_q, dtype=np.int32)
    cdef cnp.ndarray[double, ndim=1] qt_val_a = np.empty(cap_q)
    cdef cnp.ndarray[int, ndim=1] ht_key_a = np.empty(cap_h, dtype=np.int32)
    cdef cnp.ndarray[int, ndim=1] ht_col_a = np.empty(cap_h, dtype=np.int32)
    cdef cnp.ndarray[double, ndim=1] ht_val_a = np.empty(cap_h)
    cdef int[::1] qt_key = qt_key_a
    cdef int[::1] qt_col = qt_col_a
    cdef double[::1] qt_val = qt_val_a
    cdef int[::1] ht_key = ht_key_a
    cdef int[::1] ht_col = ht_col_a
    cdef double[::1] ht_val = ht_val_a
    cdef double* dyp = <double*> cnp.PyArray_DATA(dy_arr)
    cdef double* ccp = <double*> cnp.PyArray_DATA(cc_arr)
    cdef Py_ssize_t tile = PANEL
    cdef double acc
    cdef double* zj
    cdef double* zr
    cdef cnp.ndarray[cnp.uint8_t, ndim=1] nz_arr = np.zeros(n, dtype=np.uint8)
    cdef cnp.uint8_t[::1] nz = nz_arr
    with nogil:
        for j in range(n):
            dinv[j] = 0.0
            for p in range(u_ptr[j], u_ptr[j + 1]):
                if u_idx[p] == j:
                    dinv[j] = 1.0 / u_val[p]
                    break
        for q in range((nl + tile - 1) // tile):
            c0 = q * tile
            w = tile if nl - c0 > tile else nl - c0
            # counting sort of the panel's Q and H entries by row
            for i in range(n + 1):
                qt_ptr[i] = 0
                ht_ptr[i] = 0
            for c in range(w):
                b = slot[lc[c0 + c]]
                for p in range(q_ptr[b * kmax], q_ptr[(b + 1) * kmax]):
                    qt_ptr[q_idx[p] + 1] += 1
                for p in range(h_ptr[b * kmax], h_ptr[(b + 1) * kmax]):
                    ht_ptr[h_idx[p] + 1] += 1
            for i in range(n):
                qt_ptr[i + 1] += qt_ptr[i]
                ht_ptr[i + 1] += ht_ptr[i]
            for c in range(w):
                b = slot[lc[c0 + c]]
                for a in range(kmax):
                    rq = b * kmax + a
                    for p in range(q_ptr[rq], q_ptr[rq + 1]):
                        r = q_idx[p]
                        qt_key[qt_ptr[r]] = <int>(c * kmax + a)
                        qt_col[qt_ptr[r]] = <int>c
                        qt_val[qt_ptr[r]] = q_val[p]
                        qt_ptr[r] += 1
                    for p in range(h_ptr[rq], h_ptr[rq + 1]):
                        r = h_idx[p]
                        ht_key[ht_ptr[r]] = <int>(c * kmax + a)
                        ht_col[ht_ptr[r]] = <int>c
                        ht_val[ht_ptr[r]] = h_val[p]
                        ht_ptr[r] += 1
            for i in range(n, 0, -1):
                qt_ptr[i] = qt_ptr[i - 1]
                ht_ptr[i] = ht_ptr[i - 1]
            qt_ptr[0] = 0
            ht_ptr[0] = 0
            for c in range(w):
                for a in range(kmax):
                    dy[c, a] = 0.0
            for i in range(n):
                nz[i] = 0
            for i in range(n):
                zr = &z[perm_r[i], 0]
                for c in range(w):
                    zr[c] = rhs[i, lc[c0 + c]]
                    if zr[c] != 0.0:
                        nz[perm_r[i]] = 1
            for j in range(n):
                if not nz[j]:
                    continue
                zj = &z[j, 0]
                # z[j] is final here: fold it into Q z
                for p in range(qt_ptr[j], qt_ptr[j + 1]):
                    dyp[qt_key[p]] += qt_val[p] * zj[qt_col[p]]
                for p in range(l_ptr[j], l_ptr[j + 1]):
                    r = l_idx[p]
                    if r <= j:
                        continue
                    acc = l_val[p]
                    nz[r] = 1
                    zr = &z[r, 0]
                    for c in range(w):
                        zr[c] -= acc * zj[c]
            for c in range(w):
                b = slot[lc[c0 + c]]
                for a in range(kmax):
                    acc = 0.0
                    for i in range(kmax):
                        acc = acc + winv[b, a, i] * dy[c, i]
                    cc[c, a] = acc
            for j in range(n - 1, -1, -1):
                zj = &z[j, 0]
                if ht_ptr[j] < ht_ptr[j + 1]:
                    if not nz[j]:
                        for c in range(w):
                            zj[c] = 0.0
                        nz[j] = 1
                    for p in range(ht_ptr[j], ht_ptr[j + 1]):
                        zj[ht_col[p]] -= ht_val[p] * ccp[ht_key[p]]
                if not nz[j]:
                    continue
                for c in range(w):
                    zj[c] *= dinv[j]
                for p in range(u_ptr[j], u_ptr[j + 1]):
                    r = u_idx[p]
                    if r >= j:
                        continue
                    acc = u_val[p]
                    if not nz[r]:
                        zr = &z[r, 0]
                        for c in range(w):
                            zr[c] = 0.0
                        nz[r] = 1
                    zr = &z[r, 0]
                    for c in range(w):
                        zr[c] -= acc * zj[c]
            for i in range(n):
                if nz[perm_c[i]]:
                    zr = &z[perm_c[i], 0]
                    for c in range(w):
                        x[i, lc[c0 + c]] = zr[c]
                else:
                    for c in range(w):
                        x[i, lc[c0 + c]] = 0.0
    return xarr
