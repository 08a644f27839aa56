"""Distribution reliability study: indices, verdict against the plan targets, ranking, what-if.

``run_reliability(net)`` converts the net once (:mod:`gridplan.model.reliability_data`), runs
the analytical failure-modes-and-effects evaluation (:mod:`gridplan.core.reliability`) and,
with ``method="mc"``, a Monte Carlo simulation of annual indices on the same event model.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandapower as pp
import pandas as pd
from pandapower.powerflow import LoadflowNotConverged

from gridplan import seeds
from gridplan.core import reliability as core
from gridplan.errors import CaseError
from gridplan.model.reliability_data import (
    DEVICE_FOR_WHATIF,
    ReliabilityDefaults,
    ReliabilityModel,
    build_reliability_model,
)
from gridplan.results.writer import ResultWriter

HOURS_PER_YEAR = core.HOURS_PER_YEAR
Z95 = 1.959963984540054  # two-sided 95 % normal quantile


@dataclass
class ReliabilityResult:
    """Tables of a reliability study (DataFrames, pandapower-style column names)."""

    case_name: str
    load_points: pd.DataFrame
    feeders: pd.DataFrame
    system: pd.DataFrame
    components: pd.DataFrame
    verdict: pd.DataFrame
    what_if: pd.DataFrame = field(default_factory=pd.DataFrame)
    mc_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    mc_years: pd.DataFrame = field(default_factory=pd.DataFrame)
    method: str = "analytical"
    transfer_check: str = "capacity"


def target_percent(reliability_class: str) -> float:
    """Supply-reliability target (RS-1, % of customer-hours supplied) for a class, from seeds."""
    return float(seeds.get(f"reliability_targets.{reliability_class}_min_percent"))


def _with_temporary(m: ReliabilityModel) -> tuple[ReliabilityModel, np.ndarray]:
    """Momentary rates per load point, and ``m`` with the temporary faults that no recloser
    clears added as sustained events (restored by re-closing after the switching time)."""
    mom, unrec = core.momentary_rates(m.network, m.temp_edge, m.temp_rate_per_year)
    if not unrec.any():
        return m, mom
    k = np.flatnonzero(unrec)
    ev = m.events
    restore = ev.restore_h if ev.restore_h is not None else np.full(len(ev.edge), np.nan)
    events = core.FailureEvents(
        edge=np.r_[ev.edge, m.temp_edge[k]],
        rate_per_year=np.r_[ev.rate_per_year, m.temp_rate_per_year[k]],
        repair_h=np.r_[ev.repair_h, np.full(len(k), m.temp_restore_h)],
        on_device=np.r_[ev.on_device, np.zeros(len(k), dtype=bool)],
        restore_h=np.r_[restore, np.full(len(k), np.nan)],
    )
    return dataclasses.replace(
        m,
        events=events,
        event_label=[*m.event_label, *(f"{m.temp_label[i]} (temporary)" for i in k)],
        event_kind=[*m.event_kind, *(["temporary"] * len(k))],
        event_length_km=np.r_[m.event_length_km, np.full(len(k), np.nan)],
    ), mom


class PowerFlowTransferCheck:
    """Checks a tie transfer with one AC power flow (pandapower) on a working copy of the net.

    The copy is made once; each check cuts the subtree off its feeder (the isolating device or
    branch above it), closes the tie, runs ``runpp`` and restores the copy. A transfer passes
    when the power flow converges, no line or transformer exceeds ``max_loading_percent`` and
    no supplied bus falls below ``min_vm_pu``. Results are cached per (subtree, tie).
    """

    def __init__(
        self,
        net: pp.pandapowerNet,
        m: ReliabilityModel,
        max_loading_percent: float = 100.0,
        min_vm_pu: float = 0.9,
    ) -> None:
        import copy

        self.net = copy.deepcopy(net)
        self.m = m
        self.max_loading = max_loading_percent
        self.min_vm = min_vm_pu
        nw = m.network
        self.parent_edge = np.full(nw.n_node, -1, dtype=np.int64)
        self.parent_edge[nw.edge_child] = np.arange(len(nw.edge_child))
        self.runs = 0

    def _switch_state(self, label: str, cut: bool) -> list[tuple[str, int, str, object]]:
        """Changes (table, index, column, old value) that cut ``label`` or close tie ``label``."""
        net = self.net
        changes: list[tuple[str, int, str, object]] = []
        for part in label.split(" || "):
            kind, idx = part.split(" ")[0], part.split(" ")[-1]
            if kind == "bus" and not cut:  # a what-if tie "bus a-b": a new switch, made once
                a, b = (int(x) for x in idx.split("-"))
                hit = net.switch[
                    (net.switch.et == "b") & (net.switch.bus == a) & (net.switch.element == b)
                ]
                sid = (
                    int(hit.index[0])
                    if len(hit)
                    else int(pp.create_switch(net, a, b, et="b", closed=False))
                )
                changes.append(("switch", sid, "closed", False))
            elif kind == "switch":
                changes.append(
                    ("switch", int(idx), "closed", bool(net.switch.at[int(idx), "closed"]))
                )
            elif kind in ("line", "trafo") and cut:
                changes.append(
                    (
                        kind,
                        int(idx),
                        "in_service",
                        bool(getattr(net, kind).at[int(idx), "in_service"]),
                    )
                )
            elif kind == "line":  # a tie line: close its open switches
                on = net.switch[(net.switch.et == "l") & (net.switch.element == int(idx))]
                changes += [("switch", int(i), "closed", bool(c)) for i, c in on.closed.items()]
        return changes

    def __call__(self, sub_node: int, tie: int) -> bool:
        net = self.net
        d = int(self.parent_edge[sub_node])
        if d < 0:
            return False
        cut = self._switch_state(self.m.edge_label[d], cut=True)
        close = self._switch_state(self.m.tie_label[tie], cut=False)
        try:
            for table, idx, col, _ in cut:
                getattr(net, table).at[idx, col] = False
            for table, idx, col, _ in close:
                getattr(net, table).at[idx, col] = True
            self.runs += 1
            try:
                pp.runpp(net, init="flat")
            except (LoadflowNotConverged, ValueError, KeyError, IndexError):
                return False
            load = [
                getattr(net, f"res_{t}").loading_percent.max()
                for t in ("line", "trafo")
                if len(getattr(net, f"res_{t}"))
            ]
            vm = net.res_bus.vm_pu.dropna()
            return bool(
                net.converged
                and all(x <= self.max_loading + 1e-9 for x in load if x == x)
                and (vm.empty or vm.min() >= self.min_vm - 1e-9)
            )
        finally:
            for table, idx, col, old in cut + close:
                getattr(net, table).at[idx, col] = old


def _evaluate(
    m: ReliabilityModel, transfer_ok=None
) -> tuple[ReliabilityModel, core.Segments, np.ndarray, np.ndarray, np.ndarray]:
    m, mom = _with_temporary(m)
    seg = core.build_segments(m.network, m.events, transfer_ok)
    lam, u = core.load_point_indices(seg, m.events, len(m.lp_load))
    return m, seg, lam, u, mom


def _maifi(mom: np.ndarray, customers: np.ndarray) -> float:
    n = float(customers.sum())
    return float(np.dot(mom, customers) / n) if n > 0 else 0.0


def _group_indices(
    m: ReliabilityModel, lam: np.ndarray, u: np.ndarray, mom: np.ndarray
) -> pd.DataFrame:
    rows = []
    net = m.network
    for feeder in sorted(set(m.lp_feeder), key=str):
        sel = m.lp_feeder == feeder
        cls = _majority_class(m.lp_class[sel], net.lp_customers[sel])
        rows.append(
            {
                "feeder": feeder,
                "reliability_class": cls,
                **core.system_indices(
                    lam[sel], u[sel], net.lp_customers[sel], net.lp_p_avg_mw[sel]
                ),
                "maifi_per_year": _maifi(mom[sel], net.lp_customers[sel]),
            }
        )
    return pd.DataFrame(rows).set_index("feeder")


def _majority_class(classes: np.ndarray, customers: np.ndarray) -> str:
    urban = float(customers[classes == "urban"].sum())
    rural = float(customers[classes == "rural"].sum())
    return "urban" if urban >= rural else "rural"


def _verdict(feeders: pd.DataFrame, system: pd.DataFrame, target: float | None) -> pd.DataFrame:
    rows = []
    scopes = [
        (f"feeder {k}" if not str(k).startswith("feeder") else str(k), r)
        for k, r in feeders.iterrows()
    ]
    scopes.append(("system", system.iloc[0]))
    for scope, r in scopes:
        cls = r["reliability_class"]
        tgt = target if target is not None else target_percent(cls)
        allowed = (1.0 - tgt / 100.0) * HOURS_PER_YEAR
        asai_pct = 100.0 * r["asai"]
        rows.append(
            {
                "scope": scope,
                "reliability_class": cls,
                "target_percent": tgt,
                "asai_percent": asai_pct,
                "saidi_h_per_year": r["saidi_h_per_year"],
                "allowed_unavailability_h_per_year": allowed,
                "margin_min_per_year": (allowed - r["saidi_h_per_year"]) * 60.0,
                "passed": bool(asai_pct >= tgt - 1e-12),
            }
        )
    return pd.DataFrame(rows).set_index("scope")


def _components(m: ReliabilityModel, seg: core.Segments) -> pd.DataFrame:
    ev = m.events
    n_ev = len(ev.edge)
    net = m.network
    ci, cf, cr = core.event_coefficients(seg, n_ev, net.lp_customers)
    _, ef, er = core.event_coefficients(seg, n_ev, net.lp_p_avg_mw)
    n_cust = float(net.lp_customers.sum())
    saidi = ev.rate_per_year * (cf + cr * ev.repair_h) / n_cust
    ens = ev.rate_per_year * (ef + er * ev.repair_h)
    df = pd.DataFrame(
        {
            "element": m.event_label,
            "name": [
                " || ".join(m.element_name.get(x, "") for x in lab.split(" || "))
                for lab in m.event_label
            ],
            "kind": m.event_kind,
            "failure_rate_per_year": ev.rate_per_year,
            "repair_time_h": ev.repair_h,
            "saifi_per_year": ev.rate_per_year * ci / n_cust,
            "saidi_h_per_year": saidi,
            "saidi_share_percent": 100 * saidi / saidi.sum() if saidi.sum() > 0 else 0.0,
            "ens_mwh_per_year": ens,
            "ens_share_percent": 100 * ens / ens.sum() if ens.sum() > 0 else 0.0,
        }
    )
    return df.sort_values("saidi_h_per_year", ascending=False).reset_index(drop=True)


_WHATIF = re.compile(r"^\s*(\w+)\s*@\s*(line|trafo|switch|bus)\s*:\s*(\d+)(?:\s*-\s*(\d+))?\s*$")


def apply_what_if(
    m: ReliabilityModel, change: str, defaults: ReliabilityDefaults
) -> ReliabilityModel:
    """A copy of ``m`` with one candidate change applied (the net is not touched).

    Changes: ``sectionalizer@line:12`` (also ``recloser``, ``fuse``, ``breaker``,
    ``disconnector``; at the upstream end of the element), ``tie@bus:12-40`` (a normally-open
    tie between two buses, unlimited capacity), ``underground@line:12`` (the line gets the MV
    cable failure rate per km and repair time of the defaults). Several changes joined by
    ``+`` form one candidate (``tie@bus:12-40+sectionalizer@line:7``).
    """
    if "+" in change:
        for part in change.split("+"):
            m = apply_what_if(m, part, defaults)
        return m
    mt = _WHATIF.match(change)
    if not mt:
        raise CaseError(
            f"--what-if {change!r}: must look like 'sectionalizer@line:12', "
            "'tie@bus:12-40' or 'underground@line:12'"
        )
    what, et, a, b = mt.group(1).lower(), mt.group(2), int(mt.group(3)), mt.group(4)
    net = m.network
    if what == "tie":
        if et != "bus" or b is None:
            raise CaseError(f"--what-if {change!r}: a tie joins two buses, e.g. 'tie@bus:12-40'")
        missing = [x for x in (a, int(b)) if x not in m.bus_node]
        if missing:
            raise CaseError(f"--what-if {change!r}: bus {missing} not in the net")
        new = dataclasses.replace(
            net,
            tie_a=np.r_[net.tie_a, m.bus_node[a]],
            tie_b=np.r_[net.tie_b, m.bus_node[int(b)]],
            tie_switch_time_h=np.r_[net.tie_switch_time_h, defaults.tie_switching_time_h],
            tie_capacity_mva=np.r_[net.tie_capacity_mva, math.inf],
        )
        return dataclasses.replace(m, network=new, tie_label=[*m.tie_label, f"bus {a}-{b}"])
    label = f"{et} {a}"
    if label not in m.element_edge:
        raise CaseError(f"--what-if {change!r}: {label} is not a branch of the supply tree")
    e = m.element_edge[label]
    if what in DEVICE_FOR_WHATIF:
        if net.edge_device[e] in core.PROTECTIVE and DEVICE_FOR_WHATIF[what] not in core.PROTECTIVE:
            raise CaseError(
                f"--what-if {change!r}: {label} already has a protective device; "
                "put the sectionalizer on another branch"
            )
        dev = net.edge_device.copy()
        dev[e] = DEVICE_FOR_WHATIF[what]
        t = net.edge_switch_time_h.copy()
        t[e] = defaults.switching_time_h
        return dataclasses.replace(
            m, network=dataclasses.replace(net, edge_device=dev, edge_switch_time_h=t)
        )
    if what == "underground":
        if et != "line":
            raise CaseError(f"--what-if {change!r}: only lines can be undergrounded")
        k = [i for i, lab in enumerate(m.event_label) if lab == label]
        rate = m.events.rate_per_year.copy()
        rep = m.events.repair_h.copy()
        for i in k:
            length = m.event_length_km[i]
            rate[i] = defaults.line_mv_cable_failure_rate_per_km_year * length
            rep[i] = defaults.line_mv_cable_repair_time_h
        return dataclasses.replace(
            m, events=dataclasses.replace(m.events, rate_per_year=rate, repair_h=rep)
        )
    raise CaseError(
        f"--what-if {change!r}: unknown change {what!r}, must be one of "
        f"{[*DEVICE_FOR_WHATIF, 'tie', 'underground']}"
    )


def run_reliability(
    net: pp.pandapowerNet,
    *,
    case_name: str = "",
    defaults: ReliabilityDefaults | None = None,
    target: float | None = None,
    method: str = "analytical",
    years: int = 10000,
    seed: int | None = 0,
    what_if: list[str] | None = None,
    transfer_check: str = "capacity",
) -> ReliabilityResult:
    """Evaluate the distribution reliability of a radially operated ``net``.

    Parameters
    ----------
    net : pandapowerNet
        Distribution net with the reliability columns of docs/reliability-data.md.
    case_name : str
        Name used in reports.
    defaults : ReliabilityDefaults, optional
        Fallback data for missing columns.
    target : float, optional
        Supply-reliability target in % (ASAI); default: the seeds target per class.
    method : {"analytical", "mc"}
        ``"mc"`` adds a Monte Carlo simulation of ``years`` years (seed ``seed``).
    what_if : list of str, optional
        Candidate changes evaluated one at a time (see :func:`apply_what_if`).
    transfer_check : {"capacity", "powerflow"}
        How a transfer over a tie is accepted: spare capacity on the supporting path
        (default), or additionally an AC power flow of the transfer (loadings <= 100 %,
        voltages >= 0.9 pu; one power flow per distinct subtree and tie).

    Returns
    -------
    ReliabilityResult
    """
    if method not in ("analytical", "mc"):
        raise CaseError(f"method must be 'analytical' or 'mc', got {method!r} instead")
    if transfer_check not in ("capacity", "powerflow"):
        raise CaseError(
            f"transfer_check must be 'capacity' or 'powerflow', got {transfer_check!r} instead"
        )
    if target is not None and not 0 < target < 100:
        raise CaseError(f"--target must be a percentage in (0, 100), got {target}")
    d = defaults or ReliabilityDefaults()
    m = build_reliability_model(net, d)
    if len(m.lp_load) == 0:
        raise CaseError(f"{case_name or 'net'}: no in-service loads, nothing to evaluate")
    base_model = m

    def checker(model: ReliabilityModel):
        return PowerFlowTransferCheck(net, model) if transfer_check == "powerflow" else None

    m, seg, lam, u, mom = _evaluate(m, checker(m))
    nw = m.network
    lp = pd.DataFrame(
        {
            "name": m.lp_name,
            "bus": m.lp_bus,
            "feeder": m.lp_feeder,
            "reliability_class": m.lp_class,
            "customers": nw.lp_customers,
            "p_avg_mw": nw.lp_p_avg_mw,
            "failure_rate_per_year": lam,
            "outage_duration_h": np.divide(u, lam, out=np.zeros_like(u), where=lam > 0),
            "unavailability_h_per_year": u,
            "ens_mwh_per_year": u * nw.lp_p_avg_mw,
            "momentary_per_year": mom,
        },
        index=pd.Index(m.lp_load, name="load"),
    )
    feeders = _group_indices(m, lam, u, mom)
    system = pd.DataFrame(
        [
            {
                "reliability_class": _majority_class(m.lp_class, nw.lp_customers),
                **core.system_indices(lam, u, nw.lp_customers, nw.lp_p_avg_mw),
                "maifi_per_year": _maifi(mom, nw.lp_customers),
            }
        ],
        index=pd.Index(["system"], name="scope"),
    )
    result = ReliabilityResult(
        case_name=case_name,
        load_points=lp,
        feeders=feeders,
        system=system,
        components=_components(m, seg),
        verdict=_verdict(feeders, system, target),
        method=method,
        transfer_check=transfer_check,
    )
    if what_if:
        rows = []
        base = system.iloc[0]
        for change in what_if:
            m2 = apply_what_if(base_model, change, d)
            _, _, lam2, u2, mom2 = _evaluate(m2, checker(m2))
            s2 = core.system_indices(lam2, u2, nw.lp_customers, nw.lp_p_avg_mw)
            rows.append(
                {
                    "change": change,
                    "saifi_per_year": s2["saifi_per_year"],
                    "saidi_h_per_year": s2["saidi_h_per_year"],
                    "ens_mwh_per_year": s2["ens_mwh_per_year"],
                    "delta_saifi_per_year": s2["saifi_per_year"] - base.saifi_per_year,
                    "delta_maifi_per_year": _maifi(mom2, nw.lp_customers) - base.maifi_per_year,
                    "delta_saidi_min_per_year": 60
                    * (s2["saidi_h_per_year"] - base.saidi_h_per_year),
                    "delta_ens_mwh_per_year": s2["ens_mwh_per_year"] - base.ens_mwh_per_year,
                    "asai_percent": 100 * s2["asai"],
                }
            )
        result.what_if = pd.DataFrame(rows).set_index("change")
    if method == "mc":
        if years < 2:
            raise CaseError(f"--years must be at least 2, got {years}")
        rng = np.random.default_rng(seed)
        f, dd, e = core.sample_annual(seg, m.events, nw.lp_customers, nw.lp_p_avg_mw, years, rng)
        result.mc_years = pd.DataFrame(
            {"saifi_per_year": f, "saidi_h_per_year": dd, "ens_mwh_per_year": e},
            index=pd.RangeIndex(years, name="year"),
        )
        rows = []
        base = system.iloc[0]
        for col, vals in result.mc_years.items():
            mean = float(vals.mean())
            se = float(vals.std(ddof=1) / math.sqrt(years))
            rows.append(
                {
                    "index_name": col,
                    "analytical": float(base[col]),
                    "mean": mean,
                    "std_error": se,
                    "ci95_low": mean - Z95 * se,
                    "ci95_high": mean + Z95 * se,
                    "p05": float(np.percentile(vals, 5)),
                    "p50": float(np.percentile(vals, 50)),
                    "p95": float(np.percentile(vals, 95)),
                    "analytical_in_ci95": bool(abs(mean - base[col]) <= Z95 * se),
                }
            )
        result.mc_summary = pd.DataFrame(rows).set_index("index_name")
    return result


def write_reliability(w: ResultWriter, result: ReliabilityResult) -> None:
    """Write the study's tables under ``/reliability`` (see docs/results-format.md)."""
    w.set_attrs(
        "reliability",
        method=result.method,
        case_name=result.case_name,
        transfer_check=result.transfer_check,
    )
    w.write_table("reliability/load_points", result.load_points)
    w.write_table("reliability/feeders", result.feeders)
    w.write_table("reliability/system", result.system)
    w.write_table("reliability/components", result.components)
    w.write_table("reliability/verdict", result.verdict)
    if not result.what_if.empty:
        w.write_table("reliability/what_if", result.what_if)
    if not result.mc_summary.empty:
        w.write_table("reliability/mc_summary", result.mc_summary)
        w.write_table("reliability/mc_years", result.mc_years)


def plot_saidi_contributions(result: ReliabilityResult, path: str | Path, top: int = 15) -> Path:
    """Bar chart of the ``top`` components by SAIDI contribution (min/customer-yr) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    comp = result.components.head(top)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(comp) + 1.5))
    labels = [f"{e} ({n})" if n else e for e, n in zip(comp.element, comp.name, strict=True)]
    ax.barh(labels[::-1], 60 * comp.saidi_h_per_year.to_numpy()[::-1], color="tab:blue")
    ax.set_xlabel("SAIDI contribution (min per customer-year)")
    total = 60 * float(result.system.iloc[0].saidi_h_per_year)
    ax.set_title(f"{result.case_name}: SAIDI {total:.1f} min/customer-yr, top {len(comp)}")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
