"""N-1 (and named N-k) contingency scans: ``run_n1(net, ...)`` and ``write_n1(writer, result)``.

Modes
-----
``ac``
    Every outage solved in full AC to pandapower's tolerance (:class:`ACOutageSolver`: one LU
    of the base case, Woodbury updates per outage, chord iterations, Newton fallback).
``dc``
    Linear post-outage active flows from PTDF/LODF columns computed block-wise from one LU
    of the DC susceptance matrix (never a whole bus-by-branch matrix); reactive flows are
    kept at their base-case values. ``dc`` computes no voltages: its voltage columns are NaN
    and it reports no voltage violations.
``screen``
    Two chord steps of the AC engine per outage (the Woodbury linear estimate and one
    correction) estimate every outage; an outage is cleared without further work when every
    estimated quantity is farther from its limit than the screening margin, on either side
    (clearly safe or clearly violated); such outages keep the estimate (``screened_out``,
    ``iterations`` 2), so the violation *set* equals ``ac``'s and the values differ by less
    than the margin. Outages with an estimate inside a margin band are solved in AC. The
    margin: the chord iteration converges linearly, so the error left after step 2 is about
    ``r / (1 - r)`` times the change made by step 2, ``r`` the local rate; an outage is only
    screened when its global rate ``rho = |dx_2| / |dx_1|`` is below ``SCREEN_MAX_RHO``
    (0.5), and each quantity's margin is ``SCREEN_FACTOR`` (2, i.e. local rates up to 2/3)
    times its own step-2 change plus floors ``SCREEN_FLOOR_LOADING_PERCENT`` (0.1 %) and
    ``SCREEN_FLOOR_VM_PU`` (0.001 pu). This is a measured, not a proven, bound: local
    components can converge more slowly than the global norm suggests (seen on
    case1354pegase, hence the per-quantity form and the factor).
    Generator outages are always solved in AC.
    Screening pays only when it clears most outages: the two steps are spent again on every
    outage it cannot clear, and an outage it clears saves the 3-4 further iterations of an
    AC solve. When fewer than ``SCREEN_MIN_CLEARED`` (50 %) of the first ``SCREEN_PROBE``
    (512) outages are cleared (e.g. case1354pegase, and case9241pegase where many quantities
    sit at their limits in the base case), screening stops and the remaining outages go
    straight to AC.
    A test checks on case1354pegase and case2869pegase that ``screen`` and ``ac`` report the
    same violations.

Statuses: ``converged``, ``islanded`` (solved; load/generation cut off in MW), ``diverged``
(last mismatch reported), ``not_simulated`` (reason given). Failed outages contribute NaN,
never 0, to every statistic.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, reverse_cuthill_mckee

from gridplan.core.contingency import (
    STATUS_CONVERGED,
    TOL_PU,
    ACOutageSolver,
    Outage,
    factor_arrays,
    sparse_lu,
)
from gridplan.errors import CaseError
from gridplan.kernels import (
    contingency_ac,
    contingency_graph,
    contingency_lu,
    contingency_stats,
    timeseries_nr,
)
from gridplan.model.branches import branch_flows_of
from gridplan.model.contingency_model import ContingencyModel, compile_contingency_model

SQRT3 = np.sqrt(3.0)
MODES = ("ac", "dc", "screen")
ELEMENT_TYPES = ("line", "trafo", "trafo3w", "gen")
DEFAULT_ELEMENTS = ("line", "trafo")
SCREEN_FACTOR = 2.0
SCREEN_MAX_RHO = 0.5
SCREEN_FLOOR_LOADING_PERCENT = 0.1
SCREEN_FLOOR_VM_PU = 0.001
BLOCK = 256
WINV_BUDGET = 1 << 22  # numbers in a block's stack of W^-1 (32 MB)
SCREEN_PROBE = 512  # outages screened before judging whether screening pays
SCREEN_MIN_CLEARED = 0.5  # below this cleared fraction, screening stops (all AC after)
DC_BLOCK = 64  # dc: the angle block of 64 outages stays in cache for the flow gathers
WORST_VIOLATIONS_KEPT = 100
VIOLATION_COLUMNS = (
    "outage",
    "outage_name",
    "element_type",
    "element",
    "quantity",
    "value",
    "limit",
    "base_value",
    "change",
)

OutageSpec = tuple[str, list[tuple[str, int]]]
OTHER_CHUNK = "in another chunk"  # reason of the outages a ``chunk=`` scan leaves to others


@dataclass
class N1Result:
    """Results of a contingency scan (tables in pandapower naming and units).

    Attributes
    ----------
    outages : DataFrame
        One row per outage: ``name``, ``elements``, ``status``, ``reason``, ``iterations``,
        ``max_mismatch_pu``, ``cut_load_mw``, ``cut_gen_mw``, ``n_bus_cut``,
        ``max_loading_percent`` with ``max_loading_element``, ``min_vm_pu`` / ``min_vm_bus``,
        ``max_vm_pu`` / ``max_vm_bus``, ``screened_out`` (screen mode).
    elements : DataFrame
        One row per monitored branch element: ``element_type``, ``element``,
        ``base_loading_percent``, ``max_loading_percent``, ``cause_index`` (outage position),
        ``cause_name`` and the top-N worst outages ``top{i}_outage`` / ``top{i}_loading_percent``.
    buses : DataFrame
        One row per bus: ``base_vm_pu``, ``min_vm_pu`` / ``min_vm_cause``, ``max_vm_pu`` /
        ``max_vm_cause``.
    violations : DataFrame
        Long format: ``outage``, ``outage_name``, ``element_type``, ``element``, ``quantity``
        (``loading_percent``, ``vm_pu``), ``value``, ``limit``, ``base_value``, ``change``.
        Every violation, unless ``violations_streamed``: then the rows went to a
        ``violation_sink`` (the HDF5 file) block by block and this holds only the
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

    def status_counts(self) -> dict[str, int]:
        """Number of outages per status."""
        return {str(k): int(v) for k, v in self.outages.status.value_counts().items()}


