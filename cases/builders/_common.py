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
    """A plan figure by dotted path -> (value, full source document name).

    The seed file abbreviates repeated sources (``004_...``) and leaves the source off figures
    that follow one from the same document in their section; both are resolved here: an
    abbreviation to the one full name with that prefix, a missing source to the source of the
    section's first figure that names one.
    """
    figures = seeds.figures_with_sources()
    value = seeds.get(path)
    if path in figures:
        source = figures[path][1]
    else:
        section = path.rsplit(".", 1)[0]
        named = [src for key, (_, src) in figures.items() if key.rsplit(".", 1)[0] == section]
        if not named:
            raise KeyError(f"seeds/{seeds.SEED_FILE}: no source for figure {path!r}")
        source = named[0]
    if source.endswith("..."):
        prefix = source[:-3]
        full = sorted(
            {
                src
                for _, src in figures.values()
                if src.startswith(prefix) and not src.endswith("...")
            }
        )
        if len(full) != 1:
            raise KeyError(f"seeds/{seeds.SEED_FILE}: source {source!r} of {path!r} is ambiguous")
        source = full[0]
    return value, source


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
        self.rows.append(
            {
                "figure": figure,
                "value": float(value),
                "unit": unit,
                "source": source,
                "element": element,
            }
        )

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
    "overhead_10kv": {
        "failure_rate_per_km_year": 0.10,
        "temporary_failure_rate_per_km_year": 0.30,
        "repair_time_h": 6.0,
    },
    # 35 kV collector cable of a wind farm (assumed from [493])
    "cable_35kv": {"failure_rate_per_km_year": 0.03, "repair_time_h": 12.0},
    # 35 kV overhead collector line: between RBTS' 11 kV rate and HV lines (assumed)
    "overhead_35kv": {
        "failure_rate_per_km_year": 0.05,
        "temporary_failure_rate_per_km_year": 0.15,
        "repair_time_h": 6.0,
    },
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


def add_switch(
    net: pp.pandapowerNet,
    bus: int,
    element: int,
    et: str,
    device: str,
    switching_time_h: float,
    closed: bool = True,
    name: str | None = None,
) -> int:
    """A switch with the reliability columns of docs/reliability-data.md.

    ``breaker``/``recloser`` become pandapower type ``CB``; ``tie``/``sectionalizer``/``fuse``
    ``LBS``; ``disconnector`` ``DS``. Breakers and reclosers carry the RBTS active failure rate.
    """
    sw_type = {
        "breaker": "CB",
        "recloser": "CB",
        "fuse": "LBS",
        "sectionalizer": "LBS",
        "tie": "LBS",
        "disconnector": "DS",
    }[device]
    rate = RELIABILITY["breaker"]["failure_rate_per_year"] if sw_type == "CB" else np.nan
    return pp.create_switch(
        net,
        bus,
        element,
        et,
        closed=closed,
        type=sw_type,
        name=name,
        device=device,
        switching_time_h=float(switching_time_h),
        failure_rate_per_year=rate,
    )


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
        bad.append(
            f"overload: lines {out['line_max_percent']:.1f} %, "
            f"trafos {out['trafo_max_percent']:.1f} %"
        )
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
    print(
        f"{path.name}: {len(net.bus)} buses, {path.stat().st_size / 1024:.0f} kB, "
        + ", ".join(f"{k}={v:.3f}" for k, v in summary.items())
    )
    return path


# --- distribution conductors and transformers ---------------------------------------------------
# r: maximum DC resistance at 20 degC (IEC 60228 class 2 for cable cores: Cu 300 mm2 0.0601,
# Cu 240 mm2 0.0754, Cu 630 mm2 0.0283 ohm/km; GB/T 1179-2008 for ACSR: LGJ-50/8 0.5946,
# LGJ-70/10 0.4217, LGJ-120/20 0.2496, LGJ-150/25 0.1939, LGJ-240/30 0.1181, LGJ-300/40 0.0961
# ohm/km) raised ~20 % for AC and operating temperature and rounded. x, c and ampacity are typical
# catalogue / design-handbook values for the construction named (single circuit, flat or
# triangular spacing ~1-1.5 m at 10 kV, ~3 m at 35 kV, ~4 m at 110 kV; cables buried in trefoil).
CONDUCTORS: dict[str, dict[str, float | str]] = {
    "YJLW03-64/110 1x630 Cu": {"r": 0.034, "x": 0.13, "c": 190.0, "max_i": 0.80, "type": "cs"},
    "LGJ-300/40 110kV": {"r": 0.115, "x": 0.40, "c": 9.1, "max_i": 0.69, "type": "ol"},
    "YJV22-26/35 3x300 Cu": {"r": 0.072, "x": 0.11, "c": 190.0, "max_i": 0.51, "type": "cs"},
    "LGJ-240/30 35kV": {"r": 0.142, "x": 0.38, "c": 9.5, "max_i": 0.61, "type": "ol"},
    "YJV22-8.7/15 3x300 Cu": {"r": 0.072, "x": 0.087, "c": 430.0, "max_i": 0.46, "type": "cs"},
    "LGJ-150/25 10kV": {"r": 0.233, "x": 0.34, "c": 10.0, "max_i": 0.45, "type": "ol"},
    "LGJ-120/20 10kV": {"r": 0.300, "x": 0.35, "c": 9.8, "max_i": 0.38, "type": "ol"},
    "LGJ-70/10 10kV": {"r": 0.506, "x": 0.37, "c": 9.3, "max_i": 0.27, "type": "ol"},
    "LGJ-50/8 10kV": {"r": 0.714, "x": 0.38, "c": 9.0, "max_i": 0.22, "type": "ol"},
    "YJV22-0.6/1 4x240 Cu": {"r": 0.090, "x": 0.08, "c": 0.0, "max_i": 0.43, "type": "cs"},
}

