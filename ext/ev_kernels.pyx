# cython: language_level=3
"""EV charging kernels (compiled); numpy twins and the derivations in gridplan/core/ev_kernels.py."""

import numpy as np

cimport numpy as cnp
from libc.math cimport ceil, floor, fmod
from libc.stdlib cimport free, malloc

cnp.import_array()


def queue_fifo(
    const cnp.int64_t[::1] group,
    const double[::1] t_arr,
    const double[::1] t_limit,
    const double[::1] t_hold,
    const double[::1] duration,
    double[::1] server_free,
    const cnp.int64_t[::1] group_start,
    double[::1] t_plug,
    double[::1] t_release,
    cnp.uint8_t[::1] served,
):
    """First-come-first-served points per site (see the twin for the definition)."""
    cdef Py_ssize_t i, j, jbest, lo, hi, n = group.shape[0]
    cdef double best, start, rel
    with nogil:
        for i in range(n):
            lo = group_start[group[i]]
            hi = group_start[group[i] + 1]
            jbest = lo
            best = server_free[lo]
            for j in range(lo + 1, hi):
                if server_free[j] < best:
                    best = server_free[j]
                    jbest = j
            start = t_arr[i] if t_arr[i] > best else best
            if start >= t_limit[i]:
                t_plug[i] = t_limit[i]
                t_release[i] = t_limit[i]
                served[i] = 0
                continue
            if t_hold[i] >= 0.0:
                rel = t_hold[i]
            else:
                rel = start + duration[i]
                if rel > t_limit[i]:
                    rel = t_limit[i]
            server_free[jbest] = rel
            t_plug[i] = start
            t_release[i] = rel
            served[i] = 1


