"""N-1 results as tables: per outage, per monitored element, per bus (:class:`N1Result`).

Failed outages (``diverged``, ``not_simulated``) contribute NaN, never 0, to every statistic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gridplan.core.contingency_running import RunningStats
from gridplan.model.contingency_model import ContingencyModel
from gridplan.model.outages import OutageSpec

#: every outage status (``outages.status``)
STATUSES = ("converged", "islanded", "diverged", "not_simulated")


@dataclass
class N1Result:
    """Results of a contingency scan (tables in pandapower naming and units).

    Attributes
    ----------
    outages : DataFrame
        One row per outage: ``name``, ``elements``, ``status``, ``reason``, ``iterations``,
        ``max_mismatch_pu``, ``cut_load_mw`` (loads and storage charging, storage p_mw > 0
        being a demand as in the power flow's balance), ``cut_gen_mw``, ``n_bus_cut``,
        ``lost_p_mw`` (active power the outaged elements supplied: a gen's or sgen's P, a
        dcline's sending-end ``p_mw``, a storage's ``-p_mw``, 0 for branches),
        ``max_loading_percent`` with ``max_loading_element``, ``min_vm_pu`` / ``min_vm_bus``,
        ``max_vm_pu`` / ``max_vm_bus``, ``screened_out`` (screen mode).
    elements : DataFrame
        One row per monitored branch element (line, trafo, trafo3w, impedance; an impedance's
        loading is against its ``sn_mva``): ``element_type``, ``element``,
        ``base_loading_percent``, ``max_loading_percent``, ``cause_index`` (outage position),
        ``cause_name`` and the top-N worst outages ``top{i}_outage`` / ``top{i}_loading_percent``;
        ``cause_estimate`` / ``top{i}_estimate`` mark values that are the screen's estimate.
    buses : DataFrame
        One row per bus: ``base_vm_pu``, ``min_vm_pu`` / ``min_vm_cause``, ``max_vm_pu`` /
        ``max_vm_cause``, ``min_vm_estimate`` / ``max_vm_estimate`` (screen's estimate).
    violations : DataFrame
        Long format: ``outage``, ``outage_name``, ``element_type``, ``element``, ``quantity``
        (``loading_percent``, ``vm_pu``), ``unit`` (``%``, ``pu``: of the four value columns),
        ``value``, ``limit``, ``base_value``, ``change``, ``violation``, ``estimate`` (the
        outage was cleared by the screen: value and change are its estimate).
        Every violation, unless ``violations_streamed``: then the rows went to a
        ``violation_sink`` (the HDF5 file) in batches of whole blocks and this holds only the
        ``WORST_VIOLATIONS_KEPT`` (100) worst rows per quantity, worst = farthest beyond the
        limit (percent points for loading, pu for voltage).
    violations_streamed : bool
        True when the violation rows were passed to a sink instead of kept here.
    n_violations : int
        Number of violation rows (all of them, streamed or not).
    violation_counts : dict
        Violation rows per quantity (``loading_percent``, ``vm_pu``).
    n_violation_outages : int
        Outages with at least one violation.
    rule : dict
        The report rule: ``report`` (``changed`` or ``all``), ``worsen_loading_percent``,
        ``worsen_vm_pu``.
    base_violations : DataFrame
        The base case's violations, once: ``element_type``, ``element``, ``quantity``,
        ``unit``, ``value``, ``limit``.
    """

    case_name: str
    mode: str
    limits: dict[str, float]
    outages: pd.DataFrame
    elements: pd.DataFrame
    buses: pd.DataFrame
    violations: pd.DataFrame
    timings_s: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False
    monitored: pd.DataFrame | None = None
    violations_streamed: bool = False
    n_violations: int = 0
    violation_counts: dict[str, int] = field(default_factory=dict)
    n_violation_outages: int = 0
    rule: dict[str, object] = field(default_factory=lambda: {"report": "all"})
    base_violations: pd.DataFrame | None = None

    def status_counts(self) -> dict[str, int]:
        """Number of outages per status that occurs."""
        return {str(k): int(v) for k, v in self.outages.status.value_counts().items()}


@dataclass
class OutageState:
    """Per-outage arrays the scan fills in (positions as in the outage list)."""

    status: np.ndarray  # object: converged, islanded, diverged, not_simulated
    reason: np.ndarray  # object: why not simulated / diverged ("" otherwise)
    iterations: np.ndarray  # int32
    max_mismatch_pu: np.ndarray  # float64, NaN when not solved
    cut_load_mw: np.ndarray  # float64, MW (loads, storage charging); NaN until simulated
    cut_gen_mw: np.ndarray  # float64, MW (gen, sgen); NaN until simulated
    n_bus_cut: np.ndarray  # int64
    screened_out: np.ndarray  # bool
    lost_p_mw: np.ndarray  # float64, MW the outaged elements supplied; NaN if not translated

    @classmethod
    def new(cls, reason: np.ndarray, lost_p_mw: np.ndarray | None = None) -> OutageState:
        """Every outage ``not_simulated``, with the ``reason`` (object array) given so far and
        the active power its elements supply (MW, :func:`~gridplan.model.contingency_outages.
        lost_p_mw`; NaN when not given)."""
        n_out = reason.shape[0]
        return cls(
            lost_p_mw=np.full(n_out, np.nan) if lost_p_mw is None else lost_p_mw,
            status=np.full(n_out, "not_simulated", dtype=object),
            reason=reason,
            iterations=np.zeros(n_out, dtype=np.int32),
            max_mismatch_pu=np.full(n_out, np.nan),
            cut_load_mw=np.full(n_out, np.nan),  # NaN until simulated
            cut_gen_mw=np.full(n_out, np.nan),
            n_bus_cut=np.zeros(n_out, dtype=np.int64),
            screened_out=np.zeros(n_out, dtype=bool),
        )


def outage_table(
    model: ContingencyModel,
    specs: list[OutageSpec],
    names: np.ndarray,
    state: OutageState,
    stats: RunningStats,
) -> pd.DataFrame:
    """One row per outage (see :class:`N1Result`)."""
    el_names = np.array(
        [f"{k} {i}" for k, i in zip(model.mon_kind, model.mon_index, strict=True)], dtype=object
    )
    bus_idx = model.bus_index
    out_df = pd.DataFrame(
        {
            "name": names,
            "elements": [
                f"{el[0][0]} {el[0][1]}" if len(el) == 1 else ";".join(f"{k} {i}" for k, i in el)
                for _, el in specs
            ],
            "status": state.status,
            "reason": state.reason,
            "iterations": state.iterations,
            "max_mismatch_pu": state.max_mismatch_pu,
            "cut_load_mw": state.cut_load_mw,
            "cut_gen_mw": state.cut_gen_mw,
            "n_bus_cut": state.n_bus_cut,
            "lost_p_mw": state.lost_p_mw,
            "max_loading_percent": stats.o_ld,
            "max_loading_element": np.where(
                stats.o_el >= 0, el_names[np.maximum(stats.o_el, 0)], ""
            ),
            "min_vm_pu": stats.o_vmin,
            "min_vm_bus": np.where(
                stats.o_vmin_bus >= 0, bus_idx[np.maximum(stats.o_vmin_bus, 0)], -1
            ),
            "max_vm_pu": stats.o_vmax,
            "max_vm_bus": np.where(
                stats.o_vmax_bus >= 0, bus_idx[np.maximum(stats.o_vmax_bus, 0)], -1
            ),
            "screened_out": state.screened_out,
        },
        copy=False,
    )
    out_df.index.name = "outage"
    return out_df


def element_table(
    model: ContingencyModel,
    stats: RunningStats,
    names: np.ndarray,
    base_eld: np.ndarray,
    top: int,
    estimate: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per monitored element with its ``top`` worst outages (see :class:`N1Result`)."""
    tv = np.where(np.isfinite(stats.top_val), stats.top_val, np.nan)
    stats.top_idx[~np.isfinite(stats.top_val)] = -1
    el = {
        "element_type": model.mon_kind,
        "element": model.mon_index,
        "base_loading_percent": base_eld,
        "max_loading_percent": tv[:, 0],
        "cause_index": stats.top_idx[:, 0],
        "cause_name": np.array(
            [names[c] if c >= 0 else "" for c in stats.top_idx[:, 0]], dtype=object
        ),
    }
    for i in range(top):
        el[f"top{i + 1}_outage"] = stats.top_idx[:, i]
        el[f"top{i + 1}_loading_percent"] = tv[:, i]
    el_df = pd.DataFrame(el, copy=False)
    el_df.index.name = "row"
    return mark_estimates(el_df, estimate)


def bus_table(
    model: ContingencyModel,
    stats: RunningStats,
    base_vm: np.ndarray,
    estimate: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per bus with its extreme post-outage voltages (see :class:`N1Result`)."""
    bus_df = pd.DataFrame(
        {
            "bus": model.bus_index,
            "base_vm_pu": base_vm,
            "min_vm_pu": np.where(np.isfinite(stats.vmin), stats.vmin, np.nan),
            "min_vm_cause": stats.vmin_idx,
            "max_vm_pu": np.where(np.isfinite(stats.vmax), stats.vmax, np.nan),
            "max_vm_cause": stats.vmax_idx,
        },
        copy=False,
    )
    bus_df.index.name = "row"
    return mark_estimates(bus_df, estimate)


#: estimate flag -> (the outage column it is read from, the column it follows)
_ESTIMATE_OF = {
    "cause_estimate": ("cause_index", "cause_name"),
    "min_vm_estimate": ("min_vm_cause", "min_vm_cause"),
    "max_vm_estimate": ("max_vm_cause", "max_vm_cause"),
}


def mark_estimates(df: pd.DataFrame, estimate: np.ndarray | None) -> pd.DataFrame:
    """``df`` (an element or bus table) with a bool column beside each worst value telling
    whether its outage was cleared by the screen (the value is then an estimate).

    ``estimate``: bool per outage position (None: no outage was screened).
    """
    flags = {f: spec for f, spec in _ESTIMATE_OF.items() if spec[0] in df}
    k = 1
    while f"top{k}_outage" in df:
        flags[f"top{k}_estimate"] = (f"top{k}_outage", f"top{k}_loading_percent")
        k += 1
    df = df.drop(columns=[f for f in flags if f in df])
    for flag, (cause, after) in flags.items():
        idx = df[cause].to_numpy(dtype=np.int64)
        mark = np.zeros(idx.size, dtype=bool)
        if estimate is not None and estimate.size:
            mark = (idx >= 0) & estimate[np.clip(idx, 0, estimate.size - 1)]
        df.insert(df.columns.get_loc(after) + 1, flag, mark)
    return df
