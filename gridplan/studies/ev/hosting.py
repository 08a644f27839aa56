"""EV hosting capacity per feeder and per transformer, at a stated percentile over seeds.

For a target (a feeder, or a transformer group and everything it supplies) the candidate
vehicles are the scenario's own fleet there (``[hosting] candidates = "fleet"``) or one
template vehicle mix at every bus with customers (``"customers"``), weighted by customers. A
nested order of up to ``max_count`` vehicles spreads any first ``n`` of them over the buses in
proportion to the weights (Sainte-Lague divisor order), so fleets of every size are prefixes of
one fleet and share its random draws (:func:`gridplan.core.ev_fleet.simulate` with
``n_active``).

For each seed and policy the hosting count is the largest ``n`` with no violation in any step
of the horizon: a line or transformer above ``max_loading_percent``, a bus outside
``[vm_min_pu, vm_max_pu]``, or a power flow that does not converge. A limit already broken
without the EVs counts only where the EVs make it worse (by more than 1e-6 % or 1e-9 pu).
The search is a bisection on ``n`` with AC power flows (the batched Newton of
:mod:`gridplan.core.timeseries_solver`, compiled once): the fleet of ``max_count`` vehicles is
solved for every step; a smaller fleet is solved only on the steps that the larger one
violated (adding charging load cannot clear a violation on a radial feeder), and the count
found is verified on every step; if that verification still finds a violation (possible when a
policy moves charging as the fleet grows, as valley filling does), the search goes on below it.
The count reported per target and policy is the given percentile over the seeds
(``method="lower"``: a count the stated share of seeds reach or exceed), with the limiting
element and hour of the seed that gave it.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.core import ev_fleet as fl
from gridplan.core.ev_policies import POLICIES
from gridplan.core.timeseries_solver import BatchNewton
from gridplan.errors import CaseError
from gridplan.model import profiles as prof
from gridplan.model.branches import branch_loading_of
from gridplan.model.ev_scenario import FleetRow, Scenario, build_arrays
from gridplan.model.timeseries_model import ProfileInjections, TimeSeriesModel
from gridplan.studies.ev import baseload
from gridplan.studies.ev.profile import site_groups
from gridplan.studies.ev.topology import Topology, topology

LOADING_EPS = 1e-6  # %: a pre-existing overload counts when the EVs raise it by more
VM_EPS = 1e-9  # pu


@dataclass(frozen=True)
class Target:
    """A feeder or transformer group and the candidate vehicles there."""

    kind: str  # "feeder" or "trafo"
    name: str
    rows: tuple[FleetRow, ...]  # candidate rows (count = weight at max_count)
    weights: np.ndarray
    customers: float
    max_count: int


@dataclass
class Violation:
    """The worst violation of a fleet size: element, quantity, value, step."""

    element: str  # "trafo 9", "line 12", "bus 25", "power flow"
    quantity: str  # loading_percent, vm_min_pu, vm_max_pu, not_converged
    value: float
    step: int


class GridCheck:
    """AC power flows of the case plus EV loads at chosen steps, compiled once.

    ``check(steps, ev_kw)`` solves the given steps with the EV loads' active power (kW per
    added load, steps x loads) on top of the base profiles and returns the steps with a
    violation and the worst one.
    """

    def __init__(
        self,
        net: pp.pandapowerNet,
        site_keys: list[tuple[int, str]],
        power_factor: dict[str, float],
        tables: dict[tuple[str, str], pd.DataFrame],
        index: pd.DatetimeIndex,
        *,
        max_loading_percent: float,
        vm_min_pu: float,
        vm_max_pu: float,
    ) -> None:
        work = copy.deepcopy(net)
        self.load_of: dict[tuple[int, str], int] = {}
        for bus, ch in site_keys:
            lid = pp.create_load(work, bus, p_mw=0.0, q_mvar=0.0, name=f"EV {ch} at bus {bus}")
            self.load_of[(bus, ch)] = int(lid)
        self.columns = {k: i for i, k in enumerate(site_keys)}
        self.tan = np.array([math.tan(math.acos(power_factor[ch])) for _, ch in site_keys])
        self.limit = max_loading_percent
        model = TimeSeriesModel.compile(work, vm_min_pu=vm_min_pu, vm_max_pu=vm_max_pu)
        self.model = model
        self.solver = BatchNewton(model.ybus, model.pv, model.pq)
        profs = prof.Profiles(index, dict(tables), (index[1] - index[0]).total_seconds() / 3600.0)
        prof.validate(profs, work)
        self.base_sbus = ProfileInjections(model, profs).block(0, len(index))
        ids = np.array([self.load_of[k] for k in site_keys], dtype=np.int64)
        # (sparse maps from the sites' MW / Mvar to the bus injections, pu)
        self.m_p = model.injection_matrix("load", "p_mw", ids) if len(ids) else None
        self.m_q = model.injection_matrix("load", "q_mvar", ids) if len(ids) else None
        self.branches = [b for b in ("line", "trafo") if b in model.branches]
        *_, col_row, col_f, col_t, cols = model.loading_columns(self.branches)
        self.ld_args = (col_row, col_f, col_t)
        self.ld_cols = cols
        self.branch_names = (
            np.concatenate(
                [
                    np.array([f"{b} {i}" for i in model.branches[b]["index"]], dtype=object)
                    for b in self.branches
                ]
            )
            if self.branches
            else np.empty(0, dtype=object)
        )
        on = model.bus_ppci >= 0
        self.bus_on = on
        self.bus_names = np.array([f"bus {b}" for b in model.bus_index[on]], dtype=object)
        vmin, vmax = model.vm_limits
        self.vmin, self.vmax = vmin[on], vmax[on]
        # the case without EVs, every step: pre-existing violations are judged against it
        ld, vm, conv = self._solve(self.base_sbus)
        if not conv.all():
            raise CaseError(
                f"EV hosting: the case's power flow does not converge without EVs at "
                f"{int((~conv).sum())} steps (first {index[int(np.flatnonzero(~conv)[0])]})"
            )
        self.base_ld, self.base_vm = ld, vm

    def _solve(self, sbus: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sol = self.solver.solve(sbus, self.model.v0)
        v = sol.v
        if not sol.converged.all():
            v = v.copy()
            v[~sol.converged] = 0.0
        ld, _loss = branch_loading_of(self.model, v, *self.ld_args)
        vm = sol.vm[:, self.model.bus_ppci[self.bus_on]]
        return ld, vm, sol.converged

    def check(self, steps: np.ndarray, ev_kw: np.ndarray) -> tuple[np.ndarray, Violation | None]:
        """Steps (subset of ``steps``) with a violation, and the worst violation."""
        if steps.size == 0:
            return steps, None
        p = ev_kw / 1000.0
        s = self.base_sbus[steps].copy()
        if self.m_p is not None:
            s += (self.m_p @ p.T).T + (self.m_q @ (p * self.tan[None, :]).T).T
        ld, vm, conv = self._solve(s)
        over = (ld > self.limit) & (ld > self.base_ld[steps] + LOADING_EPS)
        low = (vm < self.vmin[None, :]) & (vm < self.base_vm[steps] - VM_EPS)
        high = (vm > self.vmax[None, :]) & (vm > self.base_vm[steps] + VM_EPS)
        bad = ~conv | over.any(axis=1) | low.any(axis=1) | high.any(axis=1)
        if not bad.any():
            return steps[:0], None
        # worst: non-convergence first, else the largest relative exceedance
        if (~conv).any():
            k = int(np.flatnonzero(~conv)[0])
            return steps[bad], Violation("power flow", "not_converged", math.nan, int(steps[k]))
        cands = []
        if over.any():
            x = np.where(over, (ld - self.limit) / self.limit, -np.inf)
            k, j = np.unravel_index(int(np.argmax(x)), x.shape)
            cands.append(
                (
                    x[k, j],
                    Violation(
                        self.branch_names[j], "loading_percent", float(ld[k, j]), int(steps[k])
                    ),
                )
            )
        if low.any():
            x = np.where(low, (self.vmin[None, :] - vm) / self.vmin[None, :], -np.inf)
            k, j = np.unravel_index(int(np.argmax(x)), x.shape)
            cands.append(
                (x[k, j], Violation(self.bus_names[j], "vm_min_pu", float(vm[k, j]), int(steps[k])))
            )
        if high.any():
            x = np.where(high, (vm - self.vmax[None, :]) / self.vmax[None, :], -np.inf)
            k, j = np.unravel_index(int(np.argmax(x)), x.shape)
            cands.append(
                (x[k, j], Violation(self.bus_names[j], "vm_max_pu", float(vm[k, j]), int(steps[k])))
            )
        return steps[bad], max(cands, key=lambda c: c[0])[1]


def _nested_order(counts: np.ndarray) -> np.ndarray:
    """Row of each vehicle so that every prefix is spread in proportion to ``counts``
    (Sainte-Lague: the k-th vehicle of row r sits at (k + 1/2) / count_r)."""
    keys = (
        np.concatenate([(np.arange(c) + 0.5) / c for c in counts if c > 0])
        if counts.sum()
        else np.empty(0)
    )
    rows = (
        np.concatenate([np.full(c, r) for r, c in enumerate(counts) if c > 0])
        if counts.sum()
        else np.empty(0, dtype=np.int64)
    )
    return rows[np.argsort(keys, kind="stable")].astype(np.int64)


def targets(
    net: pp.pandapowerNet, topo: Topology, sc: Scenario, kinds: Sequence[str] = ("feeder", "trafo")
) -> list[Target]:
    """Hosting targets: feeders and transformer groups that have candidate vehicles."""
    hs = sc.hosting
    cands: list[tuple[FleetRow, float, float]] = []  # row, weight, customers
    if hs.candidates == "customers":
        ld = net.load
        if "customers" not in ld:
            raise CaseError(
                f"{sc.path}: hosting.candidates = 'customers' needs load.customers in the case"
            )
        if hs.customer_kind and "kind" in ld:
            ld = ld[ld["kind"] == hs.customer_kind]
        cust = ld.groupby("bus")["customers"].sum()
        for bus, c in cust.items():
            if c > 0:
                cands.append(
                    (
                        FleetRow(-1, int(bus), hs.vehicle, hs.location, hs.charger, 0, float(c)),
                        float(c),
                        float(c),
                    )
                )
    else:
        for r in sc.rows:
            cands.append((r, float(r.count), r.customers if r.customers == r.customers else 0.0))
    groups: list[tuple[str, str, set[int]]] = []
    if "feeder" in kinds:
        for f in sorted(set(topo.feeder_of_bus.values())):
            groups.append(("feeder", f, {b for b, x in topo.feeder_of_bus.items() if x == f}))
    if "trafo" in kinds:
        for g in range(len(topo.groups)):
            groups.append(("trafo", topo.group_name(g, net), set(topo.downstream[g].tolist())))
    out = []
    for kind, name, buses in groups:
        rows = [(r, w, c) for r, w, c in cands if r.bus in buses and w > 0]
        if not rows:
            continue
        w = np.array([x[1] for x in rows])
        customers = float(sum(x[2] for x in rows))
        if hs.max_count > 0:
            n_max = hs.max_count
        elif customers > 0:
            n_max = math.ceil(hs.max_adoption * customers)
        else:
            n_max = max(10, int(10 * w.sum()))
        if kind == "trafo" and any(
            t.kind == "trafo"
            and set(r.bus for r in t.rows) == {x[0].bus for x in rows}
            and t.max_count == n_max
            for t in out
        ):
            continue  # an upstream transformer with exactly the same candidates adds nothing
        out.append(Target(kind, name, tuple(x[0] for x in rows), w, customers, n_max))
    return out


@dataclass
class HostingResult:
    """Hosting capacity per target and policy (``results``) and per seed (``seeds``)."""

    results: pd.DataFrame
    seeds: pd.DataFrame
    percentile: float
    n_seeds: int
    days: int
    step_min: float
    scenario: Scenario
    limits: dict[str, float]
    elapsed_s: float
    base_note: str


def run_hosting(
    net: pp.pandapowerNet,
    scenario: Scenario,
    *,
    days: int = 7,
    seeds: int = 10,
    seed: int = 0,
    percentile: float = 10.0,
    step_min: float = 15.0,
    policies: Sequence[str] = POLICIES,
    kinds: Sequence[str] = ("feeder", "trafo"),
    only: Sequence[str] | None = None,
    base_profiles: Any = None,
    max_loading_percent: float = 100.0,
    vm_min_pu: float = 0.95,
    vm_max_pu: float = 1.05,
    progress: Callable[[int, int], None] | None = None,
) -> HostingResult:
    """EV hosting capacity of every feeder and transformer group of ``net``.

    Parameters
    ----------
    net, scenario
        The case and a scenario whose ``[hosting]`` table says which vehicles to add.
    days, step_min
        Horizon from the scenario's start date (a planner's peak week, say) and step.
    seeds, seed, percentile
        Monte Carlo seeds ``seed .. seed + seeds - 1``; the reported count is this
        percentile of the per-seed counts (``method="lower"``).
    policies, kinds, only
        Policies; target kinds (``feeder``, ``trafo``); only targets with these names.
    base_profiles
        Measured profiles of the case's loads (as :func:`run_impact`); default: synthetic.
    max_loading_percent, vm_min_pu, vm_max_pu
        The limits whose first violation ends the hosting capacity.
    progress
        Called with (done, total) (target x policy x seed units).
    """
    t0 = time.perf_counter()
    bad = [p for p in policies if p not in POLICIES]
    if bad:
        raise CaseError(f"unknown policy {', '.join(bad)}; known: {', '.join(POLICIES)}")
    if not 0.0 <= percentile <= 100.0:
        raise CaseError(f"percentile must be within 0-100, got {percentile:g}")
    topo = topology(net)
    tg = targets(net, topo, scenario, kinds)
    if only:
        tg = [t for t in tg if t.name in set(only)]
    if not tg:
        raise CaseError(
            f"{scenario.path}: no feeder or transformer of case {net.name} has candidate vehicles "
            "(check [hosting] and the fleet's buses)"
        )
    n_steps = days * round(1440 / step_min)
    index = pd.date_range(
        pd.Timestamp(scenario.start), periods=n_steps, freq=pd.Timedelta(minutes=step_min)
    )
    if base_profiles is not None:
        given = prof.read_profiles(base_profiles, duration_h=step_min / 60.0)
        if given.n_steps != n_steps:
            raise CaseError(
                f"{given.source}: base profiles must have {n_steps} steps, got {given.n_steps}"
            )
        tables = {k: v.set_axis(index, axis=0) for k, v in given.tables.items()}
        note = f"base load from {given.source}"
    else:
        tables = baseload.base_tables(net, index)
        note = baseload.SHAPE_NOTE
    keys = sorted({(r.bus, r.charger) for t in tg for r in t.rows} | set(scenario.sites))
    pf = {c: scenario.chargers[c].power_factor for _, c in keys}
    grid = GridCheck(
        net,
        keys,
        pf,
        tables,
        index,
        max_loading_percent=max_loading_percent,
        vm_min_pu=vm_min_pu,
        vm_max_pu=vm_max_pu,
    )
    all_steps = np.arange(n_steps)
    total = len(tg) * len(policies) * seeds
    done = 0
    seed_rows = []
    for t in tg:
        counts = _allocate(t.weights, t.max_count)
        rows = tuple(
            FleetRow(r.entry, r.bus, r.vehicle, r.location, r.charger, int(c), r.customers)
            for r, c in zip(t.rows, counts, strict=True)
        )
        sc_t = scenario.with_rows(rows)
        order = _nested_order(np.array(counts))
        fa0 = build_arrays(sc_t, days, step_min, vehicle_rows=order)
        site_trafo, names, topo_rows = site_groups(fa0, net, topo)
        fa = build_arrays(sc_t, days, step_min, vehicle_rows=order, site_trafo=site_trafo)
        cols = np.array(
            [grid.columns[k] for k in zip(fa.site_bus.tolist(), fa.site_charger, strict=True)]
        )
        vbase = None
        if "valley" in policies:
            vbase = np.zeros((len(names), n_steps))
            got = baseload.group_base_kw(
                net, tables, [topo.downstream[r] for r in topo_rows if r is not None]
            )
            k = 0
            for i, r in enumerate(topo_rows):
                if r is not None:
                    vbase[i] = got[k]
                    k += 1
        queues = bool(
            (fa.sites.points[np.bincount(fa.fleet.group, minlength=fa.sites.n) > 0] >= 0).any()
        )
        for policy in policies:
            # every vehicle's sessions are the same whatever the fleet size unless valley
            # filling or a queue for points makes them depend on the others: then more vehicles
            # only ever add load, and the count needs no check on every step
            monotone = policy != "valley" and not queues
            for s in range(seeds):
                ev_kw = _FleetRun(
                    fa, seed + s, policy, scenario.tou, vbase, cols, len(grid.columns), monotone
                )
                count, viol = _search(grid, ev_kw, t.max_count, all_steps, verify=not monotone)
                seed_rows.append(
                    {
                        "target_kind": t.kind,
                        "target": t.name,
                        "policy": policy,
                        "seed": seed + s,
                        "hosting_count": count,
                        "limited": viol is not None,
                        "limit_element": viol.element if viol else "",
                        "limit_quantity": viol.quantity if viol else "",
                        "limit_value": viol.value if viol else math.nan,
                        "limit_step": viol.step if viol else -1,
                        "limit_time": index[viol.step] if viol else pd.NaT,
                    }
                )
                done += 1
                if progress is not None:
                    progress(done, total)
    per_seed = pd.DataFrame(seed_rows)
    per_seed.index.name = "row"
    results = _aggregate(per_seed, tg, percentile)
    return HostingResult(
        results=results,
        seeds=per_seed,
        percentile=percentile,
        n_seeds=seeds,
        days=days,
        step_min=step_min,
        scenario=scenario,
        limits={
            "max_loading_percent": max_loading_percent,
            "vm_min_pu": vm_min_pu,
            "vm_max_pu": vm_max_pu,
        },
        elapsed_s=time.perf_counter() - t0,
        base_note=note,
    )


class _FleetRun:
    """EV power per added load and step (kW) of the first ``n`` vehicles of a fleet.

    When every vehicle's sessions are independent of the others (``monotone``: no valley
    filling, no queue), the fleet of ``max_count`` is simulated once and any first ``n`` are
    its sessions of vehicles ``< n`` (the same numbers as simulating ``n``, tested).
    """

    def __init__(
        self,
        fa: Any,
        seed: int,
        policy: str,
        tou: Any,
        valley_base: np.ndarray | None,
        cols: np.ndarray,
        n_loads: int,
        monotone: bool,
    ) -> None:
        self.fa, self.seed, self.policy, self.tou = fa, seed, policy, tou
        self.valley_base, self.cols, self.n_loads = valley_base, cols, n_loads
        self.sessions: dict[str, np.ndarray] | None = None
        if monotone:
            self.sessions = self._simulate(None, keep_sessions=True).sessions

    def _simulate(self, n: int | None, *, keep_sessions: bool = False) -> fl.PolicyRun:
        fa = self.fa
        return fl.simulate(
            fa.fleet,
            fa.sites,
            fa.calendar,
            self.seed,
            policies=(self.policy,),
            tou=self.tou,
            valley_base_kw=self.valley_base,
            coincidence=False,
            n_active=n,
            keep_profiles=not keep_sessions,
            keep_sessions=keep_sessions,
        )[0]

    def site_profiles(self, n: int) -> np.ndarray:
        """(n_sites, n_steps) kW of the first ``n`` vehicles."""
        if self.sessions is None:
            return self._simulate(n).profiles
        s = self.sessions
        m = s["vehicle"] < n
        return fl.rectangles_to_profile(
            s["site"][m],
            s["t_start"][m],
            s["t_end"][m],
            s["p_max_kw"][m],
            self.fa.sites.n,
            self.fa.calendar.n_steps,
        )

    def __call__(self, n: int) -> np.ndarray:
        out = np.zeros((self.fa.calendar.n_steps, self.n_loads))
        np.add.at(out.T, self.cols, self.site_profiles(n))
        return out


def _allocate(weights: np.ndarray, n: int) -> list[int]:
    q = weights / weights.sum() * n
    base = np.floor(q).astype(int)
    order = np.argsort(-(q - base), kind="stable")
    base[order[: n - int(base.sum())]] += 1
    return base.tolist()


def _search(
    grid: GridCheck,
    ev_kw: Callable[[int], np.ndarray],
    n_max: int,
    all_steps: np.ndarray,
    *,
    verify: bool = True,
) -> tuple[int, Violation | None]:
    """Largest fleet size without a violation, and the violation one vehicle more brings.

    With ``verify`` the size found is checked on every step (a policy may move charging as
    the fleet grows); without it, only on the steps the larger fleet violated.
    """
    bad, viol = grid.check(all_steps, ev_kw(n_max)[all_steps])
    if viol is None:
        return n_max, None
    lo, hi, hi_bad, hi_viol = 0, n_max, bad, viol
    while True:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            prof_mid = ev_kw(mid)
            b, v = grid.check(hi_bad, prof_mid[hi_bad])
            if v is not None:
                hi, hi_bad, hi_viol = mid, b, v
            else:
                lo = mid
        if lo == 0 or not verify:
            return lo, hi_viol
        b, v = grid.check(all_steps, ev_kw(lo)[all_steps])
        if v is None:
            return lo, hi_viol
        hi, hi_bad, hi_viol, lo = lo, b, v, 0  # a violation elsewhere: search below


def _aggregate(per_seed: pd.DataFrame, tg: list[Target], q: float) -> pd.DataFrame:
    rows = []
    info = {(t.kind, t.name): t for t in tg}
    for (kind, name, policy), d in per_seed.groupby(
        ["target_kind", "target", "policy"], sort=False
    ):
        t = info[(kind, name)]
        counts = d.hosting_count.to_numpy()
        value = int(np.percentile(counts, q, method="lower"))
        pick = d.iloc[int(np.flatnonzero(counts == value)[0])]
        rows.append(
            {
                "target_kind": kind,
                "target": name,
                "policy": policy,
                "buses": len({r.bus for r in t.rows}),
                "customers": t.customers,
                "max_count": t.max_count,
                "hosting_count": value,
                "hosting_share": value / t.customers if t.customers > 0 else math.nan,
                "mean_count": float(counts.mean()),
                "min_count": int(counts.min()),
                "limited_seeds": int(d.limited.sum()),
                "limit_element": pick.limit_element,
                "limit_quantity": pick.limit_quantity,
                "limit_value": pick.limit_value,
                "limit_time": pick.limit_time,
                "seed": int(pick.seed),
            }
        )
    out = pd.DataFrame(rows)
    out.index.name = "row"
    return out


def write_hosting(writer: Any, result: HostingResult) -> None:
    """Write ``/ev/hosting`` (results per target and policy, and per seed)."""
    sc = result.scenario
    writer.set_attrs(
        "ev/hosting",
        scenario=sc.name,
        scenario_file=str(sc.path),
        candidates=sc.hosting.candidates,
        percentile=float(result.percentile),
        seeds=int(result.n_seeds),
        days=int(result.days),
        step_min=float(result.step_min),
        base_load=result.base_note,
        elapsed_s=float(result.elapsed_s),
        **result.limits,
    )
    writer.write_table("ev/hosting/results", result.results)
    writer.write_table("ev/hosting/seeds", result.seeds)


def key_figures(result: HostingResult) -> dict[str, Any]:
    """Headline numbers for a batch summary row: the smallest hosting count per policy."""
    out: dict[str, Any] = {}
    for p, d in result.results.groupby("policy", sort=False):
        out[f"ev_hosting_min_count_{p}"] = int(d.hosting_count.min())
    return out
