# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Post-outage power mismatch of a block of outages (nogil). Twin: gridplan/core/contingency_ac.py."""

import numpy as np

cimport numpy as cnp
from libc.math cimport INFINITY, cos, fabs, sin, sqrt

cnp.import_array()

include "counting_sort.pxi"
include "two_port.pxi"

cdef enum:
    DC_TILE = 8


def mismatch_block(
    const int[::1] indptr, const int[::1] indices, const double[::1] y_re, const double[::1] y_im,
    const double[:, ::1] vr, const double[:, ::1] vi,
    const double[::1] p_spec, const double[::1] q_spec, const unsigned char[::1] free,
    const long[::1] sp_bus, const long[::1] sp_col, const double[::1] sp_p,
    const double[::1] sp_q, const unsigned char[::1] sp_fp, const unsigned char[::1] sp_fq,
    const long[::1] br_col, const long[::1] br_f, const long[::1] br_t,
    const double complex[::1] br_yff, const double complex[::1] br_yft,
    const double complex[::1] br_ytf, const double complex[::1] br_ytt,
    out=None,
):
    """See :func:`gridplan.core.contingency_ac.mismatch_block`."""
    cdef Py_ssize_t n = vr.shape[0]
    cdef Py_ssize_t nb = vr.shape[1]
    cdef Py_ssize_t nbr = br_col.shape[0]
    cdef Py_ssize_t nsp = sp_bus.shape[0]
    f_arr = np.empty((2 * n, nb)) if out is None else out
    cdef cnp.ndarray[double, ndim=1] norm_arr = np.zeros(nb)
    cdef double[:, ::1] fx = f_arr
    cdef double[::1] norm = norm_arr
    # the bus currents of one row at a time (no (n, nb) current arrays)
    cdef double[::1] ir = np.zeros(nb)
    cdef double[::1] ii = np.zeros(nb)
    # removed branches by bus: entry e = 2 p (from end) or 2 p + 1 (to end)
    cdef long[::1] bptr = np.zeros(n + 1, dtype=np.int64)
    cdef long[::1] bent = np.empty(2 * nbr, dtype=np.int64)
    # (bus, column) pairs with their own injection or solved equations, by bus
    cdef long[::1] sptr = np.zeros(n + 1, dtype=np.int64)
    cdef long[::1] sent = np.empty(nsp, dtype=np.int64)
    cdef Py_ssize_t i, j, p, c, e, fb, tb
    cdef double a, bb, xr, xi, pr, qr, vfr, vfi, vtr, vti, ps, qs
    cdef double complex y1, y2
    cdef const double* pvr
    cdef const double* pvi
    cdef double* fp
    cdef double* fq
    cdef bint free_p, free_q
    with nogil:
        for p in range(nbr):
            bptr[br_f[p] + 1] += 1
            bptr[br_t[p] + 1] += 1
        for i in range(n):
            bptr[i + 1] += bptr[i]
        for p in range(nbr):
            bent[bptr[br_f[p]]] = 2 * p
            bptr[br_f[p]] += 1
            bent[bptr[br_t[p]]] = 2 * p + 1
            bptr[br_t[p]] += 1
        for i in range(n, 0, -1):
            bptr[i] = bptr[i - 1]
        bptr[0] = 0
        counting_order(sp_bus, n, sptr, sent)
        for i in range(n):
            for c in range(nb):
                ir[c] = 0.0
                ii[c] = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                a = y_re[p]
                bb = y_im[p]
                pvr = &vr[j, 0]
                pvi = &vi[j, 0]
                for c in range(nb):
                    ir[c] += a * pvr[c] - bb * pvi[c]
                    ii[c] += a * pvi[c] + bb * pvr[c]
            for e in range(bptr[i], bptr[i + 1]):
                p = bent[e] // 2
                c = br_col[p]
                fb = br_f[p]
                tb = br_t[p]
                vfr = vr[fb, c]
                vfi = vi[fb, c]
                vtr = vr[tb, c]
                vti = vi[tb, c]
                if bent[e] % 2 == 0:
                    y1 = br_yff[p]
                    y2 = br_yft[p]
                else:
                    y1 = br_ytf[p]
                    y2 = br_ytt[p]
                end_current(y1.real, y1.imag, y2.real, y2.imag, vfr, vfi, vtr, vti, &xr, &xi)
                ir[c] -= xr
                ii[c] -= xi
            fp = &fx[i, 0]
            fq = &fx[n + i, 0]
            ps = p_spec[i]
            qs = q_spec[i]
            free_p = free[i] != 0
            free_q = free[n + i] != 0
            for c in range(nb):
                pr = vr[i, c] * ir[c] + vi[i, c] * ii[c] - ps
                qr = vi[i, c] * ir[c] - vr[i, c] * ii[c] - qs
                fp[c] = pr if free_p else 0.0
                fq[c] = qr if free_q else 0.0
            for e in range(sptr[i], sptr[i + 1]):
                p = sent[e]
                c = sp_col[p]
                pr = vr[i, c] * ir[c] + vi[i, c] * ii[c] - sp_p[p]
                qr = vi[i, c] * ir[c] - vr[i, c] * ii[c] - sp_q[p]
                fp[c] = pr if sp_fp[p] else 0.0
                fq[c] = qr if sp_fq[p] else 0.0
            for c in range(nb):
                pr = fabs(fp[c])
                qr = fabs(fq[c])
                if pr > norm[c]:
                    norm[c] = pr
                if qr > norm[c]:
                    norm[c] = qr
                if pr != pr or qr != qr:
                    norm[c] = INFINITY
    return f_arr, norm_arr


