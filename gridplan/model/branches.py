"""Map a solved pandapower net's branches to arrays, and kernel outputs back to element tables.

``BranchModel.from_network(network)`` takes the ppc branch model (two-port admittances,
from/to buses, base voltages) of the one compiled network
(:func:`gridplan.model.network.compile_network`); the ``branchflow`` kernel then turns any set
of bus voltages into flows, and :meth:`BranchModel.element_tables` into pandapower-style
line / trafo / trafo3w results (same formulas as pandapower's ``results_branch``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.kernels import branchflow
from gridplan.model.network import CompiledNetwork, solved_voltages

SQRT3 = np.sqrt(3.0)


class HasBranchArrays(Protocol):
    """Any compiled model carrying the ppc branch arrays the ``branchflow`` kernel needs."""

    f: np.ndarray
    t: np.ndarray
    yff: np.ndarray
    yft: np.ndarray
    ytf: np.ndarray
    ytt: np.ndarray
    base_kv: np.ndarray
    base_mva: float


def branch_flows_of(
    model: HasBranchArrays, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Kernel call for ``model``: ``v`` complex (n_bus,) or (n_states, n_bus) -> s_f, s_t
    (MVA), i_f, i_t (kA), each (n_states, n_branch).
    """
    v2 = np.ascontiguousarray(np.atleast_2d(v), dtype=np.complex128)
    return branchflow.branch_flows(
        v2,
        model.f,
        model.t,
        model.yff,
        model.yft,
        model.ytf,
        model.ytt,
        model.base_kv,
        model.base_mva,
    )


def current_base_ka(model: HasBranchArrays) -> tuple[np.ndarray, np.ndarray]:
    """kA per pu of current at the from and to end of every branch of ``model``."""
    with np.errstate(divide="ignore"):
        k_f = model.base_mva / (SQRT3 * model.base_kv[model.f])
        k_t = model.base_mva / (SQRT3 * model.base_kv[model.t])
    return k_f, k_t


