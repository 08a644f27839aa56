"""Analytical distribution reliability (failure modes and effects) on radially operated networks.

Arrays only (numpy). The network is a forest: every node (bus) but the roots (supply points)
has exactly one parent edge (a line section, a transformer or a closed bus-bus switch). An
edge may carry one switching device at its upstream end (``DEVICE_*`` codes). Load points sit
on nodes. Normally-open ties join two nodes.

For every failure event (an edge failing with rate ``lambda`` per year and repair time ``r``
hours) the evaluation follows what happens on a real feeder:

1. the nearest protective device (breaker, recloser, fuse) at or above the failed edge trips:
   every load point below it is interrupted (counts in the failure rate);
2. the nearest isolating device above the fault (any device) is opened and the protective
   device re-closed: load points between the two are restored after the isolating device's
   switching time;
3. the first devices below the faulted zone are opened: a part below them is restored over a
   normally-open tie after the switching time if a tie leads to a healthy part of the network
   and the supporting path has spare capacity (transferred peak load <= smallest spare capacity
   on the path from the supporting source to the tie, and <= the tie's own capacity); the rest
   waits for the repair.

A restoration by switching never lasts longer than the repair itself (``min(t_switch, r)``).
The effect of every event is a short list of *segments*: slices of the load points ordered by
a depth-first tour (a subtree is one contiguous slice), each with a failure-rate coefficient, a
fixed outage duration and a coefficient on the repair time. Load-point indices, component
contributions and Monte Carlo samples are all sums over these segments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DEVICE_NONE = 0
DEVICE_BREAKER = 1
DEVICE_RECLOSER = 2
DEVICE_FUSE = 3
DEVICE_SECTIONALIZER = 4
DEVICE_DISCONNECTOR = 5
DEVICE_NAMES = {
    "breaker": DEVICE_BREAKER,
    "recloser": DEVICE_RECLOSER,
    "fuse": DEVICE_FUSE,
    "sectionalizer": DEVICE_SECTIONALIZER,
    "disconnector": DEVICE_DISCONNECTOR,
}
PROTECTIVE = (DEVICE_BREAKER, DEVICE_RECLOSER, DEVICE_FUSE)

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True)
class RadialNetwork:
    """A radially operated network as arrays (see module docstring).

    Attributes
    ----------
    edge_parent, edge_child : int64 (n_edge,)
        Upstream and downstream node of every tree edge.
    edge_device : int8 (n_edge,)
        Device at the upstream end of the edge (``DEVICE_*``), 0 for none.
    edge_switch_time_h : float64 (n_edge,)
        Time to operate that device manually after a fault, h.
    edge_capacity_mva : float64 (n_edge,)
        Thermal capacity of the edge, MVA (``inf`` when unknown).
    n_node : int
        Number of nodes; nodes without parent edge are supply points (roots).
    lp_node : int64 (n_lp,)
        Node of every load point.
    lp_customers : float64 (n_lp,)
        Customers per load point.
    lp_p_avg_mw : float64 (n_lp,)
        Average load, MW (energy basis of ENS).
    lp_s_peak_mva : float64 (n_lp,)
        Peak apparent load, MVA (transfer capacity check).
    tie_a, tie_b : int64 (n_tie,)
        End nodes of the normally-open ties.
    tie_switch_time_h : float64 (n_tie,)
        Time to close the tie, h.
    tie_capacity_mva : float64 (n_tie,)
        Capacity of the tie, MVA (``inf`` when unknown).
    edge_recloses : bool (n_edge,), optional
        Devices that re-close automatically after a temporary fault (reclosers always do).
    """

    edge_parent: np.ndarray
    edge_child: np.ndarray
    edge_device: np.ndarray
    edge_switch_time_h: np.ndarray
    edge_capacity_mva: np.ndarray
    n_node: int
    lp_node: np.ndarray
    lp_customers: np.ndarray
    lp_p_avg_mw: np.ndarray
    lp_s_peak_mva: np.ndarray
    tie_a: np.ndarray
    tie_b: np.ndarray
    tie_switch_time_h: np.ndarray
    tie_capacity_mva: np.ndarray
    edge_recloses: np.ndarray | None = None  # breakers with auto-reclosing (bool per edge)


@dataclass(frozen=True)
class FailureEvents:
    """Failure events: edge, rate (1/yr), repair time (h), and whether the device itself failed.

    ``on_device`` marks an active failure of the switching device on the edge (e.g. a breaker):
    it is cleared by the next protective device further up; the failed device is then isolated
    (its own switching time), the area above it restored, and the part below it restored over a
    tie if one is feasible, else after the device's repair. With a finite ``restore_h`` (a
    device on one of several parallel circuits) every interrupted load point is back after
    ``restore_h``.
    """

    edge: np.ndarray
    rate_per_year: np.ndarray
    repair_h: np.ndarray
    on_device: np.ndarray
    restore_h: np.ndarray | None = None  # device failures: restored by switching after this


@dataclass(frozen=True)
class Segments:
    """Effect of every event on the load points, in tour order (``order``).

    A segment adds, for load points ``order[lo:hi]``: ``dlam * rate`` to the failure rate and
    ``rate * (fixed_h + rep * repair_h)`` to the unavailability.
    """

    event: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    dlam: np.ndarray
    fixed_h: np.ndarray
    rep: np.ndarray
    order: np.ndarray  # load point indices in tour order


def _tour(net: RadialNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Depth-first tour: parent edge per node, entry index, last index of subtree, root."""
    n = net.n_node
    parent_edge = np.full(n, -1, dtype=np.int64)
    parent_edge[net.edge_child] = np.arange(len(net.edge_child), dtype=np.int64)
    # children lists in CSR form
    order = np.argsort(net.edge_parent, kind="stable")
    starts = np.searchsorted(net.edge_parent[order], np.arange(n + 1))
    tin = np.empty(n, dtype=np.int64)
    tout = np.empty(n, dtype=np.int64)
    root = np.empty(n, dtype=np.int64)
    counter = 0
    for r in np.flatnonzero(parent_edge < 0):
        stack = [(int(r), 0)]
        tin[r] = counter
        root[r] = r
        counter += 1
        while stack:
            v, k = stack[-1]
            lo, hi = starts[v], starts[v + 1]
            if lo + k < hi:
                stack[-1] = (v, k + 1)
                c = int(net.edge_child[order[lo + k]])
                tin[c] = counter
                root[c] = r
                counter += 1
                stack.append((c, 0))
            else:
                tout[v] = counter - 1
                stack.pop()
    if counter != n:
        raise ValueError("edge list is not a forest: some nodes are unreachable from a root")
    return parent_edge, tin, tout, root


