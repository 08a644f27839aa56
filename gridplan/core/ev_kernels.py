"""EV charging kernels, pure numpy/Python twins of ``ext/ev_kernels.pyx``.

Three sequential kernels (each session depends on the ones before it, so they do not
vectorize over sessions):

``queue_fifo``
    First-come-first-served assignment of charging sessions to the charge points (or swap
    racks) of their site. A site with ``m`` points is ``m`` servers; a session takes the point
    that frees first, at ``start = max(arrival, free time)``. A session whose start would not
    come before its limit (the vehicle leaves) is not served. The point is then held until
    ``t_hold`` (AC: the vehicle stays plugged in until it departs) or, when ``t_hold < 0``,
    until ``min(start + duration, limit)`` (DC: the driver leaves when full; a swap rack is
    free when its battery is full). Every point's busy intervals are disjoint by
    construction, so no site ever has more sessions (batteries) charging than points (racks).

``valley_fill``
    Valley filling per transformer (Gan, Topcu and Low, IEEE Trans. Power Syst. 28(2), 2013):
    sessions in the order given (least laxity first) each take the energy they need in the
    steps where the transformer's load so far (base load plus the EVs scheduled before) is
    lowest; then each refill pass takes every session out and fills it again against all the
    others, the coordinate-descent iteration of that paper, which lowers the sum of squared
    loads at every step and converges to the valley-filling optimum. For one session with
    availability ``cap_k`` (kW, the charger rating times the share of step ``k`` the vehicle
    is plugged in) and load ``b_k`` the schedule is
    ``x_k = clip(L - b_k, 0, cap_k)``, with the water level ``L`` solving
    ``sum_k x_k = E`` (energy in kW x steps). ``f(L) = sum_k clip(L - b_k, 0, cap_k)`` is
    piecewise linear and non-decreasing with breakpoints ``b_k`` (slope +1) and
    ``b_k + cap_k`` (slope -1): sorting both sets and sweeping them gives ``L`` exactly.
    When ``sum_k cap_k < E`` the session takes every ``cap_k`` and the rest is its
    shortfall.

``ramp_deposit``
    Adds rectangular charging blocks to a day-slotted profile buffer: a session charging at
    ``p`` from ``t0`` to ``t1`` (in steps, real) is the events ``(t0, +p)`` and
    ``(t1, -p)``; an event ``(t, s)`` adds ``s * clip(k + 1 - t, 0, 1)`` to the mean power of
    every step ``k``. With ``f = floor(t)`` that is ``s`` added to the running sum from step
    ``f + 1`` on (part ``a``) and ``s * (f + 1 - t)`` to step ``f`` alone (part ``b``); the
    profile is then ``cumsum(a) + b`` (:class:`gridplan.core.ev_fleet.Accumulator`).
"""

from __future__ import annotations

import numpy as np


def queue_fifo(
    group: np.ndarray,
    t_arr: np.ndarray,
    t_limit: np.ndarray,
    t_hold: np.ndarray,
    duration: np.ndarray,
    server_free: np.ndarray,
    group_start: np.ndarray,
    t_plug: np.ndarray,
    t_release: np.ndarray,
    served: np.ndarray,
) -> None:
    """Assign sessions (sorted by group, then arrival) to their group's points, FIFO.

    Parameters
    ----------
    group : int64 (n,)
        Site of each session (row into ``group_start``).
    t_arr, t_limit : float64 (n,)
        Arrival and latest start (the vehicle leaves; ``inf`` for swap batteries), steps.
    t_hold : float64 (n,)
        Time the point stays taken (AC: departure), or < 0 to hold it until
        ``min(start + duration, t_limit)``.
    duration : float64 (n,)
        Steps of charging at full power the session needs.
    server_free : float64 (m,)
        Time each point frees, updated in place; points of group ``g`` are
        ``group_start[g]:group_start[g + 1]``.
    group_start : int64 (n_groups + 1,)
    t_plug, t_release : float64 (n,), out
        When the session takes its point and when it gives it back (``t_limit`` when not
        served).
    served : uint8 (n,), out
        1 when the session got a point before its limit.
    """
    for i in range(group.shape[0]):
        g = group[i]
        lo, hi = group_start[g], group_start[g + 1]
        j = lo + int(np.argmin(server_free[lo:hi]))
        start = max(t_arr[i], server_free[j])
        if start >= t_limit[i]:
            t_plug[i] = t_limit[i]
            t_release[i] = t_limit[i]
            served[i] = 0
            continue
        rel = t_hold[i] if t_hold[i] >= 0.0 else min(start + duration[i], t_limit[i])
        server_free[j] = rel
        t_plug[i] = start
        t_release[i] = rel
        served[i] = 1