def branch_loading_of(
    model: HasBranchArrays,
    v: np.ndarray,
    col_row: np.ndarray,
    col_f: np.ndarray,
    col_t: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Kernel call for ``model``: loading (%) of the columns ``col_*`` and losses (MW).

    ``v`` complex (n_states, n_bus); ``col_row`` the branch of every output column (-1: 0 %),
    ``col_f``, ``col_t`` the loading (%) per kA at its ends. Returns the loading
    (n_states, n_col) and the total branch losses (n_states,), see
    ``gridplan.core.branchflow.branch_loading``.
    """
    k_f, k_t = current_base_ka(model)
    return branchflow.branch_loading(
        np.ascontiguousarray(v, dtype=np.complex128),
        model.f,
        model.t,
        model.yff,
        model.yft,
        model.ytf,
        model.ytt,
        k_f,
        k_t,
        np.ascontiguousarray(col_row, dtype=np.int64),
        np.ascontiguousarray(col_f, dtype=np.float64),
        np.ascontiguousarray(col_t, dtype=np.float64),
        model.base_mva,
    )


@dataclass(frozen=True)
class BranchModel:
    """Frozen arrays of every ppc branch (ppc numbering, out-of-service branches included)."""

    base_mva: float
    f: np.ndarray  # int64 (n_branch,), ppc bus row of the from end
    t: np.ndarray  # int64 (n_branch,)
    yff: np.ndarray  # complex128 (n_branch,), pu; zero when out of service
    yft: np.ndarray
    ytf: np.ndarray
    ytt: np.ndarray
    base_kv: np.ndarray  # float64 (n_ppc_bus,)
    bus_lookup: np.ndarray  # int64, pandapower bus index -> ppc bus row
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)  # element -> ppc branch rows

    @classmethod
    def from_network(cls, network: CompiledNetwork) -> BranchModel:
        """The branch arrays of a compiled network (ppc numbering)."""
        return cls(
            base_mva=network.base_mva,
            **network.arrays("f", "t", "yff", "yft", "ytf", "ytt", copy=False),
            base_kv=network.ppc_base_kv,
            bus_lookup=network.ppc_bus_lookup,
            ranges=dict(network.branch_ranges),
        )

    @classmethod
    def from_solved_net(cls, net: pp.pandapowerNet) -> BranchModel:
        """Build from a net on which ``runpp`` has run (uses ``net._ppc``)."""
        return cls.from_network(CompiledNetwork.from_solved(net))

    solved_voltages = staticmethod(solved_voltages)

    def flows(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``v`` complex (n_bus,) or (n_states, n_bus) -> s_f, s_t (MVA), i_f, i_t (kA)."""
        return branch_flows_of(self, v)

    def element_tables(self, net: pp.pandapowerNet, v: np.ndarray) -> dict[str, pd.DataFrame]:
        """pandapower-style result tables ``line``, ``trafo``, ``trafo3w`` for one voltage state."""
        s_f, s_t, i_f, i_t = (a[0] for a in self.flows(v))
        out: dict[str, pd.DataFrame] = {}
        if "line" in self.ranges and len(net.line):
            a, b = self.ranges["line"]
            line = net.line
            i_max = (line.max_i_ka * line.df * line.parallel).to_numpy(dtype=float)
            i_ka = np.maximum(i_f[a:b], i_t[a:b])
            with np.errstate(divide="ignore", invalid="ignore"):
                loading = np.where(i_max != 0, i_ka / i_max * 100.0, np.inf)
            out["line"] = pd.DataFrame(
                {
                    "from_bus": line.from_bus.to_numpy(),
                    "to_bus": line.to_bus.to_numpy(),
                    "p_from_mw": s_f[a:b].real,
                    "q_from_mvar": s_f[a:b].imag,
                    "p_to_mw": s_t[a:b].real,
                    "q_to_mvar": s_t[a:b].imag,
                    "pl_mw": s_f[a:b].real + s_t[a:b].real,
                    "ql_mvar": s_f[a:b].imag + s_t[a:b].imag,
                    "i_from_ka": i_f[a:b],
                    "i_to_ka": i_t[a:b],
                    "i_ka": i_ka,
                    "loading_percent": loading,
                    "in_service": line.in_service.to_numpy(dtype=bool),
                    "name": line.name.to_numpy(),
                },
                index=line.index.rename("line"),
            )
        if "trafo" in self.ranges and len(net.trafo):
            a, b = self.ranges["trafo"]
            tr = net.trafo
            ld = (
                np.maximum(
                    i_f[a:b] * tr.vn_hv_kv.to_numpy(dtype=float),
                    i_t[a:b] * tr.vn_lv_kv.to_numpy(dtype=float),
                )
                * SQRT3
                / tr.sn_mva.to_numpy(dtype=float)
                * 100.0
            )
            ld = ld / tr.parallel.to_numpy(dtype=float) / tr.df.to_numpy(dtype=float)
            out["trafo"] = pd.DataFrame(
                {
                    "hv_bus": tr.hv_bus.to_numpy(),
                    "lv_bus": tr.lv_bus.to_numpy(),
                    "p_hv_mw": s_f[a:b].real,
                    "q_hv_mvar": s_f[a:b].imag,
                    "p_lv_mw": s_t[a:b].real,
                    "q_lv_mvar": s_t[a:b].imag,
                    "pl_mw": s_f[a:b].real + s_t[a:b].real,
                    "ql_mvar": s_f[a:b].imag + s_t[a:b].imag,
                    "i_hv_ka": i_f[a:b],
                    "i_lv_ka": i_t[a:b],
                    "loading_percent": ld,
                    "in_service": tr.in_service.to_numpy(dtype=bool),
                    "name": tr.name.to_numpy(),
                },
                index=tr.index.rename("trafo"),
            )
        if "trafo3w" in self.ranges and len(net.trafo3w):
            a, b = self.ranges["trafo3w"]
            n = (b - a) // 3
            hv, mv, lv = slice(a, a + n), slice(a + n, a + 2 * n), slice(a + 2 * n, b)
            t3 = net.trafo3w
            ld = (
                np.max(
                    np.vstack(
                        [
                            i_f[hv]
                            * t3.vn_hv_kv.to_numpy(dtype=float)
                            / t3.sn_hv_mva.to_numpy(dtype=float),
                            i_t[mv]
                            * t3.vn_mv_kv.to_numpy(dtype=float)
                            / t3.sn_mv_mva.to_numpy(dtype=float),
                            i_t[lv]
                            * t3.vn_lv_kv.to_numpy(dtype=float)
                            / t3.sn_lv_mva.to_numpy(dtype=float),
                        ]
                    ),
                    axis=0,
                )
                * SQRT3
                * 100.0
            )
            out["trafo3w"] = pd.DataFrame(
                {
                    "p_hv_mw": s_f[hv].real,
                    "p_mv_mw": s_t[mv].real,
                    "p_lv_mw": s_t[lv].real,
                    "pl_mw": s_f[hv].real + s_t[mv].real + s_t[lv].real,
                    "i_hv_ka": i_f[hv],
                    "i_mv_ka": i_t[mv],
                    "i_lv_ka": i_t[lv],
                    "loading_percent": ld,
                    "in_service": t3.in_service.to_numpy(dtype=bool),
                    "name": t3.name.to_numpy(),
                },
                index=t3.index.rename("trafo3w"),
            )
        return out
