"""Grid impact of EV charging: every policy's profiles through the time-series power flow.

``run_impact(net, scenario, days=365)`` runs the fleet Monte Carlo (:mod:`.profile`), adds one
load per charging site to a copy of the net (the case's own ``ev_*`` loads, its fixed charging
estimate, are set to 0: the scenario replaces them), gives every load, PV unit and storage a
profile (the case's measured profiles if given, else the shapes of :mod:`.baseload`) and runs
one AC power flow per step and policy with :func:`gridplan.studies.timeseries.run`. It reports
transformer and line loading, lowest voltages, hours in violation and losses per policy, and the
loading duration curve of every transformer.
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

from gridplan.core.ev_policies import POLICIES
from gridplan.model import profiles as prof
from gridplan.model.ev_scenario import Scenario
from gridplan.studies import timeseries as ts
from gridplan.studies.ev import baseload
from gridplan.studies.ev.profile import ProfileResult, run_profile

DURATION_POINTS = 101  # loading duration curve sampled at 0, 1, ..., 100 % of the time


@dataclass
class ImpactResult:
    """Grid impact per policy.

    Attributes
    ----------
    profile : ProfileResult
        The charging demand that was run.
    ev_loads : DataFrame
        The load added per site (``site``, ``bus``, ``load``: index in the study's copy).
    summary : DataFrame
        Per policy: EV energy and peak, highest transformer and line loading (and where),
        lowest voltage, hours in violation, energy losses, steps not converged.
    trafo, line, bus : DataFrame
        Per policy and element: highest loading (lowest voltage), its step, hours beyond the
        limit, mean loading.
    duration : dict
        Policy -> (n_trafo, 101) loading (%) exceeded 0, 1, ..., 100 % of the time.
    trafo_index : ndarray
        pandapower trafo index of each row of the duration curves.
    """

    profile: ProfileResult
    ev_loads: pd.DataFrame
    summary: pd.DataFrame
    trafo: pd.DataFrame
    line: pd.DataFrame
    bus: pd.DataFrame
    duration: dict[str, np.ndarray]
    trafo_index: np.ndarray
    limits: dict[str, float]
    elapsed_s: float
    base_note: str

    def ev_trafos(self) -> list[int]:
        """Transformers supplying an EV site, most loaded (first policy) first."""
        picked = sorted({t for ts_ in self.profile.site_trafos for t in ts_})
        first = self.profile.policies[0]
        peak = self.trafo[self.trafo.policy == first].set_index("trafo")["max_loading_percent"]
        return sorted(picked, key=lambda t: -peak.get(t, 0.0))


def add_ev_loads(
    net: pp.pandapowerNet, result: ProfileResult
) -> tuple[pp.pandapowerNet, pd.DataFrame]:
    """A copy of ``net`` with one load per charging site (0 MW; the profiles drive it)."""
    work = copy.deepcopy(net)
    rows = []
    for site, row in result.sites.iterrows():
        lid = pp.create_load(
            work,
            int(row.bus),
            p_mw=0.0,
            q_mvar=0.0,
            name=f"EV {row.charger} at bus {int(row.bus)} (scenario)",
        )
        if "kind" in work.load:
            work.load.at[lid, "kind"] = "ev_scenario"
        rows.append({"site": int(site), "bus": int(row.bus), "load": int(lid)})
    tab = pd.DataFrame(rows).set_index("site") if rows else pd.DataFrame()
    return work, tab


def run_impact(
    net: pp.pandapowerNet,
    scenario: Scenario,
    *,
    days: int = 365,
    seed: int = 0,
    step_min: float = 15.0,
    policies: Sequence[str] = POLICIES,
    base_profiles: Any = None,
    max_loading_percent: float = 100.0,
    vm_min_pu: float = 0.95,
    vm_max_pu: float = 1.05,
    profile: ProfileResult | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ImpactResult:
    """Run every policy's charging profiles through the time-series power flow on ``net``.

    Parameters
    ----------
    net
        The case (not modified).
    scenario
        Scenario whose buses belong to ``net``.
    days, seed, step_min, policies
        As :func:`gridplan.studies.ev.profile.run_profile`.
    base_profiles
        Measured profiles of the case's loads/sgens (anything
        :func:`gridplan.model.profiles.read_profiles` takes, on the same steps); default: the
        synthetic shapes of :mod:`gridplan.studies.ev.baseload`.
    max_loading_percent, vm_min_pu, vm_max_pu
        Limits counted as violations.
    profile
        A charging profile already computed for this net and scenario (skips the Monte Carlo).
    progress
        Called with (policy, steps done).
    """
    t0 = time.perf_counter()
    n_steps = days * round(1440 / step_min)
    index = pd.date_range(
        pd.Timestamp(scenario.start), periods=n_steps, freq=pd.Timedelta(minutes=step_min)
    )
    if base_profiles is not None:
        given = prof.read_profiles(base_profiles, duration_h=step_min / 60.0)
        if given.n_steps != n_steps:
            from gridplan.errors import CaseError

            raise CaseError(
                f"{given.source}: base profiles must have {n_steps} steps "
                f"({days} days of {step_min:g} min), got {given.n_steps}"
            )
        tables = {k: v.set_axis(index, axis=0) for k, v in given.tables.items()}
        note = f"base load from {given.source}"
    else:
        tables = baseload.base_tables(net, index)
        note = baseload.SHAPE_NOTE
    if profile is None:
        profile = run_profile(
            scenario,
            net=net,
            days=days,
            seed=seed,
            step_min=step_min,
            policies=policies,
            base_tables=tables,
        )
    work, ev_loads = add_ev_loads(net, profile)
    pf = {s: profile.scenario.chargers[c].power_factor for s, c in profile.sites.charger.items()}
    tan = np.array([math.tan(math.acos(pf[s])) for s in ev_loads.index])
    load_ids = ev_loads["load"].to_numpy()
    rows_sum, rows_tr, rows_ln, rows_bus = [], [], [], []
    duration: dict[str, np.ndarray] = {}
    trafo_index = work.trafo.index.to_numpy()
    for p in profile.policies:
        ev_p = np.maximum(profile.runs[p].profiles[ev_loads.index.to_numpy()].T, 0.0) / 1000.0
        p_tab = tables.get(("load", "p_mw"), pd.DataFrame(index=index))
        q_tab = tables.get(("load", "q_mvar"), pd.DataFrame(index=index))
        p_all = pd.concat([p_tab, pd.DataFrame(ev_p, index=index, columns=load_ids)], axis=1)
        q_all = pd.concat(
            [q_tab, pd.DataFrame(ev_p * tan[None, :], index=index, columns=load_ids)], axis=1
        )
        frames = dict(tables)
        frames[("load", "p_mw")] = p_all
        frames[("load", "q_mvar")] = q_all
        profs = prof.Profiles(index, frames, step_min / 60.0, f"EV scenario {scenario.name}")

        def step_progress(n: int, _p: str = p) -> None:
            if progress is not None:
                progress(_p, n)

        res = ts.run(
            work,
            profs,
            vm_min_pu=vm_min_pu,
            vm_max_pu=vm_max_pu,
            max_loading_percent=max_loading_percent,
            progress=step_progress,
            case_name=str(net.name),
        )
        rows_sum.append(_summary_row(p, res, profile, max_loading_percent, vm_min_pu))
        rows_tr.append(_branch_rows(p, "trafo", res, work, max_loading_percent))
        rows_ln.append(_branch_rows(p, "line", res, work, max_loading_percent))
        rows_bus.append(_bus_rows(p, res, vm_min_pu, vm_max_pu))
        ld = res.loading_percent.get("trafo")
        if ld is not None and ld.shape[1]:
            q = np.linspace(0.0, 1.0, DURATION_POINTS)
            srt = np.sort(np.nan_to_num(ld.to_numpy(), nan=0.0), axis=0)[::-1]
            pos = np.minimum((q * (srt.shape[0] - 1)).round().astype(int), srt.shape[0] - 1)
            duration[p] = srt[pos].T.copy()
            trafo_index = ld.columns.to_numpy()
    summary = pd.DataFrame(rows_sum).set_index("policy")

    def cat(frames: list[pd.DataFrame]) -> pd.DataFrame:
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        out.index.name = "row"
        return out

    return ImpactResult(
        profile=profile,
        ev_loads=ev_loads,
        summary=summary,
        trafo=cat(rows_tr),
        line=cat(rows_ln),
        bus=cat(rows_bus),
        duration=duration,
        trafo_index=trafo_index,
        limits={
            "max_loading_percent": max_loading_percent,
            "vm_min_pu": vm_min_pu,
            "vm_max_pu": vm_max_pu,
        },
        elapsed_s=time.perf_counter() - t0,
        base_note=note,
    )


def _summary_row(
    policy: str,
    res: ts.TimeSeriesResult,
    profile: ProfileResult,
    limit: float,
    vm_min: float,
) -> dict[str, Any]:
    dt = res.summary["duration_h"]
    ev = profile.runs[policy].profiles
    out: dict[str, Any] = {
        "policy": policy,
        "ev_energy_mwh": float(ev.sum() * profile.dt_h / 1000.0),
        "ev_peak_mw": float(ev.sum(axis=0).max(initial=0.0) / 1000.0),
    }
    for el in ("trafo", "line"):
        ld = res.loading_percent.get(el)
        if ld is None or not ld.shape[1]:
            out[f"{el}_max_loading_percent"] = np.nan
            out[f"{el}_max"] = -1
            out[f"{el}_hours_over_h"] = 0.0
            continue
        a = np.nan_to_num(ld.to_numpy(), nan=0.0)
        k = int(np.argmax(a.max(axis=0)))
        out[f"{el}_max_loading_percent"] = float(a[:, k].max())
        out[f"{el}_max"] = int(ld.columns[k])
        out[f"{el}_hours_over_h"] = float((a > limit).any(axis=1).sum() * dt)
    vm = res.vm_pu.to_numpy()
    out["vm_min_pu"] = float(np.nanmin(vm)) if vm.size else np.nan
    out["bus_vm_min"] = int(res.vm_pu.columns[int(np.nanargmin(np.nanmin(vm, axis=0)))])
    out["hours_below_vm_min_h"] = float(
        (np.nan_to_num(vm, nan=9.0) < vm_min).any(axis=1).sum() * dt
    )
    out["hours_with_violations_h"] = float(res.summary["hours_with_violations"])
    out["energy_loss_mwh"] = float(res.summary["energy_loss_mwh"])
    out["steps_not_converged"] = int(res.summary["n_steps"] - res.summary["n_converged"])
    return out


def _branch_rows(
    policy: str, el: str, res: ts.TimeSeriesResult, net: pp.pandapowerNet, limit: float
) -> pd.DataFrame:
    ld = res.loading_percent.get(el)
    if ld is None or not ld.shape[1]:
        return pd.DataFrame()
    a = np.nan_to_num(ld.to_numpy(), nan=0.0)
    dt = res.summary["duration_h"]
    k = a.argmax(axis=0)
    idx = ld.columns.to_numpy()
    return pd.DataFrame(
        {
            "policy": policy,
            el: idx,
            "name": net[el].name.reindex(idx).fillna("").astype(str).to_numpy(),
            "max_loading_percent": a.max(axis=0),
            "step_max": k,
            "time_max": ld.index.to_numpy()[k],
            "mean_loading_percent": a.mean(axis=0),
            "hours_over_h": (a > limit).sum(axis=0) * dt,
        }
    )


def _bus_rows(policy: str, res: ts.TimeSeriesResult, vm_min: float, vm_max: float) -> pd.DataFrame:
    vm = res.vm_pu.to_numpy()
    dt = res.summary["duration_h"]
    filled_lo = np.nan_to_num(vm, nan=np.inf)
    k = filled_lo.argmin(axis=0)
    return pd.DataFrame(
        {
            "policy": policy,
            "bus": res.vm_pu.columns.to_numpy(),
            "vm_min_pu": filled_lo.min(axis=0),
            "step_min": k,
            "time_min": res.vm_pu.index.to_numpy()[k],
            "vm_max_pu": np.nan_to_num(vm, nan=-np.inf).max(axis=0),
            "hours_below_h": (filled_lo < vm_min).sum(axis=0) * dt,
            "hours_above_h": (np.nan_to_num(vm, nan=-np.inf) > vm_max).sum(axis=0) * dt,
        }
    )


def write_impact(writer: Any, result: ImpactResult) -> None:
    """Write ``/ev/impact`` (summary, per-element tables, loading duration curves)."""
    pr = result.profile
    cal = pr.arrays.calendar
    writer.set_attrs(
        "ev/impact",
        scenario=pr.scenario.name,
        scenario_file=str(pr.scenario.path),
        seed=int(pr.seed),
        days=int(cal.n_days),
        step_min=float(cal.dt_h * 60.0),
        policies=",".join(pr.policies),
        base_load=result.base_note,
        elapsed_s=float(result.elapsed_s),
        **result.limits,
    )
    writer.write_table("ev/impact/summary", result.summary)
    if len(result.ev_loads):
        writer.write_table("ev/impact/ev_loads", result.ev_loads)
    for name in ("trafo", "line", "bus"):
        tab = getattr(result, name)
        if len(tab):
            writer.write_table(f"ev/impact/{name}", tab)
    if result.duration:
        data = np.stack([result.duration[p] for p in pr.policies if p in result.duration])
        writer.write_array(
            "ev/impact/trafo_duration",
            data,
            chunks=None,
            policies=",".join(p for p in pr.policies if p in result.duration),
        )
        writer.write_array(
            "ev/impact/trafo_index", result.trafo_index.astype(np.int64), chunks=None
        )


def key_figures(result: ImpactResult) -> dict[str, Any]:
    """Headline numbers for a batch summary row (``ev_impact_*`` keys)."""
    out: dict[str, Any] = {}
    for p, row in result.summary.iterrows():
        out[f"ev_trafo_max_loading_percent_{p}"] = float(row["trafo_max_loading_percent"])
        out[f"ev_hours_with_violations_h_{p}"] = float(row["hours_with_violations_h"])
    return out