# ---------------------------------------------------------------------------------------
# outage definitions
def default_outages(
    net: pp.pandapowerNet, elements: Sequence[str] = DEFAULT_ELEMENTS
) -> list[OutageSpec]:
    """One outage per in-service element of the given types, named ``"<type> <index>"``."""
    bad = [e for e in elements if e not in ELEMENT_TYPES]
    if bad:
        raise CaseError(
            f"--elements must be among {', '.join(ELEMENT_TYPES)}, got {', '.join(bad)} instead"
        )
    out: list[OutageSpec] = []
    for kind in elements:
        df = net[kind]
        for idx in df.index[df.in_service.to_numpy(dtype=bool)]:
            out.append((f"{kind} {idx}", [(kind, int(idx))]))
    return out


_NONE = np.zeros(0, np.int64)
_NONE.flags.writeable = False
_NO_ROWS: dict[int, np.ndarray] = {}


def _engine_outage(
    model: ContingencyModel, elems: list[tuple[str, int]], bridge: tuple[np.ndarray, ...]
) -> tuple[Outage | None, str]:
    """Translate pandapower elements into an engine outage; ``(None, reason)`` if impossible."""
    is_bridge, child, tin, tout, order = bridge
    if len(elems) == 1:
        # the common case, one in-service branch: no sets, no graph search, and the
        # model's (read-only) row array itself as the outage's branches
        rows = model.element_branches.get(elems[0][0], _NO_ROWS).get(elems[0][1])
        if rows is not None and rows.size == 1 and model.branch_in_service[rows[0]]:
            k = rows[0]
            dead = _NONE
            if is_bridge[k]:
                dead = order[tin[child[k]] : tout[child[k]]].astype(np.int64)
                if np.isin(model.ref, dead).any():
                    dead = _NONE
            return Outage(rows, dead, _NONE), ""
    br: list[int] = []
    gens: list[int] = []
    for kind, idx in elems:
        if kind == "gen":
            if idx not in model.gen_rows:
                return None, f"gen {idx} is not in service"
            row = model.gen_rows[idx]
            if model.gen_bus[row] in set(model.ref.tolist()):
                return None, f"gen {idx} is at a slack bus"
            gens.append(row)
            continue
        rows = model.element_branches.get(kind, {}).get(idx)
        if rows is None:
            return None, f"{kind} {idx} does not exist"
        rows = rows[model.branch_in_service[rows]]
        if rows.size == 0:
            return None, f"{kind} {idx} is already out of service"
        br.extend(int(r) for r in rows)
    bra = np.unique(np.array(br, dtype=np.int64))
    if bra.size == 1:
        k = bra[0]
        dead = order[tin[child[k]] : tout[child[k]]] if is_bridge[k] else np.zeros(0, np.int64)
        if dead.size and np.isin(model.ref, dead).any():
            dead = np.zeros(0, np.int64)
    elif bra.size == 0:
        dead = np.zeros(0, np.int64)
    else:
        act = model.branch_in_service.copy()
        act[bra] = False
        g = sp.coo_matrix(
            (np.ones(int(act.sum())), (model.f[act], model.t[act])),
            shape=(model.n_bus, model.n_bus),
        )
        _, lab = connected_components(g, directed=False)
        alive = np.isin(lab, lab[model.ref])
        dead = np.flatnonzero(~alive)
    return Outage(bra, dead.astype(np.int64), np.array(gens, dtype=np.int64)), ""


def _engine_outages(
    model: ContingencyModel, specs: list[tuple[str, list[tuple[str, int]]]], bridge: tuple
) -> tuple[list[Outage | None], np.ndarray]:
    """Engine outages of every spec and, where impossible, the reason (object array)."""
    eng: list[Outage | None] = []
    reason = np.full(len(specs), "", dtype=object)
    for j, (_, elems) in enumerate(specs):
        o, why = _engine_outage(model, elems, bridge)
        eng.append(o)
        reason[j] = why
    return eng, reason


