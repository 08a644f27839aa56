"""``gridplan run``: a study (TOML) over its cases, locally, on Dask, or on Slurm/PBS."""

from __future__ import annotations

import dataclasses
import math
import signal
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from gridplan.cli._types import COUNT, OutPath
from gridplan.errors import BatchError, CaseError
from gridplan.studies.batch.engine import BatchResult, Progress, parse_shard, run_study
from gridplan.studies.batch.study import (
    Study,
    default_study_path,
    load_study,
    study_for_cases,
)

ROWS_SHOWN = 60  # beyond this many tasks only the notable ones are listed


def resolve_study(args: tuple[str, ...]) -> Study:
    """The study of ``gridplan run ARGS``: a study file, case specs, or the default study."""
    tomls = [a for a in args if a.lower().endswith(".toml")]
    if tomls and len(args) > 1:
        raise CaseError(
            "give either one study file or case specs, got " + " ".join(args),
            hint="put the cases into the study file's cases = [...] list",
        )
    if tomls:
        return load_study(tomls[0])
    if args:
        return study_for_cases(args)
    return load_study(default_study_path())


def _executor(
    workers: int, scheduler: str | None, cluster: str | None, settings: dict[str, Any]
) -> Any:
    from gridplan.studies.batch import executors

    if scheduler and cluster:
        raise CaseError("give --scheduler or --cluster, not both")
    if (scheduler or cluster) and workers > 1:
        raise CaseError("--workers is for local processes; with --scheduler/--cluster the "
                        "cluster's workers run the tasks")  # fmt: skip
    if scheduler:
        return executors.connect(scheduler)
    if cluster:
        return executors.jobqueue_cluster(cluster, settings)
    if workers > 1:
        return executors.LocalExecutor(workers)
    return executors.SerialExecutor()


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.0f}"
    return str(value)


def print_result(result: BatchResult, study: Study) -> None:
    """The run's tasks, one line each (the notable ones when there are many), and totals."""
    rows = sorted(result.outcomes, key=lambda o: o.index)
    notable = [
        o for o in rows if o.status == "failed" or o.action not in ("up to date", "computed")
    ]
    shown = rows if len(rows) <= ROWS_SHOWN else notable
    width = max((len(o.task_id) for o in shown), default=10)
    for o in shown:
        status = o.status.replace("_", " ")
        if o.status == "done":
            detail = "  ".join(f"{k}={_fmt(v)}" for k, v in list(o.figures.items())[:5])
        else:
            detail = o.reason
        click.echo(f"  {o.task_id:<{width}}  {status:<14} {o.elapsed_s:7.2f} s  {detail}")
    if len(shown) < len(rows):
        click.echo(f"  ... {len(rows) - len(shown)} more tasks in batch-summary.csv")
    by_status: dict[str, int] = {}
    for o in rows:
        by_status[o.status] = by_status.get(o.status, 0) + 1
    up = sum(o.action == "up to date" for o in rows)
    parts = [f"{by_status.get('done', 0)} done"]
    if by_status.get("not_applicable"):
        parts.append(f"{by_status['not_applicable']} not applicable")
    if by_status.get("failed"):
        parts.append(f"{by_status['failed']} failed")
    shard = f" (shard {result.shard[0]}/{result.shard[1]})" if result.shard else ""
    click.echo(
        f"{len(rows)} tasks{shard} on {result.where} in {result.elapsed_s:.1f} s: "
        + ", ".join(parts)
        + f"; {len(rows) - up} run now, {up} up to date"
    )
    redo = [o for o in rows if o.action.startswith(("recomputed", "retried"))]
    for o in redo[:20]:
        click.echo(f"  {o.action}: {o.task_id}")
    if len(redo) > 20:
        click.echo(f"  ... and {len(redo) - 20} more recomputed")
    if result.index_written:
        click.echo(
            f"results: {result.out_dir}/ (index.h5 links every task file; batch-summary.csv)"
        )
    elif result.index_note:
        click.echo(
            f"results: {result.out_dir}/; {result.index_note}: "
            f"`gridplan batch merge {result.out_dir}` writes it"
        )
    else:
        missing = int((result.index.summary.status == "missing").sum()) if result.index else 0
        click.echo(
            f"results: {result.out_dir}/; index.h5 not written yet: {missing} tasks of other "
            f"shards are not finished (`gridplan batch merge {result.out_dir}` writes it)"
        )


def _terminate(_sig: int, _frame: Any) -> None:
    raise KeyboardInterrupt


