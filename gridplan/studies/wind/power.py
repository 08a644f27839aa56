"""Wind power from wind: ``power(farms, wind)`` -> hourly MW per farm and a farm summary.

Inputs are read and checked by :mod:`gridplan.model.wind`; the numerics are
:mod:`gridplan.core.wind_power` (hub height, IEC density normalisation, power curves, farm
factors), applied to all farms at once as (steps x farms) arrays.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridplan.core import wind_power as core
from gridplan.errors import CaseError
from gridplan.model.wind import (
    Farm,
    WindSeries,
    read_farms,
    read_scenario,
    read_wind,
    regimes_from,
    synthetic_wind,
)


@dataclass
class WindPowerResult:
    """Output of :func:`power`.

    Attributes
    ----------
    p_mw : DataFrame
        Steps x farms, MW (after the farm factors).
    farms : DataFrame
        Per farm (index ``farm``): ``turbine``, ``n_turbines``, ``installed_mw``, ``bus``,
        ``sgen``, ``hub_height_m``, ``mean_speed_hub_ms``, ``energy_mwh`` (over the series),
        ``capacity_factor``, ``full_load_hours_h`` (per year of 8760 h), ``loss_factor``,
        ``curve_extended_to_ms`` (NaN when the curve was complete).
    duration_h : float
        Step length, h.
    source : str
        Where the wind came from.
    density_corrected : bool
        Whether the IEC density normalisation was applied.
    """

    p_mw: pd.DataFrame
    farms: pd.DataFrame
    duration_h: float
    source: str
    density_corrected: bool
    farm_list: list[Farm]

    def summary(self) -> dict[str, Any]:
        """Key figures: farms, installed MW, energy (MWh), capacity factor."""
        inst = float(self.farms.installed_mw.sum())
        energy = float(self.farms.energy_mwh.sum())
        hours = len(self.p_mw) * self.duration_h
        return {
            "wind_farms": len(self.farms),
            "wind_installed_mw": inst,
            "wind_energy_mwh": energy,
            "wind_capacity_factor": energy / (inst * hours) if inst > 0 and hours > 0 else math.nan,
        }


def _site_column(farm: Farm, wind: WindSeries) -> str:
    cols = list(wind.speed_ms.columns)
    if farm.wind:
        if farm.wind not in cols:
            raise CaseError(
                f"{wind.source}: no wind column {farm.wind!r} for farm {farm.name!r}",
                hint="columns: " + ", ".join(cols),
            )
        return farm.wind
    if len(cols) == 1:
        return cols[0]
    raise CaseError(
        f"farm {farm.name!r}: name its wind column (farm column 'wind'); {wind.source} has "
        f"{len(cols)}: {', '.join(cols[:5])}"
    )


def _curve(farm: Farm) -> tuple[np.ndarray, np.ndarray]:
    t = farm.turbine
    if farm.smoothing in ("none", ""):
        return t.speed_ms, t.power_mw
    ti = None if farm.smoothing == "staffell" else float(farm.smoothing.split("=", 1)[1])
    return core.smooth_curve(t.speed_ms, t.power_mw, turbulence_intensity=ti)


def hub_speeds(farms: list[Farm], wind: WindSeries, density_correction: bool) -> np.ndarray:
    """Speed at each farm's hub (steps x farms, m/s), IEC density-normalised if asked."""
    cols = [_site_column(f, wind) for f in farms]
    v = wind.speed_ms[cols].to_numpy(dtype=float)
    factor = np.empty(len(farms))
    for j, f in enumerate(farms):
        if f.profile == "log":
            factor[j] = core.hub_speed_log(
                1.0, f.measurement_height_m, f.hub_height_m, f.roughness_length_m
            )
        else:
            factor[j] = core.hub_speed_power_law(
                1.0, f.measurement_height_m, f.hub_height_m, f.hellman_exponent
            )
    v = v * factor[None, :]
    if density_correction:
        t, p = wind.temperature_k, wind.pressure_pa
        for j, f in enumerate(farms):
            t_hub = core.temperature_at(t, f.measurement_height_m, f.hub_height_m)
            p_hub = core.pressure_at(p, 0.5 * (t + t_hub), f.measurement_height_m, f.hub_height_m)
            v[:, j] = core.iec_density_speed(v[:, j], core.air_density(p_hub, t_hub))
    return v


def power(
    farms: Any,
    wind: Any = None,
    *,
    synthetic: bool = False,
    scenario: str | None = None,
    seed: int = 0,
    hours: int = 8760,
    density_correction: bool | None = None,
) -> WindPowerResult:
    """Hourly (or finer) output of wind farms, MW.

    Parameters
    ----------
    farms
        Farm table: CSV/TOML path, DataFrame or list of dicts (see
        :data:`gridplan.model.wind.FARM_COLUMNS`); ignored when ``scenario`` gives the farms.
    wind
        Wind file (CSV path), DataFrame (timestamps x sites, m/s) or :class:`WindSeries`.
    synthetic
        Draw a synthetic year from the Weibull regimes (``[[site]]`` tables of the scenario or
        the TOML farm file) instead of reading ``wind``.
    scenario
        A bundled scenario (case name, e.g. ``wind-test-centre``) or scenario TOML giving farms
        and regimes.
    seed, hours
        Seed and length of the synthetic series.
    density_correction
        Apply the IEC 61400-12-1 density normalisation (default: when the wind file has
        temperature and pressure).
    """
    farm_list, ws = load_inputs(
        farms, wind, synthetic=synthetic, scenario=scenario, seed=seed, hours=hours
    )
    has_met = ws.temperature_k is not None
    if density_correction is None:
        density_correction = has_met
    if density_correction and not has_met:
        raise CaseError(f"{ws.source}: density correction needs temperature and pressure columns")
    return compute_power(farm_list, ws, density_correction)