def valley_fill(
    load: np.ndarray,
    trafo: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    p_kw: np.ndarray,
    energy: np.ndarray,
    k_first: np.ndarray,
    x_out: np.ndarray,
    delivered: np.ndarray,
    sweeps: int,
) -> None:
    """Valley-fill sessions one after the other into ``load`` (in place), then ``sweeps``
    passes that take each session out and fill it again against all the others.

    Parameters
    ----------
    load : float64 (n_trafo, n_period)
        Load of each transformer per step, kW; step ``k`` is column ``k % n_period`` (the
        horizon wraps around). Each session's schedule is added.
    trafo : int64 (n,)
        Transformer row of each session.
    t0, t1 : float64 (n,)
        Plug-in and departure, steps (real).
    p_kw : float64 (n,)
        Charger rating, kW.
    energy : float64 (n,)
        Energy to deliver, kW x steps (kWh / step length in h).
    k_first : int64 (n,), out
        ``floor(t0)``: the step of column 0 of the session's row in ``x_out``.
    x_out : float64 (n, w), out
        Mean charging power per step, kW; ``w`` must be at least
        ``max(ceil(t1) - floor(t0))``; unused columns are set to 0.
    delivered : float64 (n,), out
        ``sum_k x_k`` (kW x steps).
    sweeps : int
        Refill passes (block coordinate descent on the sum of squared loads: each pass lowers
        it, towards the schedule that also minimizes the peak).
    """
    n_period = load.shape[1]
    x_out[:] = 0.0
    for i in range(trafo.shape[0]):
        k_first[i] = int(np.floor(t0[i]))
        delivered[i] = _fill_one(load, trafo, t0, t1, p_kw, energy, x_out, i, n_period)
    for _ in range(sweeps):
        for i in range(trafo.shape[0]):
            k0 = int(k_first[i])
            w = int(np.ceil(t1[i])) - k0
            if w <= 0:
                continue
            col = np.arange(k0, k0 + w) % n_period
            np.subtract.at(load[trafo[i]], col, x_out[i, :w])
            x_out[i, :w] = 0.0
            delivered[i] = _fill_one(load, trafo, t0, t1, p_kw, energy, x_out, i, n_period)


def _fill_one(
    load: np.ndarray,
    trafo: np.ndarray,
    t0: np.ndarray,
    t1: np.ndarray,
    p_kw: np.ndarray,
    energy: np.ndarray,
    x_out: np.ndarray,
    i: int,
    n_period: int,
) -> float:
    """Water-fill session ``i`` into its transformer's load; returns what it delivers."""
    k0 = int(np.floor(t0[i]))
    k1 = int(np.ceil(t1[i]))
    if k1 <= k0 or energy[i] <= 0.0:
        return 0.0
    k = np.arange(k0, k1)
    frac = np.minimum(t1[i], k + 1.0) - np.maximum(t0[i], k)
    cap = p_kw[i] * np.clip(frac, 0.0, 1.0)
    col = k % n_period
    row = load[trafo[i]]
    b = row[col]
    if cap.sum() <= energy[i]:
        x = cap
    else:
        level = water_level(b, cap, energy[i])
        x = np.clip(level - b, 0.0, cap)
    x_out[i, : k1 - k0] = x
    np.add.at(row, col, x)
    return float(x.sum())


