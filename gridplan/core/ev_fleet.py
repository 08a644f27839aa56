"""Monte Carlo of an EV fleet's charging, day by day, vectorized over vehicles (numpy only).

The model, per vehicle and day (every quantity is an array over the vehicles):

- the day's distance is drawn from the vehicle class's distribution (weekday or weekend),
  capped at what the battery allows; the cap keeps the stated mean (see
  :func:`capped_lognormal`, :func:`capped_gamma`);
- the location's charging sessions of that day type split the distance into segments (shares);
  before session ``j`` the vehicle drives segment ``j``: its energy deficit (battery kWh below
  full) grows by ``km * consumption``; a deficit that would exceed the battery is cut at the
  battery (empty) and the missing kilometres are reported as unserved;
- the vehicle plugs in with the location's plug-in probability, or whenever the next segment
  would not fit in what is left in the battery; it asks for its whole deficit (charge to full),
  ``deficit / efficiency`` kWh from the grid;
- arrival (hour of day) and dwell time are drawn from the location's distributions; a vehicle
  still plugged in from its last session arrives when that one ends, or, where the location
  allows stays longer than a day, stays parked and skips the day;
- the site's charge points are assigned first come first served
  (:func:`gridplan.core.ev_kernels.queue_fifo`): AC vehicles hold their point until they
  leave, DC drivers leave when full, a swap station's depleted battery waits for a free rack
  and charges there at rack power (the vehicle leaves at once with a charged one);
- each policy (:mod:`gridplan.core.ev_policies`) turns the session into a schedule; what it
  delivers is subtracted from the deficit, what it does not is the session's shortfall.

Every policy keeps its own vehicle state (deficits, occupied points) but all see the same
random draws, so they differ only by what the policy does. Draws are made for every vehicle
of the fleet every day (also for vehicles that do not plug in), so the first ``n`` vehicles of a
fleet see the same draws whatever the fleet size (hosting capacity relies on this).

Profiles are never held as a (vehicles x steps) array: sessions are added as rectangles (or,
for valley filling, as per-step schedules) to a buffer of a few days per output row (site,
coincidence-factor subset), and a day leaves the buffer once no later session can touch it.
The horizon wraps around: charging that runs past the last step is added to the first steps
(a periodic steady state, so the first night is not empty).
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special

from gridplan.core import ev_policies as pol
from gridplan.core.ev_kernels import POLICY_CODES, SITE_STATS, VEHICLE_STATS

# distribution kinds: native parameters (a, b)
FIXED, UNIFORM, NORMAL, LOGNORMAL, GAMMA = 0, 1, 2, 3, 4
DIST_KINDS: dict[str, int] = {
    "fixed": FIXED,  # a = value
    "uniform": UNIFORM,  # a = low, b = high
    "normal": NORMAL,  # a = mean, b = sd
    "lognormal": LOGNORMAL,  # a = mu, b = sigma of log(x)
    "gamma": GAMMA,  # a = shape, b = scale
}
# charger kinds
AC, DC, SWAP = 0, 1, 2
CHARGER_KINDS: dict[str, int] = {"ac": AC, "dc": DC, "swap": SWAP}


# -- distributions -----------------------------------------------------------------------
@dataclass(frozen=True)
class Distributions:
    """A table of distributions; draws are clipped to ``[lo, hi]`` or, where ``wrap24``,
    taken modulo 24 (times of day)."""

    kind: np.ndarray
    a: np.ndarray
    b: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    wrap24: np.ndarray

    def plan(self, which: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Positions of the draws of each distribution used in ``which`` (fixed order)."""
        order = np.argsort(which, kind="stable")
        ids, starts = np.unique(which[order], return_index=True)
        bounds = [*starts.tolist(), len(order)]
        return [(int(d), order[bounds[i] : bounds[i + 1]]) for i, d in enumerate(ids)]

    def draw(
        self, plan: list[tuple[int, np.ndarray]], n: int, rng: np.random.Generator
    ) -> np.ndarray:
        """One draw per position of ``plan`` (``n`` positions in all)."""
        out = np.empty(n)
        for d, pos in plan:
            m = pos.shape[0]
            k, a, b = self.kind[d], self.a[d], self.b[d]
            if k == FIXED:
                x = np.full(m, a)
            elif k == UNIFORM:
                x = rng.uniform(a, b, m)
            elif k == NORMAL:
                x = a + b * rng.standard_normal(m)
            elif k == LOGNORMAL:
                x = np.exp(a + b * rng.standard_normal(m))
            else:
                x = b * rng.standard_gamma(a, m)
            if self.wrap24[d]:
                x = np.mod(x, 24.0)
            else:
                x = np.clip(x, self.lo[d], self.hi[d])
            out[pos] = x
        return out


def capped_lognormal(mean: float, cv: float, cap: float) -> tuple[float, float]:
    """``(mu, sigma)`` of a lognormal whose draws capped at ``cap`` have mean ``mean``.

    ``sigma**2 = ln(1 + cv**2)`` (the uncapped coefficient of variation); ``mu`` solves
    ``E[min(X, C)] = exp(mu + s^2/2) Phi((ln C - mu - s^2)/s) + C (1 - Phi((ln C - mu)/s))``
    (increasing in ``mu``). Requires ``0 < mean < cap``.
    """
    s = math.sqrt(math.log1p(cv * cv))
    if not math.isfinite(cap):
        return math.log(mean) - s * s / 2.0, s
    lc = math.log(cap)

    def gap(mu: float) -> float:
        return capped_mean(LOGNORMAL, mu, s, cap) - mean

    lo, hi = math.log(mean) - s * s / 2.0 - 1.0, lc + 10.0 * s + 10.0
    return float(optimize.brentq(gap, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps)), s