# ---------------------------------------------------------------------------------------
def _flows(model: ContingencyModel, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Branch loading (percent, (B, n_br)) and |V| for voltage rows ``v`` (B, n).

    One fused pass (the time-series loading kernel): no per-branch flow arrays. Branches
    at a NaN voltage (cut-off buses, failed outages) come out NaN.
    """
    n_br = model.f.size
    with np.errstate(divide="ignore"):
        k_f = model.base_mva / (SQRT3 * model.base_kv[model.f])  # kA per pu current
        k_t = model.base_mva / (SQRT3 * model.base_kv[model.t])
    ld, _ = timeseries_nr.branch_loading(
        np.ascontiguousarray(v, dtype=np.complex128),
        model.f,
        model.t,
        model.yff,
        model.yft,
        model.ytf,
        model.ytt,
        k_f,
        k_t,
        np.arange(n_br, dtype=np.int64),
        100.0 * model.scale_f,
        100.0 * model.scale_t,
        model.base_mva,
    )
    return ld, np.abs(v)


def _element_loading(model: ContingencyModel, ld: np.ndarray) -> np.ndarray:
    mb = model.mon_branch
    out = ld[:, mb[:, 0]]
    for j in (1, 2):
        has = mb[:, j] >= 0
        if has.any():
            out[:, has] = np.fmax(out[:, has], ld[:, mb[has, j]])
    return out


class _Stats:
    """Running per-outage, per-element and per-bus worst values and violations, by block."""

    def __init__(
        self,
        model: ContingencyModel,
        n_out: int,
        own_cols: list[list[int]],
        top: int,
        limits: dict[str, float],
        on_violations: Callable[[list[tuple[np.ndarray, ...]]], None] | None = None,
    ) -> None:
        self.m = model
        self.own_cols = own_cols
        self.on_violations = on_violations
        self.limits = limits
        n_mon = model.mon_branch.shape[0]
        self.top_val = np.full((n_mon, top), -np.inf)
        self.top_idx = np.full((n_mon, top), -1, dtype=np.int64)
        self.vmin = np.full(model.n_bus, np.inf)
        self.vmin_idx = np.full(model.n_bus, -1, dtype=np.int64)
        self.vmax = np.full(model.n_bus, -np.inf)
        self.vmax_idx = np.full(model.n_bus, -1, dtype=np.int64)
        self.o_ld = np.full(n_out, np.nan)
        self.o_el = np.full(n_out, -1, dtype=np.int64)
        self.o_vmin = np.full(n_out, np.nan)
        self.o_vmin_bus = np.full(n_out, -1, dtype=np.int64)
        self.o_vmax = np.full(n_out, np.nan)
        self.o_vmax_bus = np.full(n_out, -1, dtype=np.int64)
        # violation rows of one outage in table order: element type and index, bus index
        self.mon_order = np.lexsort((model.mon_index, model.mon_kind.astype(str))).astype(np.int64)
        self.bus_order = np.argsort(model.bus_index, kind="stable").astype(np.int64)
        self.mon_branch = np.ascontiguousarray(model.mon_branch, dtype=np.int64)
        self.viol: list[tuple[np.ndarray, ...]] = []
        self._eld_buf = np.empty((0, self.mon_branch.shape[0]))

    def add(self, pos: np.ndarray, ok: np.ndarray, ld: np.ndarray, vm: np.ndarray) -> np.ndarray:
        """Fold in one block; ``ld`` branch loading (B, n_br), ``vm`` |V| (B, n), NaN = n/a.

        Returns the element loading (B, n_mon), the outaged elements blanked.
        """
        own = [self.own_cols[p] for p in pos]
        own_ptr = np.zeros(pos.size + 1, dtype=np.int64)
        own_ptr[1:] = np.cumsum([len(c) for c in own])
        own_idx = np.array([c for cs in own for c in cs], dtype=np.int64)
        if self._eld_buf.shape[0] < pos.size:
            self._eld_buf = np.empty((pos.size, self.mon_branch.shape[0]))
        eld = self._eld_buf[: pos.size]  # reused: callers copy what they keep
        lim = self.limits
        parts = contingency_stats.block_stats(
            np.ascontiguousarray(ld, dtype=np.float64),
            self.mon_branch,
            np.ascontiguousarray(vm, dtype=np.float64),
            np.ascontiguousarray(pos, dtype=np.int64),
            np.ascontiguousarray(ok, dtype=np.uint8),
            own_ptr,
            own_idx,
            self.mon_order,
            self.bus_order,
            lim["max_loading_percent"],
            lim["vm_min_pu"],
            lim["vm_max_pu"],
            eld,
            self.top_val,
            self.top_idx,
            self.vmin,
            self.vmin_idx,
            self.vmax,
            self.vmax_idx,
            self.o_ld,
            self.o_el,
            self.o_vmin,
            self.o_vmin_bus,
            self.o_vmax,
            self.o_vmax_bus,
        )
        if parts[0].size:
            if self.on_violations is not None:
                self.on_violations([parts])
            else:
                self.viol.append(parts)
        return eld


def _dc_setup(model: ContingencyModel) -> dict[str, Any]:
    """LU of the DC susceptance matrix (slack rows/columns kept as identity)."""
    # pandapower's DC model (makeBdc): series susceptance 1/(x*tap)
    b = model.dc_b
    n = model.n_bus
    f, t = model.f, model.t
    bbus = sp.coo_matrix(
        (
            np.concatenate([b, b, -b, -b]),
            (np.concatenate([f, t, f, t]), np.concatenate([f, t, t, f])),
        ),
        shape=(n, n),
    ).tocsr()
    held = np.zeros(n, dtype=bool)
    held[model.ref] = True
    keep = sp.diags((~held).astype(float))
    mat = (keep @ bbus @ keep + sp.diags(held.astype(float))).tocsc()
    lu = sparse_lu(mat)
    rcm = reverse_cuthill_mckee(bbus.tocsr(), symmetric_mode=True).astype(np.int64)
    inv = np.empty(n, dtype=np.int64)
    inv[rcm] = np.arange(n)
    # angles come out in Cuthill-McKee order: the two ends of a branch are close in
    # memory, and branches taken in that order sweep the angle block almost sequentially
    factors = (*factor_arrays(lu)[:7], lu.perm_c[rcm].astype(np.int64))
    return {
        "b": b,
        "held": held,
        "factors": factors,
        "f": inv[f],
        "t": inv[t],
        "order": np.lexsort((inv[t], inv[f])).astype(np.int64),
    }


def _dc_block(
    model: ContingencyModel,
    dc: dict[str, Any],
    outs: list[Outage],
    v0: np.ndarray,
    s_f0: np.ndarray,
    s_t0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Post-outage loading (B, n_br) by LODF for single-branch outages (islands included).

    Returns ``(loading, vm)`` with ``vm`` of shape (B, 0): dc computes no voltages.
    """
    n = model.n_bus
    nb = len(outs)
    b = dc["b"]
    held = dc["held"]
    rhs = np.zeros((n, nb))
    k = np.array([o.branches[0] for o in outs], dtype=np.int64)
    f, t = model.f[k], model.t[k]
    isl = np.array([o.dead.size > 0 for o in outs])
    cols = np.arange(nb)
    # islanded: the live end stops exporting, the slack (held, theta=0) takes it up
    live_f = np.ones(nb, dtype=bool)
    for j, o in enumerate(outs):
        if o.dead.size and np.isin(f[j], o.dead):
            live_f[j] = False
    inj_bus = np.where(live_f, f, t)
    rhs[inj_bus, cols] += 1.0
    rhs[t[~isl], cols[~isl]] -= 1.0
    rhs[held, :] = 0.0
    theta = contingency_lu.lu_solve_rows(*dc["factors"], rhs)
    fp, tp = dc["f"][k], dc["t"][k]  # rows of theta (Cuthill-McKee order)
    own = b[k] * (theta[fp, cols] - theta[tp, cols])  # outaged branch's own transfer share
    pk = s_f0.real[k]  # MW
    denom = np.where(isl, 1.0, 1.0 - own)
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.where(isl, np.where(live_f, pk, -pk), pk / denom)
    if "a_f" not in dc:
        dc["ld_buf"] = np.empty((max(nb, DC_BLOCK), model.f.size))
        sq3 = np.sqrt(3.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            a_f = model.scale_f / (sq3 * np.abs(v0[model.f]) * model.base_kv[model.f])
            a_t = model.scale_t / (sq3 * np.abs(v0[model.t]) * model.base_kv[model.t])
        dc["a_f"] = np.where(np.isfinite(a_f) | np.isinf(model.scale_f), a_f, 0.0)
        dc["a_t"] = np.where(np.isfinite(a_t) | np.isinf(model.scale_t), a_t, 0.0)
        dc["flows0"] = tuple(
            np.ascontiguousarray(x) for x in (s_f0.real, s_t0.real, s_f0.imag, s_t0.imag)
        )
    ld = contingency_ac.dc_loading_block(
        theta,
        dc["f"],
        dc["t"],
        dc["order"],
        np.ascontiguousarray(b),
        np.ascontiguousarray(coef),
        *dc["flows0"],
        dc["a_f"],
        dc["a_t"],
        dc["ld_buf"][:nb],
    )
    ld[cols, k] = np.nan
    for j, o in enumerate(outs):
        if o.dead.size:
            dead = np.zeros(n, dtype=bool)
            dead[o.dead] = True
            ld[j, dead[model.f] | dead[model.t]] = np.nan
    # no voltages in dc: an empty block (no voltage statistics, no voltage violations)
    return ld, np.empty((nb, 0))


# ---------------------------------------------------------------------------------------
def run_n1(
    net: pp.pandapowerNet,
    *,
    mode: str = "ac",
    elements: Sequence[str] = DEFAULT_ELEMENTS,
    outages: Sequence[OutageSpec] | None = None,
    max_loading_percent: float = 100.0,
    vm_min_pu: float = 0.9,
    vm_max_pu: float = 1.1,
    top: int = 3,
    case_name: str = "",
    tol: float = TOL_PU,
    block: int = BLOCK,
    progress: Callable[[int], None] | None = None,
    matrix_sink: Callable[[np.ndarray, np.ndarray], None] | None = None,
    violation_sink: Callable[[pd.DataFrame], None] | None = None,
    model: ContingencyModel | None = None,
    chunk: tuple[int, int] | None = None,
) -> N1Result:
    """Scan outages of ``net`` and summarize loading and voltage after each.

    Parameters
    ----------
    net : pandapowerNet
        The case (not modified; a copy is solved once with ``runpp``).
    mode : {"ac", "dc", "screen"}
        See the module docstring.
    elements : sequence of str
        Element types outaged one by one when ``outages`` is None
        (``line``, ``trafo``, ``trafo3w``, ``gen``).
    outages : list of (name, [(element_type, index), ...]), optional
        Named outage sets (N-k), e.g. from :func:`gridplan.model.outages.read_outages`.
    max_loading_percent : float
        Branch loading limit, percent of rating.
    vm_min_pu, vm_max_pu : float
        Bus voltage band, pu.
    top : int
        Worst outages kept per element.
    tol : float
        AC convergence tolerance on the largest P/Q mismatch, pu (pandapower: 1e-8).
    block : int
        Outages solved together (memory grows linearly with it).
    progress : callable, optional
        Called with the number of outages finished after every block.
    matrix_sink : callable, optional
        Called with (outage positions, element loading float32 (B, n_element)) per block.
    violation_sink : callable, optional
        Called with the violation rows (DataFrame, columns as ``N1Result.violations``, index
        = row number in the whole table) of each finished block, e.g.
        :func:`n1_violation_sink`; the rows are then not kept in memory (only counts and the
        worst rows, see :class:`N1Result`), so memory does not grow with the outages.
    model : ContingencyModel, optional
        A model compiled before (skips solving the base case again).
    chunk : (i, n), optional
        Scan only chunk ``i`` (0-based) of ``n``: the outages are ordered and cut into blocks
        exactly as for the whole scan, and chunk ``i`` takes the ``i``-th of ``n`` runs of
        whole consecutive blocks (about equal outage counts). Every outage of the chunk is
        therefore solved in the same block, in the same order, as in the whole scan, and
        gives the same numbers; the others stay ``not_simulated`` with reason
        :data:`OTHER_CHUNK`. Statistics cover the chunk's outages only; chunks are merged
        in order ``0 .. n-1`` by :func:`gridplan.studies.batch.n1split.merge_chunks`.

    Returns
    -------
    N1Result
        Interrupted scans (Ctrl-C) return what was finished; the rest is ``not_simulated``.
    """
    if mode not in MODES:
        raise CaseError(f"--mode must be one of {', '.join(MODES)}, got {mode!r} instead")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if model is None:
        model = compile_contingency_model(net)
    timings["compile_s"] = time.perf_counter() - t0
    specs = list(outages) if outages is not None else default_outages(net, elements)
    limits = {
        "max_loading_percent": float(max_loading_percent),
        "vm_min_pu": float(vm_min_pu),
        "vm_max_pu": float(vm_max_pu),
    }

    t1 = time.perf_counter()
    bridge = contingency_graph.bridge_tree(
        model.n_bus, model.f, model.t, model.branch_in_service.astype(np.uint8), model.ref
    )
    n_out = len(specs)
    eng, reason = _engine_outages(model, specs, bridge)
    timings["outages_s"] = time.perf_counter() - t1

    base_ld_br, base_vm = _flows(model, model.v0[None, :])
    base_eld = _element_loading(model, base_ld_br)[0]
    base_vm = base_vm[0]
    names = np.array([n for n, _ in specs], dtype=object)
    has_viol = np.zeros(n_out, dtype=bool)
    vcounts = {"loading_percent": 0, "vm_pu": 0}
    streamed: dict[str, Any] = {"n": 0, "worst": None}

    def _count(parts: list[tuple[np.ndarray, ...]]) -> None:
        for vpos, kind, _, _ in parts:
            has_viol[vpos] = True
            n_ld = int(np.count_nonzero(kind == 0))
            vcounts["loading_percent"] += n_ld
            vcounts["vm_pu"] += kind.size - n_ld

    def _stream(parts: list[tuple[np.ndarray, ...]]) -> None:
        # the kernel lists rows of one outage together, in the order of the in-memory table
        df = _violation_frame(model, parts, names, base_eld, base_vm, limits)
        n0 = streamed["n"]
        df.index = pd.RangeIndex(n0, n0 + len(df))
        violation_sink(df)  # type: ignore[misc]
        # counted only once the sink has the rows (write_n1 trims a half-written append)
        streamed["n"] = n0 + len(df)
        streamed["worst"] = _worst_violations(
            df if streamed["worst"] is None else pd.concat([streamed["worst"], df])
        )
        _count(parts)

    status = np.full(n_out, "not_simulated", dtype=object)
    iters = np.zeros(n_out, dtype=np.int32)
    mism = np.full(n_out, np.nan)
    cut_load = np.zeros(n_out)
    cut_gen = np.zeros(n_out)
    n_cut = np.zeros(n_out, dtype=np.int64)
    screened = np.zeros(n_out, dtype=bool)

    # outaged element columns to blank, per outage
    mon_pos = {
        (k, int(i)): j for j, (k, i) in enumerate(zip(model.mon_kind, model.mon_index, strict=True))
    }
    own_cols = [[mon_pos[(k, i)] for k, i in elems if (k, i) in mon_pos] for _, elems in specs]
    stats = _Stats(
        model,
        n_out,
        own_cols,
        top,
        limits,
        on_violations=_stream if violation_sink is not None else None,
    )

    todo = np.array([j for j in range(n_out) if eng[j] is not None], dtype=np.int64)
    # per outage: branches, cut-off buses, generators, first branch (-1: none)
    sizes = np.array(
        [
            (o.branches.size, o.dead.size, o.gens.size, o.branches[0] if o.branches.size else -1)
            for o in (eng[j] for j in todo)
        ],
        dtype=np.int64,
    ).reshape(-1, 4)
    # similar outages together: same update size, neighbouring buses share the Z solves
    _is_bridge, _child, tin, _tout, _order = bridge
    key_size = sizes[:, :3].sum(axis=1)
    key_bus = np.where(sizes[:, 3] >= 0, tin[model.f[np.maximum(sizes[:, 3], 0)]], 0)
    if mode != "dc":
        # (dc solves two-entry right-hand sides: the outage order costs it nothing and
        # keeps its violation rows in order)
        order = np.lexsort((key_bus, key_size))
        todo, sizes = todo[order], sizes[order]

    solver = None
    dc = None
    s_f0 = s_t0 = None
    t2 = time.perf_counter()
    if mode in ("ac", "screen"):
        solver = ACOutageSolver(
            model.ybus,
            model.sbus,
            model.v0,
            model.ref,
            model.pv,
            model.pq,
            model.f,
            model.t,
            model.yff,
            model.yft,
            model.ytf,
            model.ytt,
            model.gen_bus,
            model.gen_s_pu,
            tol=tol,
        )
    if mode == "dc":
        dc = _dc_setup(model)
        s_f0, s_t0, _, _ = branch_flows_of(model, model.v0)
        s_f0, s_t0 = s_f0[0], s_t0[0]
        multi = [j for j in todo if eng[j].branches.size != 1 or eng[j].gens.size]  # type: ignore[union-attr]
        for j in multi:
            reason[j] = "dc mode handles single-branch outages only"
        skip = set(multi)
        todo = np.array([j for j in todo if j not in skip], dtype=np.int64)
        block = min(block, DC_BLOCK)
    timings["factorize_s"] = time.perf_counter() - t2

    interrupted = False
    t3 = time.perf_counter()

    def _post(
        pos: np.ndarray, outs: list[Outage], ok: np.ndarray, ld: np.ndarray, vm: np.ndarray
    ) -> None:
        """Per-outage and per-element statistics of one solved (or screened) part of a block."""
        nbr = np.array([o.branches.size for o in outs], dtype=np.int64)
        ld[
            np.repeat(np.arange(len(outs)), nbr),
            np.concatenate([_NONE, *(o.branches for o in outs)]),
        ] = np.nan
        eld = stats.add(pos, ok, ld, vm)
        if matrix_sink is not None:
            matrix_sink(pos, eld.astype(np.float32))
        # statuses last: a Ctrl-C inside a sink leaves this part marked not_simulated
        cut = [j for j, o in enumerate(outs) if o.dead.size]
        if cut:
            own = np.repeat(np.arange(len(cut)), [outs[j].dead.size for j in cut])
            dead = np.concatenate([outs[j].dead for j in cut])
            p = pos[cut]
            cut_load[p] = np.bincount(own, model.load_mw[dead], minlength=len(cut))
            cut_gen[p] = np.bincount(own, model.gen_mw[dead], minlength=len(cut))
            n_cut[p] = np.bincount(own, model.bus_index[dead] >= 0, minlength=len(cut))
        for p in pos[~ok]:
            reason[p] = f"no convergence, last mismatch {mism[p]:.3g} pu"
        status[pos] = np.where(ok, np.where(n_cut[pos] > 0, "islanded", "converged"), "diverged")

    # blocks of at most ``block`` outages; the small dense matrices W^-1 of a block are
    # (outages, largest update, largest update) numbers, kept under WINV_BUDGET
    est = 4 * sizes[:, 0] + 2 * sizes[:, 1] + 2 * sizes[:, 2]
    if block * int(est.max(initial=0)) ** 2 <= WINV_BUDGET:
        bounds = [*range(0, todo.size, block), todo.size]
    else:
        bounds = [0]
        widest = 0
        for i, e in enumerate(est.tolist()):
            widest = max(widest, e)
            if i > bounds[-1] and (
                i - bounds[-1] >= block or (i - bounds[-1] + 1) * widest**2 > WINV_BUDGET
            ):
                bounds.append(i)
                widest = e
        bounds.append(todo.size)
    if chunk is not None:
        bounds = _chunk_bounds(bounds, *chunk)
        mine = np.zeros(n_out, dtype=bool)
        mine[todo[bounds[0] : bounds[-1]]] = True
        reason[~mine & (reason == "")] = OTHER_CHUNK

    screen_on = True
    tried = 0
    try:
        for s, s_end in itertools.pairwise(bounds):
            pos = todo[s:s_end]
            outs = [eng[j] for j in pos]
            if mode == "dc":
                ld, vm = _dc_block(model, dc, outs, model.v0, s_f0, s_t0)  # type: ignore[arg-type]
                iters[pos] = 0
                _post(pos, outs, np.ones(pos.size, dtype=bool), ld, vm)
            else:
                if mode == "screen" and screen_on:
                    # outages whose every estimate is clearly inside or clearly beyond its
                    # limit keep the estimate; the ambiguous ones are solved in AC below
                    n_in = pos.size
                    pos, outs, cleared = _screen(model, solver, pos, outs, limits)  # type: ignore[arg-type]
                    tried += n_in
                    if cleared is not None:
                        cpos, couts, cld, cvm = cleared
                        screened[cpos] = True
                        iters[cpos] = 2
                        _post(cpos, couts, np.ones(cpos.size, dtype=bool), cld, cvm)
                    # a grid where the screen clears (almost) nothing, e.g. with many
                    # quantities sitting at their limits in the base case, goes on in AC
                    # alone: the two screening steps would only add to the AC cost
                    if tried >= SCREEN_PROBE and screened.sum() < SCREEN_MIN_CLEARED * tried:
                        screen_on = False
                if pos.size:
                    res = solver.solve_block(outs)  # type: ignore[union-attr]
                    ok = res.status == STATUS_CONVERGED
                    iters[pos] = res.iterations
                    mism[pos] = res.mismatch
                    ld, vm = _flows(model, res.v)
                    ld[~ok] = np.nan
                    vm[~ok] = np.nan
                    _nan_dead(model, outs, ld)
                    _post(pos, outs, ok, ld, vm)
            if progress:
                progress(pos.size)
    except KeyboardInterrupt:
        interrupted = True
        pending = status == "not_simulated"
        reason[pending & (reason == "")] = "interrupted"
    timings["scan_s"] = time.perf_counter() - t3
    if mode == "dc":
        iters[:] = 0

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
            "status": status,
            "reason": reason,
            "iterations": iters,
            "max_mismatch_pu": mism,
            "cut_load_mw": cut_load,
            "cut_gen_mw": cut_gen,
            "n_bus_cut": n_cut,
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
            "screened_out": screened,
        },
        copy=False,
    )
    out_df.index.name = "outage"

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

    bus_df = pd.DataFrame(
        {
            "bus": bus_idx,
            "base_vm_pu": base_vm,
            "min_vm_pu": np.where(np.isfinite(stats.vmin), stats.vmin, np.nan),
            "min_vm_cause": stats.vmin_idx,
            "max_vm_pu": np.where(np.isfinite(stats.vmax), stats.vmax, np.nan),
            "max_vm_cause": stats.vmax_idx,
        },
        copy=False,
    )
    bus_df.index.name = "row"

    if violation_sink is not None:
        viol = streamed["worst"]
        if viol is None:
            viol = _violation_frame(model, [], names, base_eld, base_vm, limits)
        viol = _sort_violations(viol)
        n_viol = int(streamed["n"])
    else:
        parts = stats.viol
        _count(parts)
        if len(parts) > 1:
            parts = [_merge_by_outage(parts, n_out)]
        viol = _violation_frame(model, parts, names, base_eld, base_vm, limits)
        n_viol = len(viol)
    return N1Result(
        case_name=case_name,
        mode=mode,
        limits=limits,
        outages=out_df,
        elements=el_df,
        buses=bus_df,
        violations=viol,
        timings_s=timings,
        interrupted=interrupted,
        violations_streamed=violation_sink is not None,
        n_violations=n_viol,
        violation_counts=vcounts,
        n_violation_outages=int(has_viol.sum()),
    )