def build_segments(
    net: RadialNetwork,
    events: FailureEvents,
    transfer_ok: Callable[[int, int], bool] | None = None,
) -> Segments:
    """Trace every failure event through protection, isolation and restoration.

    Parameters
    ----------
    net : RadialNetwork
        The network arrays.
    events : FailureEvents
        The failure events.
    transfer_ok : callable(sub_node, tie), optional
        Extra check of a transfer that passed the capacity test: the subtree below node
        ``sub_node`` supplied over tie ``tie`` (index into the tie arrays). The studies layer
        passes a power-flow check here; it is called once per distinct pair.

    Returns
    -------
    Segments
        Per-event slices of load points with their rate and duration coefficients.
    """
    n_edge = len(net.edge_child)
    parent_edge, tin, tout, root = _tour(net)
    dev = np.asarray(net.edge_device)
    # nearest protective / isolating edge at or above each edge, top-down in tour order
    prot_up = np.full(n_edge, -1, dtype=np.int64)
    iso_up = np.full(n_edge, -1, dtype=np.int64)
    edges_by_depth = np.argsort(tin[net.edge_child], kind="stable")
    for e in edges_by_depth:
        pe = parent_edge[net.edge_parent[e]]
        prot_up[e] = e if dev[e] in PROTECTIVE else (prot_up[pe] if pe >= 0 else -1)
        iso_up[e] = e if dev[e] != DEVICE_NONE else (iso_up[pe] if pe >= 0 else -1)

    # load points in tour order; a subtree is a contiguous slice
    lp_tin = tin[net.lp_node]
    order = np.argsort(lp_tin, kind="stable")
    lp_tin_sorted = lp_tin[order]
    s_peak_cum = np.concatenate([[0.0], np.cumsum(net.lp_s_peak_mva[order])]).tolist()

    node_lo = np.searchsorted(lp_tin_sorted, tin, "left").tolist()
    node_hi = np.searchsorted(lp_tin_sorted, tout, "right").tolist()

    def lp_slice(node: int) -> tuple[int, int]:
        return node_lo[node], node_hi[node]

    # spare capacity on the path root -> node in the normal state
    node_load = np.zeros(net.n_node)
    np.add.at(node_load, net.lp_node, net.lp_s_peak_mva)
    subtree_load = np.zeros(net.n_node)
    by_tin = np.argsort(tin)
    # accumulate bottom-up: reverse tour order visits children before parents
    acc = node_load.copy()
    for v in by_tin[::-1]:
        pe = parent_edge[v]
        if pe >= 0:
            acc[net.edge_parent[pe]] += acc[v]
    subtree_load[:] = acc
    spare = np.full(net.n_node, np.inf)
    for v in by_tin:
        pe = parent_edge[v]
        if pe >= 0:
            spare[v] = min(spare[net.edge_parent[pe]], net.edge_capacity_mva[pe] - subtree_load[v])

    # children of every node (CSR) for the zone walk
    ch_order = np.argsort(net.edge_parent, kind="stable")
    ch_start = np.searchsorted(net.edge_parent[ch_order], np.arange(net.n_node + 1))
    frontier_cache: dict[int, list[int]] = {}

    def zone_frontier(z: int) -> list[int]:
        """Device edges bounding the device-free zone that starts at node ``z``."""
        if z in frontier_cache:
            return frontier_cache[z]
        out: list[int] = []
        stack = [z]
        while stack:
            v = stack.pop()
            for e in ch_order[ch_start[v] : ch_start[v + 1]]:
                if dev[e] != DEVICE_NONE:
                    out.append(int(e))
                else:
                    stack.append(int(net.edge_child[e]))
        frontier_cache[z] = out
        return out

    tie_a = np.asarray(net.tie_a, dtype=np.int64)
    tie_b = np.asarray(net.tie_b, dtype=np.int64)

    # both directions of every tie: (near end, far end (tour index), time, room, tie index)
    n_tie = len(tie_a)
    tie_ends = [
        (int(tin[a]), int(tin[b]), float(t), float(min(spare[b], cap)), j % max(n_tie, 1))
        for j, (a, b, t, cap) in enumerate(
            zip(
                np.r_[tie_a, tie_b],
                np.r_[tie_b, tie_a],
                np.r_[net.tie_switch_time_h, net.tie_switch_time_h],
                np.r_[net.tie_capacity_mva, net.tie_capacity_mva],
                strict=True,
            )
        )
    ]
    tin_l, tout_l = tin.tolist(), tout.tolist()
    checked: dict[tuple[int, int], bool] = {}

    def extra_ok(sub_node: int, tie: int) -> bool:
        if transfer_ok is None:
            return True
        key = (sub_node, tie)
        if key not in checked:
            checked[key] = bool(transfer_ok(sub_node, tie))
        return checked[key]

    def best_tie(sub_node: int, dead_node: int) -> float | None:
        """Switching time of the best feasible tie restoring subtree ``sub_node``, or None."""
        lo, hi = tin_l[sub_node], tout_l[sub_node]
        dlo, dhi = tin_l[dead_node], tout_l[dead_node]
        s0, s1 = node_lo[sub_node], node_hi[sub_node]
        need = s_peak_cum[s1] - s_peak_cum[s0]
        best: tuple[float, float] | None = None
        for ta, tb, t, room, j in tie_ends:
            if (
                lo <= ta <= hi
                and not dlo <= tb <= dhi
                and need <= room + 1e-9
                and (best is None or room > best[1])
                and extra_ok(sub_node, j)
            ):
                best = (t, room)
        return None if best is None else best[0]

    ev_l, lo_l, hi_l, dl_l, fx_l, rp_l = [], [], [], [], [], []

    def add(k: int, s: tuple[int, int], dlam: float, fixed: float, rep: float) -> None:
        if s[1] > s[0]:
            ev_l.append(k)
            lo_l.append(s[0])
            hi_l.append(s[1])
            dl_l.append(dlam)
            fx_l.append(fixed)
            rp_l.append(rep)

    for k in range(len(events.edge)):
        e = int(events.edge[k])
        r = float(events.repair_h[k])
        if events.on_device[k]:
            start = int(parent_edge[net.edge_parent[e]])
        else:
            start = e
        p = int(prot_up[start]) if start >= 0 else -1
        s = int(iso_up[start]) if start >= 0 else -1
        a_node = int(net.edge_child[p]) if p >= 0 else int(root[net.edge_child[e]])
        # an isolating device always sits at or below the protective one, so s < 0 => p < 0
        s_node = int(net.edge_child[s]) if s >= 0 else a_node
        a_sl, s_sl = lp_slice(a_node), lp_slice(s_node)
        if (
            events.on_device[k]
            and events.restore_h is not None
            and np.isfinite(events.restore_h[k])
        ):
            add(k, a_sl, 1.0, min(float(events.restore_h[k]), r), 0.0)
            continue
        if events.on_device[k]:
            # the failed device is isolated by its neighbours (its own switching time): the
            # area above is back after that, the part below it over a tie or after the repair
            t_dev = min(float(net.edge_switch_time_h[e]), r)
            add(k, a_sl, 1.0, t_dev, 0.0)
            sub = int(net.edge_child[e])
            t_tie = best_tie(sub, sub)
            if t_tie is None:
                add(k, lp_slice(sub), 0.0, -t_dev, 1.0)
            else:
                add(k, lp_slice(sub), 0.0, min(max(t_dev, t_tie), r) - t_dev, 0.0)
            continue
        t_up = min(float(net.edge_switch_time_h[s]), r) if s >= 0 else r
        add(k, a_sl, 1.0, t_up, 0.0)
        add(k, s_sl, 0.0, -t_up, 1.0)
        for d in zone_frontier(s_node):
            sub = int(net.edge_child[d])
            t_tie = best_tie(sub, s_node)
            if t_tie is not None:
                t_sw = min(max(float(net.edge_switch_time_h[d]), t_tie), r)
                add(k, lp_slice(sub), 0.0, t_sw, -1.0)
    return Segments(
        event=np.asarray(ev_l, dtype=np.int64),
        lo=np.asarray(lo_l, dtype=np.int64),
        hi=np.asarray(hi_l, dtype=np.int64),
        dlam=np.asarray(dl_l, dtype=float),
        fixed_h=np.asarray(fx_l, dtype=float),
        rep=np.asarray(rp_l, dtype=float),
        order=order,
    )


