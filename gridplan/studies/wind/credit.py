"""Capacity credit of wind: ELCC and EFC on LOLE and EENS, by bisection with bounds.

The system without the wind is the adequacy module's: its generating units (with their
outage data, derated states included) in a capacity outage probability table
(:func:`gridplan.studies.adequacy.system_copt`), serving an hourly load model
(:func:`gridplan.studies.adequacy.load_series`). The wind's hourly output (all farms together,
from :func:`gridplan.studies.wind.power.compute_power`) is set against the hourly load; the
bisections are :mod:`gridplan.core.capacity_credit`. Farms that are existing ``sgen`` elements
of the net are taken out of the conventional units (their output is the wind series).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.core import capacity_credit as cc
from gridplan.core.adequacy import Copt
from gridplan.errors import CaseError
from gridplan.model.reliability_data import GeneratingUnits, generating_units
from gridplan.studies.adequacy import (
    _peak_load_mw,
    _unlimited_ext_grid_buses,
    auto_step_mw,
    load_series,
    system_copt,
)
from gridplan.studies.wind.power import WindPowerResult, compute_power, load_inputs

RISK_UNITS = {"lole": "h", "eens": "MWh"}
MAX_TRUNCATE_H = 168  # wind and load series may differ by up to a week (8760 vs 8736 h)


@dataclass
class CreditResult:
    """Capacity credit of the wind farms.

    Attributes
    ----------
    credit : DataFrame
        One row per metric (index ``metric``: ``lole``, ``eens``): ``nameplate_mw``,
        ``elcc_mw`` with bounds ``elcc_low_mw`` / ``elcc_high_mw``, ``efc_mw`` with
        ``efc_low_mw`` / ``efc_high_mw``, the same as percent of nameplate, the risk without
        and with the wind (``risk_without``, ``risk_with``, unit in ``risk_unit``) and the
        bisection iterations.
    trials : DataFrame
        Every point the bisections evaluated: ``search`` (elcc/efc), ``metric``, ``x_mw``,
        ``risk``, ``target``.
    hours : int
        Hours compared (the shorter of the wind and load series).
    peak_load_mw, installed_mw, step_mw : float
        Load peak, conventional installed capacity (COPT) and COPT step.
    wind : WindPowerResult
    """

    credit: pd.DataFrame
    trials: pd.DataFrame
    hours: int
    peak_load_mw: float
    installed_mw: float
    step_mw: float
    tol_mw: float
    load_model: str
    wind: WindPowerResult | None = None

    def summary(self) -> dict[str, Any]:
        """Key figures for a summary table."""
        out: dict[str, Any] = {}
        for m, row in self.credit.iterrows():
            out[f"wind_elcc_{m}_mw"] = float(row.elcc_mw)
            out[f"wind_efc_{m}_mw"] = float(row.efc_mw)
        if len(self.credit):
            out["wind_credit_nameplate_mw"] = float(self.credit.nameplate_mw.iloc[0])
        return out


def capacity_credit(
    copt: Copt,
    load_mw: np.ndarray,
    resource_mw: np.ndarray,
    *,
    metrics: tuple[str, ...] = cc.METRICS,
    nameplate_mw: float | None = None,
    tol_mw: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ELCC and EFC of an hourly resource against an hourly load on a COPT (tables).

    ``tol_mw`` defaults to 0.1 % of the nameplate (at least 0.001 MW).
    """
    w = np.asarray(resource_mw, dtype=float)
    nameplate = float(w.max(initial=0.0)) if nameplate_mw is None else float(nameplate_mw)
    tol = max(1e-3 * nameplate, 1e-3) if tol_mw is None else float(tol_mw)
    rows, trials = [], []
    for m in metrics:
        e = cc.elcc(copt, load_mw, w, metric=m, tol_mw=tol)
        f = cc.efc(copt, load_mw, w, metric=m, tol_mw=tol)
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = 100.0 / nameplate if nameplate > 0 else math.nan
        rows.append(
            {
                "metric": m,
                "nameplate_mw": nameplate,
                "elcc_mw": e.value_mw,
                "elcc_low_mw": e.lo_mw,
                "elcc_high_mw": e.hi_mw,
                "efc_mw": f.value_mw,
                "efc_low_mw": f.lo_mw,
                "efc_high_mw": f.hi_mw,
                "elcc_percent": e.value_mw * pct,
                "efc_percent": f.value_mw * pct,
                "risk_without": e.target,
                "risk_with": f.target,
                "risk_unit": RISK_UNITS[m],
                "elcc_iterations": e.iterations,
                "efc_iterations": f.iterations,
            }
        )
        for search, b in (("elcc", e), ("efc", f)):
            trials += [
                {"search": search, "metric": m, "x_mw": x, "risk": r, "target": b.target}
                for x, r in b.trials
            ]
    credit = pd.DataFrame(rows).set_index("metric")
    return credit, pd.DataFrame(
        trials, columns=["search", "metric", "x_mw", "risk", "target"]
    ).rename_axis("trial")