# Two-winding transformers, typical of GB/T 6451-2015 (oil, 35-110 kV) and GB/T 10228-2015
# (dry-type 10 kV) energy-efficiency class 11/13 units: vk, load loss (-> vkr), no-load loss pfe,
# no-load current i0. Distribution units: 10 +/- 2 x 2.5 % off-load taps on the HV side.
TRANSFORMERS: dict[str, dict[str, float]] = {
    "SZ11-40000/110 110/10.5kV": {
        "sn_mva": 40.0,
        "vn_hv_kv": 110.0,
        "vn_lv_kv": 10.5,
        "vk_percent": 10.5,
        "vkr_percent": 0.37,
        "pfe_kw": 27.0,
        "i0_percent": 0.3,
    },
    "SZ11-20000/110 110/10.5kV": {
        "sn_mva": 20.0,
        "vn_hv_kv": 110.0,
        "vn_lv_kv": 10.5,
        "vk_percent": 10.5,
        "vkr_percent": 0.42,
        "pfe_kw": 16.0,
        "i0_percent": 0.4,
    },
    "SZ11-100000/110 115/36.75kV": {
        "sn_mva": 100.0,
        "vn_hv_kv": 115.0,
        "vn_lv_kv": 36.75,
        "vk_percent": 10.5,
        "vkr_percent": 0.31,
        "pfe_kw": 55.0,
        "i0_percent": 0.2,
    },
    "SCB11-800/10 10/0.4kV": {
        "sn_mva": 0.8,
        "vn_hv_kv": 10.0,
        "vn_lv_kv": 0.4,
        "vk_percent": 6.0,
        "vkr_percent": 0.85,
        "pfe_kw": 1.3,
        "i0_percent": 0.8,
    },
    "S13-M-315/10 10/0.4kV": {
        "sn_mva": 0.315,
        "vn_hv_kv": 10.0,
        "vn_lv_kv": 0.4,
        "vk_percent": 4.0,
        "vkr_percent": 1.15,
        "pfe_kw": 0.34,
        "i0_percent": 0.9,
    },
    "S13-M-200/10 10/0.4kV": {
        "sn_mva": 0.2,
        "vn_hv_kv": 10.0,
        "vn_lv_kv": 0.4,
        "vk_percent": 4.0,
        "vkr_percent": 1.3,
        "pfe_kw": 0.24,
        "i0_percent": 1.0,
    },
    "S13-M-100/10 10/0.4kV": {
        "sn_mva": 0.1,
        "vn_hv_kv": 10.0,
        "vn_lv_kv": 0.4,
        "vk_percent": 4.0,
        "vkr_percent": 1.5,
        "pfe_kw": 0.15,
        "i0_percent": 1.2,
    },
}


def add_line(
    net: pp.pandapowerNet,
    f: int,
    t: int,
    km: float,
    conductor: str,
    name: str,
    reliability: str | None = None,
) -> int:
    """A line of a named conductor from CONDUCTORS, with reliability class data if given."""
    d = CONDUCTORS[conductor]
    idx = pp.create_line_from_parameters(
        net,
        f,
        t,
        length_km=km,
        r_ohm_per_km=d["r"],
        x_ohm_per_km=d["x"],
        c_nf_per_km=d["c"],
        max_i_ka=d["max_i"],
        name=name,
        type=d["type"],
        conductor=conductor,
    )
    if reliability:
        line_reliability(net, [idx], reliability)
    return idx


def add_trafo(
    net: pp.pandapowerNet,
    hv: int,
    lv: int,
    kind: str,
    name: str,
    reliability: str | None = None,
    tap_pos: int = 0,
    tap_step_percent: float = 2.5,
    tap_range: int = 2,
) -> int:
    """A transformer of a named type from TRANSFORMERS (HV-side taps), reliability data if given."""
    idx = pp.create_transformer_from_parameters(
        net,
        hv,
        lv,
        name=name,
        tap_side="hv",
        tap_neutral=0,
        tap_min=-tap_range,
        tap_max=tap_range,
        tap_step_percent=tap_step_percent,
        tap_pos=tap_pos,
        tap_changer_type="Ratio",
        model=kind,
        **TRANSFORMERS[kind],
    )
    if reliability:
        trafo_reliability(net, [idx], reliability)
    return idx


def add_load(
    net: pp.pandapowerNet,
    bus: int,
    p_mw: float,
    cos_phi: float,
    name: str,
    kind: str,
    customers: int,
    load_factor: float,
    reliability_class: str,
) -> int:
    """A load point with the reliability columns: customers, p_avg_mw, reliability_class."""
    q = p_mw * float(np.tan(np.arccos(cos_phi)))
    return pp.create_load(
        net,
        bus,
        p_mw=round(p_mw, 4),
        q_mvar=round(q, 4),
        name=name,
        kind=kind,
        customers=int(customers),
        p_avg_mw=round(p_mw * load_factor, 4),
        reliability_class=reliability_class,
    )


def split_evenly(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to ``weights`` summing exactly to ``total`` (largest remainder)."""
    raw = [total * w / sum(weights) for w in weights]
    out = [int(v) for v in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out