def apply_step(double[:, ::1] va, double[:, ::1] vm, double[:, ::1] vr, double[:, ::1] vi,
               const double[:, ::1] step, live=None):
    """In place: ``va -= step[:n]``, ``vm -= step[n:]`` and the rectangular ``vr + j vi``
    rotated and scaled to match (Taylor series for small angle steps, exact trig otherwise).
    Columns with ``live[c] == 0`` (uint8, optional) are left untouched."""
    cdef Py_ssize_t n = va.shape[0]
    cdef Py_ssize_t nb = va.shape[1]
    cdef Py_ssize_t i, c
    cdef double d, d2, cd, sd, ratio, vmn, xr, xi
    cdef const unsigned char[::1] lv = (
        np.ones(nb, dtype=np.uint8) if live is None else np.ascontiguousarray(live, np.uint8)
    )
    with nogil:
        for i in range(n):
            for c in range(nb):
                if not lv[c]:
                    continue
                d = step[i, c]
                vmn = vm[i, c] - step[n + i, c]
                va[i, c] -= d
                if fabs(d) < 1e-2 and vm[i, c] > 0.0:
                    # error below 1e-16 for |d| < 0.01 (next terms d^8/8!, d^9/9!)
                    d2 = d * d
                    cd = 1.0 - d2 * (0.5 - d2 * (1.0 / 24.0 - d2 / 720.0))
                    sd = d * (1.0 - d2 * (1.0 / 6.0 - d2 * (1.0 / 120.0 - d2 / 5040.0)))
                    ratio = vmn / vm[i, c]
                    xr = vr[i, c]
                    xi = vi[i, c]
                    vr[i, c] = ratio * (xr * cd + xi * sd)
                    vi[i, c] = ratio * (xi * cd - xr * sd)
                else:
                    vr[i, c] = vmn * cos(va[i, c])
                    vi[i, c] = vmn * sin(va[i, c])
                vm[i, c] = vmn


