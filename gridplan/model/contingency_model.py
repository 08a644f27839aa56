"""Compile a solved pandapower net once into the frozen arrays the contingency engine needs.

:func:`compile_contingency_model` reads pandapower's internal ppc of a net on which ``runpp``
has converged (bus admittance matrix, branch two-ports, bus types, injections, solved voltages)
and the element tables (ratings, element <-> ppc branch maps), so that every outage afterwards
runs on numpy arrays only. The user's net is never modified: the model works on a copy.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandapower as pp
import pandas as pd
import scipy.sparse as sp
from pandapower.pypower.idx_brch import BR_STATUS, BR_X, F_BUS, T_BUS, TAP
from pandapower.pypower.idx_bus import BASE_KV
from pandapower.pypower.idx_gen import GEN_BUS, GEN_STATUS, PG
from pandapower.pypower.makeYbus import branch_vectors

from gridplan.errors import CaseError

SQRT3 = float(np.sqrt(3.0))
BRANCH_ELEMENTS = ("line", "trafo", "trafo3w")


@dataclass(frozen=True)
class ContingencyModel:
    """Frozen arrays of a solved net, in pandapower's internal (ppci) bus numbering.

    Branch arrays cover every ppc branch row (out-of-service ones with zero admittance and
    ``branch_in_service`` False). Loading of ppc branch ``k`` in percent is
    ``100 * max(i_f_ka * scale_f[k], i_t_ka * scale_t[k])``; a monitored element's loading is
    the maximum over its ppc branches (three for a ``trafo3w``), as in pandapower's results.
    """

    base_mva: float
    n_bus: int
    f: np.ndarray  # int64 (n_br,)
    t: np.ndarray  # int64 (n_br,)
    branch_in_service: np.ndarray  # bool (n_br,)
    yff: np.ndarray  # complex128 (n_br,), pu, 0 when out of service
    yft: np.ndarray
    ytf: np.ndarray
    ytt: np.ndarray
    ybus: sp.csr_matrix  # complex (n_bus, n_bus), pu
    sbus: np.ndarray  # complex128 (n_bus,), pu injections
    v0: np.ndarray  # complex128 (n_bus,), solved base-case voltages, pu
    ref: np.ndarray  # int64
    pv: np.ndarray
    pq: np.ndarray
    base_kv: np.ndarray  # float64 (n_bus,)
    scale_f: np.ndarray  # float64 (n_br,), 1/kA
    scale_t: np.ndarray
    rating_mva: np.ndarray  # float64 (n_br,), MVA at rated voltage (inf when unrated)
    dc_b: np.ndarray  # float64 (n_br,), DC series susceptance 1/(x*tap), pu (pandapower's makeBdc)
    load_mw: np.ndarray  # float64 (n_bus,), load (consumption) at each bus, MW
    gen_mw: np.ndarray  # float64 (n_bus,), generation (gen + sgen) at each bus, MW
    gen_bus: np.ndarray  # int64 (n_gen,), ppci bus of each in-service ppc gen row
    gen_s_pu: np.ndarray  # complex128 (n_gen,), injection of each ppc gen row, pu
    # monitored elements: one row per (kind, index); branches of each element
    mon_kind: np.ndarray  # object (n_mon,) "line" | "trafo" | "trafo3w"
    mon_index: np.ndarray  # int64 (n_mon,) pandapower element index
    mon_branch: np.ndarray  # int64 (n_mon, 3) ppc branch rows, -1 padded
    bus_index: np.ndarray  # int64 (n_bus,) a pandapower bus index for each ppci bus
    bus_lookup: np.ndarray  # int64 pandapower bus index -> ppci row (-1: not in ppci)
    element_branches: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    gen_rows: dict[int, int] = field(default_factory=dict)  # pandapower gen index -> ppc gen row

    @property
    def n_branch(self) -> int:
        return int(self.f.shape[0])

    def pp_bus_rows(self, buses: np.ndarray) -> np.ndarray:
        """ppci rows of pandapower bus indices (-1 when the bus is not in the solved model)."""
        buses = np.asarray(buses, dtype=np.int64)
        out = np.full(buses.shape, -1, dtype=np.int64)
        ok = (buses >= 0) & (buses < self.bus_lookup.shape[0])
        out[ok] = self.bus_lookup[buses[ok]]
        return out


def _solved_copy(net: pp.pandapowerNet) -> pp.pandapowerNet:
    work = copy.deepcopy(net)
    try:
        pp.runpp(work)
    except Exception as exc:  # pandapower raises its own LoadflowNotConverged and others
        raise CaseError(f"base case power flow failed: {exc}") from exc
    return work


def compile_contingency_model(net: pp.pandapowerNet) -> ContingencyModel:
    """Solve a copy of ``net`` with ``pandapower.runpp`` (default options) and freeze it.

    Parameters
    ----------
    net : pandapowerNet
        The case; it is not modified.

    Returns
    -------
    ContingencyModel
        Arrays in per unit on ``base_mva``; ratings in kA / MVA.

    Raises
    ------
    CaseError
        When the base case does not converge or uses features the engine does not model
        (voltage-dependent loads, distributed slack, several ppc islands without slack).
    """
    problems = []
    for tbl in ("load",):
        df = net[tbl]
        for col in (
            "const_z_p_percent",
            "const_i_p_percent",
            "const_z_q_percent",
            "const_i_q_percent",
            "const_z_percent",
            "const_i_percent",
        ):
            if col in df and len(df) and np.any(df[col].fillna(0).to_numpy() != 0):
                problems.append(f"load.{col} must be 0 (constant-power loads), got non-zero values")
    if problems:
        raise CaseError("n1: " + "; ".join(sorted(set(problems))))
    work = _solved_copy(net)
    ppc = work._ppc
    ppci = ppc["internal"]
    n_bus = int(ppci["bus"].shape[0])
    branch = ppc["branch"]
    n_br = int(branch.shape[0])
    ytt, yff, yft, ytf = branch_vectors(branch, n_br)
    stat = branch[:, BR_STATUS].real.astype(bool)
    f = branch[:, F_BUS].real.astype(np.int64)
    t = branch[:, T_BUS].real.astype(np.int64)
    # a branch touching a bus removed from ppci is out of service for the engine as well
    stat &= (f < n_bus) & (t < n_bus)
    for y in (ytt, yff, yft, ytf):
        y[~stat] = 0.0
    tap = branch[:, TAP].real.copy()
    tap[tap == 0] = 1.0
    with np.errstate(divide="ignore"):
        dc_b = np.where(stat, 1.0 / (branch[:, BR_X].real * tap), 0.0)
    f = np.where(stat, f, 0)
    t = np.where(stat, t, 0)
    ybus = sp.csr_matrix(ppci["Ybus"], dtype=np.complex128)
    ybus.sum_duplicates()
    ybus.sort_indices()

    base_mva = float(ppci["baseMVA"])
    base_kv = ppci["bus"][:, BASE_KV].real.astype(np.float64)
    lookups = work._pd2ppc_lookups
    bus_lookup = np.asarray(lookups["bus"], dtype=np.int64).copy()
    bus_lookup[bus_lookup >= n_bus] = -1

    scale_f = np.zeros(n_br)
    scale_t = np.zeros(n_br)
    rating = np.full(n_br, np.inf)
    mon_kind: list[str] = []
    mon_index: list[np.ndarray] = []
    mon_branch: list[np.ndarray] = []
    element_branches: dict[str, dict[int, np.ndarray]] = {}
    ranges = {k: (int(v[0]), int(v[1])) for k, v in lookups["branch"].items()}
    if "line" in ranges and len(work.line):
        a, b = ranges["line"]
        ln = work.line
        i_max = (ln.max_i_ka * ln.df * ln.parallel).to_numpy(dtype=float)
        with np.errstate(divide="ignore"):
            sc = np.where(i_max > 0, 1.0 / i_max, np.inf)
        scale_f[a:b] = sc
        scale_t[a:b] = sc
        vn = work.bus.vn_kv.reindex(ln.from_bus).to_numpy(dtype=float)
        rating[a:b] = SQRT3 * vn * i_max
        rows = np.arange(a, b)
        mon_kind += ["line"] * (b - a)
        mon_index.append(ln.index.to_numpy(dtype=np.int64))
        mon_branch.append(np.column_stack([rows, -np.ones((b - a, 2), dtype=np.int64)]))
        element_branches["line"] = {
            int(i): np.array([r]) for i, r in zip(ln.index, rows, strict=True)
        }
    if "trafo" in ranges and len(work.trafo):
        a, b = ranges["trafo"]
        tr = work.trafo
        den = (tr.sn_mva * tr.parallel * tr.df).to_numpy(dtype=float)
        scale_f[a:b] = tr.vn_hv_kv.to_numpy(dtype=float) * SQRT3 / den
        scale_t[a:b] = tr.vn_lv_kv.to_numpy(dtype=float) * SQRT3 / den
        rating[a:b] = den
        rows = np.arange(a, b)
        mon_kind += ["trafo"] * (b - a)
        mon_index.append(tr.index.to_numpy(dtype=np.int64))
        mon_branch.append(np.column_stack([rows, -np.ones((b - a, 2), dtype=np.int64)]))
        element_branches["trafo"] = {
            int(i): np.array([r]) for i, r in zip(tr.index, rows, strict=True)
        }
    if "trafo3w" in ranges and len(work.trafo3w):
        a, b = ranges["trafo3w"]
        t3 = work.trafo3w
        n3 = (b - a) // 3
        hv = np.arange(a, a + n3)
        mv = hv + n3
        lv = hv + 2 * n3
        scale_f[hv] = t3.vn_hv_kv.to_numpy(dtype=float) * SQRT3 / t3.sn_hv_mva.to_numpy(dtype=float)
        scale_t[mv] = t3.vn_mv_kv.to_numpy(dtype=float) * SQRT3 / t3.sn_mv_mva.to_numpy(dtype=float)
        scale_t[lv] = t3.vn_lv_kv.to_numpy(dtype=float) * SQRT3 / t3.sn_lv_mva.to_numpy(dtype=float)
        rating[hv] = t3.sn_hv_mva.to_numpy(dtype=float)
        rating[mv] = t3.sn_mv_mva.to_numpy(dtype=float)
        rating[lv] = t3.sn_lv_mva.to_numpy(dtype=float)
        mon_kind += ["trafo3w"] * n3
        mon_index.append(t3.index.to_numpy(dtype=np.int64))
        mon_branch.append(np.column_stack([hv, mv, lv]))
        element_branches["trafo3w"] = {
            int(i): np.array([h, m, low]) for i, h, m, low in zip(t3.index, hv, mv, lv, strict=True)
        }

    # generation and load per ppci bus, MW, for the report of what an island cuts off
    load_mw = np.zeros(n_bus)
    gen_mw = np.zeros(n_bus)

    def _add(df: pd.DataFrame, target: np.ndarray, sign: float = 1.0) -> None:
        if not len(df):
            return
        on = df.in_service.to_numpy(dtype=bool)
        p = df.p_mw.to_numpy(dtype=float) * df.get(
            "scaling", pd.Series(1.0, index=df.index)
        ).to_numpy(dtype=float)
        rows = bus_lookup[df.bus.to_numpy(dtype=np.int64)]
        ok = on & (rows >= 0)
        np.add.at(target, rows[ok], sign * p[ok])

    _add(work.load, load_mw)
    _add(work.storage, load_mw)
    _add(work.sgen, gen_mw)
    _add(work.gen, gen_mw)

    gen = ppci["gen"]
    gen_on = gen[:, GEN_STATUS].real > 0
    gen_bus = gen[:, GEN_BUS].real.astype(np.int64)
    # ppci Sbus holds only PG of generators (Q of PV buses is free)
    gen_s = gen[:, PG].real / base_mva + 0j
    gen_rows: dict[int, int] = {}
    if "gen" in lookups and len(work.gen):
        # ppc gen rows of pandapower gens; ppci keeps ppc gen order for in-service gens
        lk = np.asarray(lookups["gen"], dtype=np.int64)
        for idx in work.gen.index[work.gen.in_service.to_numpy(dtype=bool)]:
            if idx < lk.shape[0] and lk[idx] >= 0 and lk[idx] < gen.shape[0]:
                gen_rows[int(idx)] = int(lk[idx])

    bus_index = np.full(n_bus, -1, dtype=np.int64)
    valid = np.flatnonzero(bus_lookup >= 0)
    # the lowest pandapower index of the buses merged into each ppci row
    bus_index[bus_lookup[valid[::-1]]] = valid[::-1]

    sbus = np.asarray(ppci["Sbus"], dtype=np.complex128).copy()
    for rows_of in element_branches.values():
        for rows in rows_of.values():
            rows.flags.writeable = False  # shared by the engine's outages, never copied
    return ContingencyModel(
        base_mva=base_mva,
        n_bus=n_bus,
        f=np.ascontiguousarray(f),
        t=np.ascontiguousarray(t),
        branch_in_service=stat,
        yff=np.ascontiguousarray(yff, dtype=np.complex128),
        yft=np.ascontiguousarray(yft, dtype=np.complex128),
        ytf=np.ascontiguousarray(ytf, dtype=np.complex128),
        ytt=np.ascontiguousarray(ytt, dtype=np.complex128),
        ybus=ybus,
        sbus=sbus,
        v0=np.asarray(ppci["V"], dtype=np.complex128).copy(),
        ref=np.asarray(ppci["ref"], dtype=np.int64),
        pv=np.asarray(ppci["pv"], dtype=np.int64),
        pq=np.asarray(ppci["pq"], dtype=np.int64),
        base_kv=base_kv,
        scale_f=scale_f,
        scale_t=scale_t,
        rating_mva=rating,
        dc_b=dc_b,
        load_mw=load_mw,
        gen_mw=gen_mw,
        gen_bus=np.where(gen_on, gen_bus, -1),
        gen_s_pu=np.where(gen_on, gen_s, 0.0),
        mon_kind=np.array(mon_kind, dtype=object),
        mon_index=np.concatenate(mon_index) if mon_index else np.zeros(0, dtype=np.int64),
        mon_branch=(
            np.vstack(mon_branch).astype(np.int64)
            if mon_branch
            else np.zeros((0, 3), dtype=np.int64)
        ),
        bus_index=bus_index,
        bus_lookup=bus_lookup,
        element_branches=element_branches,
        gen_rows=gen_rows,
    )
