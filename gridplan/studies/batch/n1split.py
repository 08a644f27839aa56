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
- violations: the chunks' rows one after the other (each chunk streams them block by block
  in solving order, as a single-process scan streams them to its file).

Each worker compiles (solves and factorizes) the base case once and keeps it for the
chunks of that task it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.results import ResultWriter
from gridplan.studies.batch.analyses import Figures, check_split, n1_figures, n1_kwargs
from gridplan.studies.n1 import OTHER_CHUNK, N1Result, default_outages, run_n1, write_n1

SPLIT_MIN_OUTAGES = 2000  # "auto" splits scans with at least this many outages


@dataclass
class ChunkPart:
    """One chunk's scan and its violation rows in solving order."""

    index: int
    result: N1Result
    violations: pd.DataFrame


class N1Split:
    """The split protocol for the ``n1`` analysis (see worker.py)."""

    def size(self, net: pp.pandapowerNet, options: dict[str, Any]) -> int:
        """Number of outages the scan has."""
        kw = n1_kwargs(net, options)
        if "outages" in kw:
            return len(kw["outages"])
        return len(default_outages(net, kw["elements"]))

    def chunks(self, net: pp.pandapowerNet, options: dict[str, Any], workers: int) -> int:
        """How many chunks: one per worker for large scans (``split = "auto"``)."""
        s = check_split(options["split"])
        if s == "never":
            return 1
        if s == "auto":
            return workers if self.size(net, options) >= SPLIT_MIN_OUTAGES else 1
        return int(s)

    def prepare(self, net: pp.pandapowerNet, options: dict[str, Any]) -> Any:
        """The compiled base case (solved, factorized inputs), kept by the worker."""
        from gridplan.model.contingency_model import compile_contingency_model

        return compile_contingency_model(net)

    def chunk(
        self, net: pp.pandapowerNet, options: dict[str, Any], i: int, n: int, model: Any
    ) -> ChunkPart:
        """Scan chunk ``i`` of ``n`` on the compiled ``model``."""
        rows: list[pd.DataFrame] = []
        result = run_n1(
            net, model=model, chunk=(i, n), violation_sink=rows.append, **n1_kwargs(net, options)
        )
        if result.interrupted:  # a chunk is whole or nothing
            raise KeyboardInterrupt
        viol = pd.concat(rows) if rows else result.violations.iloc[:0]
        return ChunkPart(i, result, viol)

    def finish(
        self, parts: list[ChunkPart], options: dict[str, Any], writer: ResultWriter
    ) -> Figures:
        """Merge the chunks, write ``/contingency`` and return the key figures."""
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

    frames = [p.violations for p in parts if len(p.violations)]
    viol = (
        pd.concat(frames, ignore_index=True)
        if frames
        else parts[0].violations.reset_index(drop=True)
    )
    counts = {"loading_percent": 0, "vm_pu": 0}
    if len(viol):
        counts.update(
            {str(k): int(v) for k, v in viol["quantity"].value_counts(sort=False).items()}
        )
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
        violations_streamed=False,
        n_violations=len(viol),
        violation_counts=counts,
        n_violation_outages=int(viol["outage"].nunique()) if len(viol) else 0,
    )