@click.command("run")
@click.argument("args", nargs=-1, metavar="[STUDY.toml or SPEC...]")
@click.option(
    "--out-dir",
    type=OutPath(folder=True),
    default=None,
    help="Folder for the task files, index.h5 and batch-summary.csv "
    "[default: the study's out_dir, else ./results].",
)
@click.option(
    "--workers",
    "-w",
    type=COUNT,
    default=None,
    help="Local worker processes [default: 1, this process].",
)
@click.option(
    "--jobs",
    type=COUNT,
    default=None,
    help="With --cluster: number of batch jobs; without: the same as --workers.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Run the tasks on a running Dask scheduler, e.g. tcp://10.0.0.5:8786.",
)
@click.option(
    "--cluster",
    type=click.Choice(["slurm", "pbs"]),
    default=None,
    help="Start Dask workers as Slurm or PBS jobs (dask-jobqueue) and run the tasks there.",
)
@click.option("--queue", default=None, help="--cluster: queue or partition.")
@click.option("--account", default=None, help="--cluster: account or project to charge.")
@click.option(
    "--cores",
    type=COUNT,
    default=None,
    help="--cluster: cores per job, one single-threaded worker each [default: 1].",
)
@click.option(
    "--memory", default=None, help="--cluster: memory per job, e.g. 8GiB [default: 2GiB a core]."
)
@click.option(
    "--walltime",
    default=None,
    help="--cluster: walltime per job, [D-]HH:MM[:SS] [default: 01:00:00]; workers retire "
    "before it and new jobs take over.",
)
@click.option(
    "--shard",
    metavar="I/N",
    default=None,
    help="Run only shard I of N (every N-th task), e.g. from a Slurm array job.",
)
@click.option(
    "--analyses",
    default=None,
    help="Comma-separated analyses of the study to run [default: all].",
)
@click.option("--force", is_flag=True, help="Recompute tasks whose result file is up to date.")
@click.option("--no-resume", is_flag=True, hidden=True, help="Old name of --force.")
def run(
    args: tuple[str, ...],
    out_dir: Path | None,
    workers: int | None,
    jobs: int | None,
    scheduler: str | None,
    cluster: str | None,
    queue: str | None,
    account: str | None,
    cores: int | None,
    memory: str | None,
    walltime: str | None,
    shard: str | None,
    analyses: str | None,
    force: bool,
    no_resume: bool,
) -> None:
    """Run a study: every (case, scenario, analysis) task, one HDF5 file each.

    Give a study file (TOML, docs/batch.md), or case specs to run the default study's
    analyses on, or nothing: the bundled default study over the bundled cases. Tasks whose
    file is complete and up to date are skipped; stale or partial ones run again (and the
    run says so). Exit code 0 when every task succeeded or does not apply, 1 otherwise.
    """
    study = resolve_study(args)
    if analyses:
        names = [a.strip() for a in analyses.split(",") if a.strip()]
        unknown = [a for a in names if a not in study.analyses]
        if unknown:
            raise CaseError(
                f"--analyses: the study has no analysis {', '.join(unknown)}; "
                f"it has {', '.join(study.analyses)}"
            )
        study = dataclasses.replace(
            study, analyses={k: v for k, v in study.analyses.items() if k in names}
        )
    settings = dict(study.cluster)
    for key, value in (
        ("queue", queue),
        ("account", account),
        ("cores", cores),
        ("memory", memory),
        ("walltime", walltime),
        ("jobs", jobs if cluster else None),
    ):
        if value is not None:
            settings[key] = value
    n_workers = workers or (jobs if not cluster else None) or 1
    target = out_dir or Path(study.out_dir or "results")
    sh = parse_shard(shard) if shard else None

    bars: dict[str, tqdm] = {}

    def tasks_total(n: int) -> None:
        bars["tasks"] = tqdm(total=n, desc="tasks", unit="task", disable=None, leave=False)

    def task_done(_o: Any) -> None:
        bars["tasks"].update(1)

    def items_total(n: int) -> None:
        if "outages" not in bars:
            bars["outages"] = tqdm(
                total=0, desc="N-1 outages", unit="outage", disable=None, position=1, leave=False
            )
        bars["outages"].total += n
        bars["outages"].refresh()

    def items_done(n: int) -> None:
        bars["outages"].update(n)

    executor = _executor(n_workers, scheduler, cluster, settings)
    click.echo(
        f"study {study.name}: {len(study.tasks())} tasks ({len(study.cases)} cases x "
        f"{len(study.scenarios)} scenarios x {len(study.analyses)} analyses) on "
        f"{executor.where} -> {target}/"
    )
    # SIGTERM (scancel, a walltime, kill) stops the run as Ctrl-C does: running tasks
    # unwind and delete their temporary files, workers stop, the index is written
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        result = run_study(
            study,
            target,
            executor,
            shard=sh,
            force=force or no_resume,
            progress=Progress(tasks_total, task_done, items_total, items_done),
            raise_on_failure=False,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
        for bar in bars.values():
            bar.close()
    print_result(result, study)
    if result.failed:
        raise BatchError(
            f"{len(result.failed)} of {len(result.outcomes)} tasks failed: "
            + "; ".join(f"{k}: {v}" for k, v in result.failed.items()),
            failed=result.failed,
            hint="fix the cause and run again: finished tasks are kept, failed ones run again",
        )


COMMANDS = [run]
