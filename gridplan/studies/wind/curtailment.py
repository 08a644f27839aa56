"""Curtailment over a year: hourly least-curtailment DC dispatch, then an AC check.

1. Farm output on offer per hour (:mod:`gridplan.studies.wind.power`); farms are the net's
   ``sgen`` elements they name, or new sgens at their ``bus``.
2. Reference dispatch per hour, without network limits: loads from the profiles (or the case,
   optionally shaped by the IEEE RTS-79 hourly load), every farm at its offer, and the
   imbalance against the case taken up by the dispatchable generators of each synchronous
   area pro rata to their room (``balance="gens"``; up to ``max_p_mw``, down to
   ``min_p_mw``; the slack takes what exceeds their room) or by the slack alone
   (``balance="slack"``).
3. DC branch flows of the reference for all hours at once (one LU of the DC susceptance
   matrix). Hours in which no branch (and with ``n1`` no branch after any single outage)
   exceeds its limit need no LP: nothing is curtailed. The others get the least-curtailment
   LP of :mod:`gridplan.core.curtailment` (HiGHS), with constraint generation.
4. The dispatched year (farm output after curtailment, generator redispatch, loads) is run
   through the time-series engine in AC (:func:`gridplan.timeseries.run`); every hour with an
   AC loading above the limit or a voltage outside its band is reported (the DC dispatch
   does not see voltages, reactive flows or losses).

Limits are ``max_loading_percent`` of each line's and transformer's rating, in MW at rated
voltage (the DC model); a branch already above its limit without any wind keeps that flow
(or post-outage flow) as its limit, so the wind is only held to what it causes.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.core.curtailment import DispatchModel
from gridplan.core.hosting import DcSensitivity
from gridplan.core.rel_loadshapes import rts79_hourly_pu
from gridplan.core.violation_rule import reported_violations
from gridplan.errors import CaseError
from gridplan.model import profiles as prof
from gridplan.model.contingency_model import compile_contingency_model
from gridplan.model.contingency_outages import DEFAULT_ELEMENTS, default_outages, engine_outages
from gridplan.model.wind import Farm
from gridplan.studies.wind.hosting import BALANCES, dispatchable
from gridplan.studies.wind.power import WindPowerResult, compute_power, load_inputs

LOAD_SHAPES = ("case", "rts79")


@dataclass
class YearResult:
    """Curtailment year.

    Attributes
    ----------
    farms : DataFrame
        Per farm (index ``farm``): ``bus``, ``installed_mw``, ``available_mwh``,
        ``produced_mwh``, ``curtailed_mwh``, ``curtailed_percent``, ``curtailed_hours_h``.
    steps : DataFrame
        Per step (index ``step``): ``time``, ``available_mw``, ``produced_mw``,
        ``curtailed_mw``, ``redispatch_mw`` (sum of |changes|), ``lp`` (an LP was solved),
        ``binding`` (rows at their limit), ``ac_violation``, ``ac_max_loading_percent``,
        ``ac_vm_min_pu``, ``ac_vm_max_pu``.
    binding : DataFrame
        Per (element, outage) that bound: ``element``, ``outage`` (empty: base case),
        ``hours_h``, ``curtailed_mwh`` (curtailment in those hours).
    ac_violations : DataFrame
        Per element with an AC violation the DC dispatch missed: ``element``, ``quantity``,
        ``hours_h``, ``worst`` (percent or pu), ``worst_step``.
    curtailed_mw : ndarray (steps, farms)
    generator_mw : DataFrame
        Output of the dispatchable generators per step (columns: pandapower gen index), MW.
    summary : dict
    """

    farms: pd.DataFrame
    steps: pd.DataFrame
    binding: pd.DataFrame
    ac_violations: pd.DataFrame
    curtailed_mw: np.ndarray
    generator_mw: pd.DataFrame
    summary: dict[str, Any]
    wind: WindPowerResult | None = None
    timings_s: dict[str, float] = field(default_factory=dict)


def _farm_buses(net: pp.pandapowerNet, farms: list[Farm], where: str, case: str) -> list[int]:
    out, problems = [], []
    for f in farms:
        if f.sgen >= 0:
            if f.sgen not in net.sgen.index:
                problems.append(f"farm {f.name!r}: sgen {f.sgen} does not exist in {case}")
                out.append(-1)
                continue
            out.append(int(net.sgen.at[f.sgen, "bus"]))
        elif f.bus >= 0:
            if f.bus not in net.bus.index:
                problems.append(f"farm {f.name!r}: bus {f.bus} does not exist in {case}")
            out.append(int(f.bus))
        else:
            problems.append(f"farm {f.name!r}: give its bus (or sgen)")
            out.append(-1)
    if problems:
        raise CaseError(f"{where}: " + "; ".join(problems))
    return out


def _hourly_loads(
    net: pp.pandapowerNet, index: pd.Index, profiles: prof.Profiles | None, load_shape: str
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Load p_mw and q_mvar per step (steps x in-service loads); q None: the case's values."""
    ld = net.load[net.load.in_service.astype(bool)]
    scaling = ld.scaling.to_numpy(dtype=float) if "scaling" in ld else np.ones(len(ld))
    base = ld.p_mw.to_numpy(dtype=float) * scaling
    base_q = ld.q_mvar.to_numpy(dtype=float) * scaling
    tile = np.tile(base, (len(index), 1))
    if profiles is not None and ("load", "p_mw") in profiles.tables:
        t = profiles.tables[("load", "p_mw")]
        out = pd.DataFrame(tile, index=index, columns=ld.index)
        cols = [c for c in t.columns if c in out.columns]
        out[cols] = t[cols].to_numpy()
        return out, None
    if load_shape == "rts79":
        h, _ = rts79_hourly_pu()
        shape = np.resize(h, len(index))[:, None]  # 8736 h repeated to the series' length
        return (
            pd.DataFrame(shape * base[None, :], index=index, columns=ld.index),
            pd.DataFrame(shape * base_q[None, :], index=index, columns=ld.index),
        )
    return pd.DataFrame(tile, index=index, columns=ld.index), None


