# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Newton-Raphson inner loop for many power-flow states; compiled twin of
gridplan.core.timeseries_nr (same functions, signatures and results)."""

import numpy as np

cimport numpy as cnp
from libc.math cimport NAN, cos, fabs, sin, sqrt
from libc.string cimport memcmp, memcpy

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


cdef extern from *:
    """
    /* Panel passes of the chord iteration: TS_PANEL states side by side (state-innermost
       rows), restrict pointers and a constant lane count so the compiler vectorizes over
       the states. Each pass is compiled twice (AVX2 and baseline x86-64, chosen at load time
       by the CPU); the arithmetic per state is the same in both, so are the results. */
    #include <math.h>
    #include <stdint.h>
    #define TS_PANEL 16
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define TS_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define TS_CLONES
    #endif

    /* y <- (LU)^-1 y (rows already permuted by perm_r) */
    TS_CLONES static void ts_lu_panel(int64_t n, const int64_t *restrict lp,
            const int64_t *restrict li, const double *restrict lx, const int64_t *restrict up,
            const int64_t *restrict ui, const double *restrict ux,
            const double *restrict udinv, double *restrict y) {
        for (int64_t j = 0; j < n; j++) {
            const double *restrict yj = y + j * TS_PANEL;
            for (int64_t p = lp[j]; p < lp[j + 1]; p++) {
                int64_t r = li[p];
                if (r > j) {
                    double *restrict yr = y + r * TS_PANEL;
                    const double c = lx[p];
                    for (int k = 0; k < TS_PANEL; k++) yr[k] -= c * yj[k];
                }
            }
        }
        for (int64_t j = n - 1; j >= 0; j--) {
            double *restrict yj = y + j * TS_PANEL;
            const double d = udinv[j];
            for (int k = 0; k < TS_PANEL; k++) yj[k] *= d;
            for (int64_t p = up[j]; p < up[j + 1]; p++) {
                int64_t r = ui[p];
                if (r < j) {
                    double *restrict yr = y + r * TS_PANEL;
                    const double c = ux[p];
                    for (int k = 0; k < TS_PANEL; k++) yr[k] -= c * yj[k];
                }
            }
        }
    }

    /* Anderson(1) sums per lane over the chord steps g = -y[perm_c] */
    TS_CLONES static void ts_anderson_sums(int64_t n, const int64_t *restrict perm_c,
            const double *restrict y, const double *restrict gp, double *restrict den,
            double *restrict num) {
        double dn[TS_PANEL], nm[TS_PANEL];
        for (int k = 0; k < TS_PANEL; k++) { dn[k] = 0.0; nm[k] = 0.0; }
        for (int64_t i = 0; i < n; i++) {
            const double *restrict yi = y + perm_c[i] * TS_PANEL;
            const double *restrict gi = gp + i * TS_PANEL;
            for (int k = 0; k < TS_PANEL; k++) {
                double g = -yi[k], dg = g - gi[k];
                dn[k] += dg * dg;
                nm[k] += dg * g;
            }
        }
        for (int k = 0; k < TS_PANEL; k++) { den[k] = dn[k]; num[k] = nm[k]; }
    }

    /* Anderson step and voltage update in one pass over the unknowns:
       dx = g - gam (dx_prev + g - g_prev) with g = -y[perm_c]; g_prev <- g, dx_prev <- dx;
       angle unknowns: va += dx, v rotated by dx (Taylor series of cos/sin below 0.01 rad,
       truncation < 1e-18; library functions above); magnitude unknowns: vm += dx, v scaled
       by new/old magnitude (rebuilt from vm and va where the old magnitude was 0) */
    TS_CLONES static void ts_step(int64_t npvpq, int64_t npq, const int64_t *restrict perm_c,
            const double *restrict y, double *restrict gp, double *restrict dxp,
            const double *restrict gam, const int64_t *restrict pvpq,
            const int64_t *restrict pq, const int64_t *restrict ang_pos,
            double *restrict wa, double *restrict wm, double *restrict wr,
            double *restrict wi) {
        double c[TS_PANEL], s[TS_PANEL];
        for (int64_t a = 0; a < npvpq + npq; a++) {
            const double *restrict yi = y + perm_c[a] * TS_PANEL;
            double *restrict gi = gp + a * TS_PANEL;
            double *restrict dx = dxp + a * TS_PANEL;
            for (int k = 0; k < TS_PANEL; k++) {
                double g = -yi[k], dg = g - gi[k];
                gi[k] = g;
                dx[k] = g - gam[k] * (dx[k] + dg);
            }
            if (a < npvpq) {
                double *restrict va = wa + a * TS_PANEL;
                double *restrict vr = wr + pvpq[a] * TS_PANEL;
                double *restrict vi = wi + pvpq[a] * TS_PANEL;
                int big = 0;
                for (int k = 0; k < TS_PANEL; k++) {
                    double d = dx[k], d2 = d * d;
                    va[k] += d;
                    c[k] = 1.0 - d2 * (0.5 - d2 * (1.0 / 24.0 - d2 / 720.0));
                    s[k] = d * (1.0 - d2 * (1.0 / 6.0 - d2 * (1.0 / 120.0 - d2 / 5040.0)));
                    big |= !(fabs(d) < 1e-2);
                }
                if (big)
                    for (int k = 0; k < TS_PANEL; k++)
                        if (!(fabs(dx[k]) < 1e-2)) { c[k] = cos(dx[k]); s[k] = sin(dx[k]); }
                for (int k = 0; k < TS_PANEL; k++) {
                    double re = vr[k], im = vi[k];
                    vr[k] = re * c[k] - im * s[k];
                    vi[k] = re * s[k] + im * c[k];
                }
            } else {
                const int64_t q = a - npvpq;
                double *restrict vm = wm + q * TS_PANEL;
                double *restrict vr = wr + pq[q] * TS_PANEL;
                double *restrict vi = wi + pq[q] * TS_PANEL;
                int zero = 0;
                unsigned char z[TS_PANEL];
                for (int k = 0; k < TS_PANEL; k++) {
                    double mo = vm[k], mn = mo + dx[k];
                    double r = mn / (mo != 0.0 ? mo : 1.0);
                    vm[k] = mn;
                    z[k] = mo == 0.0;
                    zero |= mo == 0.0;
                    vr[k] *= r;
                    vi[k] *= r;
                }
                if (zero) {
                    const double *restrict va = wa + ang_pos[pq[q]] * TS_PANEL;
                    for (int k = 0; k < TS_PANEL; k++)
                        if (z[k]) {
                            vr[k] = vm[k] * cos(va[k]);
                            vi[k] = vm[k] * sin(va[k]);
                        }
                }
            }
        }
    }

    /* mismatch [Re(v conj(Ybus v)) - p at pvpq, Im(...) - q at pq] of every lane into y
       (rows permuted by perm_r), its infinity norm per lane in mx, nan flag per lane */
    TS_CLONES static void ts_mismatch(int64_t npvpq, const int64_t *restrict pvpq,
            const int64_t *restrict pq_pos, const int64_t *restrict indptr,
            const int64_t *restrict indices, const double *restrict yv,
            const double *restrict wr, const double *restrict wi, const double *restrict sp,
            const double *restrict sq, const int64_t *restrict perm_r, double *restrict y,
            double *restrict mx, unsigned char *restrict bad) {
        double m[TS_PANEL];
        unsigned char b[TS_PANEL];
        for (int k = 0; k < TS_PANEL; k++) { m[k] = 0.0; b[k] = 0; }
        for (int64_t a = 0; a < npvpq; a++) {
            const int64_t i = pvpq[a];
            double ar[TS_PANEL], ai[TS_PANEL];
            for (int k = 0; k < TS_PANEL; k++) { ar[k] = 0.0; ai[k] = 0.0; }
            for (int64_t p = indptr[i]; p < indptr[i + 1]; p++) {
                const double yre = yv[2 * p], yim = yv[2 * p + 1];
                const double *restrict xr = wr + indices[p] * TS_PANEL;
                const double *restrict xi = wi + indices[p] * TS_PANEL;
                for (int k = 0; k < TS_PANEL; k++) {
                    ar[k] = ar[k] + yre * xr[k] - yim * xi[k];
                    ai[k] = ai[k] + yre * xi[k] + yim * xr[k];
                }
            }
            const double *restrict vr = wr + i * TS_PANEL;
            const double *restrict vi = wi + i * TS_PANEL;
            const double *restrict s = sp + a * TS_PANEL;
            double *restrict out = y + perm_r[a] * TS_PANEL;
            for (int k = 0; k < TS_PANEL; k++) {
                double x = vr[k] * ar[k] + vi[k] * ai[k] - s[k];
                double ax = fabs(x);
                out[k] = x;
                m[k] = ax > m[k] ? ax : m[k];
                b[k] |= (x != x);
            }
            const int64_t q = pq_pos[i];
            if (q >= 0) {
                const double *restrict t = sq + q * TS_PANEL;
                double *restrict o2 = y + perm_r[npvpq + q] * TS_PANEL;
                for (int k = 0; k < TS_PANEL; k++) {
                    double x = vi[k] * ar[k] - vr[k] * ai[k] - t[k];
                    double ax = fabs(x);
                    o2[k] = x;
                    m[k] = ax > m[k] ? ax : m[k];
                    b[k] |= (x != x);
                }
            }
        }
        for (int k = 0; k < TS_PANEL; k++) { mx[k] = m[k]; bad[k] = b[k]; }
    }
    """
    int TS_PANEL
    void ts_lu_panel(cnp.int64_t, const cnp.int64_t*, const cnp.int64_t*, const double*,
                     const cnp.int64_t*, const cnp.int64_t*, const double*, const double*,
                     double*) nogil
    void ts_anderson_sums(cnp.int64_t, const cnp.int64_t*, const double*, const double*,
                          double*, double*) nogil
    void ts_step(cnp.int64_t, cnp.int64_t, const cnp.int64_t*, const double*, double*, double*,
                 const double*, const cnp.int64_t*, const cnp.int64_t*, const cnp.int64_t*,
                 double*, double*, double*, double*) nogil
    void ts_mismatch(cnp.int64_t, const cnp.int64_t*, const cnp.int64_t*, const cnp.int64_t*,
                     const cnp.int64_t*, const double*, const double*, const double*,
                     const double*, const double*, const cnp.int64_t*, double*, double*,
                     unsigned char*) nogil


cdef enum:
    # states iterated side by side: every per-state quantity is stored unknown-major with
    # PANEL contiguous states, so the inner loops run over states (independent, vectorized)
    PANEL = 16  # = TS_PANEL of the C lane kernels


cdef double _mismatch_into(
    const double[::1] vr,
    const cnp.int64_t[::1] indptr,
    const cnp.int64_t[::1] indices,
    const double[::1] yr,
    const double[::1] sr,
    const cnp.int64_t[::1] pvpq,
    const cnp.int64_t[::1] pq_pos,
    const cnp.int64_t[::1] perm_r,
    double[:, ::1] y,
    Py_ssize_t k,
) noexcept nogil:
    """Mismatch of one state (row storage) into lane ``k`` of ``y`` (rows permuted by
    ``perm_r``); returns its infinity norm (nan if any entry is)."""
    cdef Py_ssize_t npvpq = pvpq.shape[0]
    cdef Py_ssize_t a, i, p, j, q
    cdef double ire, iim, yre, yim, vre, vim, pm, qm, mx = 0.0
    cdef bint bad = False
    for a in range(npvpq):
        i = pvpq[a]
        ire = 0.0
        iim = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            yre = yr[2 * p]
            yim = yr[2 * p + 1]
            vre = vr[2 * j]
            vim = vr[2 * j + 1]
            ire = ire + yre * vre - yim * vim
            iim = iim + yre * vim + yim * vre
        vre = vr[2 * i]
        vim = vr[2 * i + 1]
        pm = vre * ire + vim * iim - sr[2 * i]
        y[perm_r[a], k] = pm
        if fabs(pm) > mx:
            mx = fabs(pm)
        elif pm != pm:
            bad = True
        q = pq_pos[i]
        if q >= 0:
            qm = vim * ire - vre * iim - sr[2 * i + 1]
            y[perm_r[npvpq + q], k] = qm
            if fabs(qm) > mx:
                mx = fabs(qm)
            elif qm != qm:
                bad = True
    if bad:
        return NAN
    return mx


cdef void _power_row(
    const double[::1] vr,
    const cnp.int64_t[::1] indptr,
    const cnp.int64_t[::1] indices,
    const double[::1] yr,
    const cnp.int64_t[::1] pvpq,
    double[::1] p_calc,
    double[::1] q_calc,
) noexcept nogil:
    """Calculated injections ``v conj(Ybus v)`` of one state: P per ``pvpq`` position, Q per
    bus (the operations of :func:`_mismatch_into` before the subtraction)."""
    cdef Py_ssize_t a, i, p, j
    cdef double ire, iim, yre, yim, vre, vim
    for a in range(pvpq.shape[0]):
        i = pvpq[a]
        ire = 0.0
        iim = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            yre = yr[2 * p]
            yim = yr[2 * p + 1]
            vre = vr[2 * j]
            vim = vr[2 * j + 1]
            ire = ire + yre * vre - yim * vim
            iim = iim + yre * vim + yim * vre
        vre = vr[2 * i]
        vim = vr[2 * i + 1]
        p_calc[a] = vre * ire + vim * iim
        q_calc[i] = vim * ire - vre * iim


cdef double _mismatch_from_power(
    const double[::1] p_calc,
    const double[::1] q_calc,
    const double[::1] sr,
    const cnp.int64_t[::1] pvpq,
    const cnp.int64_t[::1] pq,
    const cnp.int64_t[::1] perm_r,
    double[:, ::1] y,
    Py_ssize_t k,
) noexcept nogil:
    """:func:`_mismatch_into` from precomputed calculated injections."""
    cdef Py_ssize_t npvpq = pvpq.shape[0]
    cdef Py_ssize_t a, i
    cdef double mx = 0.0, x
    cdef bint bad = False
    for a in range(npvpq):
        x = p_calc[a] - sr[2 * pvpq[a]]
        y[perm_r[a], k] = x
        if fabs(x) > mx:
            mx = fabs(x)
        elif x != x:
            bad = True
    for a in range(pq.shape[0]):
        i = pq[a]
        x = q_calc[i] - sr[2 * i + 1]
        y[perm_r[npvpq + a], k] = x
        if fabs(x) > mx:
            mx = fabs(x)
        elif x != x:
            bad = True
    if bad:
        return NAN
    return mx


def chord(
    const cnp.int64_t[::1] l_indptr,
    const cnp.int64_t[::1] l_indices,
    const double[::1] l_data,
    const cnp.int64_t[::1] u_indptr,
    const cnp.int64_t[::1] u_indices,
    const double[::1] u_data,
    const cnp.int64_t[::1] perm_r,
    const cnp.int64_t[::1] perm_c,
    const cnp.int64_t[::1] indptr,
    const cnp.int64_t[::1] indices,
    const double complex[::1] data,
    const cnp.int64_t[::1] pvpq,
    const cnp.int64_t[::1] pq,
    v_obj,
    double[:, ::1] va,
    double[:, ::1] vm,
    sbus_obj,
    int[::1] iters,
    conv_obj,
    double[::1] norm_out,
    Py_ssize_t n_iter,
    double tol,
    const cnp.int64_t[::1] rows,
):
    """Chord iterations (one factorized Jacobian, Anderson(1) mixing) on the state rows
    ``rows`` of the arrays, in place. A state leaves when converged, when its mismatch is not finite or shrinks by
    less than half in one step, or after ``n_iter`` steps.

    ``PANEL`` states are iterated side by side in unknown-major work arrays (mismatch,
    triangular solves, Anderson step and voltage update all loop over the states
    innermost); a state that leaves hands its lane to the next waiting state, so no lane
    idles while states remain. Per state, the arithmetic is that of one state at a time."""
    cdef Py_ssize_t m = rows.shape[0]
    cdef Py_ssize_t n_bus = va.shape[1]
    cdef Py_ssize_t npvpq = pvpq.shape[0]
    cdef Py_ssize_t npq = pq.shape[0]
    cdef Py_ssize_t n = npvpq + npq
    cdef double[:, ::1] vr = np.asarray(v_obj).view(np.float64)
    cdef const double[:, ::1] sr = np.asarray(sbus_obj).view(np.float64)
    cdef const double[::1] yr = np.asarray(data).view(np.float64)
    cdef cnp.uint8_t[::1] conv = np.asarray(conv_obj).view(np.uint8)
    # lane work arrays, unknown-major
    # lane work arrays, unknown-major; every lane is initialized by _fill
    cdef double[:, ::1] wr = np.empty((n_bus, PANEL))  # Re v
    cdef double[:, ::1] wi = np.empty((n_bus, PANEL))  # Im v
    cdef double[:, ::1] wa = np.empty((max(npvpq, 1), PANEL))  # va at pvpq
    cdef double[:, ::1] wm = np.empty((max(npq, 1), PANEL))  # vm at pq
    cdef double[:, ::1] sp_ = np.empty((max(npvpq, 1), PANEL))  # Re s at pvpq
    cdef double[:, ::1] sq_ = np.empty((max(npq, 1), PANEL))  # Im s at pq
    cdef double[:, ::1] y = np.empty((max(n, 1), PANEL))  # mismatch, then solution
    cdef double[:, ::1] gp = np.empty((max(n, 1), PANEL))  # previous chord step
    cdef double[:, ::1] dxp = np.empty((max(n, 1), PANEL))  # previous (mixed) step
    cdef double[::1] udinv = np.empty(max(n, 1))
    # calculated injections of the first start voltages seen: states of a group share their
    # start, so only their specified injections differ in the first mismatch
    cdef double[::1] ref_v = np.empty(2 * n_bus)
    cdef double[::1] p_calc = np.empty(max(npvpq, 1))
    cdef double[::1] q_calc = np.zeros(n_bus)
    cdef int have_ref = 0
    cdef cnp.int64_t[::1] pq_pos = np.full(n_bus, -1, dtype=np.int64)
    cdef cnp.int64_t[::1] ang_pos = np.full(n_bus, -1, dtype=np.int64)
    cdef double mx[PANEL]
    cdef double den[PANEL]
    cdef double num[PANEL]
    cdef double gam[PANEL]
    cdef double prev[PANEL]
    cdef unsigned char bad[PANEL]
    cdef Py_ssize_t sid[PANEL]
    cdef Py_ssize_t itk[PANEL]
    cdef Py_ssize_t nxt = 0, n_occ = 0, k, i, j, p, r, a, q, s
    cdef double c, dd, d2, yre, yim, xr, xi, pm, qm, g, dg, nr, mo, mn, rr
    cdef bint big, leave
    for a in range(npq):
        pq_pos[pq[a]] = a
    for a in range(npvpq):
        ang_pos[pvpq[a]] = a
    # never-empty copies so that &x[0] is valid for the C passes
    cdef cnp.int64_t[::1] pvpq_c = np.r_[np.asarray(pvpq), 0].astype(np.int64)
    cdef cnp.int64_t[::1] pq_c = np.r_[np.asarray(pq), 0].astype(np.int64)
    cdef cnp.int64_t[::1] pc_c = np.r_[np.asarray(perm_c), 0].astype(np.int64)
    cdef const cnp.int64_t* pc = &pc_c[0]
    cdef const cnp.int64_t* l_ip = &l_indices[0] if l_indices.shape[0] else NULL
    cdef const double* l_dp = &l_data[0] if l_data.shape[0] else NULL
    cdef const cnp.int64_t* u_ip = &u_indices[0] if u_indices.shape[0] else NULL
    cdef const double* u_dp = &u_data[0] if u_data.shape[0] else NULL
    cdef const cnp.int64_t* ix = &indices[0] if indices.shape[0] else NULL
    with nogil:
        for j in range(n):
            dd = 0.0
            for p in range(u_indptr[j], u_indptr[j + 1]):
                if u_indices[p] == j:
                    dd = u_data[p]
            udinv[j] = 1.0 / dd
        for k in range(PANEL):
            sid[k] = -1
            _fill(k, &nxt, m, n_bus, n, n_iter, tol, vr, va, vm, sr, wr, wi, wa, wm, sp_, sq_,
                  y, gp, dxp, indptr, indices, yr, pvpq, pq, pq_pos, perm_r, norm_out, conv,
                  sid, itk, prev, rows, ref_v, p_calc, q_calc, &have_ref)
            if sid[k] >= 0:
                n_occ += 1
        while n_occ > 0:
            ts_lu_panel(n, &l_indptr[0], l_ip, l_dp, &u_indptr[0], u_ip, u_dp, &udinv[0],
                        &y[0, 0])
            # Anderson(1): gam = 0 on a lane's first step (its gp, dxp are zero)
            ts_anderson_sums(n, pc, &y[0, 0], &gp[0, 0], den, num)
            for k in range(PANEL):
                if sid[k] < 0 or itk[k] == 0:
                    gam[k] = 0.0
                elif den[k] > 0.0:
                    gam[k] = num[k] / den[k]
                else:
                    gam[k] = num[k]
            ts_step(npvpq, npq, pc, &y[0, 0], &gp[0, 0], &dxp[0, 0], gam, &pvpq_c[0], &pq_c[0],
                    &ang_pos[0], &wa[0, 0], &wm[0, 0], &wr[0, 0], &wi[0, 0])
            for k in range(PANEL):
                if sid[k] >= 0:
                    itk[k] += 1
                    iters[sid[k]] += 1
            ts_mismatch(npvpq, &pvpq_c[0], &pq_pos[0], &indptr[0], ix, &yr[0], &wr[0, 0],
                        &wi[0, 0], &sp_[0, 0], &sq_[0, 0], &perm_r[0], &y[0, 0], mx, bad)
            for k in range(PANEL):
                s = sid[k]
                if s < 0:
                    continue
                nr = NAN if bad[k] else mx[k]
                norm_out[s] = nr
                leave = True
                if nr < tol:
                    conv[s] = 1
                elif not (nr - nr == 0.0):  # inf or nan
                    pass
                elif not (nr <= 0.5 * prev[k]):
                    pass
                elif itk[k] >= n_iter:
                    pass
                else:
                    prev[k] = nr
                    leave = False
                if leave:
                    _store(k, s, n_bus, vr, va, vm, wr, wi, wa, wm, pvpq, pq)
                    sid[k] = -1
                    _fill(k, &nxt, m, n_bus, n, n_iter, tol, vr, va, vm, sr, wr, wi, wa, wm,
                          sp_, sq_, y, gp, dxp, indptr, indices, yr, pvpq, pq, pq_pos, perm_r,
                          norm_out, conv, sid, itk, prev, rows, ref_v, p_calc, q_calc,
                          &have_ref)
                    if sid[k] < 0:
                        n_occ -= 1


cdef inline void _store(
    Py_ssize_t k,
    Py_ssize_t s,
    Py_ssize_t n_bus,
    double[:, ::1] vr,
    double[:, ::1] va,
    double[:, ::1] vm,
    const double[:, ::1] wr,
    const double[:, ::1] wi,
    const double[:, ::1] wa,
    const double[:, ::1] wm,
    const cnp.int64_t[::1] pvpq,
    const cnp.int64_t[::1] pq,
) noexcept nogil:
    """Lane ``k`` back into state row ``s``."""
    cdef Py_ssize_t j, a
    for j in range(n_bus):
        vr[s, 2 * j] = wr[j, k]
        vr[s, 2 * j + 1] = wi[j, k]
    for a in range(pvpq.shape[0]):
        va[s, pvpq[a]] = wa[a, k]
    for a in range(pq.shape[0]):
        vm[s, pq[a]] = wm[a, k]


cdef void _fill(
    Py_ssize_t k,
    Py_ssize_t* nxt,
    Py_ssize_t m,
    Py_ssize_t n_bus,
    Py_ssize_t n,
    Py_ssize_t n_iter,
    double tol,
    const double[:, ::1] vr,
    const double[:, ::1] va,
    const double[:, ::1] vm,
    const double[:, ::1] sr,
    double[:, ::1] wr,
    double[:, ::1] wi,
    double[:, ::1] wa,
    double[:, ::1] wm,
    double[:, ::1] sp_,
    double[:, ::1] sq_,
    double[:, ::1] y,
    double[:, ::1] gp,
    double[:, ::1] dxp,
    const cnp.int64_t[::1] indptr,
    const cnp.int64_t[::1] indices,
    const double[::1] yr,
    const cnp.int64_t[::1] pvpq,
    const cnp.int64_t[::1] pq,
    const cnp.int64_t[::1] pq_pos,
    const cnp.int64_t[::1] perm_r,
    double[::1] norm_out,
    cnp.uint8_t[::1] conv,
    Py_ssize_t* sid,
    Py_ssize_t* itk,
    double* prev,
    const cnp.int64_t[::1] rows,
    double[::1] ref_v,
    double[::1] p_calc,
    double[::1] q_calc,
    int* have_ref,
) noexcept nogil:
    """Load the next waiting state that needs a step into lane ``k`` (its mismatch into
    ``y``); states already converged or not finite are settled on the way. An empty lane
    holds zero voltages and injections (zero mismatch, zero step)."""
    cdef Py_ssize_t s, j, a
    cdef double nr
    while nxt[0] < m:
        s = rows[nxt[0]]
        nxt[0] += 1
        if not have_ref[0]:
            memcpy(&ref_v[0], &vr[s, 0], 2 * n_bus * sizeof(double))
            _power_row(ref_v, indptr, indices, yr, pvpq, p_calc, q_calc)
            have_ref[0] = 1
        if memcmp(&vr[s, 0], &ref_v[0], 2 * n_bus * sizeof(double)) == 0:
            nr = _mismatch_from_power(p_calc, q_calc, sr[s], pvpq, pq, perm_r, y, k)
        else:
            nr = _mismatch_into(vr[s], indptr, indices, yr, sr[s], pvpq, pq_pos, perm_r, y, k)
        norm_out[s] = nr
        if nr < tol:
            conv[s] = 1
            continue
        if not (nr - nr == 0.0) or n_iter <= 0:
            continue
        for j in range(n_bus):
            wr[j, k] = vr[s, 2 * j]
            wi[j, k] = vr[s, 2 * j + 1]
        for a in range(pvpq.shape[0]):
            wa[a, k] = va[s, pvpq[a]]
            sp_[a, k] = sr[s, 2 * pvpq[a]]
        for a in range(pq.shape[0]):
            wm[a, k] = vm[s, pq[a]]
            sq_[a, k] = sr[s, 2 * pq[a] + 1]
        for j in range(n):
            gp[j, k] = 0.0
            dxp[j, k] = 0.0
        sid[k] = s
        itk[k] = 0
        prev[k] = nr
        return
    for j in range(n_bus):
        wr[j, k] = 0.0
        wi[j, k] = 0.0
    for a in range(pvpq.shape[0]):
        wa[a, k] = 0.0
        sp_[a, k] = 0.0
    for a in range(pq.shape[0]):
        wm[a, k] = 1.0
        sq_[a, k] = 0.0
    for j in range(n):
        y[j, k] = 0.0
        gp[j, k] = 0.0
        dxp[j, k] = 0.0


def add_injections(
    double complex[:, ::1] s,
    const double[:, ::1] values_t,
    Py_ssize_t start,
    const cnp.int64_t[::1] el_bus,
    const double[::1] fac_re,
    const double[::1] fac_im,
    const double[::1] base,
):
    """Add the profiled changes ``fac * (values_t[e, start + k] - base[e])`` of every element
    ``e`` to ``s[k, el_bus[e]]`` (real and imaginary factor apart; elements on bus -1 are
    skipped), in place. Steps are taken in tiles of 64 so the rows of ``s`` stay in cache."""
    cdef Py_ssize_t m = s.shape[0]
    cdef Py_ssize_t n_el = el_bus.shape[0]
    cdef double[:, ::1] sr = np.asarray(s).view(np.float64)
    cdef Py_ssize_t k0, kk, e, k, b
    cdef double fr, fi, be, d
    with nogil:
        k0 = 0
        while k0 < m:
            kk = 64 if m - k0 > 64 else m - k0
            for e in range(n_el):
                b = el_bus[e]
                if b < 0:
                    continue
                fr = fac_re[e]
                fi = fac_im[e]
                be = base[e]
                if fr != 0.0:
                    for k in range(kk):
                        d = values_t[e, start + k0 + k] - be
                        sr[k0 + k, 2 * b] += fr * d
                if fi != 0.0:
                    for k in range(kk):
                        d = values_t[e, start + k0 + k] - be
                        sr[k0 + k, 2 * b + 1] += fi * d
            k0 += 64


def project(const double[:, ::1] x, const double[:, ::1] proj):
    """``z = x @ proj`` with every sum taken over the columns of ``x`` in order: the same
    numbers as the twin's loop on any machine and thread count (a BLAS product may split its
    sums differently), and the GIL released."""
    cdef Py_ssize_t n = x.shape[0]
    cdef Py_ssize_t m = x.shape[1]
    cdef Py_ssize_t d = proj.shape[1]
    z_arr = np.zeros((n, d), dtype=np.float64)
    cdef double[:, ::1] z = z_arr
    cdef Py_ssize_t k, j, q
    cdef double a
    with nogil:
        for k in range(n):
            for j in range(m):
                a = x[k, j]
                for q in range(d):
                    z[k, q] = z[k, q] + a * proj[j, q]
    return z_arr


def kmeans(const double[:, ::1] z, double[:, ::1] c, Py_ssize_t n_iter):
    """``n_iter`` Lloyd rounds on the points ``z`` from the centers ``c`` (updated in place):
    each point to its nearest center (squared distance summed over the dimensions in order,
    the first center on a tie), then every center that has points to their mean (sums in
    point order). Returns the labels of the last assignment (int64)."""
    cdef Py_ssize_t n = z.shape[0]
    cdef Py_ssize_t d = z.shape[1]
    cdef Py_ssize_t g = c.shape[0]
    lab_arr = np.zeros(n, dtype=np.int64)
    cdef cnp.int64_t[::1] lab = lab_arr
    cdef cnp.int64_t[::1] cnt = np.zeros(max(g, 1), dtype=np.int64)
    cdef double[:, ::1] sums = np.zeros((max(g, 1), max(d, 1)))
    cdef Py_ssize_t it, k, j, q, best_j
    cdef double best, dist, t
    if g == 0:
        return lab_arr
    with nogil:
        for it in range(n_iter):
            for k in range(n):
                best = 0.0
                best_j = -1
                for j in range(g):
                    dist = 0.0
                    for q in range(d):
                        t = z[k, q] - c[j, q]
                        dist = dist + t * t
                    if best_j < 0 or dist < best:
                        best = dist
                        best_j = j
                lab[k] = best_j
            for j in range(g):
                cnt[j] = 0
                for q in range(d):
                    sums[j, q] = 0.0
            for k in range(n):
                j = lab[k]
                cnt[j] += 1
                for q in range(d):
                    sums[j, q] = sums[j, q] + z[k, q]
            for j in range(g):
                if cnt[j] > 0:
                    for q in range(d):
                        c[j, q] = sums[j, q] / <double>cnt[j]
    return lab_arr