def load_point_indices(
    seg: Segments, events: FailureEvents, n_lp: int
) -> tuple[np.ndarray, np.ndarray]:
    """Failure rate (1/yr) and unavailability (h/yr) of every load point.

    Parameters
    ----------
    seg : Segments
        Output of :func:`build_segments`.
    events : FailureEvents
        The events the segments were built from.
    n_lp : int
        Number of load points.

    Returns
    -------
    failure_rate_per_year, unavailability_h_per_year : ndarray (n_lp,)
    """
    rate = events.rate_per_year[seg.event]
    dur = seg.fixed_h + seg.rep * events.repair_h[seg.event]
    dlam = np.zeros(n_lp + 1)
    du = np.zeros(n_lp + 1)
    np.add.at(dlam, seg.lo, rate * seg.dlam)
    np.add.at(dlam, seg.hi, -rate * seg.dlam)
    np.add.at(du, seg.lo, rate * dur)
    np.add.at(du, seg.hi, -rate * dur)
    lam = np.empty(n_lp)
    u = np.empty(n_lp)
    lam[seg.order] = np.cumsum(dlam)[:n_lp]
    u[seg.order] = np.cumsum(du)[:n_lp]
    # cumulative sums of +/- pairs leave round-off around exact zeros
    lam[np.abs(lam) < 1e-12] = 0.0
    u[np.abs(u) < 1e-12] = 0.0
    return lam, u


