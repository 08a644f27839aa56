"""Compile a pandapower net once into the arrays the time-series engine iterates on.

``TimeSeriesModel.compile(net)`` builds on the one compiled network
(:func:`gridplan.model.network.compile_network`: the base case solved once with pandapower's
defaults, voltage-controlled generators as PV buses, no reactive-power limits) and keeps the
bus admittance matrix (CSR), the ref/pv/pq bus sets, the converged base-case voltages and bus
injections, the two-ports of the in-service branches, and the maps from every load / static
generator / generator / storage unit to its internal bus. A time step then
only changes the bus injections ``Sbus(t)``: the base injection plus the profiled elements'
change from their base values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandapower as pp
import scipy.sparse as sp

from gridplan.kernels import timeseries_nr
from gridplan.model.branches import current_base_ka
from gridplan.model.network import CompiledNetwork, compile_network
from gridplan.model.profiles import Profiles

SQRT3 = np.sqrt(3.0)

#: element type -> (columns a profile may set, sign of p_mw as a bus injection)
PROFILE_ELEMENTS: dict[str, tuple[tuple[str, ...], float]] = {
    "load": (("p_mw", "q_mvar"), -1.0),
    "sgen": (("p_mw", "q_mvar"), 1.0),
    "storage": (("p_mw", "q_mvar"), -1.0),
    "gen": (("p_mw",), 1.0),
}


@dataclass(frozen=True)
class ElementMap:
    """How one element type's P/Q enter the internal bus injections (per element arrays)."""

    index: np.ndarray  # int64, pandapower element index
    ppci_bus: np.ndarray  # int64, internal bus row; -1 when the element is disconnected
    factor: np.ndarray  # float64, sign * scaling * in_service (0 for disconnected)
    p_mw: np.ndarray  # float64, base value
    q_mvar: np.ndarray  # float64, base value

    def position(self, indices: np.ndarray) -> np.ndarray:
        """Row of each pandapower index in this map (indices must exist)."""
        order = np.argsort(self.index)
        return order[np.searchsorted(self.index, indices, sorter=order)]


