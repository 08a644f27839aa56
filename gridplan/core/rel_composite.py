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
    gen_sched_mw : (n_gen,), optional
        Scheduled output at peak (the case's dispatch; NaN = take the island's balance), used
        only by the screen: units keep their schedule where available and the remainder is
        spread over the headroom. Without it the screen dispatches pro rata to capacity.
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
    gen_sched_mw: np.ndarray | None = None


class CurtailmentLP:
    """The DC load-curtailment LP of one system, assembled once and re-solved per state."""

    def __init__(self, s: CompositeSystem, base_mva: float = 100.0) -> None:
        self.s = s
        self.base = base_mva
        n, nb, ng = s.n_bus, len(s.br_from), len(s.gen_bus)
        nd = len(s.dc_from)
        self.n, self.nb, self.ng, self.nd = n, nb, ng, nd
        self.dc = sp.csr_matrix(
            (
                np.r_[np.ones(nd), -np.ones(nd)],
                (np.r_[s.dc_from, s.dc_to], np.r_[np.arange(nd), np.arange(nd)]),
            ),
            shape=(n, nd),
        )
        # variable order: g (ng), c (n), theta (n)
        self.cg = sp.csr_matrix((np.ones(ng), (s.gen_bus, np.arange(ng))), shape=(n, ng))
        self.inc = sp.csr_matrix(
            (
                np.r_[np.ones(nb), -np.ones(nb)],
                (np.r_[np.arange(nb), np.arange(nb)], np.r_[s.br_from, s.br_to]),
            ),
            shape=(nb, n),
        )
        # cost: curtailment, with a tiny bus-dependent weight so the optimum is unique
        self.cost = np.r_[np.zeros(ng), 1.0 + 1e-6 * np.arange(n), np.zeros(n), np.zeros(nd)]

    def solve(
        self,
        gen_up: np.ndarray,
        br_up: np.ndarray,
        load_mw: np.ndarray,
        dc_up: np.ndarray | None = None,
    ) -> tuple[np.ndarray, int]:
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
            a_ub = sp.vstack([sp.hstack([z, rows, zd]), sp.hstack([z, -rows, zd])], format="csr")
            b_ub = np.r_[rating[lim], rating[lim]]
        bounds = np.empty((self.ng + 2 * self.n + self.nd, 2))
        dmax = s.dc_max_mw if dc_up is None else np.where(dc_up, s.dc_max_mw, 0.0)
        bounds[self.ng + 2 * self.n :, 0] = -dmax
        bounds[self.ng + 2 * self.n :, 1] = dmax
        bounds[: self.ng, 0] = 0.0
        bounds[: self.ng, 1] = np.where(gen_up, s.gen_capacity_mw, 0.0)
        bounds[self.ng : self.ng + self.n, 0] = 0.0
        bounds[self.ng : self.ng + self.n, 1] = load_mw
        bounds[self.ng + self.n : self.ng + 2 * self.n, 0] = -np.inf
        bounds[self.ng + self.n : self.ng + 2 * self.n, 1] = np.inf
        bounds[self.ng + self.n, :] = 0.0  # angle reference
        res = linprog(
            self.cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs"
        )
        if res.status != 0:
            return load_mw.copy(), int(res.status)
        c = np.maximum(res.x[self.ng : self.ng + self.n], 0.0)
        c[c < 1e-7] = 0.0
        return c, 0


def _ptdf_all_up(s: CompositeSystem) -> tuple[np.ndarray, np.ndarray] | None:
    """Branch flows per bus injection (MW/MW) with every branch in service, one slack per AC
    island (its first bus), and the island of every bus. None if a reduced island matrix is
    singular (the screen is then skipped)."""
    from scipy.sparse.csgraph import connected_components

    n, nb = s.n_bus, len(s.br_from)
    adj = sp.csr_matrix((np.ones(nb), (s.br_from, s.br_to)), shape=(n, n))
    _, island = connected_components(adj, directed=False)
    inc = np.zeros((nb, n))
    inc[np.arange(nb), s.br_from] = 1.0
    inc[np.arange(nb), s.br_to] = -1.0
    bf = s.br_b_pu[:, None] * inc
    bbus = inc.T @ bf
    theta = np.zeros((n, n))
    for k in np.unique(island):
        buses = np.flatnonzero(island == k)[1:]  # the first bus is the island's slack
        if len(buses) == 0:
            continue
        red = bbus[np.ix_(buses, buses)]
        if np.linalg.matrix_rank(red) < len(buses):
            return None
        theta[np.ix_(buses, buses)] = np.linalg.inv(red)
    return bf @ theta, island