def water_level(b: np.ndarray, cap: np.ndarray, target: float) -> float:
    """The level ``L`` with ``sum clip(L - b, 0, cap) == target`` (``0 < target < sum cap``)."""
    on = cap > 0.0
    starts = np.sort(b[on])
    ends = np.sort(b[on] + cap[on])
    n = starts.shape[0]
    i = j = 0
    slope = 0
    f = 0.0
    level = starts[0]
    while i < n or j < n:
        # next breakpoint: a start (slope +1) before an end at the same value
        if i < n and (j >= n or starts[i] <= ends[j]):
            v, ds = starts[i], 1
            i += 1
        else:
            v, ds = ends[j], -1
            j += 1
        step = slope * (v - level)
        if slope > 0 and f + step >= target:
            return float(level + (target - f) / slope)
        f += step
        level = v
        slope += ds
    return float(level)


def _flat(k: np.ndarray, row: np.ndarray, buf: np.ndarray) -> np.ndarray:
    """Flat position of (absolute step ``k``, ``row``) in ``buf`` (part ``a``; ``b`` is +1)."""
    n_slots, n_rows, spd, _ = buf.shape
    return (((k // spd) % n_slots * n_rows + row) * spd + k % spd) * 2


def ramp_deposit(buf: np.ndarray, row: np.ndarray, t: np.ndarray, slope: np.ndarray) -> None:
    """Add ramp events ``(t, slope)`` of ``row`` to the day-slotted buffer.

    Parameters
    ----------
    buf : float64 (n_slots, n_rows, steps_per_day, 2)
        ``[..., 0]`` running-sum changes (``a``), ``[..., 1]`` one-step values (``b``);
        absolute step ``k`` lives in slot ``(k // steps_per_day) % n_slots``. Day-major, so a
        finished day is one contiguous block, and ``a`` next to ``b`` so an event's two
        writes share a cache line.
    row : int64 (n,)
    t : float64 (n,)
        Event time, steps (>= 0).
    slope : float64 (n,)
        Power change, kW.
    """
    f = np.floor(t).astype(np.int64)
    flat = buf.reshape(-1)
    np.add.at(flat, _flat(f + 1, row, buf), slope)
    np.add.at(flat, _flat(f, row, buf) + 1, slope * (f + 1 - t))


def step_deposit(buf: np.ndarray, row: np.ndarray, k_first: np.ndarray, x: np.ndarray) -> None:
    """Add per-step values ``x[i, w]`` at step ``k_first[i] + w`` of ``row[i]`` to ``b``."""
    w = x.shape[1]
    k = k_first[:, None] + np.arange(w)[None, :]
    nz = x != 0.0
    rr = np.broadcast_to(row[:, None], x.shape)[nz]
    np.add.at(buf.reshape(-1), _flat(k[nz], rr, buf) + 1, x[nz])


# rows of the per-vehicle and per-site statistics arrays used by ``slot_run``
VEHICLE_STATS = (
    "distance_km",
    "driven_km",
    "driven_kwh",
    "unserved_km",
    "charged_kwh",
    "missed_kwh",
    "sessions",
    "deficit_max_kwh",
    "deficit_min_kwh",
)
SITE_STATS = ("sessions", "unserved_sessions", "wait_h", "max_wait_h", "energy_kwh")
POLICY_CODES = {"uncontrolled": 0, "tou": 1, "balanced": 2, "valley": 3}
_AC, _DC, _SWAP = 0, 1, 2


def slot_run(
    policy: int,
    tou_start_h: float,
    tou_end_h: float,
    tou_delay_h: float,
    tou_keep: int,
    dt_h: float,
    steps_per_day: int,
    swap_wait_steps: float,
    veh: np.ndarray,
    t_nom: np.ndarray,
    dwell: np.ndarray,
    u_plug: np.ndarray,
    u_delay: np.ndarray,
    seg_km: np.ndarray,
    next_km: np.ndarray,
    active: np.ndarray,
    multi_day: np.ndarray,
    battery: np.ndarray,
    cons: np.ndarray,
    eff: np.ndarray,
    p_kw: np.ndarray,
    group: np.ndarray,
    plug_prob: np.ndarray,
    deficit: np.ndarray,
    busy_until: np.ndarray,
    vstats: np.ndarray,
    site_points: np.ndarray,
    site_kind: np.ndarray,
    site_flex: np.ndarray,
    sstats: np.ndarray,
    member: np.ndarray,
    block_row: np.ndarray,
    row_offset: int,
    defer_all: int,
    buf: np.ndarray,
    t_max: float,
    out_pos: np.ndarray,
    out_t_arr: np.ndarray,
    out_t_dep: np.ndarray,
    out_d: np.ndarray,
) -> int:
    """One session slot of one day for one policy (see :mod:`gridplan.core.ev_fleet`).

    For every vehicle ``veh[i]`` of the slot: skip it when inactive or still parked on a
    multi-day stay; drive ``seg_km[i]`` (deficit capped at the battery, the rest unserved);
    plug in when ``u_plug[i] < plug_prob`` or the next segment (``next_km[i]``) would not fit;
    the session arrives at ``max(t_nom[i], busy_until)`` and stays ``dwell[i]`` steps.
    Sessions at sites with a limited number of points (queue), under valley filling
    (``policy == 3``) at flexible sites, and all when ``defer_all`` are handed back: their
    slot positions, arrival, departure and deficit go to ``out_*`` and the count is returned.
    Every other session is scheduled here (uncontrolled, time of use or balanced, as
    :mod:`gridplan.core.ev_policies`), added to the profile buffer ``buf`` (its site row and
    the vehicle's coincidence-factor rows ``row_offset + member[v, :]`` and
    ``row_offset + block_row[v]`` where >= 0; layout as :func:`ramp_deposit`) and booked in
    ``deficit``, ``busy_until``, ``vstats`` (rows :data:`VEHICLE_STATS`) and ``sstats`` (rows
    :data:`SITE_STATS`).

    Returns the number of handed-back sessions, or -1 when an event lies at or beyond
    ``t_max`` (the buffer cannot hold it).
    """
    from gridplan.core import ev_policies as pol

    v = veh
    ok = active[v].astype(bool) & ~(multi_day[v].astype(bool) & (busy_until[v] > t_nom))
    idx = np.flatnonzero(ok)
    v = v[idx]
    c = cons[v]
    batt = battery[v]
    e_drive = seg_km[idx] * c
    d = deficit[v] + e_drive
    over = np.maximum(d - batt, 0.0)
    d = np.minimum(d, batt)
    vstats[0, v] += seg_km[idx]
    vstats[1, v] += seg_km[idx] - over / c
    vstats[2, v] += e_drive - over
    vstats[3, v] += over / c
    vstats[7, v] = np.maximum(vstats[7, v], d)
    deficit[v] = d
    plug = (d > 0.0) & ((u_plug[idx] < plug_prob[v]) | (d + next_km[idx] * c > batt))
    idx, v, d = idx[plug], v[plug], d[plug]
    t_arr = np.maximum(t_nom[idx], busy_until[v])
    t_dep = t_arr + dwell[idx]
    g = group[v]
    flex = site_flex[g].astype(bool)
    deferred = (site_points[g] >= 0) | ((policy == 3) & flex) | bool(defer_all)
    n_def = int(deferred.sum())
    out_pos[:n_def] = idx[deferred]
    out_t_arr[:n_def] = t_arr[deferred]
    out_t_dep[:n_def] = t_dep[deferred]
    out_d[:n_def] = d[deferred]
    keep = ~deferred
    v, d, t_arr, t_dep, g, flex = v[keep], d[keep], t_arr[keep], t_dep[keep], g[keep], flex[keep]
    ud = u_delay[idx[keep]]
    kind = site_kind[g]
    holds = (kind == _AC) | flex
    p = p_kw[v]
    ef = eff[v]
    e = d / ef
    dur = e / (p * dt_h)
    t_limit = np.where(kind == _SWAP, t_arr + swap_wait_steps, t_dep)
    t_rel = np.where(holds, t_dep, np.minimum(t_arr + dur, t_limit))
    t1 = np.where(holds, t_dep, t_rel)
    start, end, pw = pol.uncontrolled(t_arr, t1, p, e, dt_h)
    start, end, pw = start.copy(), end.copy(), pw.copy()
    sh = flex & (policy in (1, 2))
    if sh.any():
        if policy == 1:
            tp = pol.TouParams(tou_start_h, tou_end_h, tou_delay_h, bool(tou_keep))
            s0, s1, sp = pol.tou(t_arr[sh], t1[sh], p[sh], e[sh], dt_h, tp, ud[sh])
        else:
            s0, s1, sp = pol.balanced(t_arr[sh], t1[sh], p[sh], e[sh], dt_h)
        start[sh], end[sh], pw[sh] = s0, s1, sp
    delivered = pw * (end - start) * dt_h
    if end.size and end.max() >= t_max:
        return -1
    # deposit: the site row and the vehicle's coincidence-factor rows
    rows = [g]
    pos = [np.arange(v.shape[0])]
    for col in range(member.shape[1]):
        r = member[v, col]
        m = r >= 0
        rows.append(r[m] + row_offset)
        pos.append(np.flatnonzero(m))
    r = block_row[v]
    m = r >= 0
    rows.append(r[m] + row_offset)
    pos.append(np.flatnonzero(m))
    rr = np.concatenate(rows)
    pp = np.concatenate(pos)
    ramp_deposit(
        buf,
        np.concatenate([rr, rr]),
        np.concatenate([start[pp], end[pp]]),
        np.concatenate([pw[pp], -pw[pp]]),
    )
    full = delivered >= e * (1.0 - 1e-12)
    newd = np.where(full, 0.0, np.maximum(d - delivered * ef, 0.0))
    deficit[v] = newd
    vstats[4, v] += delivered
    vstats[5, v] += np.where(full, 0.0, (e - delivered) * ef)
    vstats[6, v] += 1.0
    vstats[8, v] = np.minimum(vstats[8, v], newd)
    busy_until[v] = np.where(holds | (kind == _SWAP), t_dep, t_rel)
    np.add.at(sstats[0], g, 1.0)
    np.add.at(sstats[4], g, delivered)
    return n_def


def queued_run(
    policy: int,
    tou_start_h: float,
    tou_end_h: float,
    tou_delay_h: float,
    tou_keep: int,
    dt_h: float,
    steps_per_day: int,
    swap_wait_steps: float,
    veh: np.ndarray,
    t_arr: np.ndarray,
    t_dep: np.ndarray,
    d_in: np.ndarray,
    u_delay: np.ndarray,
    eff: np.ndarray,
    p_kw: np.ndarray,
    group: np.ndarray,
    deficit: np.ndarray,
    busy_until: np.ndarray,
    vstats: np.ndarray,
    site_points: np.ndarray,
    site_kind: np.ndarray,
    site_flex: np.ndarray,
    sstats: np.ndarray,
    server_free: np.ndarray,
    server_start: np.ndarray,
    member: np.ndarray,
    block_row: np.ndarray,
    row_offset: int,
    buf: np.ndarray,
    t_max: float,
    out_t_plug: np.ndarray,
    out_t1: np.ndarray,
    out_start: np.ndarray,
    out_end: np.ndarray,
    out_pw: np.ndarray,
    out_delivered: np.ndarray,
    out_served: np.ndarray,
) -> int:
    """The sessions ``slot_run`` handed back (arrival ``t_arr``, departure ``t_dep``, deficit
    ``d_in``), sorted by site and arrival.

    Sessions at sites with a limited number of points take one first come, first served (as
    :func:`queue_fifo`); a session that gets none is unserved. Every served session is then
    scheduled, added to ``buf`` and booked as in ``slot_run`` -- except, under valley filling
    (``policy == 3``), those at flexible sites: they come back with ``out_served = 2`` for the
    caller to valley-fill and book. Site statistics (sessions, unserved, waits) are booked for
    all. Outputs per session: point taken and released (``out_t_plug``, ``out_t1`` = end of the
    stay on it), the rectangle (``out_start``, ``out_end``, ``out_pw``), ``out_delivered``
    (kWh) and ``out_served`` (0, 1 or 2). Returns 0, or -1 when an event lies at or beyond
    ``t_max``.
    """
    from gridplan.core import ev_policies as pol

    v = veh
    g = group[v]
    kind = site_kind[g]
    flex = site_flex[g].astype(bool)
    holds = (kind == _AC) | flex
    p = p_kw[v]
    ef = eff[v]
    e = d_in / ef
    dur = e / (p * dt_h)
    t_limit = np.where(kind == _SWAP, t_arr + swap_wait_steps, t_dep)
    t_hold = np.where(holds, t_dep, -1.0)
    t_plug = t_arr.copy()
    t_rel = np.where(holds, t_dep, np.minimum(t_arr + dur, t_limit))
    served = np.ones(v.shape[0], dtype=np.uint8)
    q = np.flatnonzero(site_points[g] >= 0)
    if q.size:
        tp, tr = np.empty(q.size), np.empty(q.size)
        sv = np.empty(q.size, dtype=np.uint8)
        queue_fifo(
            g[q], t_arr[q], t_limit[q], t_hold[q], dur[q], server_free, server_start, tp, tr, sv
        )
        t_plug[q], t_rel[q], served[q] = tp, tr, sv
    t1 = np.where(holds, t_dep, t_rel)
    ok = served.astype(bool)
    pending = ok & flex & (policy == 3)
    sched = ok & ~pending
    start, end, pw = t_plug.copy(), t_plug.copy(), np.zeros(v.shape[0])
    un = sched & ~(flex & (policy in (1, 2)))
    s0, s1, sp = pol.uncontrolled(t_plug[un], t1[un], p[un], e[un], dt_h)
    start[un], end[un], pw[un] = s0, s1, sp
    fx = sched & flex & (policy in (1, 2))
    if fx.any():
        if policy == 1:
            tp_ = pol.TouParams(tou_start_h, tou_end_h, tou_delay_h, bool(tou_keep))
            s0, s1, sp = pol.tou(t_plug[fx], t1[fx], p[fx], e[fx], dt_h, tp_, u_delay[fx])
        else:
            s0, s1, sp = pol.balanced(t_plug[fx], t1[fx], p[fx], e[fx], dt_h)
        start[fx], end[fx], pw[fx] = s0, s1, sp
    delivered = np.where(sched, pw * (end - start) * dt_h, 0.0)
    if sched.any() and end[sched].max() >= t_max:
        return -1
    # deposit the scheduled rectangles: site rows and coincidence-factor rows
    r = np.flatnonzero(sched)
    rows, pos = [g[r]], [r]
    for col in range(member.shape[1]):
        m = member[v[r], col]
        rows.append(m[m >= 0] + row_offset)
        pos.append(r[m >= 0])
    m = block_row[v[r]]
    rows.append(m[m >= 0] + row_offset)
    pos.append(r[m >= 0])
    rr, pp = np.concatenate(rows), np.concatenate(pos)
    ramp_deposit(
        buf,
        np.concatenate([rr, rr]),
        np.concatenate([start[pp], end[pp]]),
        np.concatenate([pw[pp], -pw[pp]]),
    )
    # book everything but the sessions left to valley filling
    b = ~pending
    vb = v[b]
    full = delivered[b] >= e[b] * (1.0 - 1e-12)
    newd = np.where(full, 0.0, np.maximum(d_in[b] - delivered[b] * ef[b], 0.0))
    deficit[vb] = newd
    vstats[4, vb] += delivered[b]
    vstats[5, vb] += np.where(full, 0.0, (e[b] - delivered[b]) * ef[b])
    vstats[6, vb] += 1.0
    vstats[8, vb] = np.minimum(vstats[8, vb], newd)
    busy_until[vb] = np.where(holds | (kind == _SWAP), t_dep, t_rel)[b]
    wait = np.where(ok, (t_plug - t_arr) * dt_h, 0.0)
    np.add.at(sstats[0], g, 1.0)
    np.add.at(sstats[1], g, 1.0 - served)
    np.add.at(sstats[2], g, wait)
    np.maximum.at(sstats[3], g, wait)
    np.add.at(sstats[4], g, delivered)
    out_t_plug[:] = t_plug
    out_t1[:] = t1
    out_start[:] = start
    out_end[:] = end
    out_pw[:] = pw
    out_delivered[:] = delivered
    out_served[:] = np.where(pending, 2, served)
    return 0