@dataclass(frozen=True)
class TimeSeriesModel:
    """Frozen internal power-flow model of a net (ppci numbering)."""

    base_mva: float
    ybus: sp.csr_matrix  # complex128 (n_bus, n_bus), pu
    ref: np.ndarray  # int64 internal ref buses
    pv: np.ndarray
    pq: np.ndarray
    v0: np.ndarray  # complex128 (n_bus,), converged base-case voltage, pu
    sbus0: np.ndarray  # complex128 (n_bus,), base-case bus injection, pu
    base_kv: np.ndarray  # float64 (n_bus,)
    # branches of the internal model (in service only)
    f: np.ndarray
    t: np.ndarray
    yff: np.ndarray
    yft: np.ndarray
    ytf: np.ndarray
    ytt: np.ndarray
    # pandapower bus index -> internal bus row (-1 when the bus is not in the solved model)
    bus_index: np.ndarray
    bus_ppci: np.ndarray
    elements: dict[str, ElementMap] = field(default_factory=dict)
    # element ("line", "trafo") -> (pandapower index, internal branch row or -1, rating arrays)
    branches: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    vm_limits: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0))  # per pandapower bus

    @property
    def n_bus(self) -> int:
        """Number of internal buses."""
        return int(self.ybus.shape[0])

    @classmethod
    def compile(
        cls,
        net: pp.pandapowerNet,
        *,
        vm_min_pu: float = 0.95,
        vm_max_pu: float = 1.05,
        where: str | None = None,
    ) -> TimeSeriesModel:
        """Build the model from ``net`` (the net itself is not modified).

        Parameters
        ----------
        net
            pandapower net; its current element values are the base case.
        vm_min_pu, vm_max_pu
            Voltage band (pu) used for buses whose ``min_vm_pu`` / ``max_vm_pu`` is not set.
        where
            Names the case in error messages (default: ``net.name``).

        Raises
        ------
        CaseError
            The net holds elements the engine does not model (voltage-dependent loads ...)
            or pandapower cannot build its power-flow model.
        ConvergenceError
            The base-case power flow does not converge.
        """
        network = compile_network(net, where=where)
        return cls.from_network(network, net, vm_min_pu=vm_min_pu, vm_max_pu=vm_max_pu)

    @classmethod
    def from_network(
        cls,
        network: CompiledNetwork,
        net: pp.pandapowerNet,
        *,
        vm_min_pu: float = 0.95,
        vm_max_pu: float = 1.05,
    ) -> TimeSeriesModel:
        """Build from a compiled ``network`` of ``net`` (no further power flow).

        The model owns its arrays: writeable copies of the network's read-only ones.
        """
        bus_index = net.bus.index.to_numpy(dtype=np.int64)
        bus_ppci = network.bus_lookup[bus_index].copy()
        bus_ppci[~net.bus.in_service.to_numpy(dtype=bool)] = -1
        bus_pos = dict(zip(bus_index.tolist(), bus_ppci.tolist(), strict=True))

        elements: dict[str, ElementMap] = {}
        for et, (_cols, sign) in PROFILE_ELEMENTS.items():
            tab = net[et]
            if not len(tab):
                continue
            eb = np.array([bus_pos.get(int(b), -1) for b in tab.bus], dtype=np.int64)
            scaling = tab.scaling.to_numpy(dtype=float) if "scaling" in tab else np.ones(len(tab))
            fac = sign * scaling * tab.in_service.to_numpy(dtype=float)
            fac[eb < 0] = 0.0
            q = tab.q_mvar.to_numpy(dtype=float) if "q_mvar" in tab else np.zeros(len(tab))
            elements[et] = ElementMap(
                index=tab.index.to_numpy(dtype=np.int64),
                ppci_bus=eb,
                factor=fac,
                p_mw=tab.p_mw.to_numpy(dtype=float),
                q_mvar=q,
            )

        # the branches of the internal model: the in-service ppc rows, in ppc order
        in_ppci = np.flatnonzero(network.branch_ppci >= 0)
        ppc_to_ppci = network.branch_ppci
        branches: dict[str, dict[str, np.ndarray]] = {}
        ranges = network.branch_ranges
        if "line" in ranges and len(net.line):
            a, b = ranges["line"]
            ln = net.line
            branches["line"] = {
                "index": ln.index.to_numpy(dtype=np.int64),
                "row": ppc_to_ppci[a:b].copy(),
                "i_max_ka": (ln.max_i_ka * ln.df * ln.parallel).to_numpy(dtype=float),
            }
        if "trafo" in ranges and len(net.trafo):
            a, b = ranges["trafo"]
            tr = net.trafo
            df = tr.df.to_numpy(dtype=float) if "df" in tr else np.ones(len(tr))
            branches["trafo"] = {
                "index": tr.index.to_numpy(dtype=np.int64),
                "row": ppc_to_ppci[a:b].copy(),
                "vn_hv_kv": tr.vn_hv_kv.to_numpy(dtype=float),
                "vn_lv_kv": tr.vn_lv_kv.to_numpy(dtype=float),
                # pandapower: loading = max(i_hv*vn_hv, i_lv*vn_lv) * sqrt(3) / sn / parallel / df
                "s_max_mva": (tr.sn_mva * tr.parallel).to_numpy(dtype=float) * df,
            }
        vmin = (
            net.bus.min_vm_pu.to_numpy(dtype=float)
            if "min_vm_pu" in net.bus
            else np.full(len(bus_index), np.nan)
        )
        vmax = (
            net.bus.max_vm_pu.to_numpy(dtype=float)
            if "max_vm_pu" in net.bus
            else np.full(len(bus_index), np.nan)
        )
        vmin = np.where(np.isfinite(vmin), vmin, vm_min_pu)
        vmax = np.where(np.isfinite(vmax), vmax, vm_max_pu)

        def c(a: np.ndarray, dtype: type) -> np.ndarray:
            return np.ascontiguousarray(a, dtype=dtype)

        return cls(
            base_mva=network.base_mva,
            **network.arrays("ybus", "ref", "pv", "pq", "v0", "base_kv"),
            sbus0=network.sbus.copy(),
            f=c(network.f[in_ppci], np.int64),
            t=c(network.t[in_ppci], np.int64),
            yff=c(network.yff[in_ppci], np.complex128),
            yft=c(network.yft[in_ppci], np.complex128),
            ytf=c(network.ytf[in_ppci], np.complex128),
            ytt=c(network.ytt[in_ppci], np.complex128),
            bus_index=bus_index,
            bus_ppci=bus_ppci,
            elements=elements,
            branches=branches,
            vm_limits=(vmin, vmax),
        )

    # -- per-step injections ----------------------------------------------------------
    def injection_matrix(self, element: str, column: str, indices: np.ndarray) -> sp.csr_matrix:
        """Sparse map (n_bus, n_idx): a change of ``column`` (MW or Mvar) -> change of Sbus (pu).

        Real for ``p_mw``, imaginary (1j) for ``q_mvar``; columns of disconnected elements are 0.
        """
        em = self.elements[element]
        pos = em.position(np.asarray(indices, dtype=np.int64))
        bus = em.ppci_bus[pos]
        fac = em.factor[pos] / self.base_mva
        keep = bus >= 0
        cols = np.arange(len(pos))[keep]
        vals = fac[keep].astype(np.complex128) * (1j if column == "q_mvar" else 1.0)
        return sp.csr_matrix((vals, (bus[keep], cols)), shape=(self.n_bus, len(pos)))

    def base_values(self, element: str, column: str, indices: np.ndarray) -> np.ndarray:
        """Base-case ``column`` values of the given elements (MW or Mvar)."""
        em = self.elements[element]
        pos = em.position(np.asarray(indices, dtype=np.int64))
        return (em.p_mw if column == "p_mw" else em.q_mvar)[pos]

    # -- branch loading -----------------------------------------------------------------
    def loading_columns(
        self, elements: list[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, slice]]:
        """Arguments of the ``branch_loading`` kernel for the ``elements`` ("line"/"trafo").

        Returns ``k_f, k_t`` (kA per pu current at each branch end), ``col_row`` (branch row
        per output column, -1 out of service), ``col_f, col_t`` (% per kA at each end, same
        definitions as :meth:`loading`) and each element's column slice.
        """
        k_f, k_t = current_base_ka(self)
        rows, cf, ct, slices = [], [], [], {}
        pos = 0
        for element in elements:
            info = self.branches[element]
            row = info["row"]
            with np.errstate(divide="ignore"):
                if element == "line":
                    a = 100.0 / info["i_max_ka"]
                    b = a
                else:
                    a = info["vn_hv_kv"] * SQRT3 * 100.0 / info["s_max_mva"]
                    b = info["vn_lv_kv"] * SQRT3 * 100.0 / info["s_max_mva"]
            rows.append(row)
            cf.append(np.broadcast_to(a, row.shape))
            ct.append(np.broadcast_to(b, row.shape))
            slices[element] = slice(pos, pos + row.shape[0])
            pos += row.shape[0]

        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.ascontiguousarray(
                np.concatenate(parts) if parts else np.empty(0), dtype=dtype
            )

        return (
            k_f,
            k_t,
            cat(rows, np.int64),
            cat(cf, np.float64),
            cat(ct, np.float64),
            slices,
        )

    def loading(self, element: str, i_f: np.ndarray, i_t: np.ndarray) -> np.ndarray:
        """Loading (%) of every ``element`` ("line"/"trafo") for branch currents (n_steps, n_br).

        Out-of-service elements get 0 % (as pandapower's result tables).
        """
        info = self.branches[element]
        row = info["row"]
        on = row >= 0
        out = np.zeros((i_f.shape[0], row.shape[0]))
        r = row[on]
        if element == "line":
            i_ka = np.maximum(i_f[:, r], i_t[:, r])
            with np.errstate(divide="ignore", invalid="ignore"):
                out[:, on] = i_ka / info["i_max_ka"][on] * 100.0
        else:
            s = np.maximum(i_f[:, r] * info["vn_hv_kv"][on], i_t[:, r] * info["vn_lv_kv"][on])
            out[:, on] = s * SQRT3 / info["s_max_mva"][on] * 100.0
        return out