def _chunk_bounds(bounds: list[int], i: int, n: int) -> list[int]:
    """The block bounds of chunk ``i`` of ``n``: runs of whole blocks, cut where the
    outage count comes closest to ``k / n`` of the total."""
    if not (isinstance(n, int) and isinstance(i, int) and n >= 1 and 0 <= i < n):
        raise CaseError(f"chunk must be (i, n) with 0 <= i < n, got ({i}, {n}) instead")
    b = np.asarray(bounds)
    targets = b[-1] * np.arange(n + 1) / n
    cuts = np.abs(b[None, :] - targets[:, None]).argmin(axis=1)
    cuts[0], cuts[-1] = 0, b.size - 1
    cuts = np.maximum.accumulate(cuts)
    return [int(x) for x in b[cuts[i] : cuts[i + 1] + 1]]


def _merge_by_outage(parts: list[tuple[np.ndarray, ...]], n_out: int) -> tuple[np.ndarray, ...]:
    """One table of violation parts, ordered by outage.

    Every outage lies in one part, where its rows are consecutive and the parts list their
    outages in ascending order; each row is put straight at its place (no sort).
    """
    ends = [(int(q[0][0]), int(q[0][-1])) for q in parts if q[0].size]
    if all(a[1] < b[0] for a, b in itertools.pairwise(ends)):
        return tuple(np.concatenate([q[i] for q in parts]) for i in range(4))  # in order
    counts = np.zeros(n_out, dtype=np.int64)
    for q in parts:
        counts += np.bincount(q[0], minlength=n_out)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    total = int(counts.sum())
    out = tuple(np.empty(total, dtype=parts[0][i].dtype) for i in range(4))
    for q in parts:
        pp = q[0]
        m = pp.size
        first = np.flatnonzero(np.concatenate([[True], pp[1:] != pp[:-1]]))
        seg = np.diff(np.concatenate([first, [m]]))
        dest = np.arange(m) + np.repeat(start[pp[first]] - first, seg)
        for i in range(4):
            out[i][dest] = q[i]
    return out


