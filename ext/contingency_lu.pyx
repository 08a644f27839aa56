# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Multi-right-hand-side triangular solves on extracted SuperLU factors (nogil).

Twin: ``gridplan/core/contingency_lu.py``. The right-hand sides are stored row-major
(n, k) so every factor entry updates k contiguous numbers.
"""

import numpy as np

cimport numpy as cnp
from libc.string cimport memcpy

cnp.import_array()


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
    cdef cnp.ndarray[double, ndim=2] zarr = np.empty((n, k))
    cdef cnp.ndarray[double, ndim=2] xarr = np.empty((n, k))
    cdef double[:, ::1] z = zarr
    cdef double[:, ::1] x = xarr
    cdef Py_ssize_t i, j, c, p, r
    cdef double a, d
    cdef double* zj
    cdef double* zr
    # rows known to be all zero are skipped (sparse right-hand sides, e.g. unit vectors)
    cdef cnp.ndarray[cnp.uint8_t, ndim=1] nz_arr = np.zeros(n, dtype=np.uint8)
    cdef cnp.uint8_t[::1] nz = nz_arr
    with nogil:
        for i in range(n):
            memcpy(&z[perm_r[i], 0], &rhs[i, 0], k * sizeof(double))
            for c in range(k):
                if rhs[i, c] != 0.0:
                    nz[perm_r[i]] = 1
                    break
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
                for c in range(k):
                    zr[c] -= a * zj[c]
        # backward: U upper, column oriented
        for j in range(n - 1, -1, -1):
            if not nz[j]:
                continue
            zj = &z[j, 0]
            d = 0.0
            for p in range(u_ptr[j], u_ptr[j + 1]):
                if u_idx[p] == j:
                    d = u_val[p]
                    break
            d = 1.0 / d
            for c in range(k):
                zj[c] *= d
            for p in range(u_ptr[j], u_ptr[j + 1]):
                r = u_idx[p]
                if r >= j:
                    continue
                a = u_val[p]
                nz[r] = 1
                zr = &z[r, 0]
                for c in range(k):
                    zr[c] -= a * zj[c]
        for i in range(n):
            memcpy(&x[i, 0], &z[perm_c[i], 0], k * sizeof(double))
    return xarr


def woodbury_apply(double[:, ::1] y, const double[:, ::1] zall, const long[:, ::1] zpos,
                   const double[:, ::1] c, double sign):
    """In place: ``y[:, b] += sign * sum_k zall[:, zpos[b, k]] * c[b, k]`` for every column b."""
    cdef Py_ssize_t n = y.shape[0]
    cdef Py_ssize_t nb = y.shape[1]
    cdef Py_ssize_t kmax = zpos.shape[1]
    cdef Py_ssize_t r, b, k
    cdef double acc
    with nogil:
        for r in range(n):
            for b in range(nb):
                acc = 0.0
                for k in range(kmax):
                    acc = acc + zall[r, zpos[b, k]] * c[b, k]
                y[r, b] += sign * acc