cdef void _sort(double* a, Py_ssize_t n) noexcept nogil:
    """In-place ascending sort (insertion sort below 24 items, heap sort above)."""
    cdef Py_ssize_t i, j, k, c
    cdef double v, t
    if n < 24:
        for i in range(1, n):
            v = a[i]
            j = i - 1
            while j >= 0 and a[j] > v:
                a[j + 1] = a[j]
                j -= 1
            a[j + 1] = v
        return
    # heap sort
    for k in range(n // 2 - 1, -1, -1):
        i = k
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            if c + 1 < n and a[c + 1] > a[c]:
                c += 1
            if a[c] <= a[i]:
                break
            t = a[i]; a[i] = a[c]; a[c] = t
            i = c
    for k in range(n - 1, 0, -1):
        t = a[0]; a[0] = a[k]; a[k] = t
        i = 0
        while True:
            c = 2 * i + 1
            if c >= k:
                break
            if c + 1 < k and a[c + 1] > a[c]:
                c += 1
            if a[c] <= a[i]:
                break
            t = a[i]; a[i] = a[c]; a[c] = t
            i = c


cdef double _water_level(
    const double* b, const double* cap, Py_ssize_t w, double target, double* starts, double* ends
) noexcept nogil:
    """Level L with sum clip(L - b, 0, cap) == target (0 < target < sum cap)."""
    cdef Py_ssize_t i, m = 0, si = 0, ei = 0
    cdef double f = 0.0, level, v, step
    cdef long slope = 0
    cdef int ds
    for i in range(w):
        if cap[i] > 0.0:
            starts[m] = b[i]
            ends[m] = b[i] + cap[i]
            m += 1
    _sort(starts, m)
    _sort(ends, m)
    level = starts[0]
    while si < m or ei < m:
        if si < m and (ei >= m or starts[si] <= ends[ei]):
            v = starts[si]
            ds = 1
            si += 1
        else:
            v = ends[ei]
            ds = -1
            ei += 1
        step = slope * (v - level)
        if slope > 0 and f + step >= target:
            return level + (target - f) / slope
        f += step
        level = v
        slope += ds
    return level


cdef double _fill_one(
    double[:, ::1] load,
    Py_ssize_t tr,
    double t0,
    double t1,
    double p,
    double energy,
    double[:, ::1] x_out,
    Py_ssize_t i,
    double* b,
    double* cap,
    double* starts,
    double* ends,
) noexcept nogil:
    """Water-fill one session into its transformer's load; returns what it delivers."""
    cdef Py_ssize_t n_period = load.shape[1], k, k0, k1, w, col
    cdef double frac, lo, hi, total = 0.0, level, x, s = 0.0
    k0 = <Py_ssize_t> floor(t0)
    k1 = <Py_ssize_t> ceil(t1)
    w = k1 - k0
    if w <= 0 or energy <= 0.0:
        return 0.0
    for k in range(w):
        lo = t0 if t0 > k0 + k else <double> (k0 + k)
        hi = t1 if t1 < k0 + k + 1.0 else <double> (k0 + k + 1)
        frac = hi - lo
        if frac < 0.0:
            frac = 0.0
        elif frac > 1.0:
            frac = 1.0
        cap[k] = p * frac
        total += cap[k]
        col = (k0 + k) % n_period
        if col < 0:
            col += n_period
        b[k] = load[tr, col]
    if total <= energy:
        for k in range(w):
            x_out[i, k] = cap[k]
            s += cap[k]
    else:
        level = _water_level(b, cap, w, energy, starts, ends)
        for k in range(w):
            x = level - b[k]
            if x < 0.0:
                x = 0.0
            elif x > cap[k]:
                x = cap[k]
            x_out[i, k] = x
            s += x
    for k in range(w):
        col = (k0 + k) % n_period
        if col < 0:
            col += n_period
        load[tr, col] += x_out[i, k]
    return s


def valley_fill(
    double[:, ::1] load,
    const cnp.int64_t[::1] trafo,
    const double[::1] t0,
    const double[::1] t1,
    const double[::1] p_kw,
    const double[::1] energy,
    cnp.int64_t[::1] k_first,
    double[:, ::1] x_out,
    double[::1] delivered,
    int sweeps,
):
    """Valley filling per transformer with refill passes (see the twin for the definition)."""
    cdef Py_ssize_t n = trafo.shape[0], n_period = load.shape[1], w_max = x_out.shape[1]
    cdef Py_ssize_t i, k, k0, w, col, sweep
    cdef double* b = <double*> malloc(w_max * sizeof(double))
    cdef double* cap = <double*> malloc(w_max * sizeof(double))
    cdef double* starts = <double*> malloc(w_max * sizeof(double))
    cdef double* ends = <double*> malloc(w_max * sizeof(double))
    if b == NULL or cap == NULL or starts == NULL or ends == NULL:
        free(b); free(cap); free(starts); free(ends)
        raise MemoryError()
    try:
        with nogil:
            for i in range(n):
                for k in range(w_max):
                    x_out[i, k] = 0.0
                k_first[i] = <Py_ssize_t> floor(t0[i])
                delivered[i] = _fill_one(
                    load, trafo[i], t0[i], t1[i], p_kw[i], energy[i], x_out, i,
                    b, cap, starts, ends,
                )
            for sweep in range(sweeps):
                for i in range(n):
                    k0 = k_first[i]
                    w = (<Py_ssize_t> ceil(t1[i])) - k0
                    if w <= 0:
                        continue
                    for k in range(w):
                        col = (k0 + k) % n_period
                        if col < 0:
                            col += n_period
                        load[trafo[i], col] -= x_out[i, k]
                        x_out[i, k] = 0.0
                    delivered[i] = _fill_one(
                        load, trafo[i], t0[i], t1[i], p_kw[i], energy[i], x_out, i,
                        b, cap, starts, ends,
                    )
    finally:
        free(b); free(cap); free(starts); free(ends)


def ramp_deposit(
    double[:, :, :, ::1] buf,
    const cnp.int64_t[::1] row,
    const double[::1] t,
    const double[::1] slope,
):
    """Add ramp events to the day-slotted buffer (see the twin for the definition)."""
    cdef Py_ssize_t i, n = row.shape[0]
    cdef Py_ssize_t n_slots = buf.shape[0], spd = buf.shape[2]
    with nogil:
        for i in range(n):
            _deposit(buf, row[i], t[i], slope[i], spd, n_slots)


def step_deposit(
    double[:, :, :, ::1] buf,
    const cnp.int64_t[::1] row,
    const cnp.int64_t[::1] k_first,
    const double[:, ::1] x,
):
    """Add per-step values to the day-slotted buffer (see the twin for the definition)."""
    cdef Py_ssize_t i, w, k, n = row.shape[0], width = x.shape[1]
    cdef Py_ssize_t n_slots = buf.shape[0], spd = buf.shape[2]
    with nogil:
        for i in range(n):
            for w in range(width):
                if x[i, w] != 0.0:
                    k = k_first[i] + w
                    buf[(k // spd) % n_slots, row[i], k % spd, 1] += x[i, w]


cdef inline void _deposit(
    double[:, :, :, ::1] buf, Py_ssize_t row, double t, double slope,
    Py_ssize_t spd, Py_ssize_t n_slots
) noexcept nogil:
    cdef Py_ssize_t f = <Py_ssize_t> floor(t)
    cdef Py_ssize_t g = f + 1
    buf[(g // spd) % n_slots, row, g % spd, 0] += slope
    buf[(f // spd) % n_slots, row, f % spd, 1] += slope * (g - t)


cdef inline void _schedule(
    int policy, bint flex, double tou_start_h, double tou_end_h, double tou_delay_h,
    int tou_keep, double dt_h, double spd_f, double t0, double t1, double e, double p,
    double u, double* start, double* end, double* pw,
) noexcept nogil:
    """Charging rectangle of one session (as gridplan.core.ev_policies)."""
    cdef double hour, wait_h, need, stay_h, dur
    if flex and policy == 1:
        hour = fmod(t0, spd_f) * dt_h
        if tou_start_h < tou_end_h:
            wait_h = 0.0 if (hour >= tou_start_h and hour < tou_end_h) else -1.0
        else:
            wait_h = 0.0 if (hour >= tou_start_h or hour < tou_end_h) else -1.0
        if wait_h < 0.0:
            wait_h = fmod(tou_start_h - hour, 24.0)
            if wait_h < 0.0:
                wait_h += 24.0
        start[0] = t0 + (wait_h + u * tou_delay_h) / dt_h
        need = e / (p * dt_h)
        if tou_keep and t1 - need < start[0]:
            start[0] = t1 - need
        if start[0] < t0:
            start[0] = t0
        if start[0] > t1:
            start[0] = t1
        end[0] = start[0] + need
        if end[0] > t1:
            end[0] = t1
        pw[0] = p
    elif flex and policy == 2:
        start[0] = t0
        end[0] = t1
        stay_h = (t1 - t0) * dt_h
        if stay_h > 0.0:
            pw[0] = e / stay_h
            if p < pw[0]:
                pw[0] = p
        else:
            pw[0] = 0.0
    else:
        start[0] = t0
        dur = e / (p * dt_h)
        if t1 - t0 < dur:
            dur = t1 - t0
        if dur < 0.0:
            dur = 0.0
        end[0] = t0 + dur
        pw[0] = p


cdef inline void _deposit_rows(
    double[:, :, :, ::1] buf, Py_ssize_t g, Py_ssize_t v,
    const cnp.int64_t[:, ::1] member, const cnp.int64_t[::1] block_row, Py_ssize_t row_offset,
    double start, double end, double pw, Py_ssize_t spd, Py_ssize_t n_slots,
) noexcept nogil:
    """A rectangle on the site row and the vehicle's coincidence-factor rows."""
    cdef Py_ssize_t col, r
    _deposit(buf, g, start, pw, spd, n_slots)
    _deposit(buf, g, end, -pw, spd, n_slots)
    for col in range(member.shape[1]):
        r = member[v, col]
        if r >= 0:
            _deposit(buf, r + row_offset, start, pw, spd, n_slots)
            _deposit(buf, r + row_offset, end, -pw, spd, n_slots)
    r = block_row[v]
    if r >= 0:
        _deposit(buf, r + row_offset, start, pw, spd, n_slots)
        _deposit(buf, r + row_offset, end, -pw, spd, n_slots)


cdef inline void _book(
    double[::1] deficit, double[:, ::1] vstats, Py_ssize_t v, double d, double e, double ef,
    double delivered,
) noexcept nogil:
    """A session's energy in the vehicle's deficit and statistics."""
    cdef bint full = delivered >= e * (1.0 - 1e-12)
    cdef double newd
    if full:
        newd = 0.0
    else:
        newd = d - delivered * ef
        if newd < 0.0:
            newd = 0.0
    deficit[v] = newd
    vstats[4, v] += delivered
    if not full:
        vstats[5, v] += (e - delivered) * ef
    vstats[6, v] += 1.0
    if newd < vstats[8, v]:
        vstats[8, v] = newd


def slot_run(
    int policy,
    double tou_start_h,
    double tou_end_h,
    double tou_delay_h,
    int tou_keep,
    double dt_h,
    Py_ssize_t steps_per_day,
    double swap_wait_steps,
    const cnp.int64_t[::1] veh,
    const double[::1] t_nom,
    const double[::1] dwell,
    const double[::1] u_plug,
    const double[::1] u_delay,
    const double[::1] seg_km,
    const double[::1] next_km,
    const cnp.uint8_t[::1] active,
    const cnp.uint8_t[::1] multi_day,
    const double[::1] battery,
    const double[::1] cons,
    const double[::1] eff,
    const double[::1] p_kw,
    const cnp.int64_t[::1] group,
    const double[::1] plug_prob,
    double[::1] deficit,
    double[::1] busy_until,
    double[:, ::1] vstats,
    const cnp.int64_t[::1] site_points,
    const cnp.int64_t[::1] site_kind,
    const cnp.uint8_t[::1] site_flex,
    double[:, ::1] sstats,
    const cnp.int64_t[:, ::1] member,
    const cnp.int64_t[::1] block_row,
    Py_ssize_t row_offset,
    int defer_all,
    double[:, :, :, ::1] buf,
    double t_max,
    cnp.int64_t[::1] out_pos,
    double[::1] out_t_arr,
    double[::1] out_t_dep,
    double[::1] out_d,
):
    """One session slot of one day for one policy (see the twin for the definition)."""
    cdef Py_ssize_t i, v, g, m = veh.shape[0], n_def = 0
    cdef double c, batt, e_drive, d, over, t_arr, t_dep, p, ef, e, dur, t_limit, t_rel, t1
    cdef double start, end, pw, delivered, spd_f
    cdef bint holds, flex, overflow = False
    cdef long kind
    cdef Py_ssize_t n_slots = buf.shape[0]
    spd_f = <double> steps_per_day
    with nogil:
        for i in range(m):
            v = veh[i]
            if not active[v]:
                continue
            if multi_day[v] and busy_until[v] > t_nom[i]:
                continue
            c = cons[v]
            batt = battery[v]
            e_drive = seg_km[i] * c
            d = deficit[v] + e_drive
            over = d - batt
            if over < 0.0:
                over = 0.0
            if d > batt:
                d = batt
            vstats[0, v] += seg_km[i]
            vstats[1, v] += seg_km[i] - over / c
            vstats[2, v] += e_drive - over
            vstats[3, v] += over / c
            if d > vstats[7, v]:
                vstats[7, v] = d
            deficit[v] = d
            if not (d > 0.0 and (u_plug[i] < plug_prob[v] or d + next_km[i] * c > batt)):
                continue
            t_arr = t_nom[i] if t_nom[i] > busy_until[v] else busy_until[v]
            t_dep = t_arr + dwell[i]
            g = group[v]
            flex = site_flex[g] != 0
            if defer_all or site_points[g] >= 0 or (policy == 3 and flex):
                out_pos[n_def] = i
                out_t_arr[n_def] = t_arr
                out_t_dep[n_def] = t_dep
                out_d[n_def] = d
                n_def += 1
                continue
            kind = site_kind[g]
            holds = kind == 0 or flex
            p = p_kw[v]
            ef = eff[v]
            e = d / ef
            dur = e / (p * dt_h)
            t_limit = t_arr + swap_wait_steps if kind == 2 else t_dep
            if holds:
                t_rel = t_dep
            else:
                t_rel = t_arr + dur
                if t_limit < t_rel:
                    t_rel = t_limit
            t1 = t_dep if holds else t_rel
            _schedule(
                policy, flex, tou_start_h, tou_end_h, tou_delay_h, tou_keep, dt_h, spd_f,
                t_arr, t1, e, p, u_delay[i], &start, &end, &pw,
            )
            delivered = pw * (end - start) * dt_h
            if end >= t_max:
                overflow = True
                break
            _deposit_rows(
                buf, g, v, member, block_row, row_offset, start, end, pw, steps_per_day, n_slots
            )
            _book(deficit, vstats, v, d, e, ef, delivered)
            busy_until[v] = t_dep if (holds or kind == 2) else t_rel
            sstats[0, g] += 1.0
            sstats[4, g] += delivered
    return -1 if overflow else n_def


def queued_run(
    int policy,
    double tou_start_h,
    double tou_end_h,
    double tou_delay_h,
    int tou_keep,
    double dt_h,
    Py_ssize_t steps_per_day,
    double swap_wait_steps,
    const cnp.int64_t[::1] veh,
    const double[::1] t_arr,
    const double[::1] t_dep,
    const double[::1] d_in,
    const double[::1] u_delay,
    const double[::1] eff,
    const double[::1] p_kw,
    const cnp.int64_t[::1] group,
    double[::1] deficit,
    double[::1] busy_until,
    double[:, ::1] vstats,
    const cnp.int64_t[::1] site_points,
    const cnp.int64_t[::1] site_kind,
    const cnp.uint8_t[::1] site_flex,
    double[:, ::1] sstats,
    double[::1] server_free,
    const cnp.int64_t[::1] server_start,
    const cnp.int64_t[:, ::1] member,
    const cnp.int64_t[::1] block_row,
    Py_ssize_t row_offset,
    double[:, :, :, ::1] buf,
    double t_max,
    double[::1] out_t_plug,
    double[::1] out_t1,
    double[::1] out_start,
    double[::1] out_end,
    double[::1] out_pw,
    double[::1] out_delivered,
    cnp.uint8_t[::1] out_served,
):
    """Sessions handed back by slot_run (see the twin for the definition)."""
    cdef Py_ssize_t i, v, g, j, jbest, lo, hi, n = veh.shape[0], n_slots = buf.shape[0]
    cdef double p, ef, e, dur, t_limit, t_hold, t_plug, t_rel, t1, best, start, end, pw
    cdef double delivered, wait, spd_f = <double> steps_per_day
    cdef bint holds, flex, served, overflow = False
    cdef long kind
    with nogil:
        for i in range(n):
            v = veh[i]
            g = group[v]
            kind = site_kind[g]
            flex = site_flex[g] != 0
            holds = kind == 0 or flex
            p = p_kw[v]
            ef = eff[v]
            e = d_in[i] / ef
            dur = e / (p * dt_h)
            t_limit = t_arr[i] + swap_wait_steps if kind == 2 else t_dep[i]
            t_hold = t_dep[i] if holds else -1.0
            t_plug = t_arr[i]
            if holds:
                t_rel = t_dep[i]
            else:
                t_rel = t_arr[i] + dur
                if t_limit < t_rel:
                    t_rel = t_limit
            served = True
            if site_points[g] >= 0:
                lo = server_start[g]
                hi = server_start[g + 1]
                jbest = lo
                best = server_free[lo]
                for j in range(lo + 1, hi):
                    if server_free[j] < best:
                        best = server_free[j]
                        jbest = j
                t_plug = t_arr[i] if t_arr[i] > best else best
                if t_plug >= t_limit:
                    t_plug = t_limit
                    t_rel = t_limit
                    served = False
                else:
                    if t_hold >= 0.0:
                        t_rel = t_hold
                    else:
                        t_rel = t_plug + dur
                        if t_rel > t_limit:
                            t_rel = t_limit
                    server_free[jbest] = t_rel
            t1 = t_dep[i] if holds else t_rel
            out_t_plug[i] = t_plug
            out_t1[i] = t1
            sstats[0, g] += 1.0
            start = t_plug
            end = t_plug
            pw = 0.0
            delivered = 0.0
            if not served:
                sstats[1, g] += 1.0
                out_served[i] = 0
            else:
                wait = (t_plug - t_arr[i]) * dt_h
                sstats[2, g] += wait
                if wait > sstats[3, g]:
                    sstats[3, g] = wait
                if policy == 3 and flex:
                    out_served[i] = 2  # valley filling: scheduled by the caller
                    out_start[i] = start
                    out_end[i] = end
                    out_pw[i] = pw
                    out_delivered[i] = 0.0
                    continue
                out_served[i] = 1
                _schedule(
                    policy, flex, tou_start_h, tou_end_h, tou_delay_h, tou_keep, dt_h, spd_f,
                    t_plug, t1, e, p, u_delay[i], &start, &end, &pw,
                )
                delivered = pw * (end - start) * dt_h
                if end >= t_max:
                    overflow = True
                    break
                _deposit_rows(
                    buf, g, v, member, block_row, row_offset, start, end, pw, steps_per_day,
                    n_slots,
                )
                sstats[4, g] += delivered
            out_start[i] = start
            out_end[i] = end
            out_pw[i] = pw
            out_delivered[i] = delivered
            _book(deficit, vstats, v, d_in[i], e, ef, delivered)
            busy_until[v] = t_dep[i] if (holds or kind == 2) else t_rel
    return -1 if overflow else 0