def capped_gamma(mean: float, cv: float, cap: float) -> tuple[float, float]:
    """``(shape, scale)`` of a gamma whose draws capped at ``cap`` have mean ``mean``.

    ``shape = 1 / cv**2``; ``scale`` solves ``E[min(X, C)] = k theta P(k + 1, C/theta) +
    C (1 - P(k, C/theta))`` with ``P`` the regularized lower incomplete gamma function.
    """
    k = 1.0 / (cv * cv)
    if not math.isfinite(cap):
        return k, mean / k

    def gap(theta: float) -> float:
        return capped_mean(GAMMA, k, theta, cap) - mean

    return k, float(optimize.brentq(gap, mean / k * 1e-3, cap * 1e3, xtol=1e-14, rtol=1e-15))


def capped_mean(kind: int, a: float, b: float, cap: float) -> float:
    """Mean of ``min(X, cap)`` for a lognormal ``(mu=a, sigma=b)`` or gamma ``(shape=a,
    scale=b)``."""
    if kind == LOGNORMAL:
        if not math.isfinite(cap):
            return math.exp(a + b * b / 2.0)
        lc = math.log(cap)
        return math.exp(a + b * b / 2.0) * special.ndtr((lc - a - b * b) / b) + cap * (
            1.0 - special.ndtr((lc - a) / b)
        )
    if kind == GAMMA:
        if not math.isfinite(cap):
            return a * b
        z = cap / b
        return a * b * special.gammainc(a + 1.0, z) + cap * (1.0 - special.gammainc(a, z))
    raise ValueError(f"capped_mean: kind {kind} has no closed form here")


# -- fleet ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Slot:
    """Session ``j`` of a day type for the vehicles whose location has one."""

    vehicles: np.ndarray  # int64 vehicle rows
    arrival: list[tuple[int, np.ndarray]]  # draw plan (distribution ids, hours of day)
    dwell: list[tuple[int, np.ndarray]]  # draw plan (h)
    share: np.ndarray  # share of the day's distance driven before this session
    next_share: np.ndarray  # share of the next session of the same day, -1 after the last


@dataclass(frozen=True)
class Fleet:
    """Per-vehicle arrays and the session slots (built by :mod:`gridplan.model.ev_scenario`).

    Energies in kWh (battery side unless said), powers in kW (grid side), times of day in h.
    """

    battery_kwh: np.ndarray
    consumption_kwh_per_km: np.ndarray
    efficiency: np.ndarray  # grid -> battery
    p_kw: np.ndarray  # rating of the vehicle's point (swap: rack), grid side
    group: np.ndarray  # int64 site row
    plug_probability: np.ndarray
    multi_day: np.ndarray  # bool: the location allows stays longer than a day
    distance: tuple[np.ndarray, np.ndarray]  # distribution id: weekday, weekend
    distributions: Distributions
    slots: tuple[tuple[Slot, ...], tuple[Slot, ...]]  # weekday, weekend
    first_share: tuple[np.ndarray, np.ndarray]  # share of the first session; 1 with none
    no_slot: tuple[np.ndarray, np.ndarray]  # vehicles without a session on that day type
    max_stay_h: float  # longest dwell (or swap queue wait) any session can have
    shuffled: bool = False  # vehicle order is a random permutation (coincidence subsets)

    @property
    def n(self) -> int:
        """Number of vehicles."""
        return int(self.battery_kwh.shape[0])

    def distance_plans(self) -> tuple[list[tuple[int, np.ndarray]], ...]:
        """Draw plans of the daily distance (weekday, weekend)."""
        return tuple(self.distributions.plan(d) for d in self.distance)


@dataclass(frozen=True)
class Sites:
    """Charging sites (bus x charger class): the rows of the per-site profiles."""

    points: np.ndarray  # int64 charge points / swap racks; -1: one per vehicle (no queue)
    kind: np.ndarray  # int64 AC, DC, SWAP
    p_kw: np.ndarray  # rating per point / rack, kW
    flexible: np.ndarray  # bool: policies may shift its sessions; vehicles hold the point
    trafo: np.ndarray  # int64 transformer row (valley filling), 0 when none
    swap_max_wait_h: float = 12.0  # a battery not on a rack within this is a missed swap

    @property
    def n(self) -> int:
        """Number of sites."""
        return int(self.points.shape[0])


@dataclass(frozen=True)
class Calendar:
    """Days simulated: ``weekend`` has one entry per day plus one (the day after the last)."""

    n_days: int
    steps_per_day: int
    weekend: np.ndarray

    @property
    def dt_h(self) -> float:
        """Step length, h."""
        return 24.0 / self.steps_per_day

    @property
    def n_steps(self) -> int:
        """Steps in the horizon."""
        return self.n_days * self.steps_per_day


# -- coincidence factor design ----------------------------------------------------------------
BLOCK = 64  # vehicles per block: subsets of BLOCK * 2**m vehicles are unions of blocks
SMALL_REPLICAS = 32  # disjoint subsets per fleet size below BLOCK


