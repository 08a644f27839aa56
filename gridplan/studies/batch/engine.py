"""The driver of a batch run: tasks out to an executor, outcomes back, the index written.

:func:`run_study` is the one code path behind ``gridplan run``, whatever runs the tasks
(this process, local workers, a Dask scheduler, a Slurm/PBS cluster) and for every shard
of an array job. A split task (one big N-1) comes back from its worker as a request; the
driver then submits its chunks, merges them when all are back and writes the task file.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gridplan.errors import BatchError, CaseError, GridplanError
from gridplan.studies.batch.analyses import get_analysis
from gridplan.studies.batch.index import Index, collect, write_index
from gridplan.studies.batch.study import Study, Task, write_snapshot
from gridplan.studies.batch.worker import (
    ItemProgress,
    Outcome,
    RunContext,
    finish_split,
    prefetch,
    record_failure,
    run_chunk,
    run_tasks,
    set_item_progress,
    split_writer,
)

MAX_ATTEMPTS = 2  # a task whose worker process dies runs once more, in a new pool


@dataclass
class Progress:
    """Hooks the CLI sets to draw progress bars (all optional)."""

    tasks_total: Callable[[int], None] | None = None
    task_done: Callable[[Outcome], None] | None = None
    items_total: Callable[[int], None] | None = None  # outages of split N-1 scans
    items_done: Callable[[int], None] | None = None


@dataclass
class BatchResult:
    """Outcome of one run: this run's tasks, and the folder's index after it."""

    outcomes: list[Outcome]
    index: Index | None
    out_dir: Path
    where: str = ""
    shard: tuple[int, int] | None = None
    elapsed_s: float = 0.0
    index_written: bool = False
    index_note: str = ""
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """One row per task of this run: status, action, reason, run time, key figures."""
        rows = [
            {
                "task": o.task_id,
                "status": o.status,
                "action": o.action,
                "reason": o.reason,
                "elapsed_s": o.elapsed_s,
                **o.figures,
            }
            for o in sorted(self.outcomes, key=lambda o: o.index)
        ]
        return pd.DataFrame(rows).set_index("task") if rows else pd.DataFrame()


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 1 <= I <= N."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise CaseError(f"--shard must be I/N (e.g. 2/8), got {text!r} instead") from None
    if not (n >= 1 and 1 <= i <= n):
        raise CaseError(f"--shard must be I/N with 1 <= I <= N, got {text!r} instead")
    return i, n


def shard_tasks(tasks: list[Task], shard: tuple[int, int] | None) -> list[Task]:
    """The tasks of shard ``I/N``: every N-th task of the study order, from the I-th."""
    if shard is None:
        return tasks
    i, n = shard
    return [t for t in tasks if t.index % n == i - 1]


def run_study(
    study: Study,
    out_dir: str | os.PathLike[str],
    executor: Any = None,
    *,
    shard: tuple[int, int] | None = None,
    force: bool = False,
    progress: Progress | None = None,
    raise_on_failure: bool = True,
) -> BatchResult:
    """Run every task of ``study`` (of shard ``I/N``) that is not up to date in ``out_dir``.

    Parameters
    ----------
    study
        From :func:`gridplan.studies.batch.study.load_study`.
    out_dir
        The batch folder: task files ``<case>/<scenario>/<analysis>.h5``, ``index.h5``,
        ``batch-summary.csv``, ``study.json``.
    executor
        From :mod:`gridplan.studies.batch.executors` (default: this process).
    shard
        ``(I, N)``: run only shard I of N (array jobs). The index is written when the
        last shard finds every task of the study complete; else ``gridplan batch merge``.
    force
        Recompute tasks whose file is up to date.

    Raises
    ------
    BatchError
        After every task was tried, when some of this run's tasks failed.
    """
    from gridplan.studies.batch.executors import SerialExecutor

    t_start = time.perf_counter()
    ex = executor or SerialExecutor()
    out = Path(out_dir).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not os.access(out, os.W_OK):
            raise CaseError(f"{out}: output folder is not writable")
        write_snapshot(study, out / "study.json")
    except OSError as exc:
        ex.close(cancel=True)
        raise CaseError(f"{out}: cannot write to the output folder ({exc.strerror})") from None
    except BaseException:
        ex.close(cancel=True)
        raise
    tasks = shard_tasks(study.tasks(), shard)
    p = progress or Progress()
    ctx = RunContext(
        out_dir=str(out),
        run_id=f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}",
        study=study.name,
        command=shlex.join(["gridplan", *sys.argv[1:]]),
        force=force,
        split_workers=ex.n_workers,
    )
    if p.tasks_total:
        p.tasks_total(len(tasks))
    outcomes: dict[str, Outcome] = {}
    by_id = {t.id: t for t in tasks}
    # future -> (kind, task id, function, arguments, attempt); kind "task" or "chunk"
    pending: dict[Any, tuple[str, str, Callable[..., Any], tuple[Any, ...], int]] = {}
    splits: dict[str, dict[str, Any]] = {}
    unit_tasks: dict[str, list[Task]] = {}

    def submit(kind: str, tid: str, fn: Callable[..., Any], args: tuple[Any, ...], n: int) -> None:
        pending[ex.submit(fn, *args)] = (kind, tid, fn, args, n)

    def finished(o: Outcome) -> None:
        outcomes[o.task_id] = o
        if p.task_done:
            p.task_done(o)

    clean = False
    serial = isinstance(ex, SerialExecutor)
    if serial and p.items_total and p.items_done:
        set_item_progress(ItemProgress(p.items_total, p.items_done))
    try:
        # one unit of work per case when there are enough cases to keep every worker busy
        # (a worker then reads each case once); else one per task (its analyses in parallel)
        by_case = len({t.case.name for t in tasks}) >= 2 * ex.n_workers
        groups: dict[str, list[Task]] = {}
        for t in tasks:
            groups.setdefault(t.case.name if by_case else t.id, []).append(t)
        for gid, members in groups.items():
            submit("tasks", gid, run_tasks, (members, ctx), 1)
            unit_tasks[gid] = members
        # workers left idle by a short task list load (and compile) the cases of tasks
        # that may be split, so their chunks start at once
        idle = ex.n_workers - len(groups)
        may_split = [t for t in tasks if _may_split(t)]
        for i in range(max(idle, 0) if may_split else 0):
            t = may_split[i % len(may_split)]
            submit("prefetch", t.id, prefetch, (t, ctx), MAX_ATTEMPTS)
        while pending:
            done, _ = ex.wait_any(pending)
            for fut in done:
                kind, tid, fn, args, attempt = pending.pop(fut)
                try:
                    value = fut.result()
                except Exception as exc:
                    if _lost_worker(exc) and attempt < MAX_ATTEMPTS and hasattr(ex, "revive"):
                        # a worker process died (killed, out of memory): every task it
                        # shared the pool with fails too; they run again in a new pool
                        ex.revive()
                        submit(kind, tid, fn, args, attempt + 1)
                        continue
                    value = exc
                if kind == "prefetch":
                    continue
                if kind == "tasks":
                    members = unit_tasks[tid]
                    if isinstance(value, Exception):
                        lost = _lost(value)
                        value = [_failed(t, ctx, lost) for t in members]
                    for o in value:
                        task = by_id[o.task_id]
                        if o.split is None:
                            finished(o)
                            continue
                        req = o.split
                        splits[o.task_id] = {
                            "req": req,
                            "waiting": {},  # chunk index -> part not yet added
                            "parts": [],  # parts added to the file, in order
                            "rows": 0,
                            "left": req.chunks,
                            "t0": time.perf_counter() - o.elapsed_s,
                            "action": o.action,
                            "error": None,
                            "writer": split_writer(task, ctx, req),
                            "split": get_analysis(task.analysis.kind).split_support(),
                        }
                        if p.items_total:
                            p.items_total(req.items)
                        for i in range(req.chunks):
                            args = (task, ctx, i, req.chunks, req.key)
                            submit("chunk", o.task_id, run_chunk, args, 1)
                    continue
                task = by_id[tid]
                s = splits[tid]
                s["left"] -= 1
                if isinstance(value, Exception):
                    s["error"] = s["error"] or _lost(value)
                else:
                    s["waiting"][value.index] = value
                    if p.items_done:
                        p.items_done(_chunk_items(value))
                    # the next chunks in order go to the file now, while others still run
                    while s["error"] is None and len(s["parts"]) in s["waiting"]:
                        part = s["waiting"].pop(len(s["parts"]))
                        try:
                            s["rows"] += s["split"].add(part, s["writer"], s["rows"])
                        except Exception as exc:
                            s["error"] = exc
                        s["parts"].append(part)
                if s["left"] == 0:
                    req = s["req"]
                    del splits[tid]
                    if s["error"] is not None:
                        s["writer"].abort()
                        o = Outcome(tid, task.index, "failed", s["action"])
                        o = record_failure(
                            task, ctx, o, s["error"], req.case_sha256, req.key, s["t0"]
                        )
                    else:
                        o = finish_split(
                            task, ctx, req, s["parts"], s["t0"], s["action"], s["writer"]
                        )
                    finished(o)
        clean = True
    except KeyboardInterrupt:
        # stopped: finished tasks are files; the index says what is there
        ex.close(cancel=True)
        clean = True
        _abort_splits(splits)
        if shard is None:
            try:
                write_index(out, study)
            except Exception:  # the interruption is what matters; merge can do it later
                pass
        raise
    finally:
        if serial:
            set_item_progress(None)
        if not clean:
            ex.close(cancel=True)
            _abort_splits(splits)
    ex.close()
    result = BatchResult(
        outcomes=list(outcomes.values()),
        index=None,
        out_dir=out,
        where=ex.where,
        shard=shard,
    )
    index = collect(out, study)
    complete = index.summary.status.isin(["done", "not_applicable", "failed"]).all()
    if shard is None or complete:
        try:
            index = write_index(out, study, index)
            result.index_written = True
        except (OSError, GridplanError) as exc:
            # e.g. two shards finishing together: the other one writes it; the tasks are
            # done either way and `gridplan batch merge` rebuilds the index at any time
            result.index_note = f"index.h5 not written ({exc})"
    result.index = index
    result.elapsed_s = time.perf_counter() - t_start
    result.failed = {o.task_id: o.reason for o in result.outcomes if o.status == "failed"}
    if result.failed and raise_on_failure:
        raise BatchError(
            f"{len(result.failed)} of {len(tasks)} tasks failed: "
            + "; ".join(f"{k}: {v}" for k, v in result.failed.items()),
            failed=result.failed,
            hint="fix the cause and run again: finished tasks are kept, failed ones run again",
        )
    return result


def _may_split(task: Task) -> bool:
    from gridplan.studies.batch.analyses import get_analysis

    return (
        get_analysis(task.analysis.kind).split is not None
        and task.analysis.options.get("split", "never") != "never"
    )


def _chunk_items(part: Any) -> int:
    outages = getattr(getattr(part, "result", None), "outages", None)
    if outages is None:
        return 0
    from gridplan.studies.n1 import OTHER_CHUNK

    return int((outages["reason"] != OTHER_CHUNK).sum())


def _abort_splits(splits: dict[str, dict[str, Any]]) -> None:
    """Delete the temporary files of split tasks that were still collecting chunks."""
    for s in splits.values():
        s["writer"].abort()


def _failed(task: Task, ctx: RunContext, exc: Exception) -> Outcome:
    o = Outcome(task.id, task.index, "failed", "computed")
    return record_failure(task, ctx, o, exc, "", "", time.perf_counter())


def _lost_worker(exc: BaseException) -> bool:
    from concurrent.futures.process import BrokenProcessPool

    return isinstance(exc, BrokenProcessPool)


def _lost(exc: Exception) -> Exception:
    if _lost_worker(exc):
        return RuntimeError(
            f"the worker process running it died {MAX_ATTEMPTS} times (killed or out of memory)"
        )
    return exc
