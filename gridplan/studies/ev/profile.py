"""EV charging demand profiles by Monte Carlo: per site (bus x charger class) and policy.

``run_profile(scenario, days=..., seed=...)`` draws the fleet's trips and charging sessions
day by day (:mod:`gridplan.core.ev_fleet`) and returns, for every charging policy on the same
draws: the mean power per step and site, the fleet's daily curve with its percentile band
over the days, the coincidence factor and after-diversity maximum demand as a function of the
number of vehicles, per-site statistics (queues, waits) and per-vehicle energy balances.

Valley filling needs each site's transformer and its base load: with a case, the transformer
group supplying the site's bus (:mod:`gridplan.studies.ev.topology`) and the base load of
everything it supplies (:mod:`gridplan.studies.ev.baseload`); without one, each bus is its own
group with no base load (the EVs' own load is flattened).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.core import ev_fleet as fl
from gridplan.core.ev_policies import POLICIES
from gridplan.errors import CaseError
from gridplan.model.ev_scenario import FleetArrays, Scenario, build_arrays
from gridplan.studies.ev import baseload
from gridplan.studies.ev.topology import Topology, topology

VEHICLE_COLUMNS = (
    "distance_km",
    "driven_km",
    "driven_kwh",
    "unserved_km",
    "charged_kwh",
    "missed_kwh",
    "shortfall_kwh",
    "sessions",
    "soc_min_kwh",
    "soc_max_kwh",
)


@dataclass
class ProfileResult:
    """Charging demand of a scenario under each policy.

    Attributes
    ----------
    scenario : Scenario
    arrays : FleetArrays
        The Monte Carlo inputs (vehicles, sites, calendar).
    index : DatetimeIndex
        Start of every step.
    runs : dict
        Policy -> :class:`gridplan.core.ev_fleet.PolicyRun` (raw arrays).
    sites : DataFrame
        Per site: ``bus``, ``charger``, ``kind``, ``points`` (-1: one per vehicle),
        ``rating_kw`` (per point), ``vehicles``, ``trafo_group``, ``feeder``.
    summary : DataFrame
        Per policy: fleet energy, peak, ADMD, coincidence factor, shortfalls.
    site_stats : DataFrame
        Per policy and site: peak, energy per day, sessions, unserved sessions, waits.
    cf : DataFrame
        Per policy and fleet size: coincidence factor (mean, min, max over disjoint random
        subsets) and ADMD, kW per vehicle.
    band : DataFrame
        Per policy and step of the day: the fleet's mean, 5/50/95th percentile and maximum
        over the days, kW.
    classes : DataFrame
        Per vehicle class: sampled mean daily distance against the scenario's.
    seed, elapsed_s, base_note
    """

    scenario: Scenario
    arrays: FleetArrays
    index: pd.DatetimeIndex
    runs: dict[str, fl.PolicyRun]
    sites: pd.DataFrame
    summary: pd.DataFrame
    site_stats: pd.DataFrame
    cf: pd.DataFrame
    band: pd.DataFrame
    classes: pd.DataFrame
    seed: int
    elapsed_s: float
    base_note: str = ""
    group_names: list[str] = field(default_factory=list)
    site_trafos: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def policies(self) -> list[str]:
        """Policies run, in order."""
        return list(self.runs)

    @property
    def dt_h(self) -> float:
        """Step length, h."""
        return self.arrays.calendar.dt_h

    def profile(self, policy: str) -> pd.DataFrame:
        """Mean charging power per step (rows) and site (columns, site index), kW."""
        p = self.runs[policy].profiles
        if p is None:
            raise ValueError("profiles were not kept (keep_profiles=False)")
        return pd.DataFrame(p.T, index=self.index, columns=self.sites.index, copy=False)

    def vehicles(self, policy: str) -> pd.DataFrame:
        """Per-vehicle totals over the horizon (km, kWh; charged is grid side)."""
        v = self.runs[policy].vehicles
        fa = self.arrays
        rows = fa.vehicle_row
        sc = self.scenario
        df = pd.DataFrame(
            {
                "vehicle_class": np.array([sc.rows[r].vehicle for r in range(len(sc.rows))])[rows]
                if len(rows)
                else np.array([], dtype=object),
                "location": np.array([sc.rows[r].location for r in range(len(sc.rows))])[rows]
                if len(rows)
                else np.array([], dtype=object),
                "site": fa.fleet.group,
                "bus": fa.site_bus[fa.fleet.group] if len(rows) else np.array([], dtype=np.int64),
                "battery_kwh": fa.fleet.battery_kwh,
                "efficiency": fa.fleet.efficiency,
                "rating_kw": fa.fleet.p_kw,
            }
        )
        df.index.name = "vehicle"
        for c in VEHICLE_COLUMNS:
            df[c] = v["deficit_end_kwh"] if c == "shortfall_kwh" else v[c]
        return df


def site_groups(
    fa: FleetArrays, net: pp.pandapowerNet | None, topo: Topology | None
) -> tuple[dict[tuple[int, str], int], list[str], list[int | None]]:
    """Transformer group of every site: with a case its supplying transformers, else one group
    per bus. Returns (site -> group row, group names, group row in ``topo`` or None)."""
    keys = list(zip(fa.site_bus.tolist(), fa.site_charger, strict=True))
    out: dict[tuple[int, str], int] = {}
    names: list[str] = []
    topo_rows: list[int | None] = []
    pos: dict[Any, int] = {}
    for bus, ch in keys:
        tg = topo.group_of_bus.get(bus) if topo is not None else None
        key = ("trafo", tg) if tg is not None else ("bus", bus)
        if key not in pos:
            pos[key] = len(names)
            names.append(topo.group_name(tg, net) if tg is not None else f"bus {bus}")
            topo_rows.append(tg)
        out[(bus, ch)] = pos[key]
    return out, names, topo_rows


def run_profile(
    scenario: Scenario,
    *,
    net: pp.pandapowerNet | None = None,
    days: int = 7,
    seed: int = 0,
    step_min: float = 15.0,
    policies: Sequence[str] = POLICIES,
    base_tables: dict[tuple[str, str], pd.DataFrame] | None = None,
    coincidence: bool = True,
    keep_profiles: bool = True,
    keep_sessions: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ProfileResult:
    """Charging demand of ``scenario`` per site and policy by Monte Carlo.

    Parameters
    ----------
    scenario
        A checked scenario (:func:`gridplan.model.ev_scenario.read_scenario`).
    net
        The case the scenario's buses belong to (valley filling per transformer against its
        base load); optional.
    days, seed, step_min
        Horizon (days from the scenario's start date), random seed, step length (min).
    policies
        Subset of ``uncontrolled``, ``tou``, ``balanced``, ``valley``.
    base_tables
        Base load and PV profiles of the case's elements (MW) on the steps; default: the
        synthetic shapes of :mod:`gridplan.studies.ev.baseload`.
    coincidence
        Compute the coincidence factor per fleet size.
    keep_profiles, keep_sessions
        Keep the per-step site profiles; keep per-session records (small fleets only).
    progress
        Called with the number of days done.
    """
    t0 = time.perf_counter()
    bad = [p for p in policies if p not in POLICIES]
    if bad:
        raise CaseError(f"unknown policy {', '.join(bad)}; known: {', '.join(POLICIES)}")
    if not policies:
        raise CaseError("give at least one policy")
    fa0 = build_arrays(scenario, days, step_min)
    cal = fa0.calendar
    index = pd.date_range(
        pd.Timestamp(scenario.start), periods=cal.n_steps, freq=pd.Timedelta(minutes=step_min)
    )
    topo = topology(net) if net is not None else None
    site_trafo, names, topo_rows = site_groups(fa0, net, topo)
    fa = build_arrays(scenario, days, step_min, site_trafo=site_trafo)
    base_note = "not used (no valley filling)"
    valley_base = None
    if "valley" in policies:
        valley_base = np.zeros((len(names), cal.n_steps))
        base_note = "no case: each bus is its own group with no base load"
        if net is not None and topo is not None:
            tables = base_tables if base_tables is not None else baseload.base_tables(net, index)
            base_note = "base load given" if base_tables is not None else baseload.SHAPE_NOTE
            rows = [r for r in topo_rows if r is not None]
            got = baseload.group_base_kw(net, tables, [topo.downstream[r] for r in rows])
            k = 0
            for i, r in enumerate(topo_rows):
                if r is not None:
                    valley_base[i] = got[k]
                    k += 1
    runs = fl.simulate(
        fa.fleet,
        fa.sites,
        cal,
        seed,
        policies=tuple(policies),
        tou=scenario.tou,
        valley_base_kw=valley_base,
        coincidence=coincidence,
        keep_profiles=keep_profiles,
        keep_sessions=keep_sessions,
        progress=progress,
    )
    by_policy = {r.policy: r for r in runs}
    feeders = topo.feeder_of_bus if topo is not None else {}
    n_veh = np.bincount(fa.fleet.group, minlength=fa.sites.n)
    sites = pd.DataFrame(
        {
            "bus": fa.site_bus,
            "charger": fa.site_charger,
            "kind": [scenario.chargers[c].kind for c in fa.site_charger],
            "points": fa.sites.points,
            "rating_kw": fa.sites.p_kw,
            "vehicles": n_veh,
            "trafo_group": [names[t] for t in fa.sites.trafo],
            "feeder": [feeders.get(int(b), "") for b in fa.site_bus],
        }
    )
    sites.index.name = "site"
    result = ProfileResult(
        scenario=scenario,
        arrays=fa,
        index=index,
        runs=by_policy,
        sites=sites,
        summary=_summary(by_policy, fa),
        site_stats=_site_stats(by_policy, fa),
        cf=_cf(by_policy),
        band=_band(by_policy, cal),
        classes=_classes(by_policy, fa, scenario),
        seed=seed,
        elapsed_s=0.0,
        base_note=base_note,
        group_names=names,
        site_trafos=[
            topo.groups[topo_rows[t]] if topo is not None and topo_rows[t] is not None else ()
            for t in fa.sites.trafo
        ],
    )
    result.elapsed_s = time.perf_counter() - t0
    return result


def _summary(runs: dict[str, fl.PolicyRun], fa: FleetArrays) -> pd.DataFrame:
    cal = fa.calendar
    rows = []
    n = fa.fleet.n
    for p, r in runs.items():
        tot = r.daily_total.reshape(-1)
        k = int(np.argmax(tot)) if tot.size else 0
        v = r.vehicles
        rating = float(fa.fleet.p_kw.sum())
        rows.append(
            {
                "policy": p,
                "vehicles": n,
                "energy_kwh_per_day": float(tot.sum() * cal.dt_h / cal.n_days),
                "peak_kw": float(tot.max(initial=0.0)),
                "peak_step": k,
                "admd_kw": float(tot.max(initial=0.0) / n) if n else np.nan,
                "coincidence_factor": float(tot.max(initial=0.0) / rating) if rating else np.nan,
                "charged_kwh": float(v["charged_kwh"].sum()),
                "driven_kwh": float(v["driven_kwh"].sum()),
                "missed_kwh": float(v["missed_kwh"].sum()),
                "shortfall_kwh": float(v["deficit_end_kwh"].sum()),
                "unserved_km": float(v["unserved_km"].sum()),
                "sessions": int(v["sessions"].sum()),
                "unserved_sessions": int(r.sites["unserved_sessions"].sum()),
            }
        )
    return pd.DataFrame(rows).set_index("policy")


def _site_stats(runs: dict[str, fl.PolicyRun], fa: FleetArrays) -> pd.DataFrame:
    cal = fa.calendar
    frames = []
    for p, r in runs.items():
        s = r.sites
        peak = r.profiles.max(axis=1) if r.profiles is not None else np.full(fa.sites.n, np.nan)
        served = s["sessions"] - s["unserved_sessions"]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_wait = np.where(served > 0, s["wait_h"] / served, 0.0)
        frames.append(
            pd.DataFrame(
                {
                    "policy": p,
                    "site": np.arange(fa.sites.n),
                    "peak_kw": peak,
                    "energy_kwh_per_day": s["energy_kwh"] / cal.n_days,
                    "sessions_per_day": s["sessions"] / cal.n_days,
                    "unserved_sessions": s["unserved_sessions"].astype(np.int64),
                    "mean_wait_h": mean_wait,
                    "max_wait_h": s["max_wait_h"],
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out.index.name = "row"
    return out


def _cf(runs: dict[str, fl.PolicyRun]) -> pd.DataFrame:
    frames = []
    for p, r in runs.items():
        if r.cf is None:
            continue
        frames.append(pd.DataFrame({"policy": p, **r.cf}))
    if not frames:
        return pd.DataFrame(
            columns=["policy", "n_vehicles", "replicas", "cf_mean", "cf_min", "cf_max", "admd_kw"]
        )
    out = pd.concat(frames, ignore_index=True)
    out.index.name = "row"
    return out


def _band(runs: dict[str, fl.PolicyRun], cal: fl.Calendar) -> pd.DataFrame:
    frames = []
    hours = np.arange(cal.steps_per_day) * cal.dt_h
    for p, r in runs.items():
        d = r.daily_total
        frames.append(
            pd.DataFrame(
                {
                    "policy": p,
                    "hour": hours,
                    "mean_kw": d.mean(axis=0),
                    "p05_kw": np.percentile(d, 5, axis=0),
                    "p50_kw": np.percentile(d, 50, axis=0),
                    "p95_kw": np.percentile(d, 95, axis=0),
                    "max_kw": d.max(axis=0),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out.index.name = "row"
    return out


def _classes(runs: dict[str, fl.PolicyRun], fa: FleetArrays, sc: Scenario) -> pd.DataFrame:
    """Sampled mean daily distance per class against the scenario's (weekday/weekend mix)."""
    r = next(iter(runs.values()))
    cal = fa.calendar
    n_we = int(cal.weekend[: cal.n_days].sum())
    n_wd = cal.n_days - n_we
    cls = np.array([sc.rows[i].vehicle for i in range(len(sc.rows))], dtype=object)
    vcls = cls[fa.vehicle_row] if fa.fleet.n else np.array([], dtype=object)
    rows = []
    for name in dict.fromkeys(vcls.tolist()):
        m = vcls == name
        vc = sc.vehicles[name]
        expected = (n_wd * vc.distance.mean + n_we * vc.weekend_distance.mean) / cal.n_days
        rows.append(
            {
                "vehicle_class": name,
                "vehicles": int(m.sum()),
                "distance_km_per_day": float(
                    r.vehicles["distance_km"][m].sum() / m.sum() / cal.n_days
                ),
                "scenario_km_per_day": float(expected),
                "driven_km_per_day": float(r.vehicles["driven_km"][m].sum() / m.sum() / cal.n_days),
            }
        )
    return pd.DataFrame(rows).set_index("vehicle_class") if rows else pd.DataFrame()


def write_profile(
    writer: Any, result: ProfileResult, *, profiles: bool = True, vehicles: bool = True
) -> None:
    """Write ``/ev/profile`` (tables, per-vehicle balances and the per-step site profiles)."""
    sc = result.scenario
    cal = result.arrays.calendar
    writer.set_attrs(
        "ev/profile",
        scenario=sc.name,
        scenario_file=str(sc.path),
        seed=int(result.seed),
        days=int(cal.n_days),
        step_min=float(cal.dt_h * 60.0),
        start=sc.start.isoformat(),
        vehicles=int(result.arrays.fleet.n),
        policies=",".join(result.policies),
        base_load=result.base_note,
        elapsed_s=float(result.elapsed_s),
    )
    writer.write_table("ev/profile/summary", result.summary)
    writer.write_table("ev/profile/sites", result.sites)
    writer.write_table("ev/profile/site_stats", result.site_stats)
    if len(result.cf):
        writer.write_table("ev/profile/cf", result.cf)
    writer.write_table("ev/profile/band", result.band)
    if len(result.classes):
        writer.write_table("ev/profile/classes", result.classes)
    if vehicles:
        frames = []
        for p in result.policies:
            v = result.vehicles(p).reset_index()
            v.insert(0, "policy", p)
            frames.append(v)
        tab = pd.concat(frames, ignore_index=True)
        tab.index.name = "row"
        writer.write_table("ev/profile/vehicles", tab)
    if profiles and all(r.profiles is not None for r in result.runs.values()):
        data = np.stack([r.profiles.T.astype(np.float32) for r in result.runs.values()])
        writer.write_array(
            "ev/profile/p_kw",
            data,
            chunks=(1, min(data.shape[1], 4096), max(1, min(data.shape[2], 256))),
            policies=",".join(result.policies),
            start=result.index[0].isoformat() if len(result.index) else "",
            step_min=float(cal.dt_h * 60.0),
        )


def key_figures(result: ProfileResult) -> dict[str, Any]:
    """Headline numbers for a batch summary row (``ev_*`` keys)."""
    out: dict[str, Any] = {"ev_vehicles": int(result.arrays.fleet.n)}
    for p, row in result.summary.iterrows():
        out[f"ev_peak_kw_{p}"] = float(row["peak_kw"])
        out[f"ev_admd_kw_{p}"] = float(row["admd_kw"])
    first = result.summary.iloc[0]
    out["ev_energy_kwh_per_day"] = float(first["energy_kwh_per_day"])
    out["ev_missed_kwh"] = float(result.summary["missed_kwh"].max())
    return out