def _schedule_at_peak(s: CompositeSystem, island: np.ndarray) -> np.ndarray:
    """Scheduled unit outputs at peak load for the screen (see ``gen_sched_mw``)."""
    if s.gen_sched_mw is None:
        return np.zeros(len(s.gen_bus))  # all output comes from the headroom: pro rata
    sched = np.array(s.gen_sched_mw, dtype=float)
    free = np.isnan(sched)
    sched[free] = 0.0
    if free.any():
        n_isl = int(island.max()) + 1
        inj = -s.load_mw.copy()
        np.add.at(inj, s.dc_from, -s.dc_sched_mw)
        np.add.at(inj, s.dc_to, s.dc_sched_mw)
        need = np.zeros(n_isl)
        np.add.at(need, island, -inj)
        have = np.zeros(n_isl)
        np.add.at(have, island[s.gen_bus], sched)
        n_free = np.zeros(n_isl)
        np.add.at(n_free, island[s.gen_bus][free], 1.0)
        gi = island[s.gen_bus][free]
        sched[free] = np.maximum(need[gi] - have[gi], 0.0) / n_free[gi]
    return np.minimum(np.maximum(sched, 0.0), s.gen_capacity_mw)


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
    screen = _ptdf_all_up(s)
    ptdf, island = screen if screen is not None else (None, None)
    rating = s.br_rating_mw
    # flow change on every branch per MW moved from the from- to the to-bus of each branch
    transfer = (ptdf[:, s.br_from] - ptdf[:, s.br_to]) if ptdf is not None else None
    n_isl = int(island.max()) + 1 if island is not None else 0
    gen_sched = _schedule_at_peak(s, island) if island is not None else None
    while n < max_samples:
        m = min(batch, max_samples - n)
        gu = rng.random((m, len(s.gen_bus))) >= s.gen_unavailability
        bu = rng.random((m, len(s.br_from))) >= s.br_unavailability
        du = rng.random((m, len(s.dc_from))) >= s.dc_unavailability
        lv = levels[rng.integers(0, len(levels), size=m)]
        # screen: dispatch the available units of every AC island pro rata to its load (net
        # of scheduled DC transfers); if that fits every rating of the intact network, or of
        # the network with up to MAX_SCREEN_OUTAGES branches out (flows by outage transfer
        # factors), the optimum curtails nothing and no LP is needed
        avail = gu * s.gen_capacity_mw
        n_out = (~bu).sum(axis=1)
        screened = n_out <= MAX_SCREEN_OUTAGES
        if ptdf is not None and screened.any():
            inj = -(lv * level_quantum)[:, None] * s.load_mw[None, :]
            if len(s.dc_from):
                dc_s = du * s.dc_sched_mw
                np.add.at(inj.T, s.dc_from, -dc_s.T)
                np.add.at(inj.T, s.dc_to, dc_s.T)
            need = np.zeros((m, n_isl))
            np.add.at(need.T, island, -inj.T)
            av_isl = np.zeros((m, n_isl))
            np.add.at(av_isl.T, island[s.gen_bus], avail.T)
            screened &= np.all((need >= -1e-9) & (av_isl >= need - 1e-9), axis=1)
            gi = island[s.gen_bus]
            # units keep their schedule (within what is available); the island's shortfall
            # goes to the headroom pro rata, a surplus scales the schedules down
            g0 = np.minimum(gen_sched * (lv * level_quantum)[:, None], avail)
            base = np.zeros((m, n_isl))
            np.add.at(base.T, gi, g0.T)
            head = avail - g0
            room = np.zeros((m, n_isl))
            np.add.at(room.T, gi, head.T)
            short = need - base
            up = np.divide(np.maximum(short, 0), room, out=np.zeros_like(short), where=room > 0)
            down = np.divide(need, base, out=np.ones_like(need), where=base > 0)
            g = np.where(
                short[:, gi] >= 0, g0 + head * up[:, gi], g0 * np.minimum(down, 1.0)[:, gi]
            )
            np.add.at(inj.T, s.gen_bus, g.T)
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
                    if (
                        not np.all(np.isfinite(t))
                        or np.abs(np.linalg.det(np.eye(len(out)) - h_kk)) < 1e-9
                    ):
                        screened[i] = False
                        continue
                    f = f + transfer[:, out] @ t
                    f[out] = 0.0
                screened[i] = bool(np.all(np.abs(f) <= rating + 1e-6))
        else:
            screened[:] = False
        for i in np.flatnonzero(~screened):
            load = s.load_mw * (lv[i] * level_quantum)
            key = (
                np.packbits(gu[i]).tobytes()
                + np.packbits(bu[i]).tobytes()
                + np.packbits(du[i]).tobytes()
                + int(lv[i]).to_bytes(8, "little", signed=True)
            )
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
        samples=n,
        lp_solved=solved,
        lp_failed=failed,
        lole_h_per_year=p * hours_per_year,
        eens_mwh_per_year=mean * hours_per_year,
        eens_cov=se / mean if mean > 0 else math.inf,
        eens_ci95_mwh_per_year=((mean - z * se) * hours_per_year, (mean + z * se) * hours_per_year),
        lole_ci95_h_per_year=((p - z * se_p) * hours_per_year, (p + z * se_p) * hours_per_year),
        bus_lole_h_per_year=bus_lol / n * hours_per_year,
        bus_eens_mwh_per_year=bus_c / n * hours_per_year,
        seconds=time.perf_counter() - t0,
    )
