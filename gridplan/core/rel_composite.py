"""Composite (generation + transmission, HL-II) adequacy by non-sequential Monte Carlo.

Numpy/scipy only. Each sampled state draws every generating unit and branch up or down from its
unavailability and one hour of the load series; the load curtailment of the state is the
optimum of a DC optimal load-curtailment linear program solved with scipy's HiGHS::

    min  sum_b c_b                      (MW of curtailed load; tiny bus weights break ties)
    s.t. B theta = Cg g - (L - c)      (DC power balance at every bus)
         -F <= b_k (theta_f - theta_t) <= F   (branch ratings)
         0 <= g <= available capacity,  0 <= c <= L

Identical states (same outages and load level) are solved once (a cache), which is what makes
the sampling fast on systems where most states have few outages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

MAX_SCREEN_OUTAGES = 3  # branch outages up to which states are screened without an LP


@dataclass(frozen=True)
class CompositeSystem:
    """DC network with outage data.

    Attributes
    ----------
    n_bus : int
    br_from, br_to : int64 (n_br,)
    br_b_pu : float64 (n_br,)     series susceptance 1/x, pu on the common base
    br_rating_mw : float64 (n_br,)  (``inf`` = unlimited)
    br_unavailability : float64 (n_br,)
    gen_bus : int64 (n_gen,)
    gen_capacity_mw : float64 (n_gen,)
    gen_unavailability : float64 (n_gen,)
    load_mw : float64 (n_bus,)    bus loads at the annual peak, MW
    dc_from, dc_to, dc_max_mw, dc_unavailability, dc_sched_mw : (n_dc,)
        Lossless controllable DC links (HVDC): transfer from -> to within +/- max MW; the
        scheduled transfer is used only by the no-curtailment screen.
    """

    n_bus: int
    br_from: np.ndarray
    br_to: np.ndarray
    br_b_pu: np.ndarray
    br_rating_mw: np.ndarray
    br_unavailability: np.ndarray
    gen_bus: np.ndarray
    gen_capacity_mw: np.ndarray
    gen_unavailability: np.ndarray
    load_mw: np.ndarray
    dc_from: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    dc_to: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    dc_max_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dc_unavailability: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dc_sched_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))


class CurtailmentLP:
    """The DC load-curtailment LP of one system, assembled once and re-solved per state."""

    def __init__(self, s: CompositeSystem, base_mva: float = 100.0) -> None:
        self.s = s
        self.base = base_mva
        n, nb, ng = s.n_bus, len(s.br_from), len(s.gen_bus)
        nd = len(s.dc_from)
        self.n, self.nb, self.ng, self.nd = n, nb, ng, nd
        self.dc = sp.csr_matrix((np.r_[np.ones(nd), -np.ones(nd)],
                                 (np.r_[s.dc_from, s.dc_to], np.r_[np.arange(nd), np.arange(nd)])),
                                shape=(n, nd))
        # variable order: g (ng), c (n), theta (n)
        self.cg = sp.csr_matrix((np.ones(ng), (s.gen_bus, np.arange(ng))), shape=(n, ng))
        self.inc = sp.csr_matrix(
            (np.r_[np.ones(nb), -np.ones(nb)], (np.r_[np.arange(nb), np.arange(nb)],
                                                 np.r_[s.br_from, s.br_to])), shape=(nb, n))
        # cost: curtailment, with a tiny bus-dependent weight so the optimum is unique
        self.cost = np.r_[np.zeros(ng), 1.0 + 1e-6 * np.arange(n), np.zeros(n), np.zeros(nd)]

    def solve(self, gen_up: np.ndarray, br_up: np.ndarray, load_mw: np.ndarray,
              dc_up: np.ndarray | None = None) -> tuple[np.ndarray, int]:
        """Curtailment per bus (MW) and HiGHS status (0 = optimal) for one state."""
        s = self.s
        b = np.where(br_up, s.br_b_pu, 0.0) * self.base  # MW per rad
        bf = sp.diags(b) @ self.inc  # branch flow = bf @ theta
        bbus = self.inc.T @ bf
        a_eq = sp.hstack([-self.cg, -sp.eye(self.n), bbus, self.dc], format="csr")
        b_eq = -load_mw
        rating = np.where(br_up, s.br_rating_mw, np.inf)
        lim = np.isfinite(rating) & br_up
        a_ub = None
        b_ub = None
        if lim.any():
            rows = bf[lim]
            z = sp.csr_matrix((rows.shape[0], self.ng + self.n))
            zd = sp.csr_matrix((rows.shape[0], self.nd))
            a_ub = sp.vstack([sp.hstack([z, rows, zd]), sp.hstack([z, -rows, zd])],
                             format="csr")
            b_ub = np.r_[rating[lim], rating[lim]]
        bounds = np.empty((self.ng + 2 * self.n + self.nd, 2))
        dmax = s.dc_max_mw if dc_up is None else np.where(dc_up, s.dc_max_mw, 0.0)
        bounds[self.ng + 2 * self.n:, 0] = -dmax
        bounds[self.ng + 2 * self.n:, 1] = dmax
        bounds[: self.ng, 0] = 0.0
        bounds[: self.ng, 1] = np.where(gen_up, s.gen_capacity_mw, 0.0)
        bounds[self.ng: self.ng + self.n, 0] = 0.0
        bounds[self.ng: self.ng + self.n, 1] = load_mw
        bounds[self.ng + self.n: self.ng + 2 * self.n, 0] = -np.inf
        bounds[self.ng + self.n: self.ng + 2 * self.n, 1] = np.inf
        bounds[self.ng + self.n, :] = 0.0  # angle reference
        res = linprog(self.cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds,
                      method="highs")
        if res.status != 0:
            return load_mw.copy(), int(res.status)
        c = np.maximum(res.x[self.ng: self.ng + self.n], 0.0)
        c[c < 1e-7] = 0.0
        return c, 0


def _ptdf_all_up(s: CompositeSystem) -> np.ndarray | None:
    """Branch flows per bus injection (MW/MW, slack = bus 0) with every branch in service;
    None when that network is not connected (the screen is then skipped)."""
    n = s.n_bus
    if n == 1:
        return np.zeros((len(s.br_from), 1))
    inc = np.zeros((len(s.br_from), n))
    inc[np.arange(len(s.br_from)), s.br_from] = 1.0
    inc[np.arange(len(s.br_from)), s.br_to] = -1.0
    bf = s.br_b_pu[:, None] * inc
    bbus = inc.T @ bf
    red = bbus[1:, 1:]
    if np.linalg.matrix_rank(red) < n - 1:
        return None
    theta = np.zeros((n, n))
    theta[1:, 1:] = np.linalg.inv(red)
    return bf @ theta


@dataclass
class CompositeResult:
    """Monte Carlo estimates (per year) with their spread."""

    samples: int
    lp_solved: int
    lp_failed: int
    lole_h_per_year: float
    eens_mwh_per_year: float
    eens_cov: float
    eens_ci95_mwh_per_year: tuple[float, float]
    lole_ci95_h_per_year: tuple[float, float]
    bus_lole_h_per_year: np.ndarray
    bus_eens_mwh_per_year: np.ndarray
    seconds: float


def sample_composite(
    s: CompositeSystem,
    load_pu: np.ndarray,
    rng: np.random.Generator,
    *,
    target_cov: float = 0.05,
    min_samples: int = 2000,
    max_samples: int = 200000,
    batch: int = 1000,
    hours_per_year: float = 8760.0,
    level_quantum: float = 0.005,
    progress=None,
) -> CompositeResult:
    """Sample states until the EENS coefficient of variation reaches ``target_cov``.

    Parameters
    ----------
    s : CompositeSystem
    load_pu : ndarray (T,)
        Load series in per unit of the peak (hour sampled uniformly); quantised to
        ``level_quantum`` so identical states can share one LP.
    target_cov : float
        Stop when std(EENS estimate)/EENS <= target (after ``min_samples``).
    max_samples : int
        Hard cap on samples.
    hours_per_year : float
        Hours represented by the series (8760, or 8736 for RTS-style years).
    progress : callable(int), optional
        Called with the number of new samples after each batch.
    """
    import time

    t0 = time.perf_counter()
    lp = CurtailmentLP(s)
    levels = np.round(np.asarray(load_pu, dtype=float) / level_quantum).astype(np.int64)
    cache: dict[bytes, np.ndarray] = {}
    n = 0
    solved = failed = 0
    sum_c = 0.0
    sum_c2 = 0.0
    n_lol = 0
    bus_c = np.zeros(s.n_bus)
    bus_lol = np.zeros(s.n_bus)
    ptdf = _ptdf_all_up(s)
    rating = s.br_rating_mw
    # flow change on every branch per MW moved from the from- to the to-bus of each branch
    transfer = (ptdf[:, s.br_from] - ptdf[:, s.br_to]) if ptdf is not None else None
    while n < max_samples:
        m = min(batch, max_samples - n)
        gu = rng.random((m, len(s.gen_bus))) >= s.gen_unavailability
        bu = rng.random((m, len(s.br_from))) >= s.br_unavailability
        du = rng.random((m, len(s.dc_from))) >= s.dc_unavailability
        lv = levels[rng.integers(0, len(levels), size=m)]
        # screen: dispatch the available units pro rata; if that covers the load within every
        # rating of the intact network, or of the network with up to MAX_SCREEN_OUTAGES branches
        # out (flows by outage transfer factors), the optimum curtails nothing (no LP needed)
        avail = gu * s.gen_capacity_mw
        tot_av = avail.sum(axis=1)
        tot_load = lv * level_quantum * s.load_mw.sum()
        n_out = (~bu).sum(axis=1)
        screened = (tot_av >= tot_load) & (n_out <= MAX_SCREEN_OUTAGES)
        if ptdf is not None and screened.any():
            scale = np.divide(tot_load, tot_av, out=np.zeros(m), where=tot_av > 0)
            inj = np.zeros((m, s.n_bus))
            np.add.at(inj.T, s.gen_bus, (avail * scale[:, None]).T)
            inj -= (lv * level_quantum)[:, None] * s.load_mw[None, :]
            if len(s.dc_from):
                sched = du * s.dc_sched_mw
                np.add.at(inj.T, s.dc_from, -sched.T)
                np.add.at(inj.T, s.dc_to, sched.T)
            flows = inj @ ptdf.T
            for i in np.flatnonzero(screened):
                f = flows[i]
                if n_out[i]:
                    out = np.flatnonzero(~bu[i])
                    h_kk = transfer[np.ix_(out, out)]
                    try:
                        t = np.linalg.solve(np.eye(len(out)) - h_kk, f[out])
                    except np.linalg.LinAlgError:  # the outage splits the network
                        screened[i] = False
                        continue
                    if not np.all(np.isfinite(t)) or np.abs(np.linalg.det(
                            np.eye(len(out)) - h_kk)) < 1e-9:
                        screened[i] = False
                        continue
                    f = f + transfer[:, out] @ t
                    f[out] = 0.0
                screened[i] = bool(np.all(np.abs(f) <= rating + 1e-6))
        else:
            screened[:] = False
        for i in np.flatnonzero(~screened):
            load = s.load_mw * (lv[i] * level_quantum)
            key = (np.packbits(gu[i]).tobytes() + np.packbits(bu[i]).tobytes()
                   + np.packbits(du[i]).tobytes()
                   + int(lv[i]).to_bytes(8, "little", signed=True))
            c = cache.get(key)
            if c is None:
                c, status = lp.solve(gu[i], bu[i], load, du[i])
                solved += 1
                failed += status != 0
                cache[key] = c
            tot = float(c.sum())
            if tot > 1e-6:
                sum_c += tot
                sum_c2 += tot * tot
                n_lol += 1
                bus_c += c
                bus_lol += c > 1e-6
        n += m
        if progress is not None:
            progress(m)
        if n >= min_samples and sum_c > 0:
            mean = sum_c / n
            var = max(sum_c2 / n - mean * mean, 0.0)
            if math.sqrt(var / n) / mean <= target_cov:
                break
    mean = sum_c / n
    var = max(sum_c2 / n - mean * mean, 0.0)
    se = math.sqrt(var / n)
    p = n_lol / n
    se_p = math.sqrt(p * (1 - p) / n)
    z = 1.959963984540054
    return CompositeResult(
        samples=n, lp_solved=solved, lp_failed=failed,
        lole_h_per_year=p * hours_per_year, eens_mwh_per_year=mean * hours_per_year,
        eens_cov=se / mean if mean > 0 else math.inf,
        eens_ci95_mwh_per_year=((mean - z * se) * hours_per_year, (mean + z * se) * hours_per_year),
        lole_ci95_h_per_year=((p - z * se_p) * hours_per_year, (p + z * se_p) * hours_per_year),
        bus_lole_h_per_year=bus_lol / n * hours_per_year,
        bus_eens_mwh_per_year=bus_c / n * hours_per_year,
        seconds=time.perf_counter() - t0,
    )
