"""What runs on a worker: one task, or one chunk of a split task.

:func:`run_task` checks the task file first: a complete file whose key equals the task's
key is *up to date* and nothing is computed (its key figures are read back, so every
summary keeps them). Otherwise the task runs and its file is written atomically, complete
or not at all; a task that raises is recorded as *failed* with its error, in a small task
file of its own, and never stops the others. Functions here are plain module functions
with picklable arguments, so local processes, Dask workers and Slurm jobs run the same code.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandapower as pp

from gridplan.errors import GridplanError
from gridplan.results import ResultWriter
from gridplan.results.tasks import file_state, mark_complete
from gridplan.studies.batch.analyses import Figures, get_analysis
from gridplan.studies.batch.scenarios import file_digest
from gridplan.studies.batch.study import Task

CASE_CACHE_SIZE = 2  # nets kept per worker process: consecutive tasks often share a case


@dataclass(frozen=True)
class RunContext:
    """What every task of one run shares."""

    out_dir: str
    run_id: str
    study: str
    command: str = ""
    force: bool = False
    split_workers: int = 1  # workers a split may use; 1: never split


@dataclass(frozen=True)
class SplitRequest:
    """A task that asks to be split: ``chunks`` chunks over ``items`` (outages)."""

    chunks: int
    items: int
    key: str
    case_sha256: str
    signature: str = ""


@dataclass
class Outcome:
    """What happened to one task in this run."""

    task_id: str
    index: int
    status: str  # done | not_applicable | failed
    action: str  # computed | up to date | recomputed: ... | retried: failed before
    reason: str = ""
    figures: Figures = field(default_factory=dict)
    elapsed_s: float = 0.0
    key: str = ""
    split: SplitRequest | None = None
    previous: str = ""  # why a file was there but not trusted (stale, partial, failed)


# ---------------------------------------------------------------------------------------
_cases: OrderedDict[tuple[Any, ...], tuple[pp.pandapowerNet, str]] = OrderedDict()
_models: OrderedDict[str, Any] = OrderedDict()


def _case_signature(spec: str) -> tuple[Any, ...]:
    p = Path(spec)
    if p.is_absolute():
        try:
            st = p.stat()
        except OSError:
            return (spec,)
        return (spec, st.st_mtime_ns, st.st_size)
    return (spec,)


def load_cached(spec: str) -> tuple[pp.pandapowerNet, str]:
    """The case ``spec`` and its ``case_sha256``, from this process's small cache.

    The net is shared between the tasks of this process: analyses must not modify it.
    """
    from gridplan.model.case_hash import case_sha256
    from gridplan.model.cases import load_case

    sig = _case_signature(spec)
    hit = _cases.get(sig)
    if hit is not None:
        _cases.move_to_end(sig)
        return hit
    net = load_case(spec)
    entry = (net, case_sha256(net))
    _cases[sig] = entry
    while len(_cases) > CASE_CACHE_SIZE:
        _cases.popitem(last=False)
    return entry


def case_signature(spec: str) -> str:
    """What identifies the case's source without reading it: a file's path, size, inode,
    modification and change times (any write changes the change time, and no tool sets it
    back), or a pandapower.networks name with the pandapower version."""
    from gridplan.model.cases import bundled_cases

    path = Path(spec) if Path(spec).is_absolute() else bundled_cases().get(spec)
    if path is None:
        return json.dumps(["pandapower.networks", spec, pp.__version__])
    try:
        st = path.stat()
    except OSError:
        return ""
    return json.dumps([str(path), st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns])


def task_key(task: Task, case_sha: str) -> str:
    """SHA-256 of what the task's result depends on: case data, scenario (with file
    digests), analysis kind and options (with digests of option files), gridplan version."""
    from gridplan import __version__

    reg = get_analysis(task.analysis.kind)
    options: dict[str, Any] = {}
    for k, v in task.analysis.key_options().items():
        opt = reg.options.get(k)
        if opt is not None and opt.path and v and v not in opt.keywords:
            v = {"path": v, "sha256": file_digest(v)}
        options[k] = v
    payload = {
        "case_sha256": case_sha,
        "scenario": task.scenario.definition(),
        "analysis": task.analysis.kind,
        "options": options,
        "gridplan": __version__,
    }
    text = json.dumps(payload, sort_keys=True, allow_nan=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ItemProgress:
    """Progress inside one long task (outages of an N-1), for the driver's second bar."""

    total: Any  # callable: total(n) announces n more items
    update: Any  # callable: update(k) says k more are finished


_item_progress: ItemProgress | None = None


def set_item_progress(progress: ItemProgress | None) -> None:
    """Report items of tasks run in this process (the serial executor) to ``progress``."""
    global _item_progress
    _item_progress = progress


def analysis_options(task: Task) -> dict[str, Any]:
    """The options dict an analysis function receives (see analyses.py)."""
    return {
        **task.analysis.options,
        "case_name": task.case.name,
        "study_scenario": task.scenario,
        "analysis": task.analysis.name,
        "progress": _item_progress,
    }


