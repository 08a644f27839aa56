"""``gridplan batch merge|status|slurm-script``: batch folders and array jobs."""

from __future__ import annotations

from pathlib import Path

import click

from gridplan.cli._common import echo_table
from gridplan.errors import CaseError


@click.group("batch")
def batch() -> None:
    """Batch folders written by `gridplan run`: index, status, Slurm array scripts."""


@batch.command("merge")
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
def merge_cmd(out_dir: Path) -> None:
    """Rebuild DIR/index.h5 and DIR/batch-summary.csv from the task files (after shards)."""
    from gridplan.studies.batch.index import merge

    index = merge(out_dir)
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(index.counts().items()))
    click.echo(f"{out_dir}/index.h5: {len(index.summary)} tasks ({counts})")


@batch.command("status")
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--no-check",
    is_flag=True,
    help="Do not load the cases to find stale results (faster; stale shows as done).",
)
@click.option("--all", "show_all", is_flag=True, help="List every task, not only the unfinished.")
def status_cmd(out_dir: Path, no_check: bool, show_all: bool) -> None:
    """Show the done, not applicable, failed, stale, partial and missing tasks of DIR."""
    from gridplan.studies.batch.index import status

    s = status(out_dir, check_keys=not no_check)
    counts = s.status.value_counts()
    click.echo(
        f"{out_dir}: {len(s)} tasks: "
        + ", ".join(f"{int(v)} {k.replace('_', ' ')}" for k, v in counts.items())
    )
    rows = s if show_all else s[~s.status.isin(["done", "not_applicable"])]
    if len(rows):
        echo_table(rows[["status", "reason"]].rename_axis(None))
    if (s.status != "done").any() and not (s.status == "not_applicable").all():
        todo = int(s.status.isin(["failed", "stale", "partial", "missing"]).sum())
        if todo:
            click.echo(f"{todo} tasks to run: `gridplan run` with the same study and --out-dir")


@batch.command("slurm-script")
@click.argument("study_file", metavar="STUDY", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--array", "array", type=int, required=True, help="Number of array jobs (shards).")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Batch folder [default: the study's out_dir, else ./results].",
)
@click.option("--partition", default=None, help="Slurm partition.")
@click.option("--account", default=None, help="Slurm account.")
@click.option(
    "--cpus-per-task", type=int, default=1, show_default=True, help="Cores (local workers) per job."
)
@click.option("--mem", default="4G", show_default=True, help="Memory per job.")
@click.option("--time", "walltime", default="01:00:00", show_default=True, help="Walltime per job.")
@click.option("--max-running", type=int, default=None, help="Array jobs running at once.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Script file to write [default: print it].",
)
def slurm_script_cmd(
    study_file: Path,
    array: int,
    out_dir: Path | None,
    partition: str | None,
    account: str | None,
    cpus_per_task: int,
    mem: str,
    walltime: str,
    max_running: int | None,
    output: Path | None,
) -> None:
    """Write an sbatch array script running STUDY as --array shards (`--shard I/N`)."""
    from gridplan.studies.batch.slurm import array_script
    from gridplan.studies.batch.study import load_study

    study = load_study(study_file)
    out = out_dir or Path(study.out_dir or "results")
    text = array_script(
        study,
        study_file,
        out,
        array,
        partition=partition,
        account=account,
        cpus_per_task=cpus_per_task,
        mem=mem,
        time=walltime,
        max_running=max_running,
    )
    try:
        (Path(out) / "logs").mkdir(parents=True, exist_ok=True)  # Slurm does not create it
    except OSError as exc:
        raise CaseError(f"{out}: cannot create the log folder ({exc.strerror})") from None
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
        output.chmod(0o755)
    except OSError as exc:
        raise CaseError(f"{output}: cannot write the script ({exc.strerror})") from None
    n = len(study.tasks())
    click.echo(
        f"{output}: {n} tasks in {array} array jobs; submit with `sbatch {output}`, "
        f"results in {Path(out).resolve()}/"
    )


COMMANDS = [batch]