def year(
    net: pp.pandapowerNet,
    farms: Any = None,
    wind: Any = None,
    *,
    synthetic: bool = False,
    scenario: str | None = None,
    seed: int = 0,
    profiles: Any = None,
    load_shape: str = "case",
    n1: bool = False,
    elements: tuple[str, ...] = DEFAULT_ELEMENTS,
    balance: str = "auto",
    min_stable_percent: float | Mapping[str, float] | None = None,
    max_loading_percent: float = 100.0,
    vm_min_pu: float = 0.95,
    vm_max_pu: float = 1.05,
    ac_check: bool = True,
    case_name: str = "",
    progress: Callable[[int], None] | None = None,
) -> YearResult:
    """Hourly curtailment of wind farms over a year on ``net`` (see the module docstring).

    Parameters
    ----------
    net : pandapowerNet
        The case (not modified).
    farms, wind, synthetic, scenario, seed
        Farms and wind (:func:`gridplan.studies.wind.power.power`); every farm needs a
        ``bus`` or an ``sgen``.
    profiles : optional
        Load (and other element) profiles as :func:`gridplan.timeseries.run` takes them; their
        steps must match the wind's.
    load_shape : {"case", "rts79"}
        Without load profiles: the case's loads every hour, or scaled by the IEEE RTS-79
        hourly shape (per unit of the annual peak).
    n1 : bool
        Also keep every branch within its limit after every single outage of ``elements``
        (post-outage limits by constraint generation).
    balance : {"auto", "slack", "gens"}
        Who takes up the imbalance in the reference dispatch and redispatches in the LP.
    min_stable_percent : float or dict, optional
        Minimum stable output of dispatchable units, percent of ``max_p_mw`` (per fuel with a
        dict, e.g. ``{"coal": 50}``); see :func:`gridplan.studies.wind.hosting.dispatchable`.
    max_loading_percent : float
        Branch limit, percent of the rating.
    vm_min_pu, vm_max_pu : float
        AC check: voltage band for buses without ``min_vm_pu`` / ``max_vm_pu``.
    ac_check : bool
        Run the dispatched year through the AC time-series engine.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    where = case_name or str(getattr(net, "name", "")) or "net"
    if balance not in BALANCES:
        raise CaseError(f"--balance must be one of {', '.join(BALANCES)}, got {balance!r} instead")
    if load_shape not in LOAD_SHAPES:
        raise CaseError(f"--load-shape must be one of {', '.join(LOAD_SHAPES)}, got {load_shape!r}")
    farm_list, ws = load_inputs(farms, wind, synthetic=synthetic, scenario=scenario, seed=seed)
    wp = compute_power(farm_list, ws, density_correction=ws.temperature_k is not None)
    avail = wp.p_mw.to_numpy()  # (T, F)
    T, F = avail.shape
    if scenario is not None and farms is None:
        farm_src = str(scenario)
    elif isinstance(farms, str | os.PathLike):
        farm_src = str(farms)
    else:
        farm_src = "farms"
    buses = _farm_buses(net, farm_list, farm_src, where)
    prof_obj = None
    if profiles is not None:
        prof_obj = prof.read_profiles(profiles, duration_h=ws.duration_h)
        prof.validate(prof_obj, net)
        if prof_obj.n_steps != T:
            raise CaseError(
                f"{prof_obj.source}: {prof_obj.n_steps} steps, but the wind has {T}; "
                "they must cover the same steps"
            )

    # --- the case with the farms as sgens ---------------------------------------------------
    work = copy.deepcopy(net)
    farm_sgen = []
    for f, b in zip(farm_list, buses, strict=True):
        if f.sgen >= 0:
            farm_sgen.append(f.sgen)
        else:
            farm_sgen.append(
                int(pp.create_sgen(work, b, p_mw=0.0, q_mvar=0.0, name=f"wind {f.name}", type="WP"))
            )
    case_w = work.sgen.loc[farm_sgen, "p_mw"].to_numpy(dtype=float) * (
        work.sgen.loc[farm_sgen, "scaling"].to_numpy(dtype=float) if "scaling" in work.sgen else 1.0
    )
    model = compile_contingency_model(work)
    disp = dispatchable(work, model, min_stable_percent)
    if balance == "auto":
        balance = "gens" if disp.rows.size else "slack"
    timings["compile_s"] = time.perf_counter() - t0

    # --- reference dispatch and its DC flows --------------------------------------------------
    t1 = time.perf_counter()
    n = model.n_bus
    area = model.areas()
    farm_rows = model.pp_bus_rows(np.array(buses))
    loads, loads_q = _hourly_loads(work, ws.index, prof_obj, load_shape)
    ld_df = work.load.loc[loads.columns]
    ld_rows = model.pp_bus_rows(ld_df.bus.to_numpy())
    base_ld = ld_df.p_mw.to_numpy(dtype=float) * (
        ld_df.scaling.to_numpy(dtype=float) if "scaling" in ld_df else 1.0
    )
    d_load = loads.to_numpy() - base_ld[None, :]  # (T, L)
    d_wind = avail - case_w[None, :]
    use = (
        np.ones(disp.rows.size, dtype=bool) if balance == "gens" else np.zeros(disp.rows.size, bool)
    )
    g_idx, g_buses = disp.index[use], disp.buses[use]
    g_case, g_min, pmax = disp.p_mw[use], disp.min_mw[use], disp.max_mw[use]
    g_stable = disp.stable[use]
    g_up, g_down = np.maximum(pmax - g_case, 0.0), np.maximum(g_case - g_min, 0.0)

    def follow(dw: np.ndarray) -> np.ndarray:
        """Units following load and wind changes ``dw`` (T, F) against the case, within
        ``min_p_mw`` .. ``max_p_mw``, pro rata to their room (T, G)."""
        out = np.tile(g_case, (T, 1))
        for a in np.unique(area[g_buses]):
            gi = area[g_buses] == a
            need = d_load[:, area[ld_rows] == a].sum(axis=1) - dw[:, area[farm_rows] == a].sum(
                axis=1
            )
            up, down = g_up[gi].sum(), g_down[gi].sum()
            if up > 0:
                out[:, gi] += (np.clip(need, 0.0, up) / up)[:, None] * g_up[gi][None, :]
            if down > 0:
                out[:, gi] -= (np.clip(-need, 0.0, down) / down)[:, None] * g_down[gi][None, :]
        return out

    # without the wind the units follow the load; the wind then displaces them pro rata to
    # their room down to the floor of a committed unit (min_stable_percent), the slack (the
    # rest of the grid) taking what exceeds it
    g_nw = follow(np.tile(-case_w, (T, 1)))
    g_floor = (
        np.minimum(np.maximum(g_min[None, :], g_stable[None, :] * g_nw), g_nw)
        if g_buses.size
        else np.zeros((T, 0))
    )
    g_ref = g_nw.copy()
    room_w = g_nw - g_floor
    for a in np.unique(area[g_buses]):
        gi = area[g_buses] == a
        w_a = avail[:, area[farm_rows] == a].sum(axis=1)
        tot = room_w[:, gi].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(tot > 0, np.minimum(w_a, tot) / tot, 0.0)
        g_ref[:, gi] -= frac[:, None] * room_w[:, gi]

    dc = DcSensitivity(n, model.f, model.t, model.dc_b, model.ref)
    # transfer factors of the buses whose injection changes (loads, farms, generators): the
    # year's flows are then one matrix product per quantity
    cols, inv = np.unique(np.r_[ld_rows, farm_rows, g_buses], return_inverse=True)
    unit = np.zeros((n, cols.size))
    unit[cols, np.arange(cols.size)] = 1.0
    ptdf = dc.flows(unit)  # (n_br, m)
    c_ld, c_farm, c_gen = np.split(inv, [ld_rows.size, ld_rows.size + farm_rows.size])
    p_farm = ptdf[:, c_farm]
    p_gen = ptdf[:, c_gen] if g_buses.size else np.zeros((model.n_branch, 0))
    f_load = ptdf[:, c_ld] @ (-d_load.T)  # (n_br, T)

    # DC flows of the case itself from its injections (slack balancing)
    p_case = model.sbus.real * model.base_mva
    f_case = dc.flows(p_case[:, None])[:, 0]
    f_ref = f_case[:, None] + f_load + p_farm @ d_wind.T  # (n_br, T)
    f_nw = f_case[:, None] + f_load - (p_farm @ case_w)[:, None]
    if g_buses.size:
        f_ref += p_gen @ (g_ref - g_case[None, :]).T
        f_nw += p_gen @ (g_nw - g_case[None, :]).T
    rating = model.rating_mva * max_loading_percent / 100.0
    monitored = model.branch_in_service & np.isfinite(rating) & (model.dc_b != 0)
    lim = np.where(monitored, rating, np.inf)
    e0 = np.maximum(lim[:, None], np.abs(f_nw))  # (n_br, T): the wind may not worsen these
    lodf = None
    out_branch = np.zeros(0, np.int64)
    out_names: list[str] = []
    if n1:
        specs = default_outages(work, elements)
        eng, _why = engine_outages(model, specs, model.bridge_tree())
        keep = [
            j
            for j, o in enumerate(eng)
            if o is not None and o.branches.size == 1 and o.gens.size == 0 and o.dead.size == 0
        ]
        out_branch = np.array([eng[j].branches[0] for j in keep], dtype=np.int64)  # type: ignore[union-attr]
        out_names = [specs[j][0] for j in keep]
        lodf, bridge = dc.lodf_columns(out_branch)
        out_branch, lodf = out_branch[~bridge], lodf[:, ~bridge]
        out_names = [nm for nm, b in zip(out_names, bridge, strict=True) if not b]
    timings["reference_s"] = time.perf_counter() - t1

    # --- hours that need an LP ---------------------------------------------------------------
    t2 = time.perf_counter()
    over0 = (monitored[:, None] & (np.abs(f_ref) > e0 + 1e-6)).any(axis=0)
    need = over0.copy()
    if n1 and lodf is not None and lodf.shape[1]:
        # pairs (branch, outage) that cannot exceed their limit in any hour are left out
        fmax = np.abs(f_ref).max(axis=1)
        bound = fmax[:, None] + np.abs(lodf) * fmax[out_branch][None, :]
        pair = monitored[:, None] & (bound > lim[:, None])
        pair[out_branch, np.arange(out_branch.size)] = False
        pb, pk = np.nonzero(pair)
        if pb.size:
            for s in range(0, T, 256):
                sl = slice(s, min(T, s + 256))
                post = f_ref[pb, sl] + lodf[pb, pk][:, None] * f_ref[out_branch[pk], sl]
                post_nw = f_nw[pb, sl] + lodf[pb, pk][:, None] * f_nw[out_branch[pk], sl]
                lim_p = np.maximum(lim[pb][:, None], np.abs(post_nw))
                need[sl] |= (np.abs(post) > lim_p + 1e-6).any(axis=0)
    timings["screen_s"] = time.perf_counter() - t2

    # --- LPs -------------------------------------------------------------------------------------
    t3 = time.perf_counter()
    dm = DispatchModel(p_farm, p_gen, monitored, lodf, out_branch)
    curtail = np.zeros((T, F))
    redisp = np.zeros((T, g_buses.size))
    n_binding = np.zeros(T, dtype=np.int64)
    bind_hours: dict[tuple[int, int], list[int]] = {}
    seed_rows: list[tuple[int, int]] = []
    failed = 0
    hours = np.flatnonzero(need)
    for i, t in enumerate(hours):
        e1 = None
        if lodf is not None:
            post_nw = dm.post_flows(f_nw[:, t])
            e1 = np.maximum(lim[:, None], np.abs(post_nw))
        res = dm.solve(
            f_ref[:, t],
            avail[t],
            pmax - g_ref[t],
            g_ref[t] - g_floor[t],
            e0[:, t],
            e1,
            seed=seed_rows,
        )
        if res.status != "optimal":
            failed += 1
            continue
        curtail[t] = res.curtail_mw
        redisp[t] = res.redispatch_mw
        n_binding[t] = len(res.binding)
        for r in res.binding:
            bind_hours.setdefault(r, []).append(int(t))
        seed_rows = res.binding
        if progress is not None and i % 100 == 0:
            progress(i)
    timings["lp_s"] = time.perf_counter() - t3

    produced = avail - curtail
    el_name = {}
    for j, (k, idx) in enumerate(zip(model.mon_kind, model.mon_index, strict=True)):
        for c in range(3):
            b = model.mon_branch[j, c]
            if b >= 0:
                el_name[int(b)] = f"{k} {idx}"
    tot_curt = curtail.sum(axis=1)
    binding_rows = []
    for (b, k), hs in sorted(bind_hours.items(), key=lambda kv: -len(kv[1])):
        binding_rows.append(
            {
                "element": el_name.get(b, f"branch {b}"),
                "outage": "" if k < 0 else out_names[k],
                "hours_h": len(hs) * ws.duration_h,
                "curtailed_mwh": float(tot_curt[hs].sum() * ws.duration_h),
            }
        )
    binding_df = pd.DataFrame(
        binding_rows, columns=["element", "outage", "hours_h", "curtailed_mwh"]
    ).rename_axis("row")

    n_ac_total = 0
    # --- AC check ---------------------------------------------------------------------------------
    t4 = time.perf_counter()
    steps = pd.DataFrame(
        {
            "time": ws.index,
            "available_mw": avail.sum(axis=1),
            "produced_mw": produced.sum(axis=1),
            "curtailed_mw": tot_curt,
            "redispatch_mw": np.abs(redisp).sum(axis=1) if redisp.shape[1] else np.zeros(T),
            "lp": need,
            "binding": n_binding,
        },
        index=pd.RangeIndex(T, name="step"),
    )
    ac_viol = pd.DataFrame(columns=["element", "quantity", "hours_h", "worst", "worst_step"])
    if ac_check:
        from gridplan.studies.timeseries import run as run_ts

        def ts_run(farm_mw: np.ndarray, gens_mw: np.ndarray):  # type: ignore[no-untyped-def]
            tables = {("sgen", "p_mw"): pd.DataFrame(farm_mw, index=ws.index, columns=farm_sgen)}
            tables[("load", "p_mw")] = loads
            if loads_q is not None:
                tables[("load", "q_mvar")] = loads_q
            if g_idx.size:
                tables[("gen", "p_mw")] = pd.DataFrame(gens_mw, index=ws.index, columns=g_idx)
            if prof_obj is not None:
                for key, tbl in prof_obj.tables.items():
                    if key not in tables:
                        tables[key] = tbl.set_axis(ws.index, axis=0)
            p = prof.Profiles(ws.index, tables, ws.duration_h, "curtailment dispatch")
            return run_ts(
                work,
                p,
                vm_min_pu=vm_min_pu,
                vm_max_pu=vm_max_pu,
                max_loading_percent=max_loading_percent,
            )

        # the dispatched year, and the same year without the wind (its reference dispatch):
        # an AC violation is reported when the wind makes it new or worse (the DC dispatch held
        # DC flows to that rule; voltages, reactive flows and losses it does not see)
        ts = ts_run(produced, g_ref + redisp)
        ts0 = ts_run(np.zeros_like(produced), g_nw)
        st = ts.steps
        steps["ac_converged"] = st["converged"].to_numpy()
        steps["ac_max_loading_percent"] = st["max_loading_percent"].to_numpy()
        steps["ac_vm_min_pu"] = st["vm_min_pu"].to_numpy()
        steps["ac_vm_max_pu"] = st["vm_max_pu"].to_numpy()
        any_step = np.zeros(T, dtype=bool)
        rows = []
        for kind, frame in ts.loading_percent.items():
            arr = frame.to_numpy()
            v = reported_violations(
                ts0.loading_percent[kind].to_numpy(),
                arr,
                max_loading_percent,
                np.ones(1),
                np.ones(1),
                0.0,
                np.inf,
            )
            any_step |= v.loading.any(axis=1)
            for j in np.flatnonzero(v.loading.any(axis=0)):
                w = int(np.flatnonzero(v.loading[:, j])[np.nanargmax(arr[v.loading[:, j], j])])
                rows.append(
                    {
                        "element": f"{kind} {frame.columns[j]}",
                        "quantity": "loading_percent",
                        "hours_h": float(v.loading[:, j].sum() * ws.duration_h),
                        "worst": float(arr[w, j]),
                        "worst_step": w,
                    }
                )
        vm, vm0 = ts.vm_pu, ts0.vm_pu
        if vm is not None and vm0 is not None and vm.shape[1]:
            lo = (
                work.bus.min_vm_pu.reindex(vm.columns).fillna(vm_min_pu).to_numpy()
                if "min_vm_pu" in work.bus
                else vm_min_pu
            )
            hi = (
                work.bus.max_vm_pu.reindex(vm.columns).fillna(vm_max_pu).to_numpy()
                if "max_vm_pu" in work.bus
                else vm_max_pu
            )
            arr = vm.to_numpy()
            v = reported_violations(np.zeros(1), np.zeros(1), np.inf, vm0.to_numpy(), arr, lo, hi)
            for mask, qty, pick in (
                (v.vm_high, "vm_max_pu", np.argmax),
                (v.vm_low, "vm_min_pu", np.argmin),
            ):
                any_step |= mask.any(axis=1)
                for j in np.flatnonzero(mask.any(axis=0)):
                    hrs = np.flatnonzero(mask[:, j])
                    w = int(hrs[pick(arr[hrs, j])])
                    rows.append(
                        {
                            "element": f"bus {vm.columns[j]}",
                            "quantity": qty,
                            "hours_h": float(hrs.size * ws.duration_h),
                            "worst": float(arr[w, j]),
                            "worst_step": w,
                        }
                    )
        ac_viol = pd.DataFrame(
            rows, columns=["element", "quantity", "hours_h", "worst", "worst_step"]
        )
        ac_viol = ac_viol.sort_values("hours_h", ascending=False, kind="stable").reset_index(
            drop=True
        )
        steps["ac_violation"] = any_step
        n_ac_total = int(st["violation"].sum())
    ac_viol = ac_viol.rename_axis("row")
    timings["ac_s"] = time.perf_counter() - t4

    dur = ws.duration_h
    inst = np.array([f.installed_mw for f in farm_list])
    a_e = avail.sum(axis=0) * dur
    c_e = curtail.sum(axis=0) * dur
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(a_e > 0, 100.0 * c_e / a_e, 0.0)
    farms_df = pd.DataFrame(
        {
            "bus": buses,
            "installed_mw": inst,
            "available_mwh": a_e,
            "produced_mwh": a_e - c_e,
            "curtailed_mwh": c_e,
            "curtailed_percent": pct,
            "curtailed_hours_h": (curtail > 1e-6).sum(axis=0) * dur,
        },
        index=pd.Index([f.name for f in farm_list], name="farm"),
    )
    total_a = float(a_e.sum())
    total_c = float(c_e.sum())
    summary = {
        "n_steps": T,
        "duration_h": dur,
        "balance": balance,
        "n1": bool(n1),
        "n_outages": int(out_branch.size),
        "energy_available_mwh": total_a,
        "energy_produced_mwh": total_a - total_c,
        "energy_curtailed_mwh": total_c,
        "curtailed_percent": 100.0 * total_c / total_a if total_a > 0 else 0.0,
        "hours_with_curtailment_h": float((tot_curt > 1e-6).sum() * dur),
        "congested_hours_h": float((n_binding > 0).sum() * dur),
        "lp_hours_h": float(need.sum() * dur),
        "share_without_lp": float(1.0 - need.mean()) if T else 1.0,
        "lp_failed": failed,
        "ac_violation_hours_h": float(steps["ac_violation"].sum() * dur)
        if "ac_violation" in steps
        else math.nan,
        "ac_any_violation_hours_h": n_ac_total * dur if ac_check else math.nan,
        "elapsed_s": time.perf_counter() - t0,
    }
    timings["total_s"] = summary["elapsed_s"]
    return YearResult(
        farms=farms_df,
        steps=steps,
        binding=binding_df,
        ac_violations=ac_viol,
        curtailed_mw=curtail,
        generator_mw=pd.DataFrame(
            g_ref + redisp, index=ws.index, columns=pd.Index(g_idx, name="gen")
        ),
        summary=summary,
        wind=wp,
        timings_s=timings,
    )


def parse_min_stable(text: str) -> float | dict[str, float]:
    """``"70"`` -> 70.0; ``"coal=70,hydro=0"`` -> ``{"coal": 70.0, "hydro": 0.0}``."""
    text = text.strip()
    try:
        if "=" not in text:
            return float(text)
        out = {}
        for part in text.split(","):
            k, v = part.split("=", 1)
            out[k.strip().lower()] = float(v)
        return out
    except ValueError:
        raise CaseError(
            f"--min-stable must be a percentage or fuel=percent pairs like coal=70,hydro=0, "
            f"got {text!r}"
        ) from None


def scenario_options(scenario: str | None, section: str) -> dict[str, Any]:
    """The ``[year]`` / ``[hosting]`` / ``[credit]`` options of a scenario (empty without one)."""
    if scenario is None:
        return {}
    from gridplan.model.wind import read_scenario

    return dict(read_scenario(scenario).get(section) or {})


def write_year(writer: Any, result: YearResult, group: str = "wind/year") -> None:
    """Write ``/wind/year``: ``farms``, ``steps``, ``binding``, ``ac_violations`` and the
    curtailment per step and farm."""
    writer.set_attrs(group, **result.summary)
    writer.write_table(f"{group}/farms", result.farms)
    writer.write_table(f"{group}/steps", result.steps)
    writer.write_table(f"{group}/binding", result.binding)
    writer.write_table(f"{group}/ac_violations", result.ac_violations)
    writer.write_array(f"{group}/curtailed_mw", result.curtailed_mw)