def _why_stale(rec: Any, task: Task, case_sha: str) -> str:
    from gridplan import __version__

    if rec.case_sha256 != case_sha:
        return "stale: the case data changed"
    if rec.options != json.loads(json.dumps(task.analysis.options, default=str)):
        return "stale: the analysis options changed"
    if rec.gridplan_version != __version__:
        return f"stale: written by gridplan {rec.gridplan_version}, this is {__version__}"
    return "stale: the scenario or a file it names changed"


def _writer(task: Task, ctx: RunContext, case_sha: str) -> ResultWriter:
    return ResultWriter(
        task.path(ctx.out_dir),
        case_name=task.case.name,
        case_sha256=case_sha,
        command=ctx.command or shlex.join(["gridplan", *sys.argv[1:]]),
    )


def write_record(
    task: Task,
    ctx: RunContext,
    *,
    case_sha: str,
    key: str,
    status: str,
    reason: str = "",
    figures: Figures | None = None,
    elapsed_s: float = 0.0,
    writer: ResultWriter | None = None,
    chunks: int = 0,
    signature: str = "",
) -> None:
    """Finish the task file: the ``task_*`` attributes, ``task_complete`` last, then commit.

    Without ``writer`` a file holding only the record is written (not applicable, failed).
    """
    w = writer or _writer(task, ctx, case_sha)
    try:
        mark_complete(
            w,
            id=task.id,
            study=ctx.study,
            case=task.case.name,
            case_spec=task.case.spec,
            case_signature=signature if case_sha else "",  # taken before the case was read
            scenario=task.scenario.name,
            analysis=task.analysis.name,
            kind=task.analysis.kind,
            options=task.analysis.options,
            scenario_def=task.scenario.to_json(),
            key=key,
            status=status,
            reason=reason,
            figures=figures or {},
            elapsed_s=float(elapsed_s),
            run_id=ctx.run_id,
            chunks=chunks,
        )
        w.commit()
    except BaseException:
        w.abort()
        raise


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, GridplanError):
        return str(exc)
    # an unexpected error: its type and the innermost frame say where to look
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


def run_task(task: Task, ctx: RunContext) -> Outcome:
    """Run ``task`` unless its file is up to date; never raises for a failing analysis."""
    t0 = time.perf_counter()
    path = task.path(ctx.out_dir)
    state, rec = file_state(path)
    out = Outcome(task.id, task.index, "failed", "computed")
    case_sha = key = ""
    try:
        signature = case_signature(task.case.spec)
        if (
            state == "complete"
            and rec is not None
            and signature
            and rec.case_signature == signature
            and rec.status in ("done", "not_applicable")
            and not ctx.force
            and task_key(task, rec.case_sha256) == rec.key
        ):
            # the case source is untouched since the file was written: its stored hash holds
            return _up_to_date(task, rec)
        net, case_sha = load_cached(task.case.spec)
        key = task_key(task, case_sha)
        if state == "complete" and rec is not None:
            if rec.key == key and rec.status in ("done", "not_applicable") and not ctx.force:
                return _up_to_date(task, rec)
            if rec.status == "failed":
                out.previous = "failed before"
                out.action = "retried: failed before"
            elif rec.key != key:
                out.previous = _why_stale(rec, task, case_sha)
                out.action = f"recomputed: {out.previous}"
            else:
                out.action = "recomputed: forced"
        elif state == "partial":
            out.previous = "partial file"
            out.action = "recomputed: partial file (no completion mark)"
        out.key = key
        work = task.scenario.apply(net)
        options = analysis_options(task)
        reg = get_analysis(task.analysis.kind)
        check = reg.applies_fn()
        why = check(work, options) if check is not None else None
        if why:
            out.status, out.reason = "not_applicable", why
            out.elapsed_s = time.perf_counter() - t0
            write_record(
                task, ctx, case_sha=case_sha, key=key, status=out.status, reason=why,
                elapsed_s=out.elapsed_s, signature=signature,
            )  # fmt: skip
            return out
        split = reg.split_support()
        if split is not None and ctx.split_workers > 1:
            n_chunks = split.chunks(work, options, ctx.split_workers)
            if n_chunks > 1:
                out.split = SplitRequest(
                    n_chunks, split.size(work, options), key, case_sha, signature
                )
                return out
        writer = _writer(task, ctx, case_sha)
        try:
            figures = reg.run_fn()(work, options, writer)
        except BaseException:
            writer.abort()
            raise
        out.status, out.figures = "done", figures
        out.elapsed_s = time.perf_counter() - t0
        write_record(
            task, ctx, case_sha=case_sha, key=key, status="done", figures=figures,
            elapsed_s=out.elapsed_s, writer=writer, signature=signature,
        )  # fmt: skip
        return out
    except Exception as exc:  # a failing task is recorded; the batch goes on
        return record_failure(task, ctx, out, exc, case_sha, key, t0)


def _up_to_date(task: Task, rec: Any) -> Outcome:
    return Outcome(
        task.id, task.index, rec.status, "up to date", rec.reason, rec.figures, rec.elapsed_s,
        rec.key,
    )  # fmt: skip


