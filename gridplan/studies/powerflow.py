"""Single power flow (AC Newton-Raphson or DC) with planner-facing result tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.model.branches import BranchModel
from gridplan.model.network import CompiledNetwork, solve_base_case
from gridplan.results.tables.powerflow import ELEMENT_TABLES
from gridplan.results.writer import ResultWriter

TOLERANCE_MVA = 1e-8  # pandapower's default NR tolerance on the pu power mismatch

#: active-power balance terms: (term, element table, result column, side). Supply terms are
#: injections into the AC grid, demand terms are withdrawals from it, each in pandapower's own
#: sign (load-type elements: consumption positive; storage charging positive, the convention
#: n1's cut_load_mw uses too). The DC links' terms are their losses (power into a link minus
#: power out of it); what they carry between AC areas is reported beside the balance.
BALANCE_TERMS: tuple[tuple[str, str, str, str], ...] = (
    ("ext_grid", "ext_grid", "p_mw", "supply"),
    ("gen", "gen", "p_mw", "supply"),
    ("sgen", "sgen", "p_mw", "supply"),
    ("asymmetric_sgen", "asymmetric_sgen", "p_mw", "supply"),
    ("load", "load", "p_mw", "demand"),
    ("asymmetric_load", "asymmetric_load", "p_mw", "demand"),
    ("motor", "motor", "p_mw", "demand"),
    ("storage", "storage", "p_mw", "demand"),
    ("shunt", "shunt", "p_mw", "demand"),
    ("ward", "ward", "p_mw", "demand"),
    ("xward", "xward", "p_mw", "demand"),
    ("line_losses", "line", "pl_mw", "demand"),
    ("trafo_losses", "trafo", "pl_mw", "demand"),
    ("trafo3w_losses", "trafo3w", "pl_mw", "demand"),
    ("impedance_losses", "impedance", "pl_mw", "demand"),
    ("switch_losses", "switch", "", "demand"),
    ("dcline_losses", "dcline", "", "demand"),
)


@dataclass
class PowerFlowResult:
    """Power-flow results: tables keyed ``bus``, ``line``, ``trafo``, ``trafo3w`` and a summary."""

    case_name: str
    algorithm: Literal["nr", "dc"]
    converged: bool
    iterations: int
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def summary(self) -> pd.DataFrame:
        """One-row table: convergence, losses, extreme voltages, total load and generation."""
        return self.tables["summary"]

    def most_loaded(self, element: str, n: int = 10) -> pd.DataFrame:
        """The ``n`` most loaded elements of ``element`` (in service only), by loading_percent."""
        df = self.tables.get(element)
        if df is None or df.empty:
            return pd.DataFrame()
        df = df[df["in_service"]] if "in_service" in df else df
        return df.sort_values("loading_percent", ascending=False).head(n)


def run_powerflow(
    net: pp.pandapowerNet,
    *,
    dc: bool = False,
    max_iteration: int | Literal["auto"] = "auto",
    tolerance_mva: float = TOLERANCE_MVA,
    init: str = "auto",
    case_name: str | None = None,
) -> PowerFlowResult:
    """Run pandapower's AC (Newton-Raphson) or DC power flow on a copy of ``net``.

    The copy is solved by :func:`gridplan.model.network.solve_base_case` (its options,
    ``max_iteration``, ``tolerance_mva`` and ``init`` as given here).
    Branch flows, currents and loadings of the AC result are recomputed from the bus voltages by
    the ``branchflow`` kernel (identical to pandapower's to ~1e-10). Raises
    :class:`ConvergenceError` when the AC power flow does not converge.
    """
    name = case_name or str(net.name or "case")
    work = solve_base_case(
        net,
        where=name,
        dc=dc,
        max_iteration=max_iteration,
        tolerance_mva=tolerance_mva,
        init=init,
    )
    return _collect(work, name, "dc" if dc else "nr")


def _collect(net: pp.pandapowerNet, name: str, algorithm: Literal["nr", "dc"]) -> PowerFlowResult:
    iterations = int(net._ppc.get("iterations", 0) or 0)
    bus = pd.DataFrame(
        {
            "vm_pu": net.res_bus.vm_pu.to_numpy(dtype=float),
            "va_degree": net.res_bus.va_degree.to_numpy(dtype=float),
            "p_mw": net.res_bus.p_mw.to_numpy(dtype=float),
            "q_mvar": net.res_bus.q_mvar.to_numpy(dtype=float),
            "vn_kv": net.bus.vn_kv.to_numpy(dtype=float),
            "in_service": net.bus.in_service.to_numpy(dtype=bool),
            "name": net.bus.name.to_numpy(),
        },
        index=net.bus.index.rename("bus"),
    )
    tables: dict[str, pd.DataFrame] = {"bus": bus}
    if algorithm == "nr":
        network = CompiledNetwork.from_solved(net)
        model = BranchModel.from_network(network)
        v = network.ppc_v
        # vm/va straight from the solved ppc voltages, so the file holds the solver's own numbers
        rows = model.bus_lookup[net.bus.index.to_numpy()]
        ok = net.bus.in_service.to_numpy(dtype=bool) & np.isfinite(
            net.res_bus.vm_pu.to_numpy(dtype=float)
        )
        bus.loc[ok, "vm_pu"] = np.abs(v[rows[ok]])
        bus.loc[ok, "va_degree"] = np.rad2deg(np.angle(v[rows[ok]]))
        tables.update(model.element_tables(net, v))
    else:
        tables.update(_dc_tables(net))
    tables.update(_element_tables(net, skip=set(tables)))
    tables["balance"] = _balance(net, tables)
    tables["summary"] = _summary(net, tables, iterations)
    return PowerFlowResult(name, algorithm, True, iterations, tables)


def _balance(net: pp.pandapowerNet, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Active-power balance of a solved net: one row per term the case has (MW), then the
    mismatch (supply minus demand, which closes to the solver tolerance)."""
    rows: list[tuple[str, str, float]] = []
    for term, el, col, side in BALANCE_TERMS:
        if el not in net or not isinstance(net[el], pd.DataFrame) or not len(net[el]):
            continue
        res = tables.get(el) if el in ("line", "trafo", "trafo3w") else None
        if res is None:
            res = net.get(f"res_{el}")
        if res is None or not len(res):
            continue
        if el == "switch":
            if "p_from_mw" not in res or "p_to_mw" not in res:
                continue
            p = res.p_from_mw.to_numpy(dtype=float) + res.p_to_mw.to_numpy(dtype=float)
            if not np.nansum(np.abs(p)):
                continue
        elif el == "dcline":
            p = res.p_from_mw.to_numpy(dtype=float) + res.p_to_mw.to_numpy(dtype=float)
        elif col in res:
            p = res[col].to_numpy(dtype=float)
        else:
            continue
        rows.append((term, side, float(np.nansum(p))))
    supply = sum(v for _, s, v in rows if s == "supply")
    demand = sum(v for _, s, v in rows if s == "demand")
    rows.append(("mismatch", "", supply - demand))
    df = pd.DataFrame(rows, columns=["term", "side", "p_mw"]).set_index("term")
    if len(net.dcline) and "res_dcline" in net and len(net.res_dcline):
        df.attrs["dcline_transfer_mw"] = float(
            np.nansum(np.abs(net.res_dcline.p_from_mw.to_numpy(dtype=float)))
        )
    return df


def _dc_tables(net: pp.pandapowerNet) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for el, cols in (
        ("line", ["p_from_mw", "p_to_mw", "i_ka", "loading_percent"]),
        ("trafo", ["p_hv_mw", "p_lv_mw", "i_hv_ka", "i_lv_ka", "loading_percent"]),
        ("trafo3w", ["p_hv_mw", "p_mv_mw", "p_lv_mw", "loading_percent"]),
    ):
        if len(net[el]):
            df = net[f"res_{el}"][cols].astype(float).copy()
            df["in_service"] = net[el].in_service.to_numpy(dtype=bool)
            df["name"] = net[el].name.to_numpy()
            df.index = net[el].index.rename(el)
            out[el] = df
    return out


def _element_tables(net: pp.pandapowerNet, skip: set[str]) -> dict[str, pd.DataFrame]:
    """pandapower's result table of every other element type the case has (declared columns)."""
    out: dict[str, pd.DataFrame] = {}
    for el, (_desc, keys, results) in ELEMENT_TABLES.items():
        if el in skip or el not in net or not len(net[el]) or f"res_{el}" not in net:
            continue
        tab = net[el]
        res = net[f"res_{el}"].reindex(tab.index)
        df = pd.DataFrame(index=tab.index.rename(el))
        for col in keys:
            if col in tab:
                df[col] = tab[col].to_numpy()
        for col in results:
            if col in res:
                df[col] = res[col].to_numpy(dtype=float)
        if "in_service" in tab:
            df["in_service"] = tab.in_service.to_numpy(dtype=bool)
        df["name"] = tab.name.to_numpy() if "name" in tab else ""
        out[el] = df
    return out


def _summary(
    net: pp.pandapowerNet, tables: dict[str, pd.DataFrame], iterations: int
) -> pd.DataFrame:
    bus = tables["bus"]
    live = bus[bus.in_service & np.isfinite(bus.vm_pu)]

    def branch_sum(col: str) -> float:
        return sum(
            float(tables[el][col].sum())
            for el in ("line", "trafo", "trafo3w")
            if el in tables and col in tables[el]
        )

    bal = tables["balance"].p_mw
    p_load = float(bal.get("load", 0.0))
    # storage is demand (charging positive, pandapower's sign), not negative generation
    p_gen = float(bal.get("gen", 0.0) + bal.get("sgen", 0.0))
    p_ext = (
        float(np.nansum(net.res_ext_grid.p_mw.to_numpy(dtype=float))) if len(net.ext_grid) else 0.0
    )
    row = {
        "converged": True,
        "iterations": iterations,
        "p_loss_mw": branch_sum("pl_mw"),
        "q_loss_mvar": branch_sum("ql_mvar"),
        "p_load_mw": p_load,
        "p_gen_mw": p_gen,
        "p_ext_grid_mw": p_ext,
        "vm_min_pu": float(live.vm_pu.min()),
        "vm_min_bus": int(live.vm_pu.idxmin()),
        "vm_max_pu": float(live.vm_pu.max()),
        "vm_max_bus": int(live.vm_pu.idxmax()),
    }
    for el in ("line", "trafo"):
        df = tables.get(el)
        if df is not None and len(df) and df.in_service.any():
            d = df[df.in_service]
            row[f"{el}_loading_max_percent"] = float(d.loading_percent.max())
            row[f"{el}_loading_max_index"] = int(d.loading_percent.idxmax())
    return pd.DataFrame([row], index=pd.Index([0], name="row"))


def write_powerflow(
    writer: ResultWriter, result: PowerFlowResult, group: str = "powerflow"
) -> None:
    """Write the power-flow tables under ``/<group>`` of an open :class:`ResultWriter`."""
    writer.set_attrs(
        group, algorithm=result.algorithm, converged=result.converged, iterations=result.iterations
    )
    for name, df in result.tables.items():
        # the balance carries what the DC links transfer as an attribute
        attrs = dict(df.attrs) if name == "balance" else {}
        writer.write_table(f"{group}/{name}", df, **attrs)
