# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Branch flows and currents from bus voltages; compiled twin of gridplan.core.branchflow."""

import numpy as np

cimport numpy as cnp
from libc.math cimport sqrt

cnp.import_array()

cdef extern from "complex.h" nogil:
    double cabs(double complex)
    double complex conj(double complex)

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
    cdef double complex vf, vt, sf, st
    cdef double af, at
    with nogil:
        for k in range(n_states):
            for b in range(n_br):
                vf = v[k, f[b]]
                vt = v[k, t[b]]
                sf = vf * conj(yff[b] * vf + yft[b] * vt) * base_mva
                st = vt * conj(ytf[b] * vf + ytt[b] * vt) * base_mva
                s_f[k, b] = sf
                s_t[k, b] = st
                af = cabs(vf)
                at = cabs(vt)
                i_f[k, b] = cabs(sf) / (af * base_kv[f[b]]) * INV_SQRT3 if af > 0.0 else 0.0
                i_t[k, b] = cabs(st) / (at * base_kv[t[b]]) * INV_SQRT3 if at > 0.0 else 0.0
    return s_f_arr, s_t_arr, i_f_arr, i_t_arr
