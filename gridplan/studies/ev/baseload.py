"""Base load around the EV charging: the case's loads and PV over the horizon.

The bundled cases are peak operating points, so a year needs shapes. Unless measured
profiles are given (a CSV or HDF5 in the time-series format, ``gridplan.model.profiles``),
loads follow a daily shape by ``load.kind`` scaled so that the case value is the yearly peak,
and PV follows a clear-sky-like daily and seasonal shape scaled to its rating. These are
plausible planning shapes, not measured data, and the results say so:

- residential: night 0.35, morning bump at 07:30, evening peak at 20:00 (Chinese
  residential practice: lighting and cooking after work);
- commercial: a day plateau 08:00-20:00, 60 % on weekends;
- anything else: flat at 0.8;
- season: ``0.85 + 0.15 cos(2 pi (doy - 200) / 365)`` (a summer air-conditioning peak, as the
  Tianjin cases' operating point);
- PV: ``sn_mva x clip(sin(pi (h - 6) / 12), 0) x (0.75 + 0.25 cos(2 pi (doy - 172) / 365))
  x 0.75`` (clearness).

Loads of kind ``ev_*`` in the case (its fixed charging estimate) are replaced by the scenario
and get 0; storage units are idle (0 MW): no dispatch is modelled.
"""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pandas as pd

SHAPE_NOTE = "synthetic daily load and PV shapes by load kind (not measured data)"


def _hours(index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h = (index.hour + index.minute / 60.0).to_numpy(dtype=float)
    doy = index.dayofyear.to_numpy(dtype=float)
    weekend = np.asarray(index.dayofweek >= 5)
    return h, doy, weekend


def _season(doy: np.ndarray) -> np.ndarray:
    return 0.85 + 0.15 * np.cos(2.0 * np.pi * (doy - 200.0) / 365.0)


def _residential_day(h: np.ndarray) -> np.ndarray:
    return (
        0.35
        + 0.20 * np.exp(-(((h - 7.5) / 1.5) ** 2))
        + 0.65 * np.exp(-(((np.mod(h - 20.0 + 12.0, 24.0) - 12.0) / 2.5) ** 2))
    )


_RES_PEAK = float(_residential_day(np.linspace(0.0, 24.0, 24 * 60 + 1)).max())


def shape(kind: str, index: pd.DatetimeIndex) -> np.ndarray:
    """Per-unit load shape of ``kind`` on ``index`` (peak 1 on a summer weekday)."""
    h, doy, weekend = _hours(index)
    if kind == "residential":
        day = _residential_day(h) / _RES_PEAK
    elif kind == "commercial":
        day = 0.30 + 0.70 * np.clip(np.sin(np.pi * (h - 7.0) / 14.0), 0.0, None) ** 0.5
        day = np.where(weekend, 0.6 * day, day)
    else:
        day = np.full_like(h, 0.8)
    return np.minimum(day * _season(doy), 1.0)


def pv_shape(index: pd.DatetimeIndex) -> np.ndarray:
    """Per-unit PV output (of the rating) on ``index``."""
    h, doy, _ = _hours(index)
    sun = np.clip(np.sin(np.pi * (h - 6.0) / 12.0), 0.0, None)
    return sun * (0.75 + 0.25 * np.cos(2.0 * np.pi * (doy - 172.0) / 365.0)) * 0.75


def is_case_ev_load(net: pp.pandapowerNet) -> np.ndarray:
    """Loads that are the case's own EV charging estimate (``kind`` starting with ``ev_``)."""
    if "kind" not in net.load:
        return np.zeros(len(net.load), dtype=bool)
    return net.load["kind"].astype(str).str.startswith("ev_").to_numpy()


def base_tables(
    net: pp.pandapowerNet, index: pd.DatetimeIndex
) -> dict[tuple[str, str], pd.DataFrame]:
    """Profile tables (MW, Mvar) of every load, sgen and storage of ``net`` on ``index``."""
    tables: dict[tuple[str, str], pd.DataFrame] = {}
    if len(net.load):
        kinds = (
            net.load["kind"].astype(str) if "kind" in net.load else pd.Series("", net.load.index)
        )
        shapes = {k: shape(k, index) for k in kinds.unique()}
        f = np.column_stack([shapes[k] for k in kinds]) if len(kinds) else np.empty((len(index), 0))
        f[:, is_case_ev_load(net)] = 0.0
        tables[("load", "p_mw")] = pd.DataFrame(
            f * net.load.p_mw.to_numpy(dtype=float), index=index, columns=net.load.index
        )
        tables[("load", "q_mvar")] = pd.DataFrame(
            f * net.load.q_mvar.to_numpy(dtype=float), index=index, columns=net.load.index
        )
    if len(net.sgen):
        rated = (
            net.sgen.sn_mva.fillna(net.sgen.p_mw).to_numpy(dtype=float)
            if "sn_mva" in net.sgen
            else net.sgen.p_mw.to_numpy(dtype=float)
        )
        pv = pv_shape(index)
        is_pv = (
            net.sgen.get("type", pd.Series("", net.sgen.index)).astype(str).str.upper() == "PV"
        ).to_numpy()
        vals = np.where(
            is_pv[None, :],
            pv[:, None] * rated[None, :],
            net.sgen.p_mw.to_numpy(dtype=float)[None, :],
        )
        tables[("sgen", "p_mw")] = pd.DataFrame(vals, index=index, columns=net.sgen.index)
    if len(net.storage):
        tables[("storage", "p_mw")] = pd.DataFrame(0.0, index=index, columns=net.storage.index)
    return tables


def group_base_kw(
    net: pp.pandapowerNet, tables: dict[tuple[str, str], pd.DataFrame], downstream: list[np.ndarray]
) -> np.ndarray:
    """(n_groups, n_steps) base active power of each transformer group, kW (loads minus sgens)."""
    n = len(next(iter(tables.values())).index) if tables else 0
    out = np.zeros((len(downstream), n))
    for g, buses in enumerate(downstream):
        bs = set(buses.tolist())
        if ("load", "p_mw") in tables:
            cols = net.load.index[net.load.bus.isin(bs) & net.load.in_service.astype(bool)]
            out[g] += tables[("load", "p_mw")][cols].to_numpy().sum(axis=1) * 1000.0
        if ("sgen", "p_mw") in tables:
            cols = net.sgen.index[net.sgen.bus.isin(bs) & net.sgen.in_service.astype(bool)]
            out[g] -= tables[("sgen", "p_mw")][cols].to_numpy().sum(axis=1) * 1000.0
    return out
