# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Newton-Raphson inner loop for many power-flow states; compiled twin of
gridplan.core.timeseries_nr (same functions, signatures and results)."""

import numpy as np

cimport numpy as cnp
from libc.math cimport NAN, cos, fabs, sin, sqrt
from libc.string cimport memcmp

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


cdef inline double _mismatch_row(
    const double[::1] vr,
    const cnp.int64_t[::1] indptr,
    const cnp.int64_t[::1] indices,
    const double[::1] yr,
    const double[::1] sr,
    const cnp.int64_t[::1] pvpq,
    const cnp.int64_t[::1] pq,
    double[::1] f,
    double[::1] mis_q,
) noexcept nogil:
    """Mismatch of one state into ``f``; returns its infinity norm (nan if any entry is)."""
    cdef Py_ssize_t npvpq = pvpq.shape[0]
    cdef Py_ssize_t npq = pq.shape[0]
    cdef Py_ssize_t a, i, p, j
    cdef double ire, iim, yre, yim, vre, vim, pm, qm, mx = 0.0, x
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
        qm = vim * ire - vre * iim - sr[2 * i + 1]
        mis_q[i] = qm
        f[a] = pm
        if fabs(pm) > mx:
            mx = fabs(pm)
        elif pm != pm:
            bad = True
    for a in range(npq):
        x = mis_q[pq[a]]
        f[npvpq + a] = x
        if fabs(x) > mx:
            mx = fabs(x)
        elif x != x:
            bad = True
    if bad:
        return NAN
    return mx


cdef inline void _power_row(
    const double[::1] vr,
    const cnp.int64_t[::1] indptr,
    const cnp.int64_t[::1] indices,
    const double[::1] yr,
    const cnp.int64_t[::1] pvpq,
    double[::1] p_calc,
    double[::1] q_calc,
) noexcept nogil:
    """Calculated injections ``v conj(Ybus v)`` of one state: P per ``pvpq`` position, Q
    per bus (same operations as :func:`_mismatch_row` before the subtraction)."""
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


cdef inline double _mismatch_from_power(
    const double[::1] p_calc,
    const double[::1] q_calc,
    const double[::1] sr,
    const cnp.int64_t[::1] pvpq,
    const cnp.int64_t[::1] pq,
    double[::1] f,
) noexcept nogil:
    """:func:`_mismatch_row` from precomputed calculated injections."""
    cdef Py_ssize_t npvpq = pvpq.shape[0]
    cdef Py_ssize_t a, i
    cdef double mx = 0.0, x
    cdef bint bad = False
    for a in range(npvpq):
        x = p_calc[a] - sr[2 * pvpq[a]]
        f[a] = x
        if fabs(x) > mx:
            mx = fabs(x)
        elif x != x:
            bad = True
    for a in range(pq.shape[0]):
        i = pq[a]
        x = q_calc[i] - sr[2 * i + 1]
        f[npvpq + a] = x
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
):
    """Chord iterations (one factorized Jacobian, Anderson(1) mixing) on every state row,
    in place: mismatch, multi-right-hand-side triangular solves and voltage update fused in
    one loop. A state leaves when converged, when its mismatch is not finite or shrinks by
    less than half in one step, or after ``n_iter`` steps."""
    cdef Py_ssize_t m = va.shape[0]
    cdef Py_ssize_t n_bus = va.shape[1]
    cdef Py_ssize_t npvpq = pvpq.shape[0]
    cdef Py_ssize_t npq = pq.shape[0]
    cdef Py_ssize_t n = npvpq + npq
    cdef Py_ssize_t PANEL = 32
    cdef double[:, ::1] vr = np.asarray(v_obj).view(np.float64)
    cdef const double[:, ::1] sr = np.asarray(sbus_obj).view(np.float64)
    cdef const double[::1] yr = np.asarray(data).view(np.float64)
    cdef cnp.uint8_t[::1] conv = np.asarray(conv_obj).view(np.uint8)
    cdef double[:, ::1] f = np.empty((m, n))
    cdef double[:, ::1] g = np.empty((m, n))
    cdef double[:, ::1] g_prev = np.empty((m, n))
    cdef double[:, ::1] dx_prev = np.empty((m, n))
    cdef double[::1] prev = np.empty(m)
    cdef double[::1] mis_q = np.zeros(n_bus)
    cdef double[::1] p_calc = np.empty(npvpq)
    cdef double[::1] q_calc = np.zeros(n_bus)
    cdef bint have0 = False
    cdef double[::1] udinv = np.empty(n)
    cdef double[:, ::1] y = np.empty((n, PANEL))
    cdef cnp.int64_t[::1] act = np.arange(m, dtype=np.int64)
    cdef Py_ssize_t n_act = m, n_keep, it, q, s, k, k0, mm, i, j, p, r, a
    cdef double nrm, c, dd, dg, den, num, gam, sn, re, im, m_old, m_new, d2, rr
    with nogil:
        for j in range(n):
            dd = 0.0
            for p in range(u_indptr[j], u_indptr[j + 1]):
                if u_indices[p] == j:
                    dd = u_data[p]
            udinv[j] = 1.0 / dd
        for it in range(n_iter + 1):
            n_keep = 0
            for q in range(n_act):
                s = act[q]
                if it == 0 and s > 0 and memcmp(&vr[s, 0], &vr[0, 0], 2 * n_bus * sizeof(double)) == 0:
                    # same start voltages as state 0 (a group starts from one solution):
                    # only the specified injections differ
                    if not have0:
                        _power_row(vr[0], indptr, indices, yr, pvpq, p_calc, q_calc)
                        have0 = True
                    nrm = _mismatch_from_power(p_calc, q_calc, sr[s], pvpq, pq, f[s])
                else:
                    nrm = _mismatch_row(vr[s], indptr, indices, yr, sr[s], pvpq, pq, f[s], mis_q)
                norm_out[s] = nrm
                if nrm < tol:
                    conv[s] = 1
                    continue
                if not (nrm - nrm == 0.0):  # inf or nan
                    continue
                if it > 0 and not (nrm <= 0.5 * prev[s]):
                    continue
                prev[s] = nrm
                act[n_keep] = s
                n_keep += 1
            n_act = n_keep
            if it == n_iter or n_act == 0:
                break
            # g = -J0^-1 f for the active states, in panels
            k0 = 0
            while k0 < n_act:
                mm = PANEL if n_act - k0 > PANEL else n_act - k0
                for k in range(mm):
                    s = act[k0 + k]
                    for i in range(n):
                        y[perm_r[i], k] = f[s, i]
                for j in range(n):
                    for p in range(l_indptr[j], l_indptr[j + 1]):
                        r = l_indices[p]
                        if r > j:
                            c = l_data[p]
                            for k in range(mm):
                                y[r, k] -= c * y[j, k]
                for j in range(n - 1, -1, -1):
                    dd = udinv[j]
                    for k in range(mm):
                        y[j, k] *= dd
                    for p in range(u_indptr[j], u_indptr[j + 1]):
                        r = u_indices[p]
                        if r < j:
                            c = u_data[p]
                            for k in range(mm):
                                y[r, k] -= c * y[j, k]
                for k in range(mm):
                    s = act[k0 + k]
                    for i in range(n):
                        g[s, i] = -y[perm_c[i], k]
                k0 += PANEL
            for q in range(n_act):
                s = act[q]
                if it > 0:
                    den = 0.0
                    num = 0.0
                    for i in range(n):
                        dg = g[s, i] - g_prev[s, i]
                        den += dg * dg
                        num += dg * g[s, i]
                    gam = num / den if den > 0.0 else num
                    for i in range(n):
                        dg = g[s, i] - g_prev[s, i]
                        g_prev[s, i] = g[s, i]
                        dx_prev[s, i] = g[s, i] - gam * (dx_prev[s, i] + dg)
                else:
                    for i in range(n):
                        g_prev[s, i] = g[s, i]
                        dx_prev[s, i] = g[s, i]
                # apply dx_prev[s] (the step just taken) as in update_voltage
                for a in range(npvpq):
                    i = pvpq[a]
                    dd = dx_prev[s, a]
                    va[s, i] += dd
                    if fabs(dd) < 1e-2:
                        d2 = dd * dd
                        c = 1.0 - d2 * (0.5 - d2 * (1.0 / 24.0 - d2 / 720.0))
                        sn = dd * (1.0 - d2 * (1.0 / 6.0 - d2 * (1.0 / 120.0 - d2 / 5040.0)))
                    else:
                        c = cos(dd)
                        sn = sin(dd)
                    re = vr[s, 2 * i]
                    im = vr[s, 2 * i + 1]
                    vr[s, 2 * i] = re * c - im * sn
                    vr[s, 2 * i + 1] = re * sn + im * c
                for a in range(npq):
                    i = pq[a]
                    m_old = vm[s, i]
                    m_new = m_old + dx_prev[s, npvpq + a]
                    vm[s, i] = m_new
                    if m_old != 0.0:
                        rr = m_new / m_old
                        vr[s, 2 * i] *= rr
                        vr[s, 2 * i + 1] *= rr
                    else:
                        vr[s, 2 * i] = m_new * cos(va[s, i])
                        vr[s, 2 * i + 1] = m_new * sin(va[s, i])
                iters[s] += 1


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
    losses ``Re(Vf conj(If) + Vt conj(It)) base_mva`` summed over all branches (MW)."""
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
    with nogil:
        for k in range(n_states):
            p = 0.0
            for e in range(n_br):
                fr = vr[k, 2 * f[e]]
                fi = vr[k, 2 * f[e] + 1]
                tr = vr[k, 2 * t[e]]
                ti = vr[k, 2 * t[e] + 1]
                ir = a[2 * e] * fr - a[2 * e + 1] * fi + b[2 * e] * tr - b[2 * e + 1] * ti
                ii = a[2 * e] * fi + a[2 * e + 1] * fr + b[2 * e] * ti + b[2 * e + 1] * tr
                p += fr * ir + fi * ii
                i_f[e] = sqrt(ir * ir + ii * ii) * k_f[e]
                ir = c[2 * e] * fr - c[2 * e + 1] * fi + d[2 * e] * tr - d[2 * e + 1] * ti
                ii = c[2 * e] * fi + c[2 * e + 1] * fr + d[2 * e] * ti + d[2 * e + 1] * tr
                p += tr * ir + ti * ii
                i_t[e] = sqrt(ir * ir + ii * ii) * k_t[e]
            loss[k] = p * base_mva
            for e in range(n_col):
                r = col_row[e]
                if r < 0:
                    load[k, e] = 0.0
                else:
                    x = i_f[r] * col_f[e]
                    y = i_t[r] * col_t[e]
                    load[k, e] = x if x >= y or y != y else y
    return load_arr, loss_arr
