"""The frozen arrays the contingency engine needs, built on the one compiled network.

:func:`compile_contingency_model` takes the solved base case of
:func:`gridplan.model.network.compile_network` (bus admittance matrix, branch two-ports, bus
types, injections, solved voltages, ratings) and adds what outages need: the monitored
elements and their ppc branches, generator rows, load and generation per bus, so that every
outage afterwards runs on numpy arrays only. The user's net is never modified.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandapower as pp
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from gridplan.core.contingency import TOL_PU, ACOutageSolver
from gridplan.core.contingency_dc import DCOutageSolver
from gridplan.kernels import contingency_graph
from gridplan.model.branches import branch_flows_of, branch_loading_of
from gridplan.model.network import CompiledNetwork, compile_network

SQRT3 = float(np.sqrt(3.0))

BRANCH_ELEMENTS = ("line", "trafo", "trafo3w", "impedance")
#: element types whose outage changes bus injections (``Sbus``) only
INJECTION_ELEMENTS = ("sgen", "storage")


@dataclass(frozen=True)
class ContingencyModel:
    """Frozen arrays of a solved net, in pandapower's internal (ppci) bus numbering.

    Branch arrays cover every ppc branch row (out-of-service ones with zero admittance and
    ``branch_in_service`` False). Monitored elements are the lines, transformers and
    impedances; an impedance is rated at its ``sn_mva`` (see
    :func:`gridplan.model.network.CompiledNetwork.from_solved`). A ``dcline`` is the two
    generator rows pandapower makes of it (``dcline_rows``); an ``sgen`` or ``storage`` is an
    injection into its bus (``injections``: ``(p_mw + j q_mvar) * scaling / base_mva``, with
    the sign of a generation, so a charging storage injects ``-p_mw``).

    Loading of ppc branch ``k`` in percent is ``100 * max(i_f_ka * scale_f[k], i_t_ka *
    scale_t[k])``; a monitored element's loading is the maximum over its ppc branches (three
    for a ``trafo3w``), as in pandapower's results.
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
    mon_kind: np.ndarray  # object (n_mon,) "line" | "trafo" | "trafo3w" | "impedance"
    mon_index: np.ndarray  # int64 (n_mon,) pandapower element index
    mon_branch: np.ndarray  # int64 (n_mon, 3) ppc branch rows, -1 padded
    bus_index: np.ndarray  # int64 (n_bus,) a pandapower bus index for each ppci bus
    bus_lookup: np.ndarray  # int64 pandapower bus index -> ppci row (-1: not in ppci)
    element_branches: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    gen_rows: dict[int, int] = field(default_factory=dict)  # pandapower gen index -> ppc gen row
    # pandapower dcline index -> its two ppc gen rows (to end, from end), as pandapower models it
    dcline_rows: dict[int, np.ndarray] = field(default_factory=dict)
    # "sgen" / "storage" -> pandapower index -> (ppci bus, injection into the bus, pu)
    injections: dict[str, dict[int, tuple[int, complex]]] = field(default_factory=dict)

    @property
    def n_branch(self) -> int:
        """Number of ppc branch rows."""
        return int(self.f.shape[0])

    @classmethod
    def from_network(cls, network: CompiledNetwork, net: pp.pandapowerNet) -> ContingencyModel:
        """Build from a compiled ``network`` of ``net`` (no further power flow)."""
        return _from_network(network, net)

    def ac_solver(self, tol: float = TOL_PU) -> ACOutageSolver:
        """The AC outage engine on this base case (one LU of its Jacobian); ``tol`` in pu."""
        return ACOutageSolver(
            self.ybus,
            self.sbus,
            self.v0,
            self.ref,
            self.pv,
            self.pq,
            self.f,
            self.t,
            self.yff,
            self.yft,
            self.ytf,
            self.ytt,
            self.gen_bus,
            self.gen_s_pu,
            tol=tol,
        )

    def dc_solver(self) -> DCOutageSolver:
        """The DC (PTDF/LODF) outage engine on this base case, around its AC base flows."""
        s_f0, s_t0, _, _ = branch_flows_of(self, self.v0)
        return DCOutageSolver(
            self.n_bus,
            self.f,
            self.t,
            self.dc_b,
            self.ref,
            self.v0,
            s_f0[0],
            s_t0[0],
            self.scale_f,
            self.scale_t,
            self.base_kv,
            gen_bus=self.gen_bus,
            gen_p_mw=self.gen_s_pu.real * self.base_mva,
            base_mva=self.base_mva,
        )

    def areas(self) -> np.ndarray:
        """Synchronous area (connected component of in-service branches) of every ppci bus."""
        live = self.branch_in_service
        graph = sp.coo_matrix(
            (np.ones(int(live.sum())), (self.f[live], self.t[live])), shape=(self.n_bus,) * 2
        )
        return connected_components(graph, directed=False)[1]

    def bridge_tree(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Bridges of the in-service branch graph and its depth-first tree from the slack.

        ``(is_bridge, child, tin, tout, order)`` as ``contingency_graph.bridge_tree`` returns.
        """
        return contingency_graph.bridge_tree(
            self.n_bus, self.f, self.t, self.branch_in_service.astype(np.uint8), self.ref
        )

    def loading(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Branch loading (percent, (B, n_br)) and |V| for voltage rows ``v`` (B, n).

        One fused pass (the ``branch_loading`` kernel): no per-branch flow arrays. Branches
        at a NaN voltage (cut-off buses, failed outages) come out NaN.
        """
        ld, _ = branch_loading_of(
            self, v, np.arange(self.f.size), 100.0 * self.scale_f, 100.0 * self.scale_t
        )
        return ld, np.abs(v)

    def element_loading(self, ld: np.ndarray) -> np.ndarray:
        """Loading (%) of every monitored element from branch loading ``ld`` (B, n_br)."""
        mb = self.mon_branch
        out = ld[:, mb[:, 0]]
        for j in (1, 2):
            has = mb[:, j] >= 0
            if has.any():
                out[:, has] = np.fmax(out[:, has], ld[:, mb[has, j]])
        return out

    def violation_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Order of the elements and of the buses in an outage's violation rows.

        Elements by type, then pandapower index; buses by pandapower index.
        """
        mon_order = np.lexsort((self.mon_index, self.mon_kind.astype(str))).astype(np.int64)
        bus_order = np.argsort(self.bus_index, kind="stable").astype(np.int64)
        return mon_order, bus_order

    def pp_bus_rows(self, buses: np.ndarray) -> np.ndarray:
        """ppci rows of pandapower bus indices (-1 when the bus is not in the solved model)."""
        buses = np.asarray(buses, dtype=np.int64)
        out = np.full(buses.shape, -1, dtype=np.int64)
        ok = (buses >= 0) & (buses < self.bus_lookup.shape[0])
        out[ok] = self.bus_lookup[buses[ok]]
        return out


def compile_contingency_model(
    net: pp.pandapowerNet, *, where: str | None = None
) -> ContingencyModel:
    """Compile ``net`` once (:func:`gridplan.model.network.compile_network`) and freeze it.

    Parameters
    ----------
    net : pandapowerNet
        The case; it is not modified.
    where : str, optional
        Names the case in error messages (default: ``net.name``).

    Returns
    -------
    ContingencyModel
        Arrays in per unit on ``base_mva``; ratings in kA / MVA.

    Raises
    ------
    CaseError
        The net holds elements the engine does not model (voltage-dependent loads ...).
    ConvergenceError
        The base-case power flow does not converge.
    """
    return ContingencyModel.from_network(compile_network(net, where=where), net)


def _add_bus_power(df: pd.DataFrame, bus_lookup: np.ndarray, target: np.ndarray) -> None:
    """Add the in-service ``p_mw * scaling`` of element table ``df`` to ``target`` per ppci bus."""
    if not len(df):
        return
    on = df.in_service.to_numpy(dtype=bool)
    p = df.p_mw.to_numpy(dtype=float) * df.get("scaling", pd.Series(1.0, index=df.index)).to_numpy(
        dtype=float
    )
    rows = bus_lookup[df.bus.to_numpy(dtype=np.int64)]
    ok = on & (rows >= 0)
    np.add.at(target, rows[ok], p[ok])


def _from_network(network: CompiledNetwork, net: pp.pandapowerNet) -> ContingencyModel:
    # the model owns its arrays (writeable copies of the network's read-only ones)
    n_bus = network.n_bus
    stat = network.branch_in_service.copy()
    # a branch touching a bus removed from ppci is out of service for the engine as well
    yff, yft, ytf, ytt = (np.where(stat, y, 0.0) for y in network.two_ports())
    with np.errstate(divide="ignore"):
        dc_b = np.where(stat, 1.0 / (network.x_pu * network.tap), 0.0)
    f = np.where(stat, network.f, 0)
    t = np.where(stat, network.t, 0)
    bus_lookup = network.bus_lookup.copy()
    ranges = network.branch_ranges

    mon_kind: list[str] = []
    mon_index: list[np.ndarray] = []
    mon_branch: list[np.ndarray] = []
    element_branches: dict[str, dict[int, np.ndarray]] = {}
    for kind in ("line", "trafo", "impedance"):
        if kind in ranges and len(net[kind]):
            a, b = ranges[kind]
            df = net[kind]
            rows = np.arange(a, b)
            mon_kind += [kind] * (b - a)
            mon_index.append(df.index.to_numpy(dtype=np.int64))
            mon_branch.append(np.column_stack([rows, -np.ones((b - a, 2), dtype=np.int64)]))
            element_branches[kind] = {
                int(i): np.array([r]) for i, r in zip(df.index, rows, strict=True)
            }
    if "trafo3w" in ranges and len(net.trafo3w):
        t3 = net.trafo3w
        hv, mv, lv = network.element_rows("trafo3w").T
        mon_kind += ["trafo3w"] * hv.size
        mon_index.append(t3.index.to_numpy(dtype=np.int64))
        mon_branch.append(np.column_stack([hv, mv, lv]))
        element_branches["trafo3w"] = {
            int(i): np.array([h, m, low]) for i, h, m, low in zip(t3.index, hv, mv, lv, strict=True)
        }

    # generation and load per ppci bus, MW, for the report of what an island cuts off
    load_mw = np.zeros(n_bus)
    gen_mw = np.zeros(n_bus)

    for table, target in (
        ("load", load_mw),
        ("storage", load_mw),
        ("sgen", gen_mw),
        ("gen", gen_mw),
    ):
        _add_bus_power(net[table], bus_lookup, target)

    # ppci Sbus holds only PG of generators (Q of PV buses is free)
    gen_s = network.gen_p_mw / network.base_mva + 0j
    gen_rows: dict[int, int] = {}
    n_gen = network.gen_bus.shape[0]
    if network.gen_lookup.size and len(net.gen):
        # ppc gen rows of pandapower gens; ppci keeps ppc gen order for in-service gens
        lk = network.gen_lookup
        for idx in net.gen.index[net.gen.in_service.to_numpy(dtype=bool)]:
            if idx < lk.shape[0] and lk[idx] >= 0 and lk[idx] < n_gen:
                gen_rows[int(idx)] = int(lk[idx])

    dcline_rows = _dcline_rows(net, network)
    injections = {
        kind: _injections(net, kind, bus_lookup, network.base_mva) for kind in INJECTION_ELEMENTS
    }

    bus_index = np.full(n_bus, -1, dtype=np.int64)
    valid = np.flatnonzero(bus_lookup >= 0)
    # the lowest pandapower index of the buses merged into each ppci row
    bus_index[bus_lookup[valid[::-1]]] = valid[::-1]

    for rows_of in element_branches.values():
        for rows in rows_of.values():
            rows.flags.writeable = False  # shared by the engine's outages, never copied
    return ContingencyModel(
        base_mva=network.base_mva,
        n_bus=n_bus,
        f=np.ascontiguousarray(f),
        t=np.ascontiguousarray(t),
        branch_in_service=stat,
        yff=np.ascontiguousarray(yff, dtype=np.complex128),
        yft=np.ascontiguousarray(yft, dtype=np.complex128),
        ytf=np.ascontiguousarray(ytf, dtype=np.complex128),
        ytt=np.ascontiguousarray(ytt, dtype=np.complex128),
        **network.arrays(
            "ybus", "sbus", "v0", "ref", "pv", "pq", "base_kv", "scale_f", "scale_t", "rating_mva"
        ),
        dc_b=dc_b,
        load_mw=load_mw,
        gen_mw=gen_mw,
        gen_bus=network.gen_bus.copy(),
        gen_s_pu=gen_s,
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
        dcline_rows=dcline_rows,
        injections=injections,
    )


def _dcline_rows(net: pp.pandapowerNet, network: CompiledNetwork) -> dict[int, np.ndarray]:
    """ppc gen rows (to end, from end) of every in-service dcline.

    pandapower's ``runpp`` appends two generators per dcline to (a copy of) ``net.gen``, in
    dcline table order, the to end first, with the next free gen indices; ``gen_lookup`` maps
    them to their ppc rows. A row whose bus is not the dcline's end is not taken.
    """
    out: dict[int, np.ndarray] = {}
    dc = net.dcline
    if not len(dc):
        return out
    lk = network.gen_lookup
    first = int(net.gen.index.max()) + 1 if len(net.gen) else 0
    n_gen = network.gen_bus.shape[0]
    for pos, (idx, row) in enumerate(dc.iterrows()):
        if not bool(row.in_service):
            continue
        gi = np.array([first + 2 * pos, first + 2 * pos + 1])
        if gi.max() >= lk.shape[0]:
            continue
        rows = lk[gi].astype(np.int64)
        if np.any((rows < 0) | (rows >= n_gen)):
            continue
        ends = network.bus_lookup[np.array([int(row.to_bus), int(row.from_bus)])]
        if np.array_equal(network.gen_bus[rows], ends):
            rows.flags.writeable = False
            out[int(idx)] = rows
    return out


def _injections(
    net: pp.pandapowerNet, kind: str, bus_lookup: np.ndarray, base_mva: float
) -> dict[int, tuple[int, complex]]:
    """ppci bus and injection (pu, generation sign) of every in-service ``sgen`` / ``storage``."""
    df = net[kind]
    if not len(df):
        return {}
    sign = 1.0 if kind == "sgen" else -1.0  # storage: p_mw > 0 is charging, a demand
    scaling = df.scaling.to_numpy(dtype=float) if "scaling" in df else np.ones(len(df))
    s = sign * scaling * (df.p_mw.to_numpy(dtype=float) + 1j * df.q_mvar.to_numpy(dtype=float))
    rows = bus_lookup[df.bus.to_numpy(dtype=np.int64)]
    on = df.in_service.to_numpy(dtype=bool) & (rows >= 0)
    return {
        int(i): (int(r), complex(v / base_mva))
        for i, r, v, ok in zip(df.index, rows, s, on, strict=True)
        if ok
    }
