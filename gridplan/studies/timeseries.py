"""Time-series power flow: one AC power flow per time step of a profile, streamed in blocks.

The net is compiled once (:class:`gridplan.model.timeseries_model.TimeSeriesModel`); each block
of steps becomes a matrix of bus injections
(:class:`gridplan.model.timeseries_model.ProfileInjections`), is solved by the batched Newton
solver (:class:`gridplan.core.timeseries_solver.BatchNewton`, warm-started from the previous
block's last state) and turned into branch loading and losses by the ``branch_loading`` kernel
(:func:`gridplan.model.branches.branch_loading_of`). Per-step arrays go
either to an HDF5 file block by block (``out=``; nothing but running extremes stays in memory)
or into the returned result.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.core.timeseries_solver import BatchNewton
from gridplan.errors import CaseError
from gridplan.model import profiles as prof
from gridplan.model.branches import branch_loading_of
from gridplan.model.timeseries_model import ProfileInjections, TimeSeriesModel
from gridplan.results.writer import ResultWriter
from gridplan.studies.blocks import available_cores, in_order

TOLERANCE_MVA = 1e-8  # pandapower's default NR tolerance on the pu power mismatch
GROUP = "timeseries"


@dataclass
class TimeSeriesResult:
    """Results of a time-series run.

    Attributes
    ----------
    steps : DataFrame
        One row per step (index ``step``): ``time``, ``converged``, ``iterations``,
        ``max_mismatch_pu``, ``p_loss_mw``, ``vm_min_pu``, ``vm_max_pu``,
        ``max_loading_percent``, ``violation``.
    worst : DataFrame
        Worst step per element: ``element`` (bus/line/trafo), ``index``, ``quantity``, ``value``,
        ``step``, ``time``.
    summary : dict
        ``n_steps``, ``n_converged``, ``duration_h``, ``energy_loss_mwh``,
        ``hours_with_violations``, ``elapsed_s``, ``steps_per_s``.
    vm_pu, va_degree : DataFrame or None
        Steps x pandapower buses (NaN for buses not energized or steps not converged); None when
        streamed to a file.
    loading_percent : dict
        ``"line"`` / ``"trafo"`` -> DataFrame steps x elements; empty when streamed to a file.
    path : Path or None
        The HDF5 file written.
    """

    steps: pd.DataFrame
    worst: pd.DataFrame
    summary: dict[str, Any]
    vm_pu: pd.DataFrame | None = None
    va_degree: pd.DataFrame | None = None
    loading_percent: dict[str, pd.DataFrame] = field(default_factory=dict)
    path: Path | None = None

    def violation_hours(self) -> pd.DataFrame:
        """Steps with a voltage or loading violation (subset of :attr:`steps`)."""
        return self.steps[self.steps["violation"]]


class _Extremes:
    """Running per-element extremes (value and step) over blocks."""

    def __init__(self, n: int, mode: str) -> None:
        self.mode = mode
        self.value = np.full(n, np.inf if mode == "min" else -np.inf)
        self.step = np.full(n, -1, dtype=np.int64)

    def update(self, block: np.ndarray, offset: int) -> None:
        if block.shape[0] == 0 or block.shape[1] == 0:
            return
        nan = np.isnan(block)
        if nan.any():
            filled = np.where(nan, np.inf if self.mode == "min" else -np.inf, block)
        else:
            filled = block
        # column extremes first (a fast reduction); the step is only searched for the
        # columns that improve (argmin/argmax along axis 0 copy the block transposed)
        val = filled.min(axis=0) if self.mode == "min" else filled.max(axis=0)
        better = np.flatnonzero(val < self.value if self.mode == "min" else val > self.value)
        if better.size:
            sub = filled[:, better] if better.size < block.shape[1] else filled
            arg = (sub == val[better]).argmax(axis=0)
            self.value[better] = val[better]
            self.step[better] = arg + offset


def _time_values(index: pd.Index) -> np.ndarray:
    if isinstance(index, pd.DatetimeIndex):
        return index.to_numpy(dtype="datetime64[ns]")
    return np.asarray(index)


#: rows per chunk of the per-step arrays in the file; default blocks are a multiple of it, so
#: every block is written as whole chunks (see ``ResultWriter.append_array``)
CHUNK_ROWS = 256
#: about 1 MB of float32 per chunk: 256 rows x up to 1024 columns
CHUNK_COLUMNS = 1024


def default_block_size(n_steps: int, n_bus: int, n_branch: int) -> int:
    """Steps per block: about an eighth of the run (so that threads have blocks to share),
    at least 512 (smaller blocks give the k-means groups fewer similar states: +15 % chord
    iterations at 512 on case1354pegase), at most 2**21 / max(buses, branches) clipped to
    1024...2048 (the arrays of a block stay within a few tens of MB); a multiple of
    :data:`CHUNK_ROWS`. It depends on the run alone, never on the threads, so every thread
    count solves the same blocks."""
    cap = int(np.clip(2**21 // max(n_bus, n_branch, 1), 1024, 2048)) // CHUNK_ROWS * CHUNK_ROWS
    eighth = -(-max(n_steps, 1) // 8)
    return int(np.clip(-(-eighth // CHUNK_ROWS) * CHUNK_ROWS, 2 * CHUNK_ROWS, cap))


@dataclass
class _Block:
    """One solved block of steps (rows ``start:stop``) and its per-step arrays."""

    start: int
    stop: int
    steps: pd.DataFrame
    vm: np.ndarray  # (steps, pandapower buses), pu
    va: np.ndarray  # degree
    loading: dict[str, np.ndarray]  # element -> (steps, elements), %
    cpu_s: float  # CPU time of the thread that solved it


def run(
    net: pp.pandapowerNet,
    profiles: Any,
    *,
    out: str | os.PathLike[str] | None = None,
    block_size: int | None = None,
    threads: int | None = None,
    tolerance_mva: float = TOLERANCE_MVA,
    max_iteration: int = 10,
    vm_min_pu: float = 0.95,
    vm_max_pu: float = 1.05,
    max_loading_percent: float = 100.0,
    allow_negative_loads: bool = False,
    duration_h: float | None = None,
    compress: bool = True,
    progress: Callable[[int], None] | None = None,
    case_name: str = "",
    case_sha256: str = "",
    writer: ResultWriter | None = None,
) -> TimeSeriesResult:
    """Run one AC power flow per profile step.

    Parameters
    ----------
    net
        pandapower net (not modified); its element values are the base case for elements
        without a profile.
    profiles
        :class:`gridplan.model.profiles.Profiles`, DataFrame(s), or a CSV/HDF5 path (see
        :mod:`gridplan.model.profiles`); values in MW / Mvar.
    out
        HDF5 file to stream per-step results into (group ``/timeseries``); when given, the
        returned result holds only per-step summaries and worst cases, not the full arrays.
        Per-step arrays are stored as float32 (see ``docs/results-format.md``).
    block_size
        Steps solved together (memory ~ block_size x (n_bus + n_branch) x 16 bytes per
        array and thread); default :func:`default_block_size`: an eighth of the run, 512 to
        2048 steps (fewer for very large cases), a multiple of 256.
    threads
        Blocks solved at once, one per thread (default: the cores the process may use,
        :func:`available_cores`). Every block starts from the base case and its Jacobian,
        so the results are the same, bit for bit, for any number of threads.
    tolerance_mva
        Convergence tolerance on the infinity norm of the bus power mismatch, pu (pandapower's
        ``tolerance_mva``).
    max_iteration
        Exact-Newton iterations allowed per step that the batched iteration did not solve.
    vm_min_pu, vm_max_pu
        Voltage band (pu) for buses without ``min_vm_pu`` / ``max_vm_pu``.
    max_loading_percent
        Loading (%) above which a line or transformer counts as a violation.
    allow_negative_loads
        Accept negative load ``p_mw`` in the profiles.
    duration_h
        Step length (h) when the profiles have no timestamps (default 1 h).
    compress
        Shuffle + deflate (gzip level 1, HDF5's standard filters) the per-step arrays in
        ``out``; False stores them raw (~1.4x larger, a little faster to write).
    progress
        Called with the number of steps finished after every block.
    case_name, case_sha256
        Written to the result file's root attributes.
    writer
        An open :class:`ResultWriter` to stream into instead of ``out`` (e.g. a batch task's
        file, which holds more than the time series); the caller commits or aborts it.

    Returns
    -------
    TimeSeriesResult
    """
    t0 = time.perf_counter()
    threads = available_cores() if threads is None else int(threads)
    if threads < 1:
        raise CaseError(f"timeseries: threads must be at least 1, got {threads}")
    profiles = prof.read_profiles(profiles, duration_h=duration_h)
    prof.validate(profiles, net, allow_negative_loads=allow_negative_loads)
    model = TimeSeriesModel.compile(
        net, vm_min_pu=vm_min_pu, vm_max_pu=vm_max_pu, where=case_name or None
    )
    solver = BatchNewton(model.ybus, model.pv, model.pq, tol=tolerance_mva, max_iter=max_iteration)
    inj = ProfileInjections(model, profiles)
    n = profiles.n_steps
    if block_size is None:
        block_size = default_block_size(n, model.n_bus, model.f.size)
    block_size = max(1, int(block_size))
    bounds = [(a, min(n, a + block_size)) for a in range(0, n, block_size)]
    # every block starts from the base case and the Jacobian there: blocks are independent
    # of each other (any order, any thread), at the cost of one chord start per block
    lu_base = solver.factor(model.v0) if solver.pvpq.size else None
    bus_map = model.bus_ppci
    bus_on = bus_map >= 0
    vmin, vmax = model.vm_limits
    branch_names = [b for b in ("line", "trafo") if b in model.branches]
    *_, col_row, col_f, col_t, ld_cols = model.loading_columns(branch_names)

    vm_low = _Extremes(len(bus_map), "min")
    vm_high = _Extremes(len(bus_map), "max")
    load_high = {b: _Extremes(len(model.branches[b]["index"]), "max") for b in branch_names}
    step_frames: list[pd.DataFrame] = []
    identity_map = bool(bus_on.all()) and np.array_equal(bus_map, np.arange(model.n_bus))
    full: dict[str, np.ndarray] = {}
    own_writer = writer is None
    # results stay in memory unless they go to a file (out) or an open writer
    in_memory = out is None and writer is None
    if in_memory:  # preallocate; each block fills its own rows
        full = {"vm": np.empty((n, len(bus_map))), "va": np.empty((n, len(bus_map)))}
        for b in branch_names:
            full[b] = np.empty((n, len(model.branches[b]["index"])))
    times = _time_values(profiles.index)

    def solve_block(start: int, stop: int) -> _Block:
        """Solve steps ``start:stop`` and derive everything per step (runs in a worker)."""
        cpu0 = time.thread_time()
        m = stop - start
        # in memory with the identity bus map, angles and magnitudes are solved in place
        # in the result arrays (no copies)
        direct = in_memory and identity_map
        sol = solver.solve(
            inj.block(start, stop),
            model.v0,
            lu_start=lu_base,
            va_out=full["va"][start:stop] if direct else None,
            vm_out=full["vm"][start:stop] if direct else None,
        )
        v = sol.v
        conv = sol.converged
        all_conv = bool(conv.all())
        if not all_conv:
            v[~conv] = 0.0  # zero voltages give zero flows; results below set to NaN
        vm_int = sol.vm
        va_int = np.multiply(sol.va, 180.0 / np.pi, out=sol.va)
        if identity_map:
            vm, va = vm_int, va_int
        else:
            if in_memory:
                vm, va = full["vm"][start:stop], full["va"][start:stop]
            else:
                vm, va = np.empty((m, len(bus_map))), np.empty((m, len(bus_map)))
            vm[:, ~bus_on] = np.nan
            va[:, ~bus_on] = np.nan
            vm[:, bus_on] = vm_int[:, bus_map[bus_on]]
            va[:, bus_on] = va_int[:, bus_map[bus_on]]
        # loading and losses straight from the voltages (no per-branch flow arrays)
        ld_all, p_loss = branch_loading_of(model, v, col_row, col_f, col_t)
        if branch_names and ld_all.shape[1]:
            max_ld = ld_all.max(axis=1)
        else:
            max_ld = np.full(m, np.nan if not branch_names else -np.inf)
        on = vm_int if identity_map else vm[:, bus_on]
        vm_min_step = on.min(axis=1) if on.shape[1] else np.full(m, np.nan)
        vm_max_step = on.max(axis=1) if on.shape[1] else np.full(m, np.nan)
        if not all_conv:
            bad = ~conv
            vm[bad] = np.nan
            va[bad] = np.nan
            p_loss[bad] = np.nan
            max_ld[bad] = np.nan
            vm_min_step[bad] = np.nan
            vm_max_step[bad] = np.nan
            ld_all[bad] = np.nan
        loading = {}
        for b in branch_names:
            if in_memory:
                full[b][start:stop] = ld_all[:, ld_cols[b]]
                loading[b] = full[b][start:stop]
            else:
                loading[b] = ld_all[:, ld_cols[b]]
        with np.errstate(invalid="ignore"):
            v_viol = ((vm < vmin) | (vm > vmax)).any(axis=1)
            l_viol = max_ld > max_loading_percent
        steps = pd.DataFrame(
            {
                "time": times[start:stop],
                "converged": conv,
                "iterations": sol.iterations,
                "max_mismatch_pu": sol.max_mismatch_pu,
                "p_loss_mw": p_loss,
                "vm_min_pu": vm_min_step,
                "vm_max_pu": vm_max_step,
                "max_loading_percent": max_ld,
                "violation": v_viol | l_viol,
            },
            index=pd.RangeIndex(start, stop, name="step"),
        )
        return _Block(start, stop, steps, vm, va, loading, time.thread_time() - cpu0)

    if writer is None and out is not None:
        writer = ResultWriter(out, case_name=case_name, case_sha256=case_sha256)
    cpu_blocks = 0.0
    try:
        for blk in in_order(solve_block, bounds, threads, "gridplan-ts"):
            for b in branch_names:
                load_high[b].update(blk.loading[b], blk.start)
            vm_low.update(blk.vm, blk.start)
            vm_high.update(blk.vm, blk.start)
            step_frames.append(blk.steps)
            cpu_blocks += blk.cpu_s
            if writer is not None:
                _write_block(writer, model, branch_names, blk, compress)
            if progress is not None:
                progress(blk.stop)
        steps_all = (
            pd.concat(step_frames)
            if step_frames
            else pd.DataFrame(index=pd.RangeIndex(0, name="step"))
        )
        worst = _worst_table(model, branch_names, vm_low, vm_high, load_high, times)
        elapsed = time.perf_counter() - t0
        summary = {
            "n_steps": n,
            "n_converged": int(steps_all["converged"].sum()) if n else 0,
            "duration_h": profiles.duration_h,
            "energy_loss_mwh": float(np.nansum(steps_all["p_loss_mw"]) * profiles.duration_h)
            if n
            else 0.0,
            "hours_with_violations": float(steps_all["violation"].sum() * profiles.duration_h)
            if n
            else 0.0,
            "elapsed_s": elapsed,
            "steps_per_s": n / elapsed if elapsed > 0 else float("inf"),
            "threads": threads,
            "solve_cpu_s": cpu_blocks,
        }
        if writer is not None:
            writer.write_table(f"{GROUP}/worst", worst)
            writer.set_attrs(
                GROUP,
                **summary,
                tolerance_mva=tolerance_mva,
                max_loading_percent=max_loading_percent,
            )
            if own_writer:
                writer.commit()
    except BaseException:
        if writer is not None and own_writer:
            writer.abort()
        raise
    result = TimeSeriesResult(
        steps=steps_all,
        worst=worst,
        summary=summary,
        path=writer.path if writer is not None else None,
    )
    if in_memory:
        idx = steps_all.index
        bus_cols = pd.Index(model.bus_index, name="bus")
        result.vm_pu = pd.DataFrame(full["vm"], index=idx, columns=bus_cols, copy=False)
        result.va_degree = pd.DataFrame(full["va"], index=idx, columns=bus_cols, copy=False)
        for b in branch_names:
            cols = pd.Index(model.branches[b]["index"], name=b)
            result.loading_percent[b] = pd.DataFrame(full[b], index=idx, columns=cols, copy=False)
    return result


def _chunk_width(width: int) -> int:
    """Columns per chunk: at most :data:`CHUNK_COLUMNS`, split evenly (no near-empty edge
    chunk stored whole)."""
    parts = max(1, -(-width // CHUNK_COLUMNS))
    return max(1, -(-width // parts))


def _write_block(
    writer: ResultWriter,
    model: TimeSeriesModel,
    branch_names: list[str],
    blk: _Block,
    compress: bool,
) -> None:
    """Append one block of per-step arrays to the open result file."""
    writer.append_table(f"{GROUP}/steps", blk.steps)
    arrays = [("bus/vm_pu", blk.vm), ("bus/va_degree", blk.va)]
    arrays += [(f"{b}/loading_percent", blk.loading[b]) for b in branch_names]
    for name, arr in arrays:
        path = f"{GROUP}/{name}"
        # gzip level 1: float noise compresses little, higher levels cost time for ~3 % less
        writer.append_array(
            path,
            arr,
            chunk_rows=CHUNK_ROWS,
            chunk_width=_chunk_width(arr.shape[1]),
            compression_level=1 if compress else None,
        )
        elem = name.split("/")[0]
        if blk.start == 0 and f"{GROUP}/{elem}/index" not in writer.h5:
            idx = model.bus_index if elem == "bus" else model.branches[elem]["index"]
            writer.write_array(f"{GROUP}/{elem}/index", np.asarray(idx), chunks=None)


def _worst_table(
    model: TimeSeriesModel,
    branch_names: list[str],
    vm_low: _Extremes,
    vm_high: _Extremes,
    load_high: dict[str, _Extremes],
    times: np.ndarray,
) -> pd.DataFrame:
    """Worst step per element: lowest and highest voltage per bus, highest loading per branch."""
    frames = []

    def part(element: str, index: np.ndarray, quantity: str, ext: _Extremes) -> pd.DataFrame:
        ok = ext.step >= 0
        return pd.DataFrame(
            {
                "element": element,
                "element_index": index[ok],
                "quantity": quantity,
                "value": ext.value[ok],
                "step": ext.step[ok],
                "time": times[ext.step[ok]] if len(times) else times[:0],
            }
        )

    frames.append(part("bus", model.bus_index, "vm_min_pu", vm_low))
    frames.append(part("bus", model.bus_index, "vm_max_pu", vm_high))
    for b in branch_names:
        frames.append(part(b, model.branches[b]["index"], "loading_percent", load_high[b]))
    out = pd.concat(frames, ignore_index=True)
    out.index.name = "row"
    return out
