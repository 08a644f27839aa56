"""One big N-1 over several workers: chunks of the outage list, merged into one result.

:func:`gridplan.studies.n1.run_n1` with ``chunk=(i, n)`` orders the outages and cuts them
into solver blocks exactly as the whole scan does, and solves only the ``i``-th of ``n``
runs of consecutive blocks. Each outage is therefore solved in the same block as in a
single-process scan and gives the same numbers, bit for bit. :func:`merge_chunks` then
folds the chunks together in chunk order, which is the single-process order of work, with
the same rules as the scan's own statistics kernel:

- per outage: the row of the chunk that solved it;
- per element, the worst-N lists: the chunks' lists one after the other, sorted by loading,
  descending, stably (an earlier chunk wins a tie, as an earlier block does in one scan),
  the first N kept; the cause is the first of the list;
- per bus, lowest and highest voltage: a later chunk replaces the value only when it is
  strictly lower (higher), as a later block does;
- violations: the chunks' rows one after the other (each chunk collects them block by block
  in solving order, as a single-process scan streams them to its file). The driver appends
  a chunk's rows to the task file as soon as every earlier chunk's are in (:meth:`N1Split.add`),
  so writing them overlaps with the chunks still running.

There are a few chunks per worker (``CHUNKS_PER_WORKER``), each smaller than the one
before (:func:`gridplan.studies.n1.scan.chunk_fractions`): workers take them in order as they
become free, so they finish close together, and the rows of the last chunk, the only ones
written after the scan, are few. Each worker compiles the base case and
factorizes it once (:meth:`N1Split.prepare` returns the model with its solver kept) and
solves all the chunks it gets with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.results import ResultWriter
from gridplan.studies.batch.analyses import Figures, check_split, n1_figures, n1_kwargs
from gridplan.studies.n1 import OTHER_CHUNK, N1Result, default_outages, run_n1, write_n1
from gridplan.studies.n1.statistics import mark_estimates

SPLIT_MIN_OUTAGES = 2000  # "auto" splits scans with at least this many outages
CHUNKS_PER_WORKER = 4  # "auto": chunks per worker, decreasing in size (scan.chunk_fractions)
GROUP = "contingency"


@dataclass
class ChunkPart:
    """One chunk's scan and its violation rows in solving order (dropped once written)."""

    index: int
    result: N1Result
    violations: pd.DataFrame
    n_rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    violation_outages: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


