"""The first look a planner takes at a case: sizes, voltage levels, totals and oddities."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandapower as pp
import pandas as pd
from pandapower.topology import unsupplied_buses

from gridplan.model.validate import remarks as validate_remarks


@dataclass
class CaseSummary:
    """Summary tables of a case (all quantities in pandapower units: kV, km, MW, Mvar)."""

    name: str
    description: str
    counts: dict[str, int]
    voltage_levels: pd.DataFrame  # index vn_kv: buses, lines, length_km
    totals: dict[str, float]
    remarks: list[str] = field(default_factory=list)
    plan_figures: pd.DataFrame | None = None


def _n(net: pp.pandapowerNet, table: str) -> int:
    return len(net[table]) if table in net else 0


def summarize(net: pp.pandapowerNet) -> CaseSummary:
    """Summarize a pandapower net without running a power flow."""
    counts = {
        t: _n(net, t)
        for t in (
            "bus",
            "line",
            "trafo",
            "trafo3w",
            "gen",
            "sgen",
            "ext_grid",
            "load",
            "storage",
            "shunt",
            "switch",
            "dcline",
            "impedance",
        )
    }
    counts = {k: v for k, v in counts.items() if v or k in ("bus", "line", "trafo", "gen", "load")}

    bus_kv = net.bus.vn_kv
    levels = pd.DataFrame({"buses": bus_kv.value_counts()})
    if len(net.line):
        kv_line = bus_kv.loc[net.line.from_bus].to_numpy()
        levels["lines"] = pd.Series(kv_line).value_counts()
        levels["length_km"] = (
            pd.Series(net.line.length_km.to_numpy(), index=kv_line).groupby(level=0).sum()
        )
    if len(net.trafo):
        kv_hv = bus_kv.loc[net.trafo.hv_bus].to_numpy()
        levels["trafos_hv_side"] = pd.Series(kv_hv).value_counts()
    levels = levels.fillna(0).sort_index(ascending=False)
    levels.index.name = "vn_kv"
    for col in levels:
        if col != "length_km":
            levels[col] = levels[col].astype(int)

    def tot(table: str, col: str, scaled: bool = True) -> float:
        if not _n(net, table) or col not in net[table]:
            return 0.0
        df = net[table][net[table].in_service]
        vals = df[col].astype(float)
        if scaled and "scaling" in df:
            vals = vals * df.scaling.astype(float)
        return float(vals.sum())

    totals = {
        "load_p_mw": tot("load", "p_mw"),
        "load_q_mvar": tot("load", "q_mvar"),
        "gen_p_mw": tot("gen", "p_mw"),
        "gen_max_p_mw": tot("gen", "max_p_mw", scaled=False),
        "sgen_p_mw": tot("sgen", "p_mw"),
        "storage_max_e_mwh": tot("storage", "max_e_mwh", scaled=False),
        "line_length_km": float(net.line.length_km.sum()) if len(net.line) else 0.0,
        "dcline_p_mw": tot("dcline", "p_mw", scaled=False),
    }
    totals = {k: v for k, v in totals.items() if v}

    remarks: list[str] = []
    for table in ("bus", "line", "trafo", "trafo3w", "gen", "sgen", "load", "ext_grid", "dcline"):
        if _n(net, table) and "in_service" in net[table]:
            oos = net[table].index[~net[table].in_service.astype(bool)]
            if len(oos):
                remarks.append(f"{len(oos)} {table} out of service: {_short(oos)}")
    try:
        isolated = sorted(unsupplied_buses(net))
    except Exception:  # topology needs networkx; a summary must not fail on it
        isolated = []
    live_isolated = [b for b in isolated if net.bus.in_service.get(b, False)]
    if live_isolated:
        remarks.append(
            f"{len(live_isolated)} in-service buses not connected to any slack: "
            f"{_short(live_isolated)}"
        )
    if _n(net, "switch"):
        opened = net.switch.index[~net.switch.closed.astype(bool)]
        if len(opened):
            remarks.append(f"{len(opened)} open switches: {_short(opened)}")
    if len(net.line) and (net.line.max_i_ka <= 0).any():
        remarks.append("lines without current rating (max_i_ka <= 0)")
    remarks += validate_remarks(net)  # placeholder ratings, negative resistances

    plan = (
        net["plan_figures"]
        if "plan_figures" in net and isinstance(net["plan_figures"], pd.DataFrame)
        else None
    )
    description = str(net["description"]) if "description" in net else ""
    return CaseSummary(str(net.name or ""), description, counts, levels, totals, remarks, plan)


def _short(ids: object, limit: int = 10) -> str:
    arr = np.asarray(list(ids))
    text = ", ".join(str(i) for i in arr[:limit])
    return text + (f" ... ({len(arr)} in all)" if len(arr) > limit else "")


def describe_bundled(path: str) -> str:
    """One-line description of a bundled case file without building the net."""
    import json

    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    obj = raw.get("_object", {})
    desc = obj.get("description", "")
    return desc if isinstance(desc, str) else ""
