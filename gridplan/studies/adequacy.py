"""Bulk-system adequacy: generation (HL-I, analytical) and composite (HL-II, Monte Carlo).

``run_adequacy(net)`` reads the generating units and their outage data from the net
(:func:`gridplan.model.reliability_data.generating_units`), builds the capacity outage
probability table and evaluates the load model; with ``composite=True`` it also samples
generator and branch outage states with a DC optimal load curtailment per state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.core import adequacy as core
from gridplan.core.rel_composite import CompositeSystem, sample_composite
from gridplan.core.rel_loadshapes import rts79_hourly_pu
from gridplan.errors import CaseError
from gridplan.model.reliability_data import (
    LV_MAX_KV,
    MV_MAX_KV,
    GeneratingUnits,
    ReliabilityDefaults,
    generating_units,
)
from gridplan.results.writer import ResultWriter

LOAD_MODELS = ("rts79", "flat")


@dataclass
class AdequacyResult:
    """Tables of an adequacy study."""

    case_name: str
    units: pd.DataFrame
    indices: pd.DataFrame
    copt: pd.DataFrame
    composite: pd.DataFrame = field(default_factory=pd.DataFrame)
    composite_bus: pd.DataFrame = field(default_factory=pd.DataFrame)
    load_model: str = "rts79"
    #: what the study left out or assumed that changes its figures (printed as notes)
    notes: list[str] = field(default_factory=list)
    #: HL-II stopping rule: requested EENS coefficient of variation, sample limit
    target_cov: float = math.nan
    max_samples: int = 0

    @property
    def composite_converged(self) -> bool:
        """HL-II reached the requested EENS coefficient of variation before its sample limit."""
        if self.composite.empty:
            return False
        return bool(self.composite.eens_cov.iloc[0] <= self.target_cov)


def load_series(
    load_model: str | Path, peak_mw: float
) -> tuple[np.ndarray, np.ndarray | None, float]:
    """Hourly load (MW), daily peaks (MW, or None) and hours per year of a load model.

    ``rts79``: the IEEE RTS-79 shape (8736 h) scaled to ``peak_mw``; ``flat``: ``peak_mw``
    for 8760 h; a CSV path: column ``p_mw`` (MW) or ``p_pu`` (per unit of ``peak_mw``), one
    row per hour.
    """
    if str(load_model) == "rts79":
        h, d = rts79_hourly_pu()
        return peak_mw * h, peak_mw * d, float(len(h))
    if str(load_model) == "flat":
        return np.full(8760, peak_mw), np.full(365, peak_mw), 8760.0
    path = Path(load_model)
    if not path.is_file():
        raise CaseError(
            f"--load-model must be one of {list(LOAD_MODELS)} or a CSV file, "
            f"got {str(load_model)!r} instead"
        )
    df = pd.read_csv(path)
    if "p_mw" in df:
        h = df.p_mw.to_numpy(dtype=float)
    elif "p_pu" in df:
        h = peak_mw * df.p_pu.to_numpy(dtype=float)
    else:
        raise CaseError(
            f"{path}: load model needs a column 'p_mw' or 'p_pu', got {list(df.columns)}"
        )
    if len(h) == 0 or np.any(~np.isfinite(h)) or np.any(h < 0):
        raise CaseError(f"{path}: loads must be finite and >= 0")
    days = len(h) // 24
    d = h[: days * 24].reshape(days, 24).max(axis=1) if days else None
    return h, d, float(len(h))


def auto_step_mw(capacity_mw: np.ndarray) -> float:
    """COPT grid step: 1 MW, or a power of ten at most 1/10 of the smallest unit below 10 MW
    (so a 21 kW PV unit gets a 1 kW grid)."""
    c = np.asarray(capacity_mw, dtype=float)
    c = c[c > 0]
    if len(c) == 0 or c.min() >= 10.0:
        return 1.0
    return float(10.0 ** (math.floor(math.log10(c.min())) - 1))


def _peak_load_mw(net: pp.pandapowerNet) -> float:
    load = net.load[net.load.in_service.astype(bool)]
    scaling = load.scaling.to_numpy(dtype=float) if "scaling" in load else 1.0
    return float(np.sum(load.p_mw.to_numpy(dtype=float) * scaling))


def _composite_system(
    net: pp.pandapowerNet, units, d: ReliabilityDefaults, include_ext_grid: bool
) -> CompositeSystem:
    bus = net.bus[net.bus.in_service.astype(bool)]
    pos = {int(b): i for i, b in enumerate(bus.index)}
    f, t, b, rate, unav = [], [], [], [], []
    for _, r in net.line[net.line.in_service.astype(bool)].iterrows():
        if int(r.from_bus) not in pos or int(r.to_bus) not in pos:
            continue
        vn = float(net.bus.vn_kv.at[int(r.from_bus)])
        par = float(r.get("parallel", 1) or 1)
        x_pu = float(r.x_ohm_per_km) * float(r.length_km) / par / (vn * vn / 100.0)
        fr = r.get("failure_rate_per_km_year", np.nan)
        fr_default = (
            d.line_lv_failure_rate_per_km_year
            if vn < LV_MAX_KV
            else d.line_mv_overhead_failure_rate_per_km_year
            if vn <= MV_MAX_KV
            else d.line_hv_failure_rate_per_km_year
        )
        lam = (
            fr_default if fr is None or (isinstance(fr, float) and math.isnan(fr)) else float(fr)
        ) * float(r.length_km)
        rep = r.get("repair_time_h", np.nan)
        rep = (
            d.line_hv_repair_time_h
            if rep is None or (isinstance(rep, float) and math.isnan(rep))
            else float(rep)
        )
        f.append(pos[int(r.from_bus)])
        t.append(pos[int(r.to_bus)])
        b.append(1.0 / max(x_pu, 1e-6))
        cap = float(r.max_i_ka) * vn * math.sqrt(3) * par
        rate.append(cap if cap > 0 else math.inf)
        unav.append(lam * rep / (8760.0 + lam * rep))
    for _, r in net.trafo[net.trafo.in_service.astype(bool)].iterrows():
        if int(r.hv_bus) not in pos or int(r.lv_bus) not in pos:
            continue
        par = float(r.get("parallel", 1) or 1)
        xk = math.sqrt(max(float(r.vk_percent) ** 2 - float(r.vkr_percent) ** 2, 1e-12))
        x_pu = xk / 100.0 * 100.0 / float(r.sn_mva) / par
        lam = r.get("failure_rate_per_year", np.nan)
        lam = (
            d.trafo_hv_mv_failure_rate_per_year
            if lam is None or (isinstance(lam, float) and math.isnan(lam))
            else float(lam)
        )
        rep = r.get("repair_time_h", np.nan)
        rep = (
            d.trafo_hv_mv_repair_time_h
            if rep is None or (isinstance(rep, float) and math.isnan(rep))
            else float(rep)
        )
        f.append(pos[int(r.hv_bus)])
        t.append(pos[int(r.lv_bus)])
        b.append(1.0 / max(x_pu, 1e-6))
        rate.append(float(r.sn_mva) * par)
        unav.append(lam * rep / (8760.0 + lam * rep))
    # series impedances (e.g. series compensation): reliable, unlimited; a negative (capacitive)
    # reactance is taken as nearly zero in the DC model
    for _, r in net.impedance[net.impedance.in_service.astype(bool)].iterrows():
        if int(r.from_bus) not in pos or int(r.to_bus) not in pos:
            continue
        x_pu = float(r.xft_pu) * 100.0 / float(r.sn_mva)
        f.append(pos[int(r.from_bus)])
        t.append(pos[int(r.to_bus)])
        b.append(1.0 / max(x_pu, 1e-4))
        rate.append(math.inf)
        unav.append(0.0)
    dcl = net.dcline[net.dcline.in_service.astype(bool)]
    dcl = dcl[dcl.from_bus.isin(pos) & dcl.to_bus.isin(pos)]
    dc_lam = (
        dcl.failure_rate_per_year.fillna(d.dcline_failure_rate_per_year).to_numpy(float)
        if "failure_rate_per_year" in dcl
        else np.full(len(dcl), d.dcline_failure_rate_per_year)
    )
    dc_rep = (
        dcl.repair_time_h.fillna(d.dcline_repair_time_h).to_numpy(float)
        if "repair_time_h" in dcl
        else np.full(len(dcl), d.dcline_repair_time_h)
    )
    gen_bus = [pos[int(x)] for x in units.bus]
    gen_cap = list(units.capacity_mw)
    gen_q = list(units.forced_outage_rate)
    gen_sched = []
    for el in units.element:
        et, idx = el.split(" ")
        df = getattr(net, et)
        p = df.at[int(idx), "p_mw"] if "p_mw" in df else np.nan
        gen_sched.append(float(p) if p is not None and p == p else math.nan)
    load = np.zeros(len(bus))
    ld = net.load[net.load.in_service.astype(bool)]
    scaling = ld.scaling.to_numpy(dtype=float) if "scaling" in ld else np.ones(len(ld))
    np.add.at(load, [pos[int(x)] for x in ld.bus], ld.p_mw.to_numpy(dtype=float) * scaling)
    if include_ext_grid:
        for b_ext in _unlimited_ext_grid_buses(net):
            if b_ext in pos:  # an unlimited, fully reliable infeed
                gen_bus.append(pos[b_ext])
                gen_cap.append(float(load.sum()))
                gen_q.append(0.0)
                gen_sched.append(math.nan)
    return CompositeSystem(
        n_bus=len(bus),
        br_from=np.asarray(f, dtype=np.int64),
        br_to=np.asarray(t, dtype=np.int64),
        br_b_pu=np.asarray(b),
        br_rating_mw=np.asarray(rate),
        br_unavailability=np.asarray(unav),
        gen_bus=np.asarray(gen_bus, dtype=np.int64),
        gen_capacity_mw=np.asarray(gen_cap, float),
        gen_unavailability=np.asarray(gen_q, float),
        load_mw=load,
        gen_sched_mw=np.asarray(gen_sched, float),
        dc_from=np.array([pos[int(x)] for x in dcl.from_bus], dtype=np.int64),
        dc_to=np.array([pos[int(x)] for x in dcl.to_bus], dtype=np.int64),
        dc_max_mw=dcl.max_p_mw.fillna(dcl.p_mw.abs()).to_numpy(float),
        dc_unavailability=dc_lam * dc_rep / (8760.0 + dc_lam * dc_rep),
        dc_sched_mw=np.clip(
            dcl.p_mw.to_numpy(float),
            -dcl.max_p_mw.fillna(np.inf).to_numpy(float),
            dcl.max_p_mw.fillna(np.inf).to_numpy(float),
        ),
    )


def _ext_grid_notes(net: pp.pandapowerNet, include_ext_grid: bool | None) -> list[str]:
    """What happened to each in-service ext_grid (counted, left out), said once."""
    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)]
    cap = (
        pd.to_numeric(eg.max_p_mw, errors="coerce").to_numpy(dtype=float)
        if "max_p_mw" in eg
        else np.full(len(eg), np.nan)
    )
    limited = cap > 0
    unlimited = np.isnan(cap)
    ids = eg.index.to_numpy()
    notes: list[str] = []
    if limited.any():
        what = f"ext_grid {', '.join(map(str, ids[limited]))} ({cap[limited].sum():g} MW max_p_mw)"
        if include_ext_grid is False:
            notes.append(
                f"{what} left out (--exclude-ext-grid): the indices cover gen and sgen only"
            )
        else:
            notes.append(
                f"{what} counted as generating unit(s); --exclude-ext-grid leaves them out"
            )
    if unlimited.any():
        what = f"ext_grid {', '.join(map(str, ids[unlimited]))} (no max_p_mw)"
        if include_ext_grid:
            notes.append(
                f"{what} counted as an unlimited, fully reliable infeed: HL-I indices are zero"
            )
        else:
            notes.append(
                f"{what} left out: an unlimited infeed would make every HL-I index zero; give "
                "it max_p_mw to count it as a unit, or --include-ext-grid for an unlimited one"
            )
    return notes


def _unlimited_ext_grid_buses(net: pp.pandapowerNet) -> list[int]:
    """Buses of in-service ext_grids without ``max_p_mw`` (unlimited external supply)."""
    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)]
    if "max_p_mw" in eg:
        eg = eg[eg.max_p_mw.isna()]
    return [int(x) for x in eg.bus]


def system_copt(units: GeneratingUnits, cap_grid: np.ndarray, step_mw: float) -> core.Copt:
    """COPT of the units (capacities ``cap_grid`` on the grid of ``step_mw``), two-state
    units by the frequency-tracking recursion, units with derated states as multi-state."""
    der = units.derated_probability > 0
    multistate = []
    for i in np.flatnonzero(der):
        st_out, st_p = units.derated_states[i]
        multistate.append(
            (
                np.r_[0.0, np.round(st_out / step_mw) * step_mw, cap_grid[i]],
                np.r_[
                    1 - units.forced_outage_rate[i] - st_p.sum(), st_p, units.forced_outage_rate[i]
                ],
            )
        )
    # frequencies (LOLF) are tracked for two-state units only
    return core.build_copt(
        cap_grid[~der],
        units.forced_outage_rate[~der],
        mttr_h=None if der.any() else units.mttr_h[~der],
        step_mw=step_mw,
        multistate=multistate,
    )


def run_adequacy(
    net: pp.pandapowerNet,
    *,
    case_name: str = "",
    load_model: str | Path = "rts79",
    peak_mw: float | None = None,
    step_mw: float | None = None,
    include_ext_grid: bool | None = None,
    composite: bool = False,
    target_cov: float = 0.05,
    max_samples: int = 100000,
    seed: int | None = 0,
    defaults: ReliabilityDefaults | None = None,
    progress=None,
) -> AdequacyResult:
    """Generation (and optionally composite) adequacy of ``net``.

    Parameters
    ----------
    net : pandapowerNet
    case_name : str
    load_model : {"rts79", "flat"} or path to a CSV
        Chronological load model (see :func:`load_series`), scaled to ``peak_mw``.
    peak_mw : float, optional
        Annual peak load, MW (default: the sum of the net's loads).
    step_mw : float, optional
        COPT grid step, MW; unit capacities are rounded to it (default: :func:`auto_step_mw`).
    include_ext_grid : bool or None
        None (default): ``ext_grid`` elements with ``max_p_mw`` count as generating units (as
        the IEEE RTS case24_ieee_rts models one of its units), those without are left out.
        True: also every ``ext_grid`` without ``max_p_mw``, as an unlimited, fully reliable
        infeed. False: no ``ext_grid``. ``AdequacyResult.notes`` says which were counted.
    composite : bool
        Also run the HL-II Monte Carlo (generator and branch outages, DC load curtailment).
    target_cov, max_samples, seed
        Stopping rule and random seed of the Monte Carlo.
    """
    d = defaults or ReliabilityDefaults()
    if composite and not (max_samples >= 1 and math.isfinite(target_cov) and target_cov >= 0):
        raise CaseError(
            f"HL-II needs max_samples >= 1 and a finite target_cov >= 0, got {max_samples} "
            f"and {target_cov} instead"
        )
    units = generating_units(net, include_ext_grid=include_ext_grid is not False)
    unlimited = bool(include_ext_grid) and bool(_unlimited_ext_grid_buses(net))
    if len(units.capacity_mw) == 0 and not unlimited:
        raise CaseError(
            f"{case_name or 'net'}: no in-service generating units (gen/sgen) with capacity > 0"
        )
    if step_mw is not None and step_mw <= 0:
        raise CaseError(f"--step must be > 0 MW, got {step_mw}")
    peak = _peak_load_mw(net) if peak_mw is None else float(peak_mw)
    if peak <= 0:
        raise CaseError(f"peak load must be > 0 MW, got {peak}")
    hourly, daily, hours = load_series(load_model, peak)
    if step_mw is None:
        step_mw = auto_step_mw(units.capacity_mw)
    cap_grid = np.round(units.capacity_mw / step_mw) * step_mw
    if cap_grid.sum() / step_mw > 2e7:
        raise CaseError(
            f"COPT grid of {cap_grid.sum() / step_mw:.3g} steps is too large; "
            f"use a coarser --step than {step_mw} MW"
        )
    copt = system_copt(units, cap_grid, step_mw)
    h = core.loss_of_load(copt, hourly, period_h=1.0)
    if unlimited:
        # an unlimited external infeed (ext_grid without max_p_mw) always covers the load:
        # HL-I indices are zero; only HL-II (network limits, branch outages) says more
        h = core.LoleResult(
            lolp=np.zeros_like(hourly),
            lole=0.0,
            eens_mwh=0.0,
            lolf_per_year=0.0,
            eens_per_period_mwh=np.zeros_like(hourly),
        )
    installed = math.inf if unlimited else copt.installed_mw
    rows = {
        "installed_mw": installed,
        "peak_load_mw": float(hourly.max()),
        "reserve_percent": 100 * (installed - float(hourly.max())) / float(hourly.max()),
        "hours": hours,
        "lolp": h.lole / hours,
        "lole_h_per_year": h.lole,
        "lole_d_per_year": math.nan,
        "eens_mwh_per_year": h.eens_mwh,
        "lolf_per_year": h.lolf_per_year if h.lolf_per_year is not None else math.nan,
        "lold_h": h.lole / h.lolf_per_year if h.lolf_per_year else math.nan,
    }
    if daily is not None:
        rows["lole_d_per_year"] = 0.0 if unlimited else core.loss_of_load(copt, daily).lole
    indices = pd.DataFrame([rows], index=pd.Index(["hl1"], name="level"))
    units_df = pd.DataFrame(
        {
            "element": units.element,
            "name": units.name,
            "bus": units.bus,
            "capacity_mw": units.capacity_mw,
            "forced_outage_rate": units.forced_outage_rate,
            "mttf_h": units.mttf_h,
            "mttr_h": units.mttr_h,
            "derated_outage_mw": units.derated_outage_mw,
            "derated_probability": units.derated_probability,
            "derated_states": units.states_text(),
        }
    )
    k = np.arange(len(copt.p_cum))
    copt_df = pd.DataFrame(
        {
            "outage_mw": k * step_mw,
            "probability": copt.p_exact,
            "cumulative_probability": copt.p_cum,
        }
    )
    result = AdequacyResult(
        case_name=case_name,
        units=units_df,
        indices=indices,
        copt=copt_df,
        load_model=str(load_model),
        notes=_ext_grid_notes(net, include_ext_grid),
        target_cov=float(target_cov),
        max_samples=int(max_samples),
    )
    if composite:
        s = _composite_system(net, units, d, unlimited)
        rng = np.random.default_rng(seed)
        r = sample_composite(
            s,
            hourly / peak,
            rng,
            target_cov=target_cov,
            max_samples=max_samples,
            hours_per_year=hours,
            progress=progress,
        )
        result.composite = pd.DataFrame(
            [
                {
                    "samples": r.samples,
                    "lp_solved": r.lp_solved,
                    "lp_failed": r.lp_failed,
                    "lole_h_per_year": r.lole_h_per_year,
                    "lole_ci95_low_h_per_year": r.lole_ci95_h_per_year[0],
                    "lole_ci95_high_h_per_year": r.lole_ci95_h_per_year[1],
                    "eens_mwh_per_year": r.eens_mwh_per_year,
                    "eens_ci95_low_mwh_per_year": r.eens_ci95_mwh_per_year[0],
                    "eens_ci95_high_mwh_per_year": r.eens_ci95_mwh_per_year[1],
                    "eens_cov": r.eens_cov,
                    "duration_s": r.seconds,
                    "states_per_s": r.samples / r.seconds if r.seconds > 0 else math.nan,
                }
            ],
            index=pd.Index(["hl2"], name="level"),
        )
        bus_index = net.bus[net.bus.in_service.astype(bool)].index
        result.composite_bus = pd.DataFrame(
            {
                "lole_h_per_year": r.bus_lole_h_per_year,
                "eens_mwh_per_year": r.bus_eens_mwh_per_year,
            },
            index=pd.Index(bus_index, name="bus"),
        )
    return result


def write_adequacy(w: ResultWriter, result: AdequacyResult) -> None:
    """Write the study's tables under ``/adequacy`` (see docs/results-format.md)."""
    w.set_attrs(
        "adequacy",
        load_model=result.load_model,
        case_name=result.case_name,
        notes="\n".join(result.notes),
    )
    if not result.composite.empty:
        w.set_attrs(
            "adequacy",
            target_cov=result.target_cov,
            max_samples=result.max_samples,
            cov_reached=result.composite_converged,
        )
    w.write_table("adequacy/indices", result.indices)
    w.write_table("adequacy/units", result.units)
    w.write_table("adequacy/copt", result.copt)
    if not result.composite.empty:
        w.write_table("adequacy/composite", result.composite)
        w.write_table("adequacy/composite_bus", result.composite_bus)