class ProfileInjections:
    """Bus injections (pu) of any block of steps: base case plus profiled changes.

    ``profiles`` is a :class:`gridplan.model.profiles.Profiles` (element type and column ->
    steps x elements table, MW or Mvar); elements of types the model does not map are ignored.
    """

    def __init__(self, model: TimeSeriesModel, profiles: Profiles) -> None:
        self.model = model
        self.parts = []
        for (et, col), df in profiles.tables.items():
            if et not in model.elements:
                continue
            idx = df.columns.to_numpy(dtype=np.int64)
            a = sp.csc_matrix(model.injection_matrix(et, col, idx))
            a.eliminate_zeros()
            # every element feeds at most one bus: its bus and complex factor
            has = np.diff(a.indptr) > 0
            el_bus = np.full(len(idx), -1, dtype=np.int64)
            fac = np.zeros(len(idx), dtype=np.complex128)
            el_bus[has] = a.indices[a.indptr[:-1][has]]
            fac[has] = a.data[a.indptr[:-1][has]]
            base = np.ascontiguousarray(model.base_values(et, col, idx), dtype=float)
            # the profile element-major (pandas' own layout: no copy for a float frame)
            values_t = np.ascontiguousarray(df.to_numpy(dtype=float).T)
            self.parts.append(
                (
                    values_t,
                    el_bus,
                    np.ascontiguousarray(fac.real),
                    np.ascontiguousarray(fac.imag),
                    base,
                )
            )

    def block(self, start: int, stop: int) -> np.ndarray:
        """Bus injections (pu) of steps ``start`` to ``stop``, complex (stop - start, n_bus)."""
        s = np.empty((stop - start, self.model.n_bus), dtype=np.complex128)
        s[:] = self.model.sbus0
        for values_t, el_bus, fac_re, fac_im, base in self.parts:
            timeseries_nr.add_injections(s, values_t, start, el_bus, fac_re, fac_im, base)
        return s
