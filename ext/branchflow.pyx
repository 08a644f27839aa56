# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Branch flows and currents from bus voltages; compiled twin of gridplan.core.branchflow."""

import numpy as np

cimport numpy as cnp
from libc.math cimport sqrt

cnp.import_array()

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
                ir = yff[b].real * fr - yff[b].imag * fi + yft[b].real * tr - yft[b].imag * ti
                ii = yff[b].real * fi + yff[b].imag * fr + yft[b].real * ti + yft[b].imag * tr
                sr = (fr * ir + fi * ii) * base_mva
                si = (fi * ir - fr * ii) * base_mva
                s_f[k, b] = sr + 1j * si
                vm2 = fr * fr + fi * fi
                i_f[k, b] = sqrt((sr * sr + si * si) / vm2) / base_kv[f[b]] * INV_SQRT3 if vm2 > 0.0 else 0.0
                # to end: I = ytf*Vf + ytt*Vt; S = Vt * conj(I)
                ir = ytf[b].real * fr - ytf[b].imag * fi + ytt[b].real * tr - ytt[b].imag * ti
                ii = ytf[b].real * fi + ytf[b].imag * fr + ytt[b].real * ti + ytt[b].imag * tr
                sr = (tr * ir + ti * ii) * base_mva
                si = (ti * ir - tr * ii) * base_mva
                s_t[k, b] = sr + 1j * si
                vm2 = tr * tr + ti * ti
                i_t[k, b] = sqrt((sr * sr + si * si) / vm2) / base_kv[t[b]] * INV_SQRT3 if vm2 > 0.0 else 0.0
    return s_f_arr, s_t_arr, i_f_arr, i_t_arr
