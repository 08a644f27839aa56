"""Helpers shared by the case builders: seed figures, plan-figure table, reliability data, output.

Every builder is deterministic (no random numbers; element order fixed by the code) so that
rebuilding a case gives the bundled JSON file byte for byte.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan import seeds

CASES_DIR = Path(__file__).resolve().parent.parent

#: Voltage band every bundled case must meet at its operating point, pu.
VM_MIN_PU = 0.95
VM_MAX_PU = 1.05
#: Highest line / transformer loading allowed at the operating point, percent.
MAX_LOADING_PERCENT = 100.0


def seed(path: str) -> tuple[Any, str]:
    """A plan figure by dotted path -> (value, source document name)."""
    figures = seeds.figures_with_sources()
    if path not in figures:
        raise KeyError(f"seeds/{seeds.SEED_FILE}: no figure {path!r} with a source")
    return figures[path]


def seed_project(kind: str, nominal_kv: int) -> dict[str, Any]:
    """The ``[[transmission.projects]]`` entry of a kind ('ac'/'dc') and nominal voltage, kV."""
    for project in seeds.get("transmission.projects"):
        if project["kind"] == kind and project["nominal_kv"] == nominal_kv:
            return project
    raise KeyError(f"seeds/{seeds.SEED_FILE}: no {kind} project at {nominal_kv} kV")


@dataclass
class PlanFigures:
    """Collects the figures a case takes from the plan, for ``net["plan_figures"]``."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, figure: str, value: float, unit: str, source: str, element: str) -> None:
        """Record that ``element`` of the net carries plan figure ``figure``."""
        self.rows.append({"figure": figure, "value": float(value), "unit": unit,
                          "source": source, "element": element})

    def frame(self) -> pd.DataFrame:
        """The table stored as ``net["plan_figures"]``."""
        return pd.DataFrame(self.rows, columns=["figure", "value", "unit", "source", "element"])


# --- reliability data --------------------------------------------------------------------------
# Per component class. Sources (see docs/cases.md for the discussion):
#  [RBTS] R. N. Allan, R. Billinton, I. Sjarief, L. Goel, K. S. So, "A reliability test system for
#         educational purposes - basic distribution system data and results", IEEE Trans. Power
#         Systems 6(2), 1991: 11 kV overhead lines 0.065 /km-yr, 5 h repair; 11/0.415 kV
#         transformers 0.015 /yr, 200 h repair or 10 h replacement; breakers 0.006 /yr, 4 h;
#         manual switching 1 h.
#  [493]  IEEE Std 493-2007 (Gold Book): order of magnitude of cable, power transformer and
#         breaker failure rates and repair times in utility and industrial service.
#  Values marked "assumed" are planner's choices within those ranges, stated in docs/cases.md.
RELIABILITY: dict[str, dict[str, float]] = {
    # 10 kV XLPE cable, urban: fewer faults than overhead, long joint repair (assumed from [493])
    "cable_10kv": {"failure_rate_per_km_year": 0.04, "repair_time_h": 10.0},
    # 110 kV cable / line into the primary substation (assumed from [493])
    "line_110kv": {"failure_rate_per_km_year": 0.02, "repair_time_h": 10.0},
    # 10 kV bare overhead line, rural: above RBTS' 0.065 for tree contact and weather (assumed),
    # RBTS repair time plus 1 h travel on long rural feeders
    "overhead_10kv": {"failure_rate_per_km_year": 0.10, "temporary_failure_rate_per_km_year": 0.30,
                      "repair_time_h": 6.0},
    # 35 kV collector cable of a wind farm (assumed from [493])
    "cable_35kv": {"failure_rate_per_km_year": 0.03, "repair_time_h": 12.0},
    # 0.4 kV LV cable (assumed, like 10 kV cable but shorter repair)
    "cable_04kv": {"failure_rate_per_km_year": 0.05, "repair_time_h": 5.0},
    # 110/10 kV and 110/35 kV power transformers ([493] order; repair by spare unit)
    "trafo_primary": {"failure_rate_per_year": 0.02, "repair_time_h": 200.0},
    # 10/0.4 kV distribution and 35/0.69 kV turbine transformers: RBTS rate, RBTS replacement time
    "trafo_distribution": {"failure_rate_per_year": 0.015, "repair_time_h": 10.0},
    # breakers [RBTS]
    "breaker": {"failure_rate_per_year": 0.006, "switching_time_h": 1.0},
}