def _violation_frame(
    model: ContingencyModel,
    parts: list[tuple[np.ndarray, ...]],
    names: np.ndarray,
    base_eld: np.ndarray,
    base_vm: np.ndarray,
    limits: dict[str, float],
) -> pd.DataFrame:
    """Violation rows from ``(outage pos, kind 0/1/2, element/bus row, value)`` parts."""
    if not parts:
        types = {"outage": np.int64, "element": np.int64}
        return pd.DataFrame(
            {c: np.zeros(0, dtype=types.get(c, object)) for c in VIOLATION_COLUMNS[:5]}
            | {c: np.zeros(0) for c in VIOLATION_COLUMNS[5:]}
        )
    if len(parts) == 1:
        pos, kind, idx, val = parts[0]
    else:
        pos, kind, idx, val = (np.concatenate([v[i] for v in parts]) for i in range(4))
    # one lookup table over element rows then bus rows: every column is a single take;
    # the string columns are categoricals (codes only, no per-row Python strings)
    n_mon = model.mon_index.size
    key = np.where(kind != 0, idx + n_mon, idx)
    type_names, type_code = np.unique(
        np.concatenate([model.mon_kind.astype(str), np.full(model.n_bus, "bus")]),
        return_inverse=True,
    )
    etype = pd.Categorical.from_codes(type_code[key], categories=type_names)
    elem = np.concatenate([model.mon_index, model.bus_index]).astype(np.int64)[key]
    base = np.concatenate([base_eld, base_vm])[key]
    lim = np.array([limits["max_loading_percent"], limits["vm_min_pu"], limits["vm_max_pu"]])
    quantity = pd.Categorical.from_codes(
        np.array([0, 1, 1], dtype=np.int8)[kind], categories=["loading_percent", "vm_pu"]
    )
    uniq_names = pd.Index(names).is_unique
    df = pd.DataFrame(
        {
            "outage": pos,
            "outage_name": pd.Categorical.from_codes(pos, categories=names)
            if uniq_names
            else names[pos],
            "element_type": etype,
            "element": elem,
            "quantity": quantity,
            "value": val,
            "limit": lim[kind],
            "base_value": base,
            "change": val - base,
        },
        copy=False,  # fresh arrays; no consolidation copy of millions of rows
    )
    return df