def run_tasks(tasks: list[Task], ctx: RunContext) -> list[Outcome]:
    """:func:`run_task` for each of ``tasks`` in turn (the tasks of one case: it is read
    once and kept in this process's cache)."""
    return [run_task(t, ctx) for t in tasks]


def record_failure(
    task: Task,
    ctx: RunContext,
    out: Outcome,
    exc: BaseException,
    case_sha: str,
    key: str,
    t0: float,
) -> Outcome:
    """Mark ``out`` failed with the error of ``exc`` and write the failure record."""
    out.status, out.reason, out.split = "failed", _error_text(exc), None
    out.elapsed_s = time.perf_counter() - t0
    try:
        write_record(
            task, ctx, case_sha=case_sha, key=key, status="failed", reason=out.reason,
            elapsed_s=out.elapsed_s,
        )  # fmt: skip
    except Exception as exc2:  # e.g. the folder became read-only: say so, keep going
        out.reason += f" (and the failure record could not be written: {exc2})"
    return out


# ---------------------------------------------------------------------------------------
# split tasks: chunks on the workers, the merge in the driver
def run_chunk(task: Task, ctx: RunContext, i: int, n: int, key: str) -> Any:
    """Chunk ``i`` of ``n`` of a split task (the worker keeps the compiled case between
    chunks of one task: the base case is solved and factorized once per worker)."""
    net, case_sha = load_cached(task.case.spec)
    if task_key(task, case_sha) != key:
        raise GridplanError(f"{task.case.spec}: the case changed while its chunks ran")
    work = task.scenario.apply(net)
    split = get_analysis(task.analysis.kind).split_support()
    cache_key = key
    model = _models.get(cache_key)
    if model is None:
        model = split.prepare(work, analysis_options(task))
        _models.clear()
        _models[cache_key] = model
    return split.chunk(work, analysis_options(task), i, n, model)


def prefetch(task: Task, ctx: RunContext) -> None:
    """Load the case of a task that may be split, and compile it when it will be, on a
    worker that would otherwise wait: its chunk then starts at once instead of after a
    case load of its own (the driver sends this only to idle workers)."""
    try:
        net, case_sha = load_cached(task.case.spec)
        key = task_key(task, case_sha)
        state, rec = file_state(task.path(ctx.out_dir))
        if state == "complete" and rec is not None and rec.key == key and not ctx.force:
            return
        split = get_analysis(task.analysis.kind).split_support()
        work = task.scenario.apply(net)
        options = analysis_options(task)
        if key not in _models and split.chunks(work, options, ctx.split_workers) > 1:
            model = split.prepare(work, options)
            _models.clear()
            _models[key] = model
    except Exception:  # the task itself reports whatever went wrong
        return


def split_writer(task: Task, ctx: RunContext, req: SplitRequest) -> ResultWriter:
    """The task file of a split task, opened in the driver when its chunks start: chunks
    add their rows to it in order while later chunks still run."""
    return _writer(task, ctx, req.case_sha256)


def finish_split(
    task: Task,
    ctx: RunContext,
    req: SplitRequest,
    parts: list[Any],
    t0: float,
    action: str,
    writer: ResultWriter,
) -> Outcome:
    """Merge the chunks of a split task and complete its file (in the driver process)."""
    out = Outcome(task.id, task.index, "failed", action, key=req.key)
    try:
        split = get_analysis(task.analysis.kind).split_support()
        try:
            figures = split.finish(parts, analysis_options(task), writer)
        except BaseException:
            writer.abort()
            raise
        out.status, out.figures = "done", figures
        out.elapsed_s = time.perf_counter() - t0
        write_record(
            task, ctx, case_sha=req.case_sha256, key=req.key, status="done", figures=figures,
            elapsed_s=out.elapsed_s, writer=writer, chunks=len(parts), signature=req.signature,
        )  # fmt: skip
        return out
    except Exception as exc:
        return record_failure(task, ctx, out, exc, req.case_sha256, req.key, t0)


# ---------------------------------------------------------------------------------------
# local worker processes: they exit when the process that started them is gone
def _watch_parent(parent: int, interval_s: float = 0.5) -> None:
    import signal
    import threading

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent:
                # the driver died (SIGKILL, walltime): stop the task cleanly (its temporary
                # file is removed), and hard if it does not stop within a few seconds
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5.0)
                os._exit(3)

    threading.Thread(target=watch, name="gridplan-parent-watch", daemon=True).start()


def call_local(fn: Any, *args: Any) -> Any:
    """Run ``fn(*args)`` in a local worker; a SIGTERM (driver gone, run cancelled) ends the
    process once the task has unwound (its temporary file deleted), not only the task."""
    try:
        return fn(*args)
    except SystemExit:
        os._exit(143)


def init_local_worker(parent: int) -> None:
    """Initializer of local worker processes: SIGTERM stops the task cleanly (SystemExit
    unwinds the writer, which deletes its temporary file), and a watchdog ends the worker
    when its parent process is gone."""
    import signal

    def on_term(_sig: int, _frame: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_term)
    _watch_parent(parent)
