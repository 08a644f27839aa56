# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Newton-Raphson inner loop for many power-flow states; compiled twin of
gridplan.core.timeseries_nr (same functions, signatures and results)."""

import numpy as np

cimport numpy as cnp
from libc.math cimport cos, fabs, sin

cnp.import_array()

cdef extern from "complex.h" nogil:
    double complex conj(double complex)
    double creal(double complex)
    double cimag(double complex)


def mismatch(
    const double complex[:, ::1] v,
    const cnp.int64_t[::1] indptr,
    const cnp.int64_t[::1] indices,
    const double complex[::1] data,
    const double complex[:, ::1] sbus,
    const cnp.int64_t[::1] pvpq,
    const cnp.int64_t[::1] pq,
):
    """Power mismatch ``[Re(mis[pvpq]), Im(mis[pq])]`` and its infinity norm per state.

    Complex products are written out in real arithmetic: C99 complex ``*`` compiles to a call
    of ``__muldc3`` (inf/nan handling) per product, several times slower."""
    cdef Py_ssize_t n_states = v.shape[0]
    cdef Py_ssize_t n_bus = v.shape[1]
    cdef Py_ssize_t npvpq = pvpq.shape[0]
    cdef Py_ssize_t npq = pq.shape[0]
    f_arr = np.empty((n_states, npvpq + npq), dtype=np.float64)
    norm_arr = np.empty(n_states, dtype=np.float64)
    mq_arr = np.zeros(n_bus, dtype=np.float64)
    cdef double[:, ::1] f = f_arr
    cdef double[::1] norm = norm_arr
    cdef double[::1] mis_q = mq_arr
    # float views of the complex arrays: [re, im] pairs
    cdef const double[:, ::1] vr = np.asarray(v).view(np.float64)
    cdef const double[:, ::1] sr = np.asarray(sbus).view(np.float64)
    cdef const double[::1] yr = np.asarray(data).view(np.float64)
    cdef Py_ssize_t k, a, i, p, j
    cdef double ire, iim, yre, yim, vre, vim, pm, qm, mx, x
    with nogil:
        for k in range(n_states):
            mx = 0.0
            for a in range(npvpq):
                i = pvpq[a]
                ire = 0.0
                iim = 0.0
                for p in range(indptr[i], indptr[i + 1]):
                    j = indices[p]
                    yre = yr[2 * p]
                    yim = yr[2 * p + 1]
                    vre = vr[k, 2 * j]
                    vim = vr[k, 2 * j + 1]
                    ire = ire + yre * vre - yim * vim
                    iim = iim + yre * vim + yim * vre
                vre = vr[k, 2 * i]
                vim = vr[k, 2 * i + 1]
                # v * conj(i) - s
                pm = vre * ire + vim * iim - sr[k, 2 * i]
                qm = vim * ire - vre * iim - sr[k, 2 * i + 1]
                mis_q[i] = qm
                f[k, a] = pm
                if fabs(pm) > mx:
                    mx = fabs(pm)
            for a in range(npq):
                x = mis_q[pq[a]]
                f[k, npvpq + a] = x
                if fabs(x) > mx:
                    mx = fabs(x)
            norm[k] = mx
    return f_arr, norm_arr


def update_voltage(
    double complex[:, ::1] v,
    double[:, ::1] va,
    double[:, ::1] vm,
    const double[:, ::1] dx,
    const cnp.int64_t[::1] pvpq,
    const cnp.int64_t[::1] pq,
):
    """Apply a Newton step to ``va`` (rad), ``vm`` (pu) and ``v = vm*exp(1j*va)`` in place.

    ``v`` is rotated by each angle change and scaled by each magnitude ratio instead of being
    rebuilt with cos/sin: steps below 0.01 rad use the Taylor series of cos/sin to order 6/7
    (truncation < 1e-18), larger ones the library functions."""
    cdef Py_ssize_t n_states = va.shape[0]
    cdef Py_ssize_t npvpq = pvpq.shape[0]
    cdef Py_ssize_t npq = pq.shape[0]
    cdef double[:, ::1] vr = np.asarray(v).view(np.float64)
    cdef Py_ssize_t k, a, i
    cdef double d, d2, c, sn, re, im, m_old, m_new, r
    with nogil:
        for k in range(n_states):
            for a in range(npvpq):
                i = pvpq[a]
                d = dx[k, a]
                va[k, i] += d
                if fabs(d) < 1e-2:
                    d2 = d * d
                    c = 1.0 - d2 * (0.5 - d2 * (1.0 / 24.0 - d2 / 720.0))
                    sn = d * (1.0 - d2 * (1.0 / 6.0 - d2 * (1.0 / 120.0 - d2 / 5040.0)))
                else:
                    c = cos(d)
                    sn = sin(d)
                re = vr[k, 2 * i]
                im = vr[k, 2 * i + 1]
                vr[k, 2 * i] = re * c - im * sn
                vr[k, 2 * i + 1] = re * sn + im * c
            for a in range(npq):
                i = pq[a]
                m_old = vm[k, i]
                m_new = m_old + dx[k, npvpq + a]
                vm[k, i] = m_new
                if m_old != 0.0:
                    r = m_new / m_old
                    vr[k, 2 * i] *= r
                    vr[k, 2 * i + 1] *= r
                else:
                    vr[k, 2 * i] = m_new * cos(va[k, i])
                    vr[k, 2 * i + 1] = m_new * sin(va[k, i])


def lu_solve(
    const cnp.int64_t[::1] l_indptr,
    const cnp.int64_t[::1] l_indices,
    const double[::1] l_data,
    const cnp.int64_t[::1] u_indptr,
    const cnp.int64_t[::1] u_indices,
    const double[::1] u_data,
    const cnp.int64_t[::1] perm_r,
    const cnp.int64_t[::1] perm_c,
    const double[:, ::1] b,
):
    """Solve ``A x = b`` (one right-hand side per row of ``b``) with splu's factors
    ``Pr A Pc = L U``. Right-hand sides are solved in panels of ``PANEL`` columns so the work
    array stays in cache; within a panel they are the contiguous inner loop."""
    cdef Py_ssize_t n_rhs = b.shape[0]
    cdef Py_ssize_t n = b.shape[1]
    cdef Py_ssize_t PANEL = 32
    w_arr = np.empty((n, PANEL), dtype=np.float64)
    x_arr = np.empty((n_rhs, n), dtype=np.float64)
    cdef double[:, ::1] y = w_arr
    cdef double[:, ::1] x = x_arr
    cdef Py_ssize_t i, j, k, p, r, k0, m
    cdef double a, d
    with nogil:
        k0 = 0
        while k0 < n_rhs:
            m = PANEL if n_rhs - k0 > PANEL else n_rhs - k0
            for k in range(m):
                for i in range(n):
                    y[perm_r[i], k] = b[k0 + k, i]
            # L unit lower triangular, column oriented
            for j in range(n):
                for p in range(l_indptr[j], l_indptr[j + 1]):
                    r = l_indices[p]
                    if r > j:
                        a = l_data[p]
                        for k in range(m):
                            y[r, k] -= a * y[j, k]
            # U upper triangular, column oriented, backwards
            for j in range(n - 1, -1, -1):
                d = 0.0
                for p in range(u_indptr[j], u_indptr[j + 1]):
                    if u_indices[p] == j:
                        d = u_data[p]
                d = 1.0 / d
                for k in range(m):
                    y[j, k] *= d
                for p in range(u_indptr[j], u_indptr[j + 1]):
                    r = u_indices[p]
                    if r < j:
                        a = u_data[p]
                        for k in range(m):
                            y[r, k] -= a * y[j, k]
            for k in range(m):
                for i in range(n):
                    x[k0 + k, i] = y[perm_c[i], k]
            k0 += PANEL
    return x_arr