def _conventional_units(
    net: pp.pandapowerNet, farm_sgens: set[int], include_ext_grid: bool
) -> GeneratingUnits:
    units = generating_units(net, include_ext_grid=include_ext_grid)
    keep = np.array([e not in {f"sgen {s}" for s in farm_sgens} for e in units.element], dtype=bool)
    if keep.all():
        return units
    return replace(
        units,
        name=units.name[keep],
        element=units.element[keep],
        bus=units.bus[keep],
        capacity_mw=units.capacity_mw[keep],
        forced_outage_rate=units.forced_outage_rate[keep],
        mttf_h=units.mttf_h[keep],
        mttr_h=units.mttr_h[keep],
        derated_outage_mw=units.derated_outage_mw[keep],
        derated_probability=units.derated_probability[keep],
        derated_states=[s for s, k in zip(units.derated_states, keep, strict=True) if k],
    )


def credit(
    net: pp.pandapowerNet,
    farms: Any = None,
    wind: Any = None,
    *,
    synthetic: bool = False,
    scenario: str | None = None,
    seed: int = 0,
    metrics: tuple[str, ...] = cc.METRICS,
    load_model: str | Path = "rts79",
    peak_mw: float | None = None,
    step_mw: float | None = None,
    tol_mw: float | None = None,
    include_ext_grid: bool = False,
    case_name: str = "",
) -> CreditResult:
    """Capacity credit (ELCC, EFC) of wind farms on the generation system of ``net``.

    Parameters
    ----------
    net : pandapowerNet
        The system: its ``gen``/``sgen`` units (and ``ext_grid`` with ``max_p_mw`` if
        ``include_ext_grid``) with outage data as in ``gridplan adequacy``.
    farms, wind, synthetic, scenario, seed
        The wind farms and their wind (see :func:`gridplan.studies.wind.power.power`).
    metrics : tuple of {"lole", "eens"}
    load_model, peak_mw
        Hourly load model (``rts79``, ``flat`` or a CSV) scaled to ``peak_mw`` (default: the
        sum of the net's loads).
    step_mw : float, optional
        COPT grid step, MW (default: as ``gridplan adequacy``).
    tol_mw : float, optional
        Bisection gap, MW (default 0.1 % of the nameplate).
    """
    bad = [m for m in metrics if m not in cc.METRICS]
    if bad or not metrics:
        raise CaseError(f"--metric must be among {', '.join(cc.METRICS)}, got {', '.join(bad)}")
    farm_list, ws = load_inputs(farms, wind, synthetic=synthetic, scenario=scenario, seed=seed)
    wind_res = compute_power(farm_list, ws, density_correction=ws.temperature_k is not None)
    if abs(wind_res.duration_h - 1.0) > 1e-9:
        raise CaseError(
            f"{ws.source}: capacity credit needs hourly wind, "
            f"got steps of {wind_res.duration_h:g} h"
        )
    where = case_name or str(getattr(net, "name", "")) or "net"
    sgens = {f.sgen for f in farm_list if f.sgen >= 0}
    missing = sorted(s for s in sgens if s not in net.sgen.index)
    if missing:
        raise CaseError(f"{where}: farm(s) refer to sgen(s) {missing} that do not exist")
    units = _conventional_units(net, sgens, include_ext_grid)
    if include_ext_grid and _unlimited_ext_grid_buses(net):
        raise CaseError(
            f"{where}: an ext_grid without max_p_mw is an unlimited infeed: the system has no "
            "risk to credit wind against",
            hint="give the ext_grid a max_p_mw, or leave out --include-ext-grid",
        )
    if len(units.capacity_mw) == 0:
        raise CaseError(f"{where}: no conventional generating units to credit the wind against")
    peak = _peak_load_mw(net) if peak_mw is None else float(peak_mw)
    if peak <= 0:
        raise CaseError(f"peak load must be > 0 MW, got {peak}")
    hourly, _daily, _hours = load_series(load_model, peak)
    w = wind_res.p_mw.sum(axis=1).to_numpy()
    n = min(len(hourly), len(w))
    if max(len(hourly), len(w)) - n > MAX_TRUNCATE_H:
        raise CaseError(
            f"{ws.source}: the wind series ({len(w)} h) and the load model ({len(hourly)} h) "
            "must cover the same year"
        )
    if step_mw is None:
        step_mw = auto_step_mw(units.capacity_mw)
    cap_grid = np.round(units.capacity_mw / step_mw) * step_mw
    copt = system_copt(units, cap_grid, step_mw)
    nameplate = float(sum(f.installed_mw for f in farm_list))
    tol = max(1e-3 * nameplate, 1e-3) if tol_mw is None else float(tol_mw)
    table, trials = capacity_credit(
        copt, hourly[:n], w[:n], metrics=tuple(metrics), nameplate_mw=nameplate, tol_mw=tol
    )
    return CreditResult(
        credit=table,
        trials=trials,
        hours=n,
        peak_load_mw=float(hourly[:n].max()),
        installed_mw=copt.installed_mw,
        step_mw=float(step_mw),
        tol_mw=tol,
        load_model=str(load_model),
        wind=wind_res,
    )


def write_credit(writer: Any, result: CreditResult, group: str = "wind/credit") -> None:
    """Write ``/wind/credit``: ``credit`` (per metric) and ``trials`` (bisection points)."""
    writer.write_table(f"{group}/credit", result.credit)
    writer.write_table(f"{group}/trials", result.trials)
    writer.set_attrs(
        group,
        hours=result.hours,
        peak_load_mw=result.peak_load_mw,
        installed_mw=result.installed_mw,
        step_mw=result.step_mw,
        load_model=result.load_model,
    )
