# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Branch flows, currents, loading and losses from bus voltages; compiled twin of
gridplan.core.branchflow (same functions, signatures and results)."""

import numpy as np

cimport numpy as cnp
from libc.math cimport sqrt

cnp.import_array()

include "two_port.pxi"

cdef double INV_SQRT3 = 1.0 / sqrt(3.0)


def branch_flows(
    const double complex[:, ::1] v,
    const cnp.int64_t[::1] f,
    const cnp.int64_t[::1] t,
    const double complex[::1] yff,
    const double complex[::1] yft,
    const double complex[::1] ytf,
    const double complex[::1] ytt,
    const double[::1] base_kv,
    double base_mva,
):
    """Complex power (MVA) at both ends and current magnitudes (kA) of every branch.

    Same signature and results as ``gridplan.core.branchflow.branch_flows``.
    """
    cdef Py_ssize_t n_states = v.shape[0]
    cdef Py_ssize_t n_br = f.shape[0]
    s_f_arr = np.empty((n_states, n_br), dtype=np.complex128)
    s_t_arr = np.empty((n_states, n_br), dtype=np.complex128)
    i_f_arr = np.empty((n_states, n_br), dtype=np.float64)
    i_t_arr = np.empty((n_states, n_br), dtype=np.float64)
    cdef double complex[:, ::1] s_f = s_f_arr
    cdef double complex[:, ::1] s_t = s_t_arr
    cdef double[:, ::1] i_f = i_f_arr
    cdef double[:, ::1] i_t = i_t_arr
    cdef Py_ssize_t k, b
    cdef double fr, fi, tr, ti, ir, ii, sr, si, vm2
    with nogil:
        for k in range(n_states):
            for b in range(n_br):
                fr = v[k, f[b]].real
                fi = v[k, f[b]].imag
                tr = v[k, t[b]].real
                ti = v[k, t[b]].imag
                # from end: I = yff*Vf + yft*Vt; S = Vf * conj(I)
                end_current(yff[b].real, yff[b].imag, yft[b].real, yft[b].imag, fr, fi, tr, ti, &ir, &ii)
                sr = (fr * ir + fi * ii) * base_mva
                si = (fi * ir - fr * ii) * base_mva
                s_f[k, b] = sr + 1j * si
                vm2 = fr * fr + fi * fi
                i_f[k, b] = sqrt((sr * sr + si * si) / vm2) / base_kv[f[b]] * INV_SQRT3 if vm2 > 0.0 else 0.0
                # to end: I = ytf*Vf + ytt*Vt; S = Vt * conj(I)
                end_current(ytf[b].real, ytf[b].imag, ytt[b].real, ytt[b].imag, fr, fi, tr, ti, &ir, &ii)
                sr = (tr * ir + ti * ii) * base_mva
                si = (ti * ir - tr * ii) * base_mva
                s_t[k, b] = sr + 1j * si
                vm2 = tr * tr + ti * ti
                i_t[k, b] = sqrt((sr * sr + si * si) / vm2) / base_kv[t[b]] * INV_SQRT3 if vm2 > 0.0 else 0.0
    return s_f_arr, s_t_arr, i_f_arr, i_t_arr


def branch_loading(
    const double complex[:, ::1] v,
    const cnp.int64_t[::1] f,
    const cnp.int64_t[::1] t,
    const double complex[::1] yff,
    const double complex[::1] yft,
    const double complex[::1] ytf,
    const double complex[::1] ytt,
    const double[::1] k_f,
    const double[::1] k_t,
    const cnp.int64_t[::1] col_row,
    const double[::1] col_f,
    const double[::1] col_t,
    double base_mva,
):
    """Loading of every output column and the total branch losses per state, without
    storing per-branch flows: branch currents ``|I| k`` (kA) per end, loading
    ``max(i_f col_f, i_t col_t)`` of branch ``col_row`` (0 where the row is negative),
    computed as ``sqrt(max(|If|^2 (k_f col_f)^2, |It|^2 (k_t col_t)^2))``, losses
    ``Re(Vf conj(If) + Vt conj(It)) base_mva`` summed over all branches (MW)."""
    cdef Py_ssize_t n_states = v.shape[0]
    cdef Py_ssize_t n_br = f.shape[0]
    cdef Py_ssize_t n_col = col_row.shape[0]
    load_arr = np.empty((n_states, n_col), dtype=np.float64)
    loss_arr = np.empty(n_states, dtype=np.float64)
    cdef double[:, ::1] load = load_arr
    cdef double[::1] loss = loss_arr
    cdef double[::1] i_f = np.empty(n_br)
    cdef double[::1] i_t = np.empty(n_br)
    cdef const double[:, ::1] vr = np.asarray(v).view(np.float64)
    cdef const double[::1] a = np.asarray(yff).view(np.float64)
    cdef const double[::1] b = np.asarray(yft).view(np.float64)
    cdef const double[::1] c = np.asarray(ytf).view(np.float64)
    cdef const double[::1] d = np.asarray(ytt).view(np.float64)
    cdef Py_ssize_t k, e, r
    cdef double fr, fi, tr, ti, ir, ii, p, x, y
    # squared (kA x %/kA) per column: one square root per column instead of two per branch
    cdef double[::1] a2 = np.empty(n_col)
    cdef double[::1] b2 = np.empty(n_col)
    cdef cnp.int64_t[::1] rr = np.empty(n_col, dtype=np.int64)
    for e in range(n_col):
        r = col_row[e]
        rr[e] = r if r >= 0 else 0
        a2[e] = (k_f[rr[e]] * col_f[e]) ** 2
        b2[e] = (k_t[rr[e]] * col_t[e]) ** 2
    with nogil:
        for k in range(n_states):
            p = 0.0
            for e in range(n_br):
                fr = vr[k, 2 * f[e]]
                fi = vr[k, 2 * f[e] + 1]
                tr = vr[k, 2 * t[e]]
                ti = vr[k, 2 * t[e] + 1]
                end_current(a[2 * e], a[2 * e + 1], b[2 * e], b[2 * e + 1], fr, fi, tr, ti, &ir, &ii)
                p += fr * ir + fi * ii
                i_f[e] = ir * ir + ii * ii
                end_current(c[2 * e], c[2 * e + 1], d[2 * e], d[2 * e + 1], fr, fi, tr, ti, &ir, &ii)
                p += tr * ir + ti * ii
                i_t[e] = ir * ir + ii * ii
            loss[k] = p * base_mva
            for e in range(n_col):
                if col_row[e] < 0:
                    load[k, e] = 0.0
                else:
                    x = i_f[rr[e]] * a2[e]
                    y = i_t[rr[e]] * b2[e]
                    load[k, e] = sqrt(x if x >= y or y != y else y)
    return load_arr, loss_arr