def load_inputs(
    farms: Any,
    wind: Any,
    *,
    synthetic: bool = False,
    scenario: str | None = None,
    seed: int = 0,
    hours: int = 8760,
) -> tuple[list[Farm], WindSeries]:
    """Farms and wind series of a call (scenario, farm file, wind file or synthetic)."""
    doc: dict[str, Any] | None = None
    if scenario is not None:
        doc = read_scenario(scenario)
        farm_list = read_farms(doc["_path"]) if farms is None else read_farms(farms)
    else:
        if farms is None:
            raise CaseError("wind: give a farm table (--farms FILE) or a scenario (--scenario)")
        farm_list = read_farms(farms)
        if (
            synthetic
            and isinstance(farms, str | os.PathLike)
            and Path(farms).suffix.lower() == ".toml"
        ):
            doc = read_scenario(farms)
    if synthetic or (wind is None and doc is not None):
        if wind is not None:
            raise CaseError("wind: give either a wind file or --synthetic, not both")
        if doc is None or not doc.get("site"):
            raise CaseError(
                "wind: --synthetic needs Weibull regimes ([[site]] tables in the scenario or "
                "TOML farm file)"
            )
        regimes, corr = regimes_from(doc, doc["_path"])
        ws = synthetic_wind(
            regimes,
            hours=hours,
            start=str((doc.get("regime") or {}).get("start", "2030-01-01")),
            site_correlation=corr,
            seed=seed,
            where=doc["_path"],
        )
    elif wind is None:
        raise CaseError("wind: give a wind file (--wind FILE) or --synthetic")
    else:
        ws = read_wind(wind)
    return farm_list, ws


def compute_power(
    farm_list: list[Farm], ws: WindSeries, density_correction: bool
) -> WindPowerResult:
    """Farm output for checked farms and wind (see :func:`power`)."""
    v = hub_speeds(farm_list, ws, density_correction)
    curves = [_curve(f) for f in farm_list]
    factor = np.array([f.n_turbines * f.loss_factor for f in farm_list])
    p = core.farm_output(v, curves, factor)
    names = [f.name for f in farm_list]
    p_df = pd.DataFrame(p, index=ws.index, columns=pd.Index(names, name="farm"))
    inst = np.array([f.installed_mw for f in farm_list])
    energy = p.sum(axis=0) * ws.duration_h
    span_h = len(ws.index) * ws.duration_h
    with np.errstate(invalid="ignore", divide="ignore"):
        cf = energy / (inst * span_h)
    farms_df = pd.DataFrame(
        {
            "turbine": [f.turbine.name for f in farm_list],
            "n_turbines": [f.n_turbines for f in farm_list],
            "installed_mw": inst,
            "bus": [f.bus for f in farm_list],
            "sgen": [f.sgen for f in farm_list],
            "hub_height_m": [f.hub_height_m for f in farm_list],
            "mean_speed_hub_ms": v.mean(axis=0) if len(v) else np.full(len(farm_list), np.nan),
            "energy_mwh": energy,
            "capacity_factor": cf,
            "full_load_hours_h": cf * 8760.0,
            "loss_factor": [f.loss_factor for f in farm_list],
            "curve_extended_to_ms": [
                f.turbine.extended_to_ms if f.turbine.extended_to_ms is not None else math.nan
                for f in farm_list
            ],
        },
        index=pd.Index(names, name="farm"),
    )
    return WindPowerResult(
        p_mw=p_df,
        farms=farms_df,
        duration_h=ws.duration_h,
        source=ws.source,
        density_corrected=bool(density_correction),
        farm_list=farm_list,
    )


def write_power(writer: Any, result: WindPowerResult, group: str = "wind/power") -> None:
    """Write ``/wind/power``: ``farms`` (table), ``p_mw`` (steps x farms) and ``time``."""
    writer.write_table(f"{group}/farms", result.farms)
    writer.write_array(f"{group}/p_mw", result.p_mw.to_numpy(dtype=np.float64))
    idx = result.p_mw.index
    t = (
        idx.to_numpy(dtype="datetime64[s]").astype(np.int64)
        if isinstance(idx, pd.DatetimeIndex)
        else np.asarray(idx, dtype=np.int64)
    )
    writer.write_array(f"{group}/time", t)
    writer.set_attrs(
        group,
        source=result.source,
        duration_h=result.duration_h,
        density_corrected=result.density_corrected,
        farms=",".join(map(str, result.p_mw.columns)),
    )
