"""One compiled network: the base case of a net solved once, frozen into arrays.

:func:`compile_network` is the one place where gridplan's engines run pandapower's power flow.
It solves a copy of the net (the user's net is never modified) with :data:`RUNPP_OPTIONS`,
turns a failure into one error (:func:`solve_base_case`), and freezes pandapower's internal
model into a :class:`CompiledNetwork`: the bus admittance matrix, the bus injections and bus
types, the solved voltages, every branch as a two-port, the branch and bus limits, and the maps
from pandapower element indices to rows. The contingency (:mod:`.contingency_model`),
time-series (:mod:`.timeseries_model`) and power-flow (:mod:`.branches`) models are built from
it, and so is every new study: ``network = compile_network(net)`` and read the arrays.

Numbering. pandapower numbers its internal buses so that the ``n_bus`` energized buses
(its ``ppci``) come first and the de-energized ones (out of service, or cut off from every
slack) after them (its ``ppc``); bus arrays over ``n_bus`` rows and over all ``n_ppc_bus``
rows therefore share their first rows. Branch arrays have one row per ppc branch, out-of-service
ones included (zero admittance, ``branch_in_service`` False).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
import pandapower as pp
import scipy.sparse as sp
from pandapower.pypower.idx_brch import BR_STATUS, BR_X, F_BUS, T_BUS, TAP
from pandapower.pypower.idx_bus import BASE_KV, VA, VM
from pandapower.pypower.idx_gen import GEN_BUS, GEN_STATUS, PG
from pandapower.pypower.makeYbus import branch_vectors

from gridplan.errors import CaseError, ConvergenceError, format_problems

SQRT3 = float(np.sqrt(3.0))

#: The options of the one base-case ``pandapower.runpp`` call: pandapower's defaults
#: (Newton-Raphson, voltage angles, tolerance 1e-8 MVA on the largest mismatch, no reactive
#: power limits) except ``numba=False``. pandapower compiles its numba functions without a
#: disk cache, so with numba the first ``runpp`` in every process spends 10-30 s in the JIT
#: (measured on 2 cores: case118 9.9 s instead of 3.0 s, case9241pegase 19.3 s instead of
#: 2.5 s) - longer than the whole study on most cases; without it a warm case9241pegase solve
#: costs about 1 s more. Same admittance matrix and solution either way (to rounding).
#: Only ``max_iteration``, ``tolerance_mva`` and ``init`` may be changed per call.
RUNPP_OPTIONS: dict[str, Any] = {
    "algorithm": "nr",
    "calculate_voltage_angles": True,
    "init": "auto",
    "max_iteration": "auto",
    "tolerance_mva": 1e-8,
    "enforce_q_lims": False,
    "numba": False,
}

#: load columns that make a load voltage dependent; the engines model constant power only
VOLTAGE_DEPENDENT_LOAD_COLUMNS = (
    "const_z_percent",
    "const_i_percent",
    "const_z_p_percent",
    "const_z_q_percent",
    "const_i_p_percent",
    "const_i_q_percent",
)
#: element tables whose state changes inside a power flow (FACTS controllers, DC grids): the
#: frozen arrays cannot represent them
UNSUPPORTED_TABLES = ("svc", "tcsc", "ssc", "vsc", "bus_dc", "line_dc")

CONVERGENCE_HINT = (
    "check load/generation balance and voltage setpoints, or try a DC power flow "
    "(`gridplan pf --dc`)"
)


def _max_mismatch_mva(net: pp.pandapowerNet) -> float | None:
    """Largest bus power mismatch (MVA) of the last iterate pandapower kept, if available."""
    try:
        ppci = net._ppc["internal"]
        v = ppci["V"]
        mis = v * np.conj(ppci["Ybus"] @ v) - ppci["Sbus"]
        rows = np.r_[ppci["pv"], ppci["pq"]]
        return float(np.abs(mis[rows]).max() * ppci["baseMVA"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def unsupported_elements(net: pp.pandapowerNet) -> list[str]:
    """Every element of ``net`` the compiled engines cannot model, one problem per kind."""
    problems = []
    load = net.load
    for col in VOLTAGE_DEPENDENT_LOAD_COLUMNS:
        if col in load and len(load):
            bad = load.index[load[col].fillna(0.0).to_numpy() != 0].tolist()
            if bad:
                problems.append(
                    f"load {col} must be 0 (constant-power loads only), got non-zero for "
                    f"loads {bad[:5]}{' ...' if len(bad) > 5 else ''} instead"
                )
    for table in UNSUPPORTED_TABLES:
        df = net.get(table)
        if df is None or not len(df):
            continue
        on = df.in_service.to_numpy(dtype=bool) if "in_service" in df else np.ones(len(df), bool)
        if on.any():
            ids = df.index[on].tolist()
            problems.append(
                f"{table} {ids[:5]}{' ...' if len(ids) > 5 else ''} not supported "
                "(take them out of service or use `gridplan pf`)"
            )
    return problems


def solve_base_case(
    net: pp.pandapowerNet,
    *,
    where: str | None = None,
    dc: bool = False,
    max_iteration: int | Literal["auto"] = "auto",
    tolerance_mva: float = RUNPP_OPTIONS["tolerance_mva"],
    init: str = "auto",
) -> pp.pandapowerNet:
    """Solve a deep copy of ``net`` with :data:`RUNPP_OPTIONS` (or ``rundcpp`` when ``dc``).

    Parameters
    ----------
    net : pandapowerNet
        The case; it is not modified.
    where : str, optional
        Names the case in error messages (default: ``net.name`` or ``"case"``).
    dc : bool
        pandapower's DC power flow instead of the AC Newton-Raphson.
    max_iteration, tolerance_mva, init
        The only ``runpp`` options a caller may change (iterations, MVA, start values).

    Returns
    -------
    pandapowerNet
        The solved copy (``res_*`` tables and pandapower's internal ``_ppc``).

    Raises
    ------
    ConvergenceError
        The AC power flow did not converge (carries the iterations and the last mismatch).
    CaseError
        pandapower cannot build a power-flow model of the net.
    """
    name = where or str(net.name or "case")
    work = copy.deepcopy(net)  # runpp writes res_* tables; the caller's net stays untouched
    logger = logging.getLogger("pandapower")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        if dc:
            pp.rundcpp(work)
        else:
            options = RUNPP_OPTIONS | {
                "max_iteration": max_iteration,
                "tolerance_mva": tolerance_mva,
                "init": init,
            }
            pp.runpp(work, **options)
    except pp.LoadflowNotConverged:
        iters = int(work._ppc.get("iterations", 0) or 0) if work._ppc else None
        mism = _max_mismatch_mva(work)
        detail = f" after {iters} iterations" if iters else ""
        detail += f" (largest bus mismatch {mism:.3g} MVA)" if mism is not None else ""
        raise ConvergenceError(
            f"{name}: AC power flow did not converge{detail}",
            iterations=iters,
            max_mismatch=mism,
            hint=CONVERGENCE_HINT,
        ) from None
    except (KeyError, IndexError, ValueError, TypeError, NotImplementedError) as exc:
        raise CaseError(f"{name}: pandapower cannot build the power-flow model ({exc})") from None
    finally:
        logger.setLevel(level)
    return work


def solved_voltages(net: pp.pandapowerNet) -> np.ndarray:
    """Complex ppc bus voltages (pu) of a solved net; non-finite (de-energized) buses -> 0."""
    bus = net._ppc["bus"]
    v = bus[:, VM].real * np.exp(1j * np.deg2rad(bus[:, VA].real))
    return np.where(np.isfinite(v), v, 0.0).astype(np.complex128)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class CompiledNetwork:
    """A solved base case as read-only arrays (see the module docstring for the numbering).

    Bus arrays have ``n_bus`` rows (energized buses, pandapower's ppci) unless named
    ``ppc_*`` (all ``n_ppc_bus`` internal buses); branch arrays one row per ppc branch;
    generator arrays one row per ppci generator (ext_grids, gens, DC-line terminals).
    """

    base_mva: float
    n_bus: int
    ybus: sp.csr_matrix  # complex128 (n_bus, n_bus), pu; sorted, no duplicates
    sbus: np.ndarray  # complex128 (n_bus,), specified injections pandapower solved for, pu
    v0: np.ndarray  # complex128 (n_bus,), solved voltages, pu
    ref: np.ndarray  # int64, slack buses
    pv: np.ndarray  # int64, voltage-controlled buses
    pq: np.ndarray  # int64
    iterations: int  # Newton iterations of the base case
    # -- all internal buses (ppc) --
    ppc_base_kv: np.ndarray  # float64 (n_ppc_bus,), kV
    ppc_v: np.ndarray  # complex128 (n_ppc_bus,), pandapower's vm * exp(j va); 0 if de-energized
    # -- branches (ppc rows) --
    f: np.ndarray  # int64 (n_branch,), ppc bus of the from end
    t: np.ndarray  # int64 (n_branch,)
    branch_status: np.ndarray  # bool (n_branch,), pandapower's BR_STATUS
    branch_in_service: np.ndarray  # bool: status and both ends energized
    yff: np.ndarray  # complex128 (n_branch,), pu; 0 where BR_STATUS is 0
    yft: np.ndarray
    ytf: np.ndarray
    ytt: np.ndarray
    x_pu: np.ndarray  # float64 (n_branch,), series reactance, pu
    tap: np.ndarray  # float64 (n_branch,), off-nominal ratio (1 for lines)
    branch_ppci: np.ndarray  # int64 (n_branch,), row in the ppci branch table, -1 when not there
    # limits: loading (fraction of rating) per kA at each end, rating at rated voltage
    scale_f: np.ndarray  # float64 (n_branch,), 1/kA (0 for rows of no monitored element)
    scale_t: np.ndarray
    rating_mva: np.ndarray  # float64 (n_branch,), MVA (inf when unrated)
    # -- generators (ppci gen rows) --
    gen_bus: np.ndarray  # int64 (n_gen,), ppci bus; -1 when out of service
    gen_p_mw: np.ndarray  # float64 (n_gen,), active power setpoint (0 when out of service)
    # -- index maps --
    ppc_bus_lookup: np.ndarray  # int64, pandapower bus index -> ppc bus row
    bus_lookup: np.ndarray  # int64, pandapower bus index -> ppci row (-1: not energized)
    branch_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)  # element -> rows
    gen_lookup: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # gen -> row

    @property
    def base_kv(self) -> np.ndarray:
        """float64 (n_bus,), base voltage of the energized buses, kV."""
        return self.ppc_base_kv[: self.n_bus]

    @property
    def n_branch(self) -> int:
        """Number of ppc branch rows."""
        return int(self.f.shape[0])

    def arrays(self, *names: str, copy: bool = True) -> dict[str, Any]:
        """The fields ``names`` by name, as writeable copies (``copy``) or the frozen arrays."""
        return {n: getattr(self, n).copy() if copy else getattr(self, n) for n in names}

    def element_rows(self, kind: str) -> np.ndarray:
        """ppc branch rows of every ``kind`` element, int64 (n, 1) or (n, 3) for ``trafo3w``."""
        return element_rows(self.branch_ranges, kind)

    def two_ports(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(yff, yft, ytf, ytt)`` of every ppc branch, pu."""
        return self.yff, self.yft, self.ytf, self.ytt

    @classmethod
    def from_solved(cls, net: pp.pandapowerNet) -> CompiledNetwork:
        """Freeze a net on which pandapower's ``runpp`` has converged (reads ``net._ppc``).

        The element limits are read from the net's tables: lines ``max_i_ka * df * parallel``
        (kA), transformers ``sn_mva * parallel * df`` (MVA) at their winding voltages,
        three-winding transformers ``sn_hv/mv/lv_mva`` per winding, as in pandapower's results;
        impedances ``sn_mva`` at their end buses' nominal voltages (pandapower reports no
        loading for them; its OPF takes ``sn_mva`` as their limit).
        """
        ppc = net._ppc
        ppci = ppc["internal"]
        n_bus = int(ppci["bus"].shape[0])
        base_mva = float(ppci["baseMVA"])
        branch = ppc["branch"]
        n_br = int(branch.shape[0])
        ytt, yff, yft, ytf = branch_vectors(branch, n_br)
        status = branch[:, BR_STATUS].real.astype(bool)
        for y in (ytt, yff, yft, ytf):
            y[~status] = 0.0
        f = branch[:, F_BUS].real.astype(np.int64)
        t = branch[:, T_BUS].real.astype(np.int64)
        tap = branch[:, TAP].real.copy()
        tap[tap == 0] = 1.0
        branch_is = np.asarray(ppci["branch_is"], dtype=bool)
        branch_ppci = np.full(n_br, -1, dtype=np.int64)
        branch_ppci[branch_is] = np.arange(int(branch_is.sum()))

        ybus = sp.csr_matrix(ppci["Ybus"], dtype=np.complex128)
        ybus.sum_duplicates()
        ybus.sort_indices()
        for a in (ybus.data, ybus.indices, ybus.indptr):
            _frozen(a)

        bus = ppc["bus"]
        lookups = net._pd2ppc_lookups
        ppc_lookup = np.asarray(lookups["bus"], dtype=np.int64).copy()
        bus_lookup = ppc_lookup.copy()
        bus_lookup[bus_lookup >= n_bus] = -1
        ranges = {k: (int(v[0]), int(v[1])) for k, v in lookups["branch"].items()}
        scale_f, scale_t, rating = _branch_limits(net, ranges, n_br)

        gen = ppci["gen"]
        gen_on = gen[:, GEN_STATUS].real > 0
        gen_lookup = (
            np.asarray(lookups["gen"], dtype=np.int64).copy()
            if "gen" in lookups
            else np.zeros(0, dtype=np.int64)
        )
        arrays = {
            "sbus": np.asarray(ppci["Sbus"], dtype=np.complex128).copy(),
            "v0": np.asarray(ppci["V"], dtype=np.complex128).copy(),
            "ref": np.asarray(ppci["ref"], dtype=np.int64).copy(),
            "pv": np.asarray(ppci["pv"], dtype=np.int64).copy(),
            "pq": np.asarray(ppci["pq"], dtype=np.int64).copy(),
            "ppc_base_kv": np.ascontiguousarray(bus[:, BASE_KV].real, dtype=np.float64),
            "ppc_v": solved_voltages(net),
            "f": np.ascontiguousarray(f),
            "t": np.ascontiguousarray(t),
            "branch_status": status,
            "branch_in_service": status & (f < n_bus) & (t < n_bus),
            "yff": np.ascontiguousarray(yff, dtype=np.complex128),
            "yft": np.ascontiguousarray(yft, dtype=np.complex128),
            "ytf": np.ascontiguousarray(ytf, dtype=np.complex128),
            "ytt": np.ascontiguousarray(ytt, dtype=np.complex128),
            "x_pu": np.ascontiguousarray(branch[:, BR_X].real, dtype=np.float64),
            "tap": tap,
            "branch_ppci": branch_ppci,
            "scale_f": scale_f,
            "scale_t": scale_t,
            "rating_mva": rating,
            "gen_bus": np.where(gen_on, gen[:, GEN_BUS].real.astype(np.int64), -1),
            "gen_p_mw": np.where(gen_on, gen[:, PG].real, 0.0),
            "ppc_bus_lookup": ppc_lookup,
            "bus_lookup": bus_lookup,
            "gen_lookup": gen_lookup,
        }
        return cls(
            base_mva=base_mva,
            n_bus=n_bus,
            ybus=ybus,
            iterations=int(ppc.get("iterations", 0) or 0),
            branch_ranges=ranges,
            **{k: _frozen(v) for k, v in arrays.items()},
        )

    def array_fields(self) -> list[str]:
        """Names of the fields holding numpy arrays (all read-only)."""
        return [f.name for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)]


def element_rows(ranges: dict[str, tuple[int, int]], kind: str) -> np.ndarray:
    """ppc branch rows of every element of ``kind`` (in table order), int64 (n, k).

    One row per line or transformer (k = 1); three per three-winding transformer (k = 3:
    its hv, mv and lv branches from the star point).
    """
    a, b = ranges[kind]
    if kind != "trafo3w":
        return np.arange(a, b, dtype=np.int64)[:, None]
    n3 = (b - a) // 3
    hv = np.arange(a, a + n3, dtype=np.int64)
    return np.column_stack([hv, hv + n3, hv + 2 * n3])


def _branch_limits(
    net: pp.pandapowerNet, ranges: dict[str, tuple[int, int]], n_br: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per ppc branch: loading per kA at the from and to end (1/kA) and the rating (MVA).

    Loading of a branch is ``max(i_f_ka * scale_f, i_t_ka * scale_t)`` (times 100 in %); a
    three-winding transformer is three branches (hv, mv, lv) from its star point, monitored at
    the winding end.
    """
    scale_f = np.zeros(n_br)
    scale_t = np.zeros(n_br)
    rating = np.full(n_br, np.inf)
    if "line" in ranges and len(net.line):
        a, b = ranges["line"]
        ln = net.line
        i_max = (ln.max_i_ka * ln.df * ln.parallel).to_numpy(dtype=float)
        with np.errstate(divide="ignore"):
            sc = np.where(i_max > 0, 1.0 / i_max, np.inf)
        scale_f[a:b] = sc
        scale_t[a:b] = sc
        vn = net.bus.vn_kv.reindex(ln.from_bus).to_numpy(dtype=float)
        rating[a:b] = SQRT3 * vn * i_max
    if "trafo" in ranges and len(net.trafo):
        a, b = ranges["trafo"]
        tr = net.trafo
        df = tr.df if "df" in tr else 1.0
        den = (tr.sn_mva * tr.parallel * df).to_numpy(dtype=float)
        scale_f[a:b] = tr.vn_hv_kv.to_numpy(dtype=float) * SQRT3 / den
        scale_t[a:b] = tr.vn_lv_kv.to_numpy(dtype=float) * SQRT3 / den
        rating[a:b] = den
    if "impedance" in ranges and len(net.impedance):
        # pandapower gives an impedance no thermal rating; its sn_mva is what pandapower's OPF
        # takes as the branch's MVA limit (RATE_A), so it is the rating here, a current
        # rating at each end's nominal voltage like a transformer's
        a, b = ranges["impedance"]
        im = net.impedance
        sn = im.sn_mva.to_numpy(dtype=float)
        vn_f = net.bus.vn_kv.reindex(im.from_bus).to_numpy(dtype=float)
        vn_t = net.bus.vn_kv.reindex(im.to_bus).to_numpy(dtype=float)
        with np.errstate(divide="ignore"):
            scale_f[a:b] = np.where(sn > 0, SQRT3 * vn_f / sn, np.inf)
            scale_t[a:b] = np.where(sn > 0, SQRT3 * vn_t / sn, np.inf)
        rating[a:b] = np.where(sn > 0, sn, np.inf)
    if "trafo3w" in ranges and len(net.trafo3w):
        t3 = net.trafo3w
        hv, mv, lv = element_rows(ranges, "trafo3w").T
        scale_f[hv] = t3.vn_hv_kv.to_numpy(dtype=float) * SQRT3 / t3.sn_hv_mva.to_numpy(dtype=float)
        scale_t[mv] = t3.vn_mv_kv.to_numpy(dtype=float) * SQRT3 / t3.sn_mv_mva.to_numpy(dtype=float)
        scale_t[lv] = t3.vn_lv_kv.to_numpy(dtype=float) * SQRT3 / t3.sn_lv_mva.to_numpy(dtype=float)
        rating[hv] = t3.sn_hv_mva.to_numpy(dtype=float)
        rating[mv] = t3.sn_mv_mva.to_numpy(dtype=float)
        rating[lv] = t3.sn_lv_mva.to_numpy(dtype=float)
    return scale_f, scale_t, rating


def compile_network(net: pp.pandapowerNet, *, where: str | None = None) -> CompiledNetwork:
    """Check, solve once and freeze ``net``: the start of every engine and study.

    Parameters
    ----------
    net : pandapowerNet
        The case; it is not modified (a copy is solved with :data:`RUNPP_OPTIONS`).
    where : str, optional
        Names the case in error messages (default: ``net.name`` or ``"case"``).

    Returns
    -------
    CompiledNetwork
        Read-only arrays in per unit on ``base_mva`` (limits in kA / MVA).

    Raises
    ------
    CaseError
        The net holds elements the engines do not model (voltage-dependent loads, FACTS
        devices, DC grids: all of them listed in one message), or pandapower cannot build its
        power-flow model.
    ConvergenceError
        The base-case AC power flow does not converge.
    """
    name = where or str(net.name or "case")
    problems = unsupported_elements(net)
    if problems:
        raise CaseError(
            format_problems(name, problems),
            hint="gridplan's engines model constant-power loads and passive branches",
        )
    return CompiledNetwork.from_solved(solve_base_case(net, where=name))