def event_coefficients(
    seg: Segments, n_event: int, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-event sums of a load-point weight (customers or average MW) over the segments.

    Returns
    -------
    interrupted, fixed_h, repair : ndarray (n_event,)
        ``sum(w * dlam)``, ``sum(w * fixed_h)`` and ``sum(w * rep)``: one occurrence of event
        ``k`` with repair time ``D`` interrupts ``interrupted[k]`` weight units and causes
        ``fixed_h[k] + repair[k] * D`` weight-hours of outage.
    """
    cum = np.concatenate([[0.0], np.cumsum(np.asarray(weights, dtype=float)[seg.order])])
    w = cum[seg.hi] - cum[seg.lo]
    return (
        np.bincount(seg.event, w * seg.dlam, minlength=n_event),
        np.bincount(seg.event, w * seg.fixed_h, minlength=n_event),
        np.bincount(seg.event, w * seg.rep, minlength=n_event),
    )


def system_indices(
    lam: np.ndarray, u: np.ndarray, customers: np.ndarray, p_avg_mw: np.ndarray
) -> dict[str, float]:
    """SAIFI, SAIDI, CAIDI, ASAI, ASUI, ENS, AENS of a group of load points.

    Parameters
    ----------
    lam : failure rate per load point, 1/yr
    u : unavailability per load point, h/yr
    customers : customers per load point
    p_avg_mw : average load per load point, MW

    Returns
    -------
    dict
        ``saifi_per_year`` (interruptions/customer-yr), ``saidi_h_per_year`` (h/customer-yr),
        ``caidi_h``, ``asai`` and ``asui`` (fractions), ``ens_mwh_per_year``,
        ``aens_mwh_per_year`` (per customer), ``customers``.
    """
    n = float(np.sum(customers))
    saifi = float(np.dot(lam, customers) / n) if n > 0 else 0.0
    saidi = float(np.dot(u, customers) / n) if n > 0 else 0.0
    ens = float(np.dot(u, p_avg_mw))
    return {
        "customers": n,
        "saifi_per_year": saifi,
        "saidi_h_per_year": saidi,
        "caidi_h": saidi / saifi if saifi > 0 else 0.0,
        "asai": 1.0 - saidi / HOURS_PER_YEAR,
        "asui": saidi / HOURS_PER_YEAR,
        "ens_mwh_per_year": ens,
        "aens_mwh_per_year": ens / n if n > 0 else 0.0,
    }


def sample_annual(
    seg: Segments,
    events: FailureEvents,
    customers: np.ndarray,
    p_avg_mw: np.ndarray,
    years: int,
    rng: np.random.Generator,
    chunk: int = 2000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monte Carlo: annual SAIFI, SAIDI and ENS for ``years`` simulated years.

    Each year, every event occurs a Poisson(``rate``) number of times; each occurrence has an
    exponentially distributed repair time with the event's mean repair time (the sum of ``k``
    such times is Gamma(k, r)); load points restored by switching are out for the switching
    time. Outages are assumed not to overlap (failure rates << repair rates), which makes this
    year-by-year sampling equivalent to a sequential simulation of up/down histories.

    Returns
    -------
    saifi_per_year, saidi_h_per_year, ens_mwh_per_year : ndarray (years,)
    """
    n_ev = len(events.edge)
    n_cust = float(np.sum(customers))
    ci, cf, cr = event_coefficients(seg, n_ev, customers)
    _, ef, er = event_coefficients(seg, n_ev, p_avg_mw)
    # switching durations are capped by the mean repair time in the segments; keep them fixed
    out_f, out_d, out_e = [], [], []
    done = 0
    while done < years:
        m = min(chunk, years - done)
        k = rng.poisson(events.rate_per_year, size=(m, n_ev))
        d = np.zeros((m, n_ev))
        pos = k > 0
        d[pos] = rng.gamma(k[pos], np.broadcast_to(events.repair_h, (m, n_ev))[pos])
        out_f.append(k @ ci / n_cust)
        out_d.append((k @ cf + d @ cr) / n_cust)
        out_e.append(k @ ef + d @ er)
        done += m
    return np.concatenate(out_f), np.concatenate(out_d), np.concatenate(out_e)


def momentary_rates(
    net: RadialNetwork, edge: np.ndarray, rate_per_year: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Momentary interruptions from temporary faults cleared by reclosers.

    A temporary fault on ``edge`` is cleared by the nearest recloser (or auto-reclosing
    breaker, ``edge_recloses``) at or above it (fuse
    saving: also for faults below a fuse); every load point below that recloser sees a
    momentary interruption. Faults with no recloser above are returned as ``unreclosed``: the
    caller treats them as sustained outages lasting the switching time of the device that
    clears them (a blown fuse or a tripped breaker closed by hand).

    Returns
    -------
    momentary_per_year : ndarray (n_lp,)
        Momentary interruption rate of every load point, 1/yr.
    unreclosed : bool ndarray (n_event,)
        Temporary faults without a recloser above them.
    """
    n_edge = len(net.edge_child)
    parent_edge, tin, tout, _ = _tour(net)
    rec_up = np.full(n_edge, -1, dtype=np.int64)
    recloses = np.asarray(net.edge_device) == DEVICE_RECLOSER
    if net.edge_recloses is not None:
        recloses = recloses | np.asarray(net.edge_recloses, dtype=bool)
    for e in np.argsort(tin[net.edge_child], kind="stable"):
        pe = parent_edge[net.edge_parent[e]]
        rec_up[e] = e if recloses[e] else (rec_up[pe] if pe >= 0 else -1)
    lp_tin = tin[net.lp_node]
    order = np.argsort(lp_tin, kind="stable")
    sorted_tin = lp_tin[order]
    rec = rec_up[np.asarray(edge, dtype=np.int64)] if len(edge) else np.zeros(0, np.int64)
    ok = rec >= 0
    nodes = net.edge_child[rec[ok]]
    lo = np.searchsorted(sorted_tin, tin[nodes], "left")
    hi = np.searchsorted(sorted_tin, tout[nodes], "right")
    diff = np.zeros(len(order) + 1)
    np.add.at(diff, lo, rate_per_year[ok])
    np.add.at(diff, hi, -rate_per_year[ok])
    out = np.empty(len(order))
    out[order] = np.cumsum(diff)[: len(order)]
    out[np.abs(out) < 1e-12] = 0.0
    return out, ~ok