def dc_loading_block(const double[:, ::1] theta, const long[::1] f, const long[::1] t,
                     const long[::1] order,
                     const double[::1] b, const double[::1] coef, const double[::1] p_f0,
                     const double[::1] p_t0, const double[::1] q_f0, const double[::1] q_t0,
                     const double[::1] a_f, const double[::1] a_t, double[:, ::1] out):
    """See :func:`gridplan.core.contingency_ac.dc_loading_block`."""
    cdef Py_ssize_t nb = theta.shape[1]
    cdef Py_ssize_t nbr = f.shape[0]
    # angle differences of TILE outages at a time: one cache line of theta per branch end
    cdef cnp.ndarray[double, ndim=2] d_a = np.empty((DC_TILE, nbr))
    cdef double[:, ::1] d = d_a
    cdef Py_ssize_t j0, jj, m, l, q, q2
    cdef Py_ssize_t tile = DC_TILE
    cdef double dp, pf, pt, lf, lt, cj
    cdef const double* rf
    cdef const double* rt
    cdef double* dj
    cdef double* oj
    with nogil:
        for q in range((nb + tile - 1) // tile):
            j0 = q * tile
            m = tile if nb - j0 > tile else nb - j0
            for q2 in range(nbr):
                l = order[q2]
                rf = &theta[f[l], j0]
                rt = &theta[t[l], j0]
                for jj in range(m):
                    d[jj, l] = rf[jj] - rt[jj]
            for jj in range(m):
                cj = coef[j0 + jj]
                dj = &d[jj, 0]
                oj = &out[j0 + jj, 0]
                # contiguous arrays only: vectorizes (sqrt needs -fno-math-errno)
                for l in range(nbr):
                    dp = b[l] * dj[l] * cj
                    pf = p_f0[l] + dp
                    pt = p_t0[l] - dp
                    # the larger end in squares, then one square root
                    lf = (pf * pf + q_f0[l] * q_f0[l]) * (a_f[l] * a_f[l])
                    lt = (pt * pt + q_t0[l] * q_t0[l]) * (a_t[l] * a_t[l])
                    oj[l] = 100.0 * sqrt(lf if lf > lt else lt)
    return np.asarray(out)


def anderson_step(const double[:, ::1] g, const double[:, ::1] g_prev, double[:, ::1] s_prev,
                  double gamma_max):
    """See :func:`gridplan.core.contingency_ac.anderson_step` (``s_prev`` may alias ``g_prev``)."""
    cdef Py_ssize_t m = g.shape[0]
    cdef Py_ssize_t nb = g.shape[1]
    cdef cnp.ndarray[double, ndim=1] den_a = np.zeros(nb)
    cdef cnp.ndarray[double, ndim=1] num_a = np.zeros(nb)
    cdef double[::1] den = den_a
    cdef double[::1] num = num_a
    cdef Py_ssize_t r, i
    cdef double dg, gm
    with nogil:
        for r in range(m):
            for i in range(nb):
                dg = g[r, i] - g_prev[r, i]
                den[i] += dg * dg
                num[i] += dg * g[r, i]
        for i in range(nb):
            gm = num[i] / den[i] if den[i] > 0.0 else 0.0
            if not (fabs(gm) < gamma_max):  # also NaN
                gm = 0.0
            num[i] = gm
        for r in range(m):
            for i in range(nb):
                s_prev[r, i] = g[r, i] - num[i] * (s_prev[r, i] + (g[r, i] - g_prev[r, i]))


def compact_columns(cnp.ndarray a, const long[::1] keep):
    """Keep columns ``keep`` (increasing) of the C-contiguous float64 (n, k) array ``a``, in
    place: returns an (n, keep.size) view of the front of ``a``'s memory (no new array)."""
    cdef Py_ssize_t n = a.shape[0]
    cdef Py_ssize_t k = a.shape[1]
    cdef Py_ssize_t k2 = keep.shape[0]
    cdef Py_ssize_t i, j
    cdef double* d = <double*> cnp.PyArray_DATA(a)
    if not a.flags.c_contiguous or a.dtype != np.float64:
        raise ValueError("compact_columns needs a C-contiguous float64 array")
    with nogil:
        # row i's kept entries move to i * k2 + j <= i * k + keep[j]: nothing unread is
        # overwritten when rows and columns go in increasing order
        for i in range(n):
            for j in range(k2):
                d[i * k2 + j] = d[i * k + keep[j]]
    return a.reshape(-1)[: n * k2].reshape(n, k2)


def store_columns(const double[:, ::1] vr, const double[:, ::1] vi, const long[::1] src,
                  const long[::1] dst, double complex[:, ::1] out):
    """``out[dst[c], :] = vr[:, src[c]] + 1j vi[:, src[c]]``: block columns into the rows of
    the (outages, buses) result, transposed a tile of buses at a time."""
    cdef Py_ssize_t n = vr.shape[0]
    cdef Py_ssize_t m = src.shape[0]
    cdef Py_ssize_t i0, i, c, s, r, i1
    cdef Py_ssize_t tile = 64  # buses per tile: the tile's rows of vr, vi stay in cache
    with nogil:
        i0 = 0
        while i0 < n:
            i1 = i0 + tile if i0 + tile < n else n
            for c in range(m):
                s = src[c]
                r = dst[c]
                for i in range(i0, i1):
                    out[r, i] = vr[i, s] + 1j * vi[i, s]
            i0 = i1


def screen_near(const double[:, ::1] x, const double[:, ::1] x1, const double[:, ::1] th,
                double factor, double floor, unsigned char[::1] out):
    """See :func:`gridplan.core.contingency_ac.screen_near`."""
    cdef Py_ssize_t nb = x.shape[0]
    cdef Py_ssize_t m = x.shape[1]
    cdef Py_ssize_t k = th.shape[0]
    cdef Py_ssize_t b, j, q
    cdef double d, margin, xv
    with nogil:
        for b in range(nb):
            if out[b]:
                continue
            for j in range(m):
                xv = x[b, j]
                d = fabs(xv - x1[b, j])
                margin = factor * d + (floor if d > 0 else 0.0)
                # NaN (no value) compares false: never near, as in the twin
                for q in range(k):
                    if fabs(xv - th[q, j]) < margin:
                        out[b] = 1
                        break
                if out[b]:
                    break
    return np.asarray(out)
