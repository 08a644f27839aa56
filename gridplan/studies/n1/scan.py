"""The N-1 scan: outages solved block by block, folded into running statistics.

:func:`run_n1` compiles the case once, translates the outages, orders them so that similar
ones share a block, solves every block with the AC (:class:`gridplan.core.contingency.
ACOutageSolver`) or DC (:class:`gridplan.core.contingency_dc.DCOutageSolver`) engine, screens
them first in ``screen`` mode, and folds each block into the running statistics and the
violation rows. :func:`n1_states` gives the full post-outage state of a few outages.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.core.contingency import STATUS_CONVERGED, TOL_PU, ACOutageSolver, Outage
from gridplan.core.contingency_dc import DC_BLOCK
from gridplan.core.contingency_running import BlockReduction, RunningStats
from gridplan.core.contingency_screen import mark_near
from gridplan.core.violation_rule import WORSEN_LOADING_PERCENT, WORSEN_VM_PU
from gridplan.errors import CaseError
from gridplan.model.contingency_model import ContingencyModel, compile_contingency_model
from gridplan.model.contingency_outages import (
    DEFAULT_ELEMENTS,
    default_outages,
    engine_outage,
    engine_outages,
    lost_p_mw,
)
from gridplan.model.outages import OutageSpec
from gridplan.studies.blocks import available_cores, in_order
from gridplan.studies.n1.statistics import (
    N1Result,
    OutageState,
    bus_table,
    element_table,
    outage_table,
)
from gridplan.studies.n1.violations import (
    REPORTS,
    ReportRule,
    ViolationCollector,
    base_violation_frame,
)

MODES = ("ac", "dc", "screen")
# the screen's margins (see the package docstring: measured, with their recall)
SCREEN_FACTOR = 2.0  # times a quantity's own change in the second step
SCREEN_MAX_RHO = 0.5  # largest contraction |dx2| / |dx1| of a cleared outage
SCREEN_FLOOR_LOADING_PERCENT = 1e-4  # added where the second step changed the loading
SCREEN_FLOOR_VM_PU = 1e-5  # added where the second step changed the voltage
SCREEN_MAX_MISMATCH_PU = 1e-2  # largest P/Q mismatch left by the estimate of a cleared outage
BLOCK = 256  # most outages solved together
BLOCK_STATE = 1 << 20  # numbers (outages x buses) of a block's complex state: 16 MB
CHUNK_RATIO = 0.75  # a split scan's chunk k + 1 has this share of chunk k's outages
WINV_BUDGET = 1 << 22  # numbers in a block's stack of W^-1 (32 MB)
OTHER_CHUNK = "in another chunk"  # reason of the outages a ``chunk=`` scan leaves to others

_NONE = np.zeros(0, np.int64)
_NONE.flags.writeable = False

#: a part of a block reduced on any thread (run_n1's ``_reduce``), booked in order: the
#: statistics, cut-off (positions, load MW, generation MW, buses), (position, reason) of the
#: failed outages, statuses, float32 element loading rows for the matrix sink (or None)
_Reduced = tuple[
    BlockReduction,
    tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None,
    list[tuple[int, str]],
    np.ndarray,
    np.ndarray | None,
]


@contextlib.contextmanager
def _hold_ctrl_c() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block exits, then raise it: a part of a block is booked
    whole (statistics, statuses, cut-off MW, matrix rows) or not at all, so an outage marked
    not_simulated never carries a value or appears as a cause."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def run_n1(
    net: pp.pandapowerNet,
    *,
    mode: str = "ac",
    elements: Sequence[str] = DEFAULT_ELEMENTS,
    outages: Sequence[OutageSpec] | None = None,
    max_loading_percent: float = 100.0,
    vm_min_pu: float = 0.9,
    vm_max_pu: float = 1.1,
    report: str = "changed",
    worsen_loading_percent: float = WORSEN_LOADING_PERCENT,
    worsen_vm_pu: float = WORSEN_VM_PU,
    top: int = 3,
    case_name: str = "",
    tol: float = TOL_PU,
    block: int | None = None,
    threads: int | None = None,
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
        See :mod:`gridplan.studies.n1`.
    elements : sequence of str
        Element types outaged one by one when ``outages`` is None (``line``, ``trafo``,
        ``trafo3w``, ``impedance``, ``gen``, ``dcline``, ``sgen``, ``storage``).
    outages : list of (name, [(element_type, index), ...]), optional
        Named outage sets (N-k), e.g. from :func:`gridplan.model.outages.read_outages`.
    max_loading_percent : float
        Branch loading limit, percent of rating.
    vm_min_pu, vm_max_pu : float
        Bus voltage band, pu.
    report : {"changed", "all"}
        ``changed`` (default, as planners' contingency tools report): a post-outage violation
        is listed when the quantity breaks its limit and was within it in the base case, or
        is worse than its base value by more than ``worsen_loading_percent`` (percentage
        points) or ``worsen_vm_pu`` (pu); base-case violations are listed once, in
        ``N1Result.base_violations``. ``all``: every broken limit under every outage.
    worsen_loading_percent, worsen_vm_pu : float
        Margins of ``report="changed"`` (defaults 1 percentage point, 0.005 pu).
    top : int
        Worst outages kept per element.
    tol : float
        AC convergence tolerance on the largest P/Q mismatch, pu (pandapower: 1e-8).
    block : int, optional
        Outages solved together (memory grows linearly with it); default
        :func:`auto_block` of the case.
    threads : int, optional
        Blocks solved at once in ``ac`` and ``dc``, one per thread (the kernels release the
        GIL); default: the cores this process may use. Each block is solved as on one
        thread and booked in block order, so the results are the same for any number.
    progress : callable, optional
        Called with the number of outages finished after every block.
    matrix_sink : callable, optional
        Called with (outage positions, element loading float32 (B, n_element)) per block.
    violation_sink : callable, optional
        Called with the violation rows (DataFrame, columns as ``N1Result.violations``, index
        = row number in the whole table) of finished blocks, in order, gathered up to
        ``STREAM_BATCH_ROWS`` (32,768) rows per call, e.g. :func:`n1_violation_sink`; the
        rows are then not kept in memory (only counts, one batch and the worst rows, see
        :class:`N1Result`), so memory does not grow with the outages. A scan that stops
        (Ctrl-C) hands over the rows of every outage it finished.
    model : ContingencyModel, optional
        A model compiled before (skips solving the base case again).
    chunk : (i, n), optional
        Scan only chunk ``i`` (0-based) of ``n``: the outages are ordered and cut into blocks
        exactly as for the whole scan, and chunk ``i`` takes the ``i``-th of ``n`` runs of
        whole consecutive blocks (decreasing in size, :func:`chunk_fractions`). Every
        outage of the chunk is therefore solved in the same block, in the same order, as in
        the whole scan, and gives the same numbers; the others stay ``not_simulated`` with
        reason :data:`OTHER_CHUNK`. Statistics cover the chunk's outages only; chunks are
        merged in order ``0 .. n-1`` by :func:`gridplan.studies.batch.n1split.merge_chunks`.

    Returns
    -------
    N1Result
        Interrupted scans (Ctrl-C) return what was finished; the rest is ``not_simulated``.
    """
    if mode not in MODES:
        raise CaseError(f"--mode must be one of {', '.join(MODES)}, got {mode!r} instead")
    if report not in REPORTS:
        raise CaseError(f"--report must be one of {', '.join(REPORTS)}, got {report!r} instead")
    if not (worsen_loading_percent >= 0 and worsen_vm_pu >= 0):
        raise CaseError(
            "--worsen-loading and --worsen-vm must be >= 0, got "
            f"{worsen_loading_percent!r} and {worsen_vm_pu!r} instead"
        )
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if model is None:
        model = compile_contingency_model(net, where=case_name or None)
    timings["compile_s"] = time.perf_counter() - t0
    if outages is None:
        specs = default_outages(net, elements)
    else:  # a list as it is: a split worker passes the same one for each chunk (memo)
        specs = outages if isinstance(outages, list) else list(outages)
    limits = {
        "max_loading_percent": float(max_loading_percent),
        "vm_min_pu": float(vm_min_pu),
        "vm_max_pu": float(vm_max_pu),
    }

    t1 = time.perf_counter()
    n_out = len(specs)
    bridge, eng, reason, own_cols, lost = _outage_setup(model, specs)
    timings["outages_s"] = time.perf_counter() - t1

    base_ld_br, base_vm = model.loading(model.v0[None, :])
    base_eld = model.element_loading(base_ld_br)[0]
    base_vm = base_vm[0]
    names = np.array([n for n, _ in specs], dtype=object)
    rule = ReportRule(
        report,
        base_eld,
        base_vm,
        limits,
        worsen_loading_percent=worsen_loading_percent,
        worsen_vm_pu=worsen_vm_pu,
    )
    state = OutageState.new(reason, lost)
    violations = ViolationCollector(
        model,
        names,
        base_eld,
        base_vm,
        limits,
        n_out,
        sink=violation_sink,
        rule=rule,
        estimate=state.screened_out,
    )
    status, iters, mism = state.status, state.iterations, state.max_mismatch_pu
    cut_load, cut_gen, n_cut = state.cut_load_mw, state.cut_gen_mw, state.n_bus_cut
    screened = state.screened_out

    stats = RunningStats(
        model.mon_branch,
        *model.violation_order(),
        model.n_bus,
        n_out,
        own_cols,
        top,
        limits,
        on_violations=violations.book,
        prepare_violations=violations.prepare,
    )

    todo = np.array([j for j in range(n_out) if eng[j] is not None], dtype=np.int64)
    # per outage: branches, cut-off buses, generators, first branch (-1: none)
    sizes = np.array(
        [
            (
                o.branches.size,
                o.dead.size,
                o.gens.size + o.inj_bus.size,
                o.branches[0] if o.branches.size else -1,
            )
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
    block = auto_block(model.n_bus) if block is None else int(block)
    threads = available_cores() if threads is None else int(threads)
    if threads < 1:
        raise CaseError(f"--threads must be at least 1, got {threads} instead")
    t2 = time.perf_counter()
    if mode in ("ac", "screen"):
        solver = model.ac_solver(tol)
    if mode == "dc":
        dc = model.dc_solver()
        block = min(block, DC_BLOCK)
    timings["factorize_s"] = time.perf_counter() - t2

    interrupted = False
    t3 = time.perf_counter()

    def _reduce(
        pos: np.ndarray,
        outs: list[Outage],
        ok: np.ndarray,
        ld: np.ndarray,
        vm: np.ndarray,
        mismatch: np.ndarray | None,
    ) -> _Reduced:
        """The order-free work of one solved (or screened) part of a block, on any thread
        (touches nothing of the scan): the outaged branches blanked, the statistics reduced
        (:meth:`RunningStats.reduce`, violation rows prepared), the cut-off MW, statuses and
        reasons (``mismatch``: last mismatch per row, pu) and the float32 matrix rows."""
        nbr = np.array([o.branches.size for o in outs], dtype=np.int64)
        ld[
            np.repeat(np.arange(len(outs)), nbr),
            np.concatenate([_NONE, *(o.branches for o in outs)]),
        ] = np.nan
        red = stats.reduce(pos, ok, ld, vm)
        n_cut_rows = np.zeros(pos.size, dtype=np.int64)
        cut_mw = None
        cut = [j for j, o in enumerate(outs) if o.dead.size]
        if cut:
            own = np.repeat(np.arange(len(cut)), [outs[j].dead.size for j in cut])
            dead = np.concatenate([outs[j].dead for j in cut])
            n_cut_rows[cut] = np.bincount(own, model.bus_index[dead] >= 0, minlength=len(cut))
            cut_mw = (
                pos[cut],
                np.bincount(own, model.load_mw[dead], minlength=len(cut)),
                np.bincount(own, model.gen_mw[dead], minlength=len(cut)),
                n_cut_rows[cut],
            )
        why = [
            (int(pos[j]), f"no convergence, last mismatch {mismatch[j]:.3g} pu")  # type: ignore[index]
            for j in np.flatnonzero(~ok)
        ]
        stat = np.where(ok, np.where(n_cut_rows > 0, "islanded", "converged"), "diverged")
        rows32 = red.eld.astype(np.float32) if matrix_sink is not None else None
        return red, cut_mw, why, stat, rows32

    def _book(reduced: _Reduced) -> None:
        """Book one reduced part of a block, whole, in block order: statistics, cut-off MW,
        statuses, matrix rows; Ctrl-C is held meanwhile (:func:`_hold_ctrl_c`)."""
        red, cut_mw, why, stat, rows32 = reduced
        pos = red.pos
        with _hold_ctrl_c():
            stats.merge(red)
            # cut-off MW: 0 for a simulated outage that cuts nothing (NaN until simulated)
            cut_load[pos] = 0.0
            cut_gen[pos] = 0.0
            if cut_mw is not None:
                p, load_mw, gen_mw, n_bus_cut = cut_mw
                cut_load[p] = load_mw
                cut_gen[p] = gen_mw
                n_cut[p] = n_bus_cut
            for p, text in why:
                reason[p] = text
            status[pos] = stat
            # the matrix last: an error writing it leaves the part booked and its rows
            # missing (loading_matrix_outage names every row), never the other way round
            if matrix_sink is not None:
                matrix_sink(pos, rows32)

    def _post(
        pos: np.ndarray, outs: list[Outage], ok: np.ndarray, ld: np.ndarray, vm: np.ndarray
    ) -> None:
        """Reduce and book one solved (or screened) part of a block on this thread."""
        _book(_reduce(pos, outs, ok, ld, vm, mism[pos]))

    bounds = _block_bounds(sizes, todo.size, block)
    if chunk is not None:
        bounds = _chunk_bounds(bounds, *chunk)
        mine = np.zeros(n_out, dtype=bool)
        mine[todo[bounds[0] : bounds[-1]]] = True
        reason[~mine & (reason == "")] = OTHER_CHUNK

    def ac_block(
        outs: list[Outage], v_start: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
        """Full AC of a block (from ``v_start``, default the base case): converged flags,
        loading and voltages (NaN where the outage failed or cut the bus off) and the
        solver's result (any thread)."""
        res = solver.solve_block(outs, v_start=v_start)  # type: ignore[union-attr]
        ok = res.status == STATUS_CONVERGED
        ld, vm = model.loading(res.v)
        ld[~ok] = np.nan
        vm[~ok] = np.nan
        _nan_dead(model, outs, ld)
        return ok, ld, vm, res

    def solve(s: int, s_end: int) -> tuple[Any, ...]:
        """Block ``todo[s:s_end]`` in ac or dc, solved and reduced (:func:`_reduce`);
        touches nothing of the scan (any thread). Returns the positions, iterations and
        last mismatches (None in dc) and the reduced block."""
        pos = todo[s:s_end]
        outs = [eng[j] for j in pos]
        if mode == "dc":
            ld, vm = dc.solve_block(outs)  # type: ignore[union-attr]
            return pos, 0, None, _reduce(pos, outs, np.ones(pos.size, dtype=bool), ld, vm, None)
        ok, ld, vm, res = ac_block(outs)
        return pos, res.iterations, res.mismatch, _reduce(pos, outs, ok, ld, vm, res.mismatch)

    def screen(s: int, s_end: int) -> tuple[Any, ...]:
        """Block ``todo[s:s_end]`` screened: the cleared part, and the AC of the others
        continued from the screen's estimate (their two steps are not spent again)."""
        pos = todo[s:s_end]
        outs = [eng[j] for j in pos]
        amb, cleared, v_est, sound = _screen(model, solver, pos, outs, limits, rule)  # type: ignore[arg-type]
        solved = None
        if amb.size:
            o2 = [outs[j] for j in amb]
            # an estimate that did not contract is no start: those begin at the base case
            go_on = sound[amb]
            v_start = np.where(go_on[:, None], v_est[amb], model.v0[None, :])
            solved = (pos[amb], o2, *ac_block(o2, v_start), np.where(go_on, 2, 0))
        return cleared, solved

    def _post_after_screen(
        pos: np.ndarray,
        outs: list[Outage],
        ok: np.ndarray,
        ld: np.ndarray,
        vm: np.ndarray,
        res: Any,
        steps_before: np.ndarray | int = 0,
    ) -> None:
        """Book a part the screen left to AC: iterations (plus the screen's steps it went on
        from) and mismatch, then :func:`_post` (the screen books on this thread: it marks
        its estimates before their rows are framed)."""
        iters[pos] = res.iterations + steps_before
        mism[pos] = res.mismatch
        _post(pos, outs, ok, ld, vm)

    try:
        # blocks solved on ``threads`` threads, booked here one by one in block order
        pairs = list(itertools.pairwise(bounds))
        if mode != "screen":
            for pos, it, mis, reduced in in_order(solve, pairs, threads, "gridplan-n1"):
                iters[pos] = it
                if mis is not None:
                    mism[pos] = mis
                _book(reduced)
                if progress:
                    progress(pos.size)
        for cleared, solved in (
            in_order(screen, pairs, threads, "gridplan-n1") if mode == "screen" else ()
        ):
            n_done = 0
            if cleared is not None:
                # outages whose every estimate is clearly inside or clearly beyond its limit
                # keep the estimate, marked as such
                cpos, couts, cld, cvm, cmism = cleared
                screened[cpos] = True
                iters[cpos] = 2
                mism[cpos] = cmism
                _post(cpos, couts, np.ones(cpos.size, dtype=bool), cld, cvm)
                n_done += cpos.size
            if solved is not None:
                _post_after_screen(*solved)
                n_done += solved[0].size
            if progress:
                progress(n_done)
    except KeyboardInterrupt:
        interrupted = True
        pending = status == "not_simulated"
        reason[pending & (reason == "")] = "interrupted"
    timings["scan_s"] = time.perf_counter() - t3
    if mode == "dc":
        iters[:] = 0

    try:
        with _hold_ctrl_c():  # the rows gathered but not yet handed to the sink, whole
            violations.flush()
    except KeyboardInterrupt:
        interrupted = True
    violation_table, n_viol = violations.table()
    return N1Result(
        case_name=case_name,
        mode=mode,
        limits=limits,
        outages=outage_table(model, specs, names, state, stats),
        elements=element_table(model, stats, names, base_eld, top, screened),
        buses=bus_table(model, stats, base_vm, screened),
        violations=violation_table,
        timings_s=timings,
        interrupted=interrupted,
        violations_streamed=violation_sink is not None,
        n_violations=n_viol,
        violation_counts=violations.counts,
        n_violation_outages=violations.n_violation_outages,
        rule=rule.attrs,
        base_violations=base_violation_frame(model, base_eld, base_vm, limits),
    )


def _outage_setup(
    model: ContingencyModel, specs: list[OutageSpec]
) -> tuple[Any, list[Outage | None], np.ndarray, list[list[int]], np.ndarray]:
    """The bridge tree, the engine outages of ``specs`` with the reasons of those that
    cannot be simulated (a fresh copy), per outage its own monitored columns (blanked) and
    the active power it takes out, MW (:func:`lost_p_mw`; NaN where not simulated).

    A model with a ``scan_memo`` dict (a split scan's worker model, which solves several
    chunks of the same outage list) keeps them per list: a chunk does not redo them.
    """
    memo = getattr(model, "scan_memo", None)
    if memo is not None and id(specs) in memo and memo[id(specs)][0] is specs:
        _, bridge, eng, reason, own_cols, lost = memo[id(specs)]
        return bridge, eng, reason.copy(), own_cols, lost.copy()
    bridge = model.bridge_tree()
    eng, reason = engine_outages(model, specs, bridge)
    lost = np.array(
        [
            lost_p_mw(model, el) if o is not None else np.nan
            for o, (_, el) in zip(eng, specs, strict=True)
        ],
        dtype=np.float64,
    )
    mon_pos = {
        (k, int(i)): j for j, (k, i) in enumerate(zip(model.mon_kind, model.mon_index, strict=True))
    }
    own_cols = [[mon_pos[(k, i)] for k, i in elems if (k, i) in mon_pos] for _, elems in specs]
    if memo is not None:
        memo.clear()
        memo[id(specs)] = (specs, bridge, eng, reason, own_cols, lost)
        reason, lost = reason.copy(), lost.copy()
    return bridge, eng, reason, own_cols, lost


def auto_block(n_bus: int) -> int:
    """Outages per block for a case of ``n_bus`` buses: :data:`BLOCK`, halved (to 32 at
    least) while the block's state, outages x buses complex numbers (each of the per-block
    arrays of voltages, mismatches and corrections), exceeds :data:`BLOCK_STATE` (16 MB).

    Past that size the arrays of a block no longer stay in the cache between the steps
    that reuse them: on case9241pegase (all 16,049 outages, one process) blocks of 64 took
    54-62 s against 63-72 s for 256; on case1354pegase and case2869pegase (256 kept) the
    size made no measurable difference.
    """
    b = BLOCK
    while b > 32 and b * n_bus > BLOCK_STATE:
        b //= 2
    return b


def chunk_fractions(n: int) -> np.ndarray:
    """Where the ``n`` chunks of a split scan end, as fractions of its outages (``n + 1``
    values from 0 to 1): each chunk is :data:`CHUNK_RATIO` times the one before.

    Workers take the chunks in order as they become free, so the large chunks keep them
    busy and the small ones last even out when they finish: the one idle at the end waits
    at most about a last chunk (with equal chunks of 2 workers x 3, on case9241pegase,
    one waited 3 s of a 45 s run).
    """
    w = CHUNK_RATIO ** np.arange(n)
    f = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
    f[-1] = 1.0
    return f


def _chunk_bounds(bounds: list[int], i: int, n: int) -> list[int]:
    """The block bounds of chunk ``i`` of ``n``: runs of whole blocks, cut where the
    outage count comes closest to :func:`chunk_fractions` of the total."""
    if not (isinstance(n, int) and isinstance(i, int) and n >= 1 and 0 <= i < n):
        raise CaseError(f"chunk must be (i, n) with 0 <= i < n, got ({i}, {n}) instead")
    b = np.asarray(bounds)
    targets = b[-1] * chunk_fractions(n)
    cuts = np.abs(b[None, :] - targets[:, None]).argmin(axis=1)
    cuts[0], cuts[-1] = 0, b.size - 1
    cuts = np.maximum.accumulate(cuts)
    return [int(x) for x in b[cuts[i] : cuts[i + 1] + 1]]


def _block_bounds(sizes: np.ndarray, n_todo: int, block: int) -> list[int]:
    """Bounds of the blocks of outages solved together (``sizes`` as in :func:`run_n1`)."""
    # blocks of at most ``block`` outages; the small dense matrices W^-1 of a block are
    # (outages, largest update, largest update) numbers, kept under WINV_BUDGET
    est = 4 * sizes[:, 0] + 2 * sizes[:, 1] + 2 * sizes[:, 2]
    if block * int(est.max(initial=0)) ** 2 <= WINV_BUDGET:
        bounds = [*range(0, n_todo, block), n_todo]
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
        bounds.append(n_todo)
    return bounds


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
    rule: ReportRule,
) -> tuple[np.ndarray, tuple | None, np.ndarray, np.ndarray]:
    """Two chord steps for the block: the positions (in ``outs``) of the ambiguous outages,
    the cleared part ``(pos, outs, loading, vm, mismatch)`` (None if none), the two-step
    voltages of every outage (complex (B, n), pu) and whether each estimate converges (an
    ambiguous outage goes on from its estimate only then).

    Cleared: the estimate converges (contraction ``|dx2| / |dx1| < SCREEN_MAX_RHO``, P/Q
    mismatch left at most ``SCREEN_MAX_MISMATCH_PU``) and every estimated loading and voltage
    is farther than its margin, on either side, from its plain limit and from its effective
    limit under ``report="changed"`` (under either report, so both clear the same outages);
    the AC solution then breaks exactly the limits the estimate breaks and either report
    lists the same rows. A quantity's margin is ``SCREEN_FACTOR`` times
    its own change in the second step, plus a floor where that change is not zero (a PV bus's
    voltage, held, is exact: its margin is 0, and it is near no limit, not even one it sits on).
    """
    res = solver.screen_steps(outs)
    ld1, vm1 = model.loading(res.v_first)
    ld, vm = model.loading(res.v)
    for arr in (ld, ld1):
        for j, o in enumerate(outs):
            arr[j, o.branches] = np.nan
        _nan_dead(model, outs, arr)
    eld = model.element_loading(ld)
    eld1 = model.element_loading(ld1)
    s1, s2 = res.step_norms[:, 0], res.step_norms[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(s1 > 0, s2 / s1, 0.0)
    sound = (res.status == STATUS_CONVERGED) & (rho < SCREEN_MAX_RHO) & np.isfinite(res.mismatch)
    ok = sound & (res.mismatch <= SCREEN_MAX_MISMATCH_PU)
    n_mon, n_bus = eld.shape[1], vm.shape[1]
    th_ld = np.stack([np.full(n_mon, limits["max_loading_percent"]), rule.changed_ld])
    th_vm = np.stack(
        [
            np.full(n_bus, limits["vm_min_pu"]),
            np.full(n_bus, limits["vm_max_pu"]),
            rule.changed_lo,
            rule.changed_hi,
        ]
    )
    ambiguous = (~ok).astype(np.uint8)
    mark_near(ambiguous, eld, eld1, th_ld, SCREEN_FACTOR, SCREEN_FLOOR_LOADING_PERCENT)
    mark_near(ambiguous, vm, vm1, th_vm, SCREEN_FACTOR, SCREEN_FLOOR_VM_PU)
    ambiguous = ambiguous.astype(bool)
    # unit and injection outages are always solved in AC
    clear = ~ambiguous & np.array([o.gens.size == 0 and o.inj_bus.size == 0 for o in outs])
    cl = np.flatnonzero(clear)
    cleared = None
    if cl.size:
        # _post blanks the outaged branches again; ld still holds step-2 estimates
        cleared = (pos[cl], [outs[j] for j in cl], ld[cl], vm[cl], res.mismatch[cl])
    return np.flatnonzero(~clear), cleared, res.v, sound


def n1_states(
    net: pp.pandapowerNet,
    outages: Sequence[OutageSpec],
    *,
    model: ContingencyModel | None = None,
    tol: float = TOL_PU,
    monitored: Sequence[str] = ("line", "trafo", "trafo3w"),
) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """Full AC post-outage state of a few outages, in pandapower's element order.

    ``monitored`` names the element types whose loading is returned (``impedance`` too, its
    loading against its ``sn_mva``).

    Returns
    -------
    status : list of str
        Per outage, as in :func:`run_n1`.
    vm_pu : float64 (n_outage, len(net.bus))
        Bus voltage magnitudes in ``net.bus`` order (NaN: cut off or failed).
    loading_percent : dict element type -> float64 (n_outage, len(net[element]))
        Branch loading in element table order (NaN: out, cut off or failed), per type of
        ``monitored``.
    """
    if model is None:
        model = compile_contingency_model(net)
    bridge = model.bridge_tree()
    solver = model.ac_solver(tol)
    n_out = len(outages)
    rows = model.pp_bus_rows(net.bus.index.to_numpy())
    vm_out = np.full((n_out, len(net.bus)), np.nan)
    mon = {k: np.flatnonzero(model.mon_kind == k) for k in monitored}
    ld_out = {k: np.full((n_out, len(net[k])), np.nan) for k in mon}
    status = ["not_simulated"] * n_out
    el_order = {}
    for k, cols in mon.items():
        pos = {int(i): c for i, c in zip(model.mon_index[cols], cols, strict=True)}
        el_order[k] = np.array([pos.get(int(i), -1) for i in net[k].index], dtype=np.int64)
    for j, (_, elems) in enumerate(outages):
        o, _why = engine_outage(model, elems, bridge)
        if o is None:
            continue
        res = solver.solve_block([o])
        if res.status[0] != STATUS_CONVERGED:
            status[j] = "diverged"
            continue
        ld, vm = model.loading(res.v)
        if o.dead.size:
            dead = np.zeros(model.n_bus, dtype=bool)
            dead[o.dead] = True
            ld[0, dead[model.f] | dead[model.t]] = np.nan
        ld[0, o.branches] = np.nan
        eld = model.element_loading(ld)[0]
        status[j] = "islanded" if np.any(model.bus_index[o.dead] >= 0) else "converged"
        ok = rows >= 0
        vm_out[j, ok] = vm[0, rows[ok]]
        for k, order in el_order.items():
            has = order >= 0
            ld_out[k][j, has] = eld[order[has]]
    return status, vm_out, ld_out


# ---------------------------------------------------------------------------------------
# hook for studies that evaluate outages on a modified base case (wind hosting capacity)
def outage_voltages(
    model: ContingencyModel,
    outs: Sequence[Outage],
    *,
    tol: float = TOL_PU,
    block: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """AC post-outage bus voltages of engine outages on ``model``.

    ``model`` may carry a modified base case: ``dataclasses.replace(model, sbus=...,
    v0=..., gen_s_pu=...)`` with ``v0`` solved for that injection (e.g. by
    :func:`gridplan.core.contingency.newton_pf`); the network itself must be the model's.
    Outages are ordered and blocked as :func:`run_n1` does (similar ones together, W^-1
    within budget), and an outage with a much larger update than the block's first gets a
    block of its own (every W of a block is padded to the block's largest).

    Returns
    -------
    v : complex128 (n_out, n_bus)
        Post-outage voltages, pu; NaN at cut-off buses and for outages that did not converge.
    converged : bool (n_out,)
    """
    n_out = len(outs)
    v = np.full((n_out, model.n_bus), np.nan + 0j)
    ok = np.zeros(n_out, dtype=bool)
    if n_out == 0:
        return v, ok
    solver = model.ac_solver(tol)
    block = auto_block(model.n_bus) if block is None else int(block)
    _b, _c, tin, _t, _o = model.bridge_tree()
    sizes = np.array(
        [
            (
                o.branches.size,
                o.dead.size,
                o.gens.size + o.inj_bus.size,
                o.branches[0] if o.branches.size else -1,
            )
            for o in outs
        ],
        dtype=np.int64,
    ).reshape(-1, 4)
    key_bus = np.where(sizes[:, 3] >= 0, tin[model.f[np.maximum(sizes[:, 3], 0)]], 0)
    order = np.lexsort((key_bus, sizes[:, :3].sum(axis=1)))
    est = 4 * sizes[order, 0] + 2 * sizes[order, 1] + 2 * sizes[order, 2]
    bounds = [0]
    widest = first = 0
    for i, e in enumerate(est.tolist()):
        widest = max(widest, e)
        if i > bounds[-1] and (
            i - bounds[-1] >= block
            or (i - bounds[-1] + 1) * widest**2 > WINV_BUDGET
            or e > 2 * first + 8
        ):
            bounds.append(i)
            widest = e
        if i == bounds[-1]:
            first = e
    bounds.append(n_out)
    for s, s_end in itertools.pairwise(bounds):
        pos = order[s:s_end]
        res = solver.solve_block([outs[j] for j in pos])
        good = res.status == STATUS_CONVERGED
        v[pos[good]] = res.v[good]
        ok[pos] = good
    return v, ok