def _sort_violations(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(
        ["outage", "quantity", "element_type", "element"], kind="stable"
    ).reset_index(drop=True)


def _worst_violations(df: pd.DataFrame, n: int = WORST_VIOLATIONS_KEPT) -> pd.DataFrame:
    """The ``n`` rows per quantity farthest beyond their limit (bounded in-memory summary)."""
    excess = (df.value - df.limit).abs()
    order = np.lexsort((-excess.to_numpy(), df.quantity.to_numpy().astype(str)))
    d = df.iloc[order]
    return d[d.groupby("quantity", sort=False, observed=True).cumcount().to_numpy() < n]


def n1_violation_sink(writer: Any, group: str = "contingency") -> Callable[[pd.DataFrame], None]:
    """A ``violation_sink`` for :func:`run_n1` appending to ``/<group>/violations``.

    Rows go to the open :class:`gridplan.results.ResultWriter` as blocks finish (resizable,
    chunked, compressed table); :func:`write_n1` then completes the table.
    """
    name = f"{group}/violations"

    def sink(df: pd.DataFrame) -> None:
        writer.append_table(name, df)

    return sink


def _finish_streamed_violations(writer: Any, name: str, result: N1Result) -> None:
    """Trim a table that Ctrl-C left half-appended to the rows counted, or create it empty."""
    h5 = writer.h5
    n = result.n_violations
    cols = ["index", *VIOLATION_COLUMNS]
    if name in h5 and (n == 0 or any(c not in h5[name] for c in cols)):
        del h5[name]  # only a first append can be incomplete; nothing was counted then
    if name not in h5:
        empty = result.violations.iloc[:0]
        writer.write_table(name, empty)
        return
    grp = h5[name]
    for c in cols:
        if grp[c].shape[0] != n:
            grp[c].resize((n,))
    grp.attrs["n_rows"] = n


def _nan_dead(model: ContingencyModel, outs: list[Outage], ld: np.ndarray) -> None:
    """Blank (NaN) the loading of branches inside the part an outage cuts off."""
    cut = [j for j, o in enumerate(outs) if o.dead.size]
    if not cut:
        return
    dead = np.zeros((len(cut), model.n_bus), dtype=bool)
    dead[
        np.repeat(np.arange(len(cut)), [outs[j].dead.size for j in cut]),
        np.concatenate([outs[j].dead for j in cut]),
    ] = True
    r, c = np.nonzero(dead[:, model.f] | dead[:, model.t])
    ld[np.array(cut)[r], c] = np.nan


def _screen(
    model: ContingencyModel,
    solver: ACOutageSolver,
    pos: np.ndarray,
    outs: list[Outage],
    limits: dict[str, float],
) -> tuple[np.ndarray, list[Outage], tuple | None]:
    """Two chord steps for the block; returns the ambiguous outages and the cleared part.

    Cleared: every estimated loading and voltage is farther from its limit than its margin
    (on either side), so the AC solution violates exactly the limits the estimate violates.
    """
    res = solver.screen_steps(outs)
    ld1, vm1 = _flows(model, res.v_first)
    ld, vm = _flows(model, res.v)
    for arr in (ld, ld1):
        for j, o in enumerate(outs):
            arr[j, o.branches] = np.nan
        _nan_dead(model, outs, arr)
    eld = _element_loading(model, ld)
    eld1 = _element_loading(model, ld1)
    # global contraction estimate rho = |dx2| / |dx1| must be small; each quantity's
    # remaining error is then taken as at most SCREEN_FACTOR times its own last change
    s1, s2 = res.step_norms[:, 0], res.step_norms[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(s1 > 0, s2 / s1, 0.0)
    ok = (res.status == STATUS_CONVERGED) & (rho < SCREEN_MAX_RHO)
    lim_ld = limits["max_loading_percent"]
    with np.errstate(invalid="ignore"):
        m_vm = SCREEN_FACTOR * np.abs(vm - vm1) + SCREEN_FLOOR_VM_PU
        m_ld = SCREEN_FACTOR * np.abs(eld - eld1) + SCREEN_FLOOR_LOADING_PERCENT
        near_ld = np.abs(eld - lim_ld) <= m_ld
        near_lo = np.abs(vm - limits["vm_min_pu"]) <= m_vm
        near_hi = np.abs(vm - limits["vm_max_pu"]) <= m_vm
        ambiguous = (
            ~ok | np.any(near_ld, axis=1) | np.any(near_lo, axis=1) | np.any(near_hi, axis=1)
        )
    clear = ~ambiguous & np.array([o.gens.size == 0 for o in outs])
    keep = np.flatnonzero(~clear)
    cl = np.flatnonzero(clear)
    cleared = None
    if cl.size:
        # _post blanks the outaged branches again; ld still holds step-2 estimates
        cleared = (pos[cl], [outs[j] for j in cl], ld[cl], vm[cl])
    return pos[keep], [outs[j] for j in keep], cleared


# ---------------------------------------------------------------------------------------
def write_n1(writer: Any, result: N1Result, group: str = "contingency") -> None:
    """Write ``result`` under ``/contingency`` of an open :class:`gridplan.results.ResultWriter`.

    When ``result.violations_streamed``, the violation rows are already in the file (from
    :func:`n1_violation_sink` on the same writer and group); they are not written again.
    """
    writer.write_table(f"{group}/outages", result.outages)
    writer.write_table(f"{group}/elements", result.elements)
    writer.write_table(f"{group}/buses", result.buses)
    if result.violations_streamed:
        _finish_streamed_violations(writer, f"{group}/violations", result)
    else:
        writer.write_table(f"{group}/violations", result.violations)
    counts = result.status_counts()
    writer.set_attrs(
        group,
        mode=result.mode,
        n_outages=len(result.outages),
        interrupted=int(result.interrupted),
        **{f"n_{k}": v for k, v in counts.items()},
        **result.limits,
        **{f"time_{k}": v for k, v in result.timings_s.items()},
    )


def n1_states(
    net: pp.pandapowerNet,
    outages: Sequence[OutageSpec],
    *,
    model: ContingencyModel | None = None,
    tol: float = TOL_PU,
) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """Full AC post-outage state of a few outages, in pandapower's element order.

    Returns
    -------
    status : list of str
        Per outage, as in :func:`run_n1`.
    vm_pu : float64 (n_outage, len(net.bus))
        Bus voltage magnitudes in ``net.bus`` order (NaN: cut off or failed).
    loading_percent : dict element type -> float64 (n_outage, len(net[element]))
        Branch loading in element table order (NaN: out, cut off or failed).
    """
    if model is None:
        model = compile_contingency_model(net)
    bridge = contingency_graph.bridge_tree(
        model.n_bus, model.f, model.t, model.branch_in_service.astype(np.uint8), model.ref
    )
    solver = ACOutageSolver(
        model.ybus,
        model.sbus,
        model.v0,
        model.ref,
        model.pv,
        model.pq,
        model.f,
        model.t,
        model.yff,
        model.yft,
        model.ytf,
        model.ytt,
        model.gen_bus,
        model.gen_s_pu,
        tol=tol,
    )
    n_out = len(outages)
    rows = model.pp_bus_rows(net.bus.index.to_numpy())
    vm_out = np.full((n_out, len(net.bus)), np.nan)
    mon = {k: np.flatnonzero(model.mon_kind == k) for k in ("line", "trafo", "trafo3w")}
    ld_out = {k: np.full((n_out, len(net[k])), np.nan) for k in mon}
    status = ["not_simulated"] * n_out
    el_order = {}
    for k, cols in mon.items():
        pos = {int(i): c for i, c in zip(model.mon_index[cols], cols, strict=True)}
        el_order[k] = np.array([pos.get(int(i), -1) for i in net[k].index], dtype=np.int64)
    for j, (_, elems) in enumerate(outages):
        o, _why = _engine_outage(model, elems, bridge)
        if o is None:
            continue
        res = solver.solve_block([o])
        if res.status[0] != STATUS_CONVERGED:
            status[j] = "diverged"
            continue
        ld, vm = _flows(model, res.v)
        if o.dead.size:
            dead = np.zeros(model.n_bus, dtype=bool)
            dead[o.dead] = True
            ld[0, dead[model.f] | dead[model.t]] = np.nan
        ld[0, o.branches] = np.nan
        eld = _element_loading(model, ld)[0]
        status[j] = "islanded" if np.any(model.bus_index[o.dead] >= 0) else "converged"
        ok = rows >= 0
        vm_out[j, ok] = vm[0, rows[ok]]
        for k, order in el_order.items():
            has = order >= 0
            ld_out[k][j, has] = eld[order[has]]
    return status, vm_out, ld_out