class _KeptSolver:
    """A compiled model whose AC and DC engines (the base-case factorizations) are built
    once and reused by every chunk the worker solves; everything else is the model's."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._solvers: dict[Any, Any] = {}
        self.scan_memo: dict[int, Any] = {}  # run_n1's outage setup, done once per worker
        self.n1_kwargs: dict[str, Any] | None = None  # the outage list it is kept for

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def ac_solver(self, tol: float) -> Any:
        key = ("ac", tol)
        if key not in self._solvers:
            self._solvers[key] = self._model.ac_solver(tol)
        return self._solvers[key]

    def dc_solver(self) -> Any:
        if "dc" not in self._solvers:
            self._solvers["dc"] = self._model.dc_solver()
        return self._solvers["dc"]


class N1Split:
    """The split protocol for the ``n1`` analysis (see worker.py)."""

    def size(self, net: pp.pandapowerNet, options: dict[str, Any]) -> int:
        """Number of outages the scan has."""
        kw = n1_kwargs(net, options)
        if "outages" in kw:
            return len(kw["outages"])
        return len(default_outages(net, kw["elements"]))

    def chunks(self, net: pp.pandapowerNet, options: dict[str, Any], workers: int) -> int:
        """How many chunks: a few per worker for large scans (``split = "auto"``)."""
        s = check_split(options["split"])
        if s == "never":
            return 1
        if s == "auto":
            if workers < 2 or self.size(net, options) < SPLIT_MIN_OUTAGES:
                return 1
            return CHUNKS_PER_WORKER * workers
        return int(s)

    def prepare(self, net: pp.pandapowerNet, options: dict[str, Any]) -> Any:
        """The compiled base case, its engines kept for every chunk of this worker."""
        from gridplan.core.contingency import TOL_PU
        from gridplan.model.contingency_model import compile_contingency_model

        model = _KeptSolver(compile_contingency_model(net))
        # factorized here, once: run_n1 (tolerance TOL_PU) asks the model for this engine
        if options["mode"] == "dc":
            model.dc_solver()
        else:
            model.ac_solver(TOL_PU)
        return model

    def chunk(
        self, net: pp.pandapowerNet, options: dict[str, Any], i: int, n: int, model: Any
    ) -> ChunkPart:
        """Scan chunk ``i`` of ``n`` on the compiled ``model``."""
        rows: list[pd.DataFrame] = []
        kw = getattr(model, "n1_kwargs", None)
        if kw is None:
            kw = n1_kwargs(net, options)
            if hasattr(model, "scan_memo"):
                # one outage list for every chunk of this worker: its setup is kept
                kw["outages"] = kw.get("outages") or default_outages(net, kw["elements"])
                model.n1_kwargs = kw
        result = run_n1(net, model=model, chunk=(i, n), violation_sink=rows.append, **kw)
        if result.interrupted:  # a chunk is whole or nothing
            raise KeyboardInterrupt
        viol = pd.concat(rows) if rows else result.violations.iloc[:0]
        counts = {"loading_percent": 0, "vm_pu": 0}
        if len(viol):
            counts.update(
                {str(k): int(v) for k, v in viol["quantity"].value_counts(sort=False).items()}
            )
        outages = np.unique(viol["outage"].to_numpy()) if len(viol) else np.zeros(0, np.int64)
        return ChunkPart(i, result, viol, len(viol), counts, outages)

    def add(self, part: ChunkPart, writer: ResultWriter, row0: int) -> int:
        """Append the violation rows of ``part`` (the next chunk in order) to the task file,
        numbered from ``row0``, and drop them from memory; returns how many there were."""
        v = part.violations
        if len(v):
            v = v.set_axis(pd.RangeIndex(row0, row0 + len(v)))
            writer.append_table(f"{GROUP}/violations", v)
        part.violations = v.iloc[:0]
        return part.n_rows

    def finish(
        self, parts: list[ChunkPart], options: dict[str, Any], writer: ResultWriter
    ) -> Figures:
        """Merge the chunks (their violation rows already in the file, :meth:`add`), write
        the rest of ``/contingency`` and return the key figures."""
        merged = merge_chunks(parts)
        write_n1(writer, merged)
        return n1_figures(merged)


N1_SPLIT = N1Split()


def merge_chunks(parts: list[ChunkPart]) -> N1Result:
    """One :class:`N1Result` from the chunks of a split scan (see the module docstring)."""
    parts = sorted(parts, key=lambda p: p.index)
    if [p.index for p in parts] != list(range(len(parts))):
        raise ValueError(f"chunks {[p.index for p in parts]} are not 0..{len(parts) - 1}")
    res = [p.result for p in parts]
    r0 = res[0]

    # per outage: the chunk that solved it (outages none solved: chunk 0's row)
    owned = np.array([(r.outages["reason"] != OTHER_CHUNK).to_numpy() for r in res])
    owner = np.argmax(owned, axis=0)
    cols = {}
    for c in r0.outages.columns:
        arr = r0.outages[c].to_numpy().copy()
        for k in range(1, len(res)):
            sel = owner == k
            if sel.any():
                arr[sel] = res[k].outages[c].to_numpy()[sel]
        cols[c] = arr
    outages = pd.DataFrame(cols, index=r0.outages.index)

    # per element: worst-N lists merged stably in chunk order
    top = sum(1 for c in r0.elements.columns if c.startswith("top") and c.endswith("_outage"))
    el = r0.elements.copy()
    if top:
        vals = np.concatenate(
            [
                np.nan_to_num(
                    r.elements[[f"top{i + 1}_loading_percent" for i in range(top)]].to_numpy(
                        dtype=float
                    ),
                    nan=-np.inf,
                )
                for r in res
            ],
            axis=1,
        )
        idx = np.concatenate(
            [
                r.elements[[f"top{i + 1}_outage" for i in range(top)]].to_numpy(dtype=np.int64)
                for r in res
            ],
            axis=1,
        )
        pick = np.argsort(-vals, axis=1, kind="stable")[:, :top]
        v = np.take_along_axis(vals, pick, 1)
        j = np.take_along_axis(idx, pick, 1)
        j[~np.isfinite(v)] = -1
        v = np.where(np.isfinite(v), v, np.nan)
        for i in range(top):
            el[f"top{i + 1}_outage"] = j[:, i]
            el[f"top{i + 1}_loading_percent"] = v[:, i]
        names = outages["name"].to_numpy()
        el["max_loading_percent"] = v[:, 0]
        el["cause_index"] = j[:, 0]
        el["cause_name"] = np.array([names[c] if c >= 0 else "" for c in j[:, 0]], dtype=object)

    # per bus: strict improvement in chunk order (the earlier chunk keeps a tie)
    bus = r0.buses.copy()
    for col, cause, better in (
        ("min_vm_pu", "min_vm_cause", np.less),
        ("max_vm_pu", "max_vm_cause", np.greater),
    ):
        worst = np.inf if better is np.less else -np.inf
        cur = np.full(len(bus), worst)
        cid = np.full(len(bus), -1, dtype=np.int64)
        for r in res:
            v = np.nan_to_num(r.buses[col].to_numpy(dtype=float), nan=worst)
            b = better(v, cur)
            cur[b] = v[b]
            cid[b] = r.buses[cause].to_numpy()[b]
        first = res[0].buses[cause].to_numpy()
        # no finite value anywhere: keep what a single scan keeps there
        cid = np.where(np.isfinite(cur), cid, first)
        bus[col] = np.where(np.isfinite(cur), cur, np.nan)
        bus[cause] = cid

    # values of outages the screen cleared are estimates, wherever they ended up
    screened = outages["screened_out"].to_numpy(dtype=bool)
    el = mark_estimates(el, screened)
    bus = mark_estimates(bus, screened)

    # the violation rows: in memory, or already written by N1Split.add (streamed)
    streamed = any(len(p.violations) < p.n_rows for p in parts)
    if streamed:
        viol = parts[0].violations.iloc[:0].reset_index(drop=True)
    else:
        frames = [p.violations for p in parts if len(p.violations)]
        viol = (
            pd.concat(frames, ignore_index=True)
            if frames
            else parts[0].violations.reset_index(drop=True)
        )
    counts = {"loading_percent": 0, "vm_pu": 0}
    for part in parts:
        for k, v in part.counts.items():
            counts[k] = counts.get(k, 0) + v
    n_rows = sum(p.n_rows for p in parts)
    with_viol = np.unique(np.concatenate([p.violation_outages for p in parts]))
    timings: dict[str, float] = {}
    for r in res:
        for k, t in r.timings_s.items():
            timings[k] = timings.get(k, 0.0) + float(t)
    return N1Result(
        case_name=r0.case_name,
        mode=r0.mode,
        limits=r0.limits,
        outages=outages,
        elements=el,
        buses=bus,
        violations=viol,
        timings_s=timings,
        interrupted=any(r.interrupted for r in res),
        violations_streamed=streamed,
        n_violations=n_rows,
        violation_counts=counts,
        n_violation_outages=int(with_viol.size),
        rule=r0.rule,
        base_violations=r0.base_violations,
    )