#: Manual switching time, h [RBTS]; automated switching in the eco-city (distribution automation)
SWITCHING_TIME_MANUAL_H = 1.0
SWITCHING_TIME_AUTOMATED_H = 0.1


def line_reliability(net: pp.pandapowerNet, lines: list[int], cls: str) -> None:
    """Write the reliability columns of component class ``cls`` on ``lines``."""
    for col, val in RELIABILITY[cls].items():
        net.line.loc[lines, col] = val


def trafo_reliability(net: pp.pandapowerNet, trafos: list[int], cls: str) -> None:
    """Write the reliability columns of component class ``cls`` on ``trafos``."""
    for col, val in RELIABILITY[cls].items():
        net.trafo.loc[trafos, col] = val


def add_switch(net: pp.pandapowerNet, bus: int, element: int, et: str, device: str,
               switching_time_h: float, closed: bool = True, name: str | None = None) -> int:
    """A switch with the reliability columns of docs/reliability-data.md.

    ``breaker``/``recloser`` become pandapower type ``CB``; ``tie``/``sectionalizer``/``fuse``
    ``LBS``; ``disconnector`` ``DS``. Breakers and reclosers carry the RBTS active failure rate.
    """
    sw_type = {"breaker": "CB", "recloser": "CB", "fuse": "LBS", "sectionalizer": "LBS",
               "tie": "LBS", "disconnector": "DS"}[device]
    rate = RELIABILITY["breaker"]["failure_rate_per_year"] if sw_type == "CB" else np.nan
    return pp.create_switch(net, bus, element, et, closed=closed, type=sw_type, name=name,
                            device=device, switching_time_h=float(switching_time_h),
                            failure_rate_per_year=rate)


def finish(net: pp.pandapowerNet, name: str, description: str, figures: PlanFigures) -> None:
    """Set the case name, its one-line description and the plan-figure table."""
    net.name = name
    net["description"] = description
    net["plan_figures"] = figures.frame()


def check_operating_point(net: pp.pandapowerNet) -> dict[str, float]:
    """Run ``pp.runpp`` with defaults on a copy and check the N-0 limits.

    Returns
    -------
    dict
        ``vm_min_pu``, ``vm_max_pu``, ``line_max_percent``, ``trafo_max_percent``,
        ``ext_grid_p_mw`` (sum) of the solved copy.

    Raises
    ------
    RuntimeError
        When the power flow does not converge or a limit is violated.
    """
    work = copy.deepcopy(net)
    pp.runpp(work)
    vm = work.res_bus.vm_pu.to_numpy()
    line = work.res_line.loading_percent.to_numpy() if len(work.line) else np.zeros(1)
    trafo = work.res_trafo.loading_percent.to_numpy() if len(work.trafo) else np.zeros(1)
    out = {
        "vm_min_pu": float(np.nanmin(vm)),
        "vm_max_pu": float(np.nanmax(vm)),
        "line_max_percent": float(np.nanmax(line)),
        "trafo_max_percent": float(np.nanmax(trafo)),
        "ext_grid_p_mw": float(work.res_ext_grid.p_mw.sum()),
    }
    bad = []
    if out["vm_min_pu"] < VM_MIN_PU or out["vm_max_pu"] > VM_MAX_PU:
        low = work.res_bus.index[work.res_bus.vm_pu < VM_MIN_PU].tolist()
        high = work.res_bus.index[work.res_bus.vm_pu > VM_MAX_PU].tolist()
        bad.append(f"voltage outside {VM_MIN_PU}-{VM_MAX_PU} pu: low {low[:10]}, high {high[:10]}")
    if max(out["line_max_percent"], out["trafo_max_percent"]) > MAX_LOADING_PERCENT:
        bad.append(f"overload: lines {out['line_max_percent']:.1f} %, "
                   f"trafos {out['trafo_max_percent']:.1f} %")
    if bad:
        raise RuntimeError(f"{net.name}: " + "; ".join(bad))
    return out


def to_json_text(net: pp.pandapowerNet) -> str:
    """The case file's text (pandapower JSON)."""
    return pp.to_json(net)


def write_case(net: pp.pandapowerNet) -> Path:
    """Check the operating point, then write ``cases/<net.name>.json``; returns the path."""
    summary = check_operating_point(net)
    path = CASES_DIR / f"{net.name}.json"
    path.write_text(to_json_text(net), encoding="utf-8")
    print(f"{path.name}: {len(net.bus)} buses, {path.stat().st_size / 1024:.0f} kB, "
          + ", ".join(f"{k}={v:.3f}" for k, v in summary.items()))
    return path