@dataclass
class CfDesign:
    """Random disjoint vehicle subsets per fleet size, for the coincidence factor.

    Sizes below :data:`BLOCK` (1, 2, 4, ...) get up to :data:`SMALL_REPLICAS` disjoint subsets
    each, one output row per subset; larger sizes ``BLOCK * 2**m`` are unions of consecutive
    blocks of a random partition into blocks (every full group of blocks is a replica); the
    whole fleet is the last size.
    """

    member: np.ndarray  # (n_vehicles, n_small_sizes) row of the vehicle's subset, -1 if none
    block_row: np.ndarray  # (n_vehicles,) row of the vehicle's block, -1 if none
    small_sizes: list[int]
    small_rows: list[np.ndarray]  # rows per small size
    block_first_row: int
    n_blocks: int
    block_levels: list[int]  # 2**m per block level
    rating: np.ndarray  # (n_rows,) sum of member ratings, kW
    n_active: int
    total_rating: float
    peak: np.ndarray = field(init=False)  # running max per row
    block_peak: list[np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        self.peak = np.zeros(self.rating.shape[0])
        self.block_peak = [np.zeros(self.n_blocks // m) for m in self.block_levels]


def cf_design(
    active: np.ndarray,
    rating_kw: np.ndarray,
    first_row: int,
    rng: np.random.Generator,
    *,
    shuffled: bool = False,
) -> CfDesign:
    """Subsets of the active vehicles; their output rows start at ``first_row`` (relative to
    the first coincidence-factor row).

    When the fleet's vehicle order is already random (``shuffled``), subsets are runs of
    consecutive vehicles: the same random design, but a vehicle's neighbours share its
    subset, so the profile buffer is written row by row (several times faster for large
    fleets than rows picked at random).
    """
    n_veh = rating_kw.shape[0]
    idx = np.flatnonzero(active)
    n_act = idx.shape[0]
    if shuffled:
        rng = _Identity()  # type: ignore[assignment]
    sizes = [s for s in (2**i for i in range(int(math.log2(BLOCK)))) if s <= n_act]
    member = np.full((n_veh, len(sizes)), -1, dtype=np.int64)
    small_rows = []
    row = first_row
    for c, s in enumerate(sizes):
        r = min(SMALL_REPLICAS, n_act // s)
        chosen = idx[rng.permutation(n_act)[: r * s]]
        member[chosen, c] = row + np.arange(r * s) // s
        small_rows.append(np.arange(row, row + r))
        row += r
    block_row = np.full(n_veh, -1, dtype=np.int64)
    n_blocks = n_act // BLOCK
    if n_blocks:
        chosen = idx[rng.permutation(n_act)[: n_blocks * BLOCK]]
        block_row[chosen] = row + np.arange(n_blocks * BLOCK) // BLOCK
    levels = [2**m for m in range(int(math.log2(n_blocks)) + 1)] if n_blocks else []
    n_rows = row + n_blocks
    rating = np.zeros(n_rows)
    for c in range(len(sizes)):
        m = member[:, c] >= 0
        np.add.at(rating, member[m, c], rating_kw[m])
    m = block_row >= 0
    np.add.at(rating, block_row[m], rating_kw[m])
    return CfDesign(
        member=member,
        block_row=block_row,
        small_sizes=sizes,
        small_rows=small_rows,
        block_first_row=row,
        n_blocks=n_blocks,
        block_levels=levels,
        rating=rating,
        n_active=n_act,
        total_rating=float(rating_kw[idx].sum()),
    )


class _Identity:
    """Stands in for a generator whose permutations are the identity."""

    @staticmethod
    def permutation(n: int) -> np.ndarray:
        return np.arange(n)


# -- profile accumulation ------------------------------------------------------------------
class Accumulator:
    """Day-slotted buffer of ``n_rows`` profiles: sessions go in, finished days come out.

    Ramp events go to ``a`` (running sum) and ``b`` (one step) of ``buf`` (layout: see
    :func:`gridplan.core.ev_kernels.ramp_deposit`); a day's mean powers are
    ``carry + cumsum(a) + b`` over its steps. Days ``0 .. span`` are held back until
    :meth:`close` adds the part of the last sessions that runs past the horizon (wrap).
    """

    def __init__(
        self,
        n_rows: int,
        cal: Calendar,
        span_days: int,
        on_day: Callable[[int, np.ndarray], None],
        kernels: object,
    ) -> None:
        self.cal = cal
        self.spd = cal.steps_per_day
        self.n_slots = span_days + 2
        # day-major, a (running-sum changes) and b (one-step values) interleaved
        self.buf = np.zeros((self.n_slots, n_rows, self.spd, 2))
        self.carry = np.zeros(n_rows)
        self.on_day = on_day
        self.n_head = min(cal.n_days, span_days + 1)
        self.held: dict[int, np.ndarray] = {}
        self.day = 0  # first day not finished
        self.k = kernels

    def limit(self) -> float:
        """Latest event time (steps) the buffer can take now."""
        return float((self.day + self.n_slots - 1) * self.spd)

    def ramps(self, row: np.ndarray, t: np.ndarray, slope: np.ndarray) -> None:
        """Add ramp events ``(t, slope)`` (steps, kW) to ``row``."""
        if row.shape[0]:
            self.k.ramp_deposit(self.buf, row, t, slope)

    def steps(self, row: np.ndarray, k_first: np.ndarray, x: np.ndarray) -> None:
        """Add per-step mean powers ``x[i, w]`` (kW) at step ``k_first[i] + w`` of ``row[i]``."""
        if row.shape[0]:
            self.k.step_deposit(self.buf, row, k_first, x)

    def _take(self, day: int) -> np.ndarray:
        block = self.buf[day % self.n_slots]
        run = np.cumsum(block[:, :, 0], axis=1)
        run += self.carry[:, None]
        self.carry = run[:, -1].copy()
        run += block[:, :, 1]
        block[:] = 0.0
        return run

    def finish_day(self) -> None:
        """Day ``self.day`` can take no more sessions: hand it over (or hold it)."""
        d = self.day
        vals = self._take(d)
        self.day += 1
        if d < self.n_head:
            self.held[d] = vals
        else:
            self.on_day(d, vals)

    def close(self) -> float:
        """Wrap what runs past the horizon onto its first days and hand the held days over.

        Returns the largest remaining running sum (kW), which should be rounding noise.
        """
        n = self.cal.n_days
        for v in range(n, n + self.n_slots - 1):
            self.held[v % n] += self._take(v)
        for d in sorted(self.held):
            self.on_day(d, self.held.pop(d))
        return float(np.abs(self.carry).max()) if self.carry.size else 0.0


# -- simulation ------------------------------------------------------------------------------
@dataclass
class PolicyRun:
    """What one policy produced.

    ``profiles``: (n_sites, n_steps) mean power per step, kW (None unless kept);
    ``daily_total``: (n_days, steps_per_day) fleet total, kW; ``vehicles``: per-vehicle totals
    (kWh, km); ``sites``: per-site session counts and waits; ``cf``: coincidence factor per fleet
    size; ``sessions``: per-session records (only when kept).
    """

    policy: str
    profiles: np.ndarray | None
    daily_total: np.ndarray
    vehicles: dict[str, np.ndarray]
    sites: dict[str, np.ndarray]
    cf: dict[str, np.ndarray] | None
    sessions: dict[str, np.ndarray] | None
    wrap_residual_kw: float


class _PolicyState:
    """One policy's vehicle state, output buffers and results."""

    def __init__(
        self,
        policy: str,
        fleet: Fleet,
        sites: Sites,
        cal: Calendar,
        active: np.ndarray,
        span_days: int,
        *,
        tou: pol.TouParams,
        valley_load: np.ndarray | None,
        cf: CfDesign | None,
        keep_profiles: bool,
        keep_sessions: bool,
        kernels: object,
        valley_sweeps: int = 1,
    ) -> None:
        n = fleet.n
        self.valley_sweeps = int(valley_sweeps)
        self.policy = policy
        self.fleet, self.sites, self.cal = fleet, sites, cal
        self.active = active
        self.tou = tou
        self.k = kernels
        self.sessions: list[dict[str, np.ndarray]] | None = [] if keep_sessions else None
        self.deficit = np.zeros(n)
        self.busy_until = np.full(n, -np.inf)
        # per-vehicle and per-site statistics, one row per name (kernel layout)
        self.vstats = np.zeros((len(VEHICLE_STATS), n))
        self.v = dict(zip(VEHICLE_STATS, self.vstats, strict=True))
        ns = sites.n
        self.sstats = np.zeros((len(SITE_STATS), ns))
        self.s = dict(zip(SITE_STATS, self.sstats, strict=True))
        self.active_u8 = active.astype(np.uint8)
        self.multi_u8 = fleet.multi_day.astype(np.uint8)
        self.flex_u8 = sites.flexible.astype(np.uint8)
        self.code = POLICY_CODES[policy]
        if cf is None:
            self.member = np.empty((n, 0), dtype=np.int64)
            self.block_row = np.full(n, -1, dtype=np.int64)
        else:
            self.member = np.ascontiguousarray(cf.member)
            self.block_row = np.ascontiguousarray(cf.block_row)
        self.server_start = np.zeros(ns + 1, dtype=np.int64)
        pts = np.where(sites.points >= 0, sites.points, 0)
        np.cumsum(pts, out=self.server_start[1:])
        self.server_free = np.full(int(self.server_start[-1]), -np.inf)
        self.valley_load = None if valley_load is None else valley_load.copy()
        self.cf = cf
        self.keep_profiles = keep_profiles
        spd = cal.steps_per_day
        self.profiles = np.zeros((ns, cal.n_steps)) if keep_profiles else None
        self.daily_total = np.zeros((cal.n_days, spd))
        n_rows = ns + (0 if cf is None else cf.rating.shape[0])
        self.acc = Accumulator(n_rows, cal, span_days, self._on_day, kernels)

    # -- outputs ------------------------------------------------------------------------
    def _on_day(self, day: int, vals: np.ndarray) -> None:
        ns = self.sites.n
        spd = self.cal.steps_per_day
        site_vals = vals[:ns]
        if self.profiles is not None:
            self.profiles[:, day * spd : (day + 1) * spd] = site_vals
        self.daily_total[day] = site_vals.sum(axis=0)
        cf = self.cf
        if cf is None:
            return
        peak = vals[ns:].max(axis=1)
        np.maximum(cf.peak, peak, out=cf.peak)
        if cf.n_blocks:
            lo = ns + cf.block_first_row
            blocks = vals[lo : lo + cf.n_blocks]
            for i, m in enumerate(cf.block_levels):
                g = cf.n_blocks // m
                agg = blocks[: g * m].reshape(g, m, spd).sum(axis=1)
                np.maximum(cf.block_peak[i], agg.max(axis=1), out=cf.block_peak[i])

    def _rows(self, veh: np.ndarray, grp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(session position, output row) pairs: the site row plus the vehicle's CF rows."""
        pos = [np.arange(veh.shape[0])]
        rows = [grp]
        cf = self.cf
        if cf is not None:
            off = self.sites.n
            for c in range(cf.member.shape[1]):
                r = cf.member[veh, c]
                m = r >= 0
                pos.append(np.flatnonzero(m))
                rows.append(r[m] + off)
            r = cf.block_row[veh]
            m = r >= 0
            pos.append(np.flatnonzero(m))
            rows.append(r[m] + off)
        return np.concatenate(pos), np.concatenate(rows)

    # -- the day's work ---------------------------------------------------------------------
    def drive_only(self, veh: np.ndarray, km: np.ndarray) -> None:
        """Vehicles without a session today drive the whole day."""
        m = self.active[veh]
        self._drive(veh[m], km[m])

    def _drive(self, veh: np.ndarray, km: np.ndarray) -> np.ndarray:
        f = self.fleet
        cons = f.consumption_kwh_per_km[veh]
        batt = f.battery_kwh[veh]
        e = km * cons
        d = self.deficit[veh] + e
        over = np.maximum(d - batt, 0.0)
        d = np.minimum(d, batt)
        v = self.v
        v["distance_km"][veh] += km
        v["driven_kwh"][veh] += e - over
        v["driven_km"][veh] += km - over / cons
        v["unserved_km"][veh] += over / cons
        v["deficit_max_kwh"][veh] = np.maximum(v["deficit_max_kwh"][veh], d)
        self.deficit[veh] = d
        return d

    def slot(
        self,
        veh: np.ndarray,
        day: int,
        arr_h: np.ndarray,
        dwell_h: np.ndarray,
        u_plug: np.ndarray,
        u_delay: np.ndarray,
        seg_km: np.ndarray,
        next_km: np.ndarray,
    ) -> None:
        """Drive segment ``j`` and run session ``j`` of the day for the vehicles ``veh``.

        The kernel ``slot_run`` drives, decides who plugs in and schedules every session at a
        site without a queue (and, but for valley filling, at flexible sites); sessions that
        queue for points or are valley-filled come back and are handled here.
        """
        f, st, cal = self.fleet, self.sites, self.cal
        dt = cal.dt_h
        m = veh.shape[0]
        t_nom = day * cal.steps_per_day + arr_h / dt
        out_pos = np.empty(m, dtype=np.int64)
        out_t_arr = np.empty(m)
        out_t_dep = np.empty(m)
        out_d = np.empty(m)
        tou = self.tou
        n_def = self.k.slot_run(
            self.code,
            tou.start_h,
            tou.end_h,
            tou.delay_h,
            int(tou.keep_energy),
            dt,
            cal.steps_per_day,
            st.swap_max_wait_h / dt,
            veh,
            t_nom,
            np.ascontiguousarray(dwell_h / dt),
            u_plug,
            u_delay,
            seg_km,
            next_km,
            self.active_u8,
            self.multi_u8,
            f.battery_kwh,
            f.consumption_kwh_per_km,
            f.efficiency,
            f.p_kw,
            f.group,
            f.plug_probability,
            self.deficit,
            self.busy_until,
            self.vstats,
            st.points,
            st.kind,
            self.flex_u8,
            self.sstats,
            self.member,
            self.block_row,
            st.n,
            int(self.sessions is not None),
            self.acc.buf,
            self.acc.limit(),
            out_pos,
            out_t_arr,
            out_t_dep,
            out_d,
        )
        if n_def < 0:
            raise RuntimeError("ev_fleet: a session runs past the profile buffer")
        if n_def:
            pos = out_pos[:n_def]
            self._queued(
                veh[pos], out_t_arr[:n_def], out_t_dep[:n_def], out_d[:n_def], u_delay[pos]
            )

    def _queued(
        self,
        vs: np.ndarray,
        t_arr: np.ndarray,
        t_dep: np.ndarray,
        d: np.ndarray,
        u_delay: np.ndarray,
    ) -> None:
        """Sessions ``slot_run`` handed back: at sites with a limited number of points, the
        valley-filled ones, and all when sessions are kept (kernel ``queued_run``)."""
        f, st, cal = self.fleet, self.sites, self.cal
        dt = cal.dt_h
        order = np.lexsort((t_arr, f.group[vs]))  # by site, then arrival: the queue's order
        vs, t_arr, t_dep, d, u_delay = (
            np.ascontiguousarray(x[order]) for x in (vs, t_arr, t_dep, d, u_delay)
        )
        n = vs.shape[0]
        t_plug, t1, start, end, pw, delivered = (np.empty(n) for _ in range(6))
        served = np.empty(n, dtype=np.uint8)
        tou = self.tou
        rc = self.k.queued_run(
            self.code,
            tou.start_h,
            tou.end_h,
            tou.delay_h,
            int(tou.keep_energy),
            dt,
            cal.steps_per_day,
            st.swap_max_wait_h / dt,
            vs,
            t_arr,
            t_dep,
            d,
            u_delay,
            f.efficiency,
            f.p_kw,
            f.group,
            self.deficit,
            self.busy_until,
            self.vstats,
            st.points,
            st.kind,
            self.flex_u8,
            self.sstats,
            self.server_free,
            self.server_start,
            self.member,
            self.block_row,
            st.n,
            self.acc.buf,
            self.acc.limit(),
            t_plug,
            t1,
            start,
            end,
            pw,
            delivered,
            served,
        )
        if rc < 0:
            raise RuntimeError("ev_fleet: a session runs past the profile buffer")
        g = f.group[vs]
        p = f.p_kw[vs]
        eff = f.efficiency[vs]
        e = d / eff
        if self.valley_load is not None:
            self._valley_inflexible(np.flatnonzero(served == 1), g, start, end, pw)
            fl = np.flatnonzero(served == 2)
            if fl.shape[0]:
                self._valley(vs, g, fl, t_plug, t1, p, e, start, end, pw, delivered)
                # book what valley filling delivered (the kernel booked the rest)
                vf = vs[fl]
                full = delivered[fl] >= e[fl] * (1.0 - 1e-12)
                newd = np.where(full, 0.0, np.maximum(d[fl] - delivered[fl] * eff[fl], 0.0))
                self.deficit[vf] = newd
                v = self.v
                v["charged_kwh"][vf] += delivered[fl]
                v["missed_kwh"][vf] += np.where(full, 0.0, (e[fl] - delivered[fl]) * eff[fl])
                v["sessions"][vf] += 1.0
                v["deficit_min_kwh"][vf] = np.minimum(v["deficit_min_kwh"][vf], newd)
                self.busy_until[vf] = t_dep[fl]  # flexible points are held until departure
                np.add.at(self.s["energy_kwh"], g[fl], delivered[fl])
        if self.sessions is not None:
            self.sessions.append(
                {
                    "vehicle": vs,
                    "site": g,
                    "t_arrive": t_arr,
                    "t_plug": t_plug,
                    "t_leave": t1,
                    "t_start": start,
                    "t_end": end,
                    "p_max_kw": pw,
                    "rating_kw": p,
                    "requested_kwh": e,
                    "delivered_kwh": delivered,
                    "served": served > 0,
                }
            )

    def _valley_inflexible(
        self, r: np.ndarray, g: np.ndarray, start: np.ndarray, end: np.ndarray, pw: np.ndarray
    ) -> None:
        """Add inflexible rectangles to their transformer's load before filling valleys."""
        if r.shape[0] == 0:
            return
        n_per = self.valley_load.shape[1]
        k0 = np.floor(start[r]).astype(np.int64)
        w = int((np.ceil(end[r]) - k0).max()) if r.shape[0] else 0
        if w <= 0:
            return
        k = k0[:, None] + np.arange(w)[None, :]
        frac = np.clip(
            np.minimum(end[r][:, None], k + 1.0) - np.maximum(start[r][:, None], k), 0, 1
        )
        x = pw[r][:, None] * frac
        tr = np.broadcast_to(self.sites.trafo[g[r]][:, None], x.shape)
        nz = x > 0
        np.add.at(self.valley_load, (tr[nz], k[nz] % n_per), x[nz])

    def _valley(
        self,
        vs: np.ndarray,
        g: np.ndarray,
        fl: np.ndarray,
        t0: np.ndarray,
        t1: np.ndarray,
        p: np.ndarray,
        e: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        pw: np.ndarray,
        delivered: np.ndarray,
    ) -> None:
        """Valley-fill the flexible sessions ``fl``; sets their schedule bounds and
        ``delivered`` (kWh)."""
        dt = self.cal.dt_h
        # least laxity (time to spare at full power) first, then by arrival
        laxity = (t1[fl] - t0[fl]) - e[fl] / (p[fl] * dt)
        order = fl[np.lexsort((t0[fl], laxity))]
        n = order.shape[0]
        w = int((np.ceil(t1[order]) - np.floor(t0[order])).max())
        w = max(w, 1)
        k_first = np.empty(n, dtype=np.int64)
        x = np.empty((n, w))
        got = np.empty(n)
        self.k.valley_fill(
            self.valley_load,
            np.ascontiguousarray(self.sites.trafo[g[order]]),
            np.ascontiguousarray(t0[order]),
            np.ascontiguousarray(t1[order]),
            np.ascontiguousarray(p[order]),
            np.ascontiguousarray(e[order] / dt),
            k_first,
            x,
            got,
            self.valley_sweeps,
        )
        if float((k_first + w).max()) >= self.acc.limit():
            raise RuntimeError("ev_fleet: a session runs past the profile buffer")
        pos, rows = self._rows(vs[order], g[order])
        self.acc.steps(rows, k_first[pos], x[pos])
        nz = x > 0
        first = np.where(nz.any(axis=1), nz.argmax(axis=1), 0)
        last = np.where(nz.any(axis=1), w - 1 - nz[:, ::-1].argmax(axis=1), -1)
        start[order] = np.maximum(k_first + first, t0[order])
        end[order] = np.minimum(k_first + last + 1, t1[order])
        pw[order] = x.max(axis=1)
        delivered[order] = got * dt

    # -- results ------------------------------------------------------------------------------
    def result(self) -> PolicyRun:
        residual = self.acc.close()
        f = self.fleet
        v = dict(self.v)
        v["deficit_end_kwh"] = self.deficit.copy()
        v["soc_min_kwh"] = f.battery_kwh - v.pop("deficit_max_kwh")
        v["soc_max_kwh"] = f.battery_kwh - v.pop("deficit_min_kwh")
        cf = None
        if self.cf is not None:
            cf = _cf_table(self.cf, float(self.daily_total.max(initial=0.0)))
        sessions = None
        if self.sessions is not None:
            keys = self.sessions[0].keys() if self.sessions else ()
            sessions = {k: np.concatenate([b[k] for b in self.sessions]) for k in keys}
        return PolicyRun(
            policy=self.policy,
            profiles=self.profiles,
            daily_total=self.daily_total,
            vehicles=v,
            sites=dict(self.s),
            cf=cf,
            sessions=sessions,
            wrap_residual_kw=residual,
        )


def _cf_table(cf: CfDesign, fleet_peak_kw: float) -> dict[str, np.ndarray]:
    """Coincidence factor per fleet size: mean, min and max over the replicas."""
    sizes, reps, mean, lo, hi, admd = [], [], [], [], [], []

    def add(size: int, peaks: np.ndarray, ratings: np.ndarray) -> None:
        with np.errstate(invalid="ignore", divide="ignore"):
            c = np.where(ratings > 0, peaks / ratings, np.nan)
        sizes.append(size)
        reps.append(peaks.shape[0])
        mean.append(float(np.nanmean(c)) if c.size else np.nan)
        lo.append(float(np.nanmin(c)) if c.size else np.nan)
        hi.append(float(np.nanmax(c)) if c.size else np.nan)
        admd.append(float(peaks.mean() / size) if peaks.size else np.nan)

    for s, rows in zip(cf.small_sizes, cf.small_rows, strict=True):
        add(s, cf.peak[rows], cf.rating[rows])
    if cf.n_blocks:
        b0 = cf.block_first_row
        block_rating = cf.rating[b0 : b0 + cf.n_blocks]
        for m, peaks in zip(cf.block_levels, cf.block_peak, strict=True):
            g = cf.n_blocks // m
            ratings = block_rating[: g * m].reshape(g, m).sum(axis=1)
            add(BLOCK * m, peaks, ratings)
    if cf.n_active and (not sizes or sizes[-1] != cf.n_active):
        add(cf.n_active, np.array([fleet_peak_kw]), np.array([cf.total_rating]))
    return {
        "n_vehicles": np.array(sizes, dtype=np.int64),
        "replicas": np.array(reps, dtype=np.int64),
        "cf_mean": np.array(mean),
        "cf_min": np.array(lo),
        "cf_max": np.array(hi),
        "admd_kw": np.array(admd),
    }


def simulate(
    fleet: Fleet,
    sites: Sites,
    cal: Calendar,
    seed: int,
    *,
    policies: Sequence[str] = ("uncontrolled",),
    tou: pol.TouParams | None = None,
    valley_base_kw: np.ndarray | None = None,
    coincidence: bool = True,
    n_active: int | None = None,
    keep_profiles: bool = True,
    keep_sessions: bool = False,
    kernels: object | None = None,
    progress: Callable[[int], None] | None = None,
    threads: int | None = None,
    valley_sweeps: int = 2,
) -> list[PolicyRun]:
    """Run the fleet Monte Carlo for every policy on the same random draws.

    Parameters
    ----------
    fleet, sites, cal
        Vehicles, charging sites and days.
    seed
        Seed of the random draws (same seed, same profiles).
    policies
        Names from :data:`gridplan.core.ev_policies.POLICIES`.
    tou
        Time-of-use parameters.
    valley_base_kw
        (n_trafo, n_steps) base load per transformer, kW; required for ``"valley"``.
    coincidence
        Track the coincidence factor per fleet size (random subsets of the vehicles).
    n_active
        Only the first ``n_active`` vehicles drive and charge (hosting capacity); draws are
        made for all.
    keep_profiles
        Keep the (n_sites, n_steps) profile of each policy.
    keep_sessions
        Keep one record per session (for checks on small fleets).
    kernels
        Module with ``queue_fifo``, ``valley_fill``, ``ramp_deposit``, ``step_deposit``
        (default: the compiled ones or their twins).
    progress
        Called with the number of days drawn.
    valley_sweeps
        Refill passes of valley filling after the first fill (0: greedy only). Each lowers the
        sum of squared transformer loads; two come within 0.03 % of the optimal peak in the
        tests and to 1e-6 on a tianjin-ecocity community night (``benchmarks/ev.py``).
    threads
        Threads: one per policy plus the one drawing the next days (the default, up to the
        cores) or 1 (all in the calling thread). The results do not depend on it: each policy
        runs its days in order on the same draws.
    """
    if kernels is None:
        from gridplan.kernels import ev_kernels as kernels
    unknown = [p for p in policies if p not in pol.POLICIES]
    if unknown:
        raise ValueError(f"unknown policies {unknown}; known: {pol.POLICIES}")
    if "valley" in policies and valley_base_kw is None:
        raise ValueError("valley filling needs valley_base_kw (n_trafo, n_steps)")
    tou = tou or pol.TouParams()
    ss = np.random.SeedSequence(seed)
    s_draw, s_cf = ss.spawn(2)
    rng = np.random.default_rng(s_draw)
    n = fleet.n
    active = np.ones(n, dtype=bool) if n_active is None else np.arange(n) < n_active
    span_days = math.ceil((24.0 + fleet.max_stay_h + sites.swap_max_wait_h) / 24.0) + 1
    cf = None
    if coincidence and n_active is None:
        cf = cf_design(active, fleet.p_kw, 0, np.random.default_rng(s_cf), shuffled=fleet.shuffled)
    states = [
        _PolicyState(
            p,
            fleet,
            sites,
            cal,
            active,
            span_days,
            tou=tou,
            valley_load=valley_base_kw if p == "valley" else None,
            cf=None if cf is None else _copy_cf(cf),
            keep_profiles=keep_profiles,
            keep_sessions=keep_sessions,
            kernels=kernels,
            valley_sweeps=valley_sweeps,
        )
        for p in policies
    ]
    dists = fleet.distributions
    dplans = fleet.distance_plans()

    def distances(day: int) -> np.ndarray:
        return dists.draw(dplans[int(cal.weekend[day])], n, rng)

    def day_draws(day: int, dist_today: np.ndarray, dist_next: np.ndarray) -> list[Any]:
        """The day's draws, in a fixed order: (lone vehicles, their km), then per slot."""
        wt = int(cal.weekend[day])
        wt_next = int(cal.weekend[day + 1])
        lone = fleet.no_slot[wt]
        out: list[Any] = [(lone, dist_today[lone])]
        for sl in fleet.slots[wt]:
            veh = sl.vehicles
            m = veh.shape[0]
            arr = dists.draw(sl.arrival, m, rng)
            dwell = dists.draw(sl.dwell, m, rng)
            u_plug = rng.random(m)
            u_delay = rng.random(m)
            seg = dist_today[veh] * sl.share
            nxt = np.where(
                sl.next_share >= 0,
                dist_today[veh] * sl.next_share,
                dist_next[veh] * fleet.first_share[wt_next][veh],
            )
            out.append((veh, arr, dwell, u_plug, u_delay, seg, nxt))
        return out

    def run_day(s: _PolicyState, day: int, draws: list[Any]) -> None:
        lone, km = draws[0]
        if lone.shape[0]:
            s.drive_only(lone, km)
        for veh, arr, dwell, u_plug, u_delay, seg, nxt in draws[1:]:
            s.slot(veh, day, arr, dwell, u_plug, u_delay, seg, nxt)
        s.acc.finish_day()

    if threads is None:
        threads = min(len(states), os.cpu_count() or 1) + 1
    dist_next = distances(0)
    if threads <= 1:
        for day in range(cal.n_days):
            dist_today, dist_next = dist_next, distances(day + 1)
            draws = day_draws(day, dist_today, dist_next)
            for s in states:
                run_day(s, day, draws)
            if progress is not None:
                progress(day + 1)
        return [s.result() for s in states]
    # one thread per policy (the kernels release the GIL) while this one draws the next days
    queues = [queue.Queue(maxsize=4) for _ in states]
    errors: list[BaseException] = []

    def worker(s: _PolicyState, q: queue.Queue) -> None:
        while True:
            item = q.get()
            if item is None:
                return
            if errors:
                continue
            try:
                run_day(s, *item)
            except BaseException as exc:  # re-raised in the caller's thread
                errors.append(exc)

    pool = [
        threading.Thread(target=worker, args=(s, q), daemon=True)
        for s, q in zip(states, queues, strict=True)
    ]
    for t in pool:
        t.start()
    try:
        for day in range(cal.n_days):
            if errors:
                break
            dist_today, dist_next = dist_next, distances(day + 1)
            draws = day_draws(day, dist_today, dist_next)
            for q in queues:
                q.put((day, draws))
            if progress is not None:
                progress(day + 1)
    finally:
        for q in queues:
            q.put(None)
        for t in pool:
            t.join()
    if errors:
        raise errors[0]
    return [s.result() for s in states]


def rectangles_to_profile(
    row: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    p_kw: np.ndarray,
    n_rows: int,
    n_steps: int,
) -> np.ndarray:
    """(n_rows, n_steps) mean power per step of charging rectangles ``[start, end)`` (steps) at
    ``p_kw`` on ``row``; what runs past the horizon wraps to its start (as :func:`simulate`).

    Used to rebuild the profile of any subset of a fleet's sessions when every vehicle's
    sessions are independent of the others (no queue, no valley filling).
    """
    length = max(n_steps, int(np.ceil(end.max(initial=0.0))) + 2) + 1
    a = np.zeros((n_rows, length))
    b = np.zeros_like(a)
    for t, slope in ((start, p_kw), (end, -p_kw)):
        f = np.floor(t).astype(np.int64)
        np.add.at(a, (row, f + 1), slope)
        np.add.at(b, (row, f), slope * (f + 1 - t))
    full = np.cumsum(a, axis=1)
    full += b
    out = full[:, :n_steps].copy()
    k = n_steps
    while k < length:
        m = min(n_steps, length - k)
        out[:, :m] += full[:, k : k + m]
        k += m
    return out


def _copy_cf(cf: CfDesign) -> CfDesign:
    """A CF design with its own running maxima (the subsets are shared)."""
    return CfDesign(
        member=cf.member,
        block_row=cf.block_row,
        small_sizes=cf.small_sizes,
        small_rows=cf.small_rows,
        block_first_row=cf.block_first_row,
        n_blocks=cf.n_blocks,
        block_levels=cf.block_levels,
        rating=cf.rating,
        n_active=cf.n_active,
        total_rating=cf.total_rating,
    )
