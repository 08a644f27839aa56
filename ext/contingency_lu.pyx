# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Multi-right-hand-side triangular solves on extracted SuperLU factors (nogil).

Twin: ``gridplan/core/contingency_lu.py``. The right-hand sides are stored row-major
(n, k) so every factor entry updates k contiguous numbers.
"""

import numpy as np

cimport numpy as cnp
from libc.string cimport memcpy

cnp.import_array()


cdef enum:
    # columns solved together: a panel of n x PANEL numbers stays in cache while the
    # factors stream past (blocks of hundreds of columns spill out of the caches)
    PANEL = 64


def lu_solve_rows(
    const long[::1] l_ptr, const int[::1] l_idx, const double[::1] l_val,
    const long[::1] u_ptr, const int[::1] u_idx, const double[::1] u_val,
    const long[::1] perm_r, const long[::1] perm_c, double[:, ::1] rhs,
):
    """Solve ``A X = rhs`` with ``Pr A Pc = L U`` (SuperLU convention); returns X (n, k).

    ``L`` is unit lower and ``U`` upper triangular, both CSC (int64 pointers, int32 indices),
    diagonal entries stored (``L`` diagonal first in each column, ``U`` diagonal last).
    """
    cdef Py_ssize_t n = rhs.shape[0]
    cdef Py_ssize_t k = rhs.shape[1]
    cdef cnp.ndarray[double, ndim=2] zarr = np.empty((n, PANEL))
    cdef cnp.ndarray[double, ndim=2] xarr = np.empty((n, k))
    cdef cnp.ndarray[double, ndim=1] dinv_arr = np.empty(n)
    cdef double[:, ::1] z = zarr
    cdef double[:, ::1] x = xarr
    cdef double[::1] dinv = dinv_arr
    cdef Py_ssize_t i, j, c, p, r, c0, w, q
    cdef Py_ssize_t tile = PANEL
    cdef double a
    cdef double* zj
    cdef double* zr
    # rows known to be all zero are skipped (sparse right-hand sides, e.g. unit vectors)
    cdef cnp.ndarray[cnp.uint8_t, ndim=1] nz_arr = np.zeros(n, dtype=np.uint8)
    cdef cnp.uint8_t[::1] nz = nz_arr
    with nogil:
        for j in range(n):
            dinv[j] = 0.0
            for p in range(u_ptr[j], u_ptr[j + 1]):
                if u_idx[p] == j:
                    dinv[j] = 1.0 / u_val[p]
                    break
        for q in range((k + tile - 1) // tile):
            c0 = q * tile
            w = tile if k - c0 > tile else k - c0
            for i in range(n):
                nz[i] = 0
            for i in range(n):
                zr = &z[perm_r[i], 0]
                for c in range(w):
                    zr[c] = rhs[i, c0 + c]
                    if zr[c] != 0.0:
                        nz[perm_r[i]] = 1
            # forward: L unit lower, column oriented
            for j in range(n):
                if not nz[j]:
                    continue
                zj = &z[j, 0]
                for p in range(l_ptr[j], l_ptr[j + 1]):
                    r = l_idx[p]
                    if r <= j:
                        continue
                    a = l_val[p]
                    nz[r] = 1
                    zr = &z[r, 0]
                    for c in range(w):
                        zr[c] -= a * zj[c]
            # backward: U upper, column oriented
            for j in range(n - 1, -1, -1):
                if not nz[j]:
                    continue
                zj = &z[j, 0]
                for c in range(w):
                    zj[c] *= dinv[j]
                for p in range(u_ptr[j], u_ptr[j + 1]):
                    r = u_idx[p]
                    if r >= j:
                        continue
                    a = u_val[p]
                    nz[r] = 1
                    zr = &z[r, 0]
                    for c in range(w):
                        zr[c] -= a * zj[c]
            for i in range(n):
                zr = &z[perm_c[i], 0]
                for c in range(w):
                    x[i, c0 + c] = zr[c]
    return xarr


def woodbury_apply(double[:, ::1] y, const double[:, :, ::1] zz, const long[::1] cols,
                   const double[:, ::1] c, double sign):
    """In place: ``y[:, i] += sign * sum_k zz[:, cols[i], k] * c[i, k]`` for every column i."""
    cdef Py_ssize_t n = y.shape[0]
    cdef Py_ssize_t nb = y.shape[1]
    cdef Py_ssize_t kmax = zz.shape[2]
    cdef Py_ssize_t r, i, k
    cdef double acc
    cdef const double* zr
    with nogil:
        for r in range(n):
            for i in range(nb):
                zr = &zz[r, cols[i], 0]
                acc = 0.0
                for k in range(kmax):
                    acc = acc + zr[k] * c[i, k]
                y[r, i] += sign * acc


def gather_columns(const double[:, ::1] zall, const long[:, ::1] zpos):
    """``zall[:, zpos]`` as a C-contiguous (n, nb, kmax) array."""
    cdef Py_ssize_t n = zall.shape[0]
    cdef Py_ssize_t nb = zpos.shape[0]
    cdef Py_ssize_t kmax = zpos.shape[1]
    cdef cnp.ndarray[double, ndim=3] out_a = np.empty((n, nb, kmax))
    cdef double[:, :, ::1] out = out_a
    cdef Py_ssize_t r, b, k
    with nogil:
        for r in range(n):
            for b in range(nb):
                for k in range(kmax):
                    out[r, b, k] = zall[r, zpos[b, k]]
    return out_a
