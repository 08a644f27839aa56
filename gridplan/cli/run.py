"""``gridplan run``: the default study over a set of cases (all bundled cases by default)."""

from __future__ import annotations

from pathlib import Path

import click
from tqdm import tqdm

from gridplan.cli._common import echo_table
from gridplan.cli._types import COUNT, OutPath
from gridplan.model.cases import bundled_cases
from gridplan.studies.batch import DEFAULT_STEPS, STEPS, run_batch


@click.command("run")
@click.argument("specs", nargs=-1)
@click.option(
    "--out-dir",
    default="results",
    show_default=True,
    type=OutPath(folder=True),
    help="Folder for one HDF5 result file per case and batch-summary.csv.",
)
@click.option(
    "--studies",
    default=",".join(DEFAULT_STEPS),
    show_default=True,
    help=f"Comma-separated study steps to run per case; known: {', '.join(STEPS)}.",
)
@click.option("--no-resume", is_flag=True, help="Recompute cases whose result file exists.")
@click.option(
    "--jobs", default=1, type=COUNT, show_default=True, help="Cases run in parallel processes."
)
def run(specs: tuple[str, ...], out_dir: Path, studies: str, no_resume: bool, jobs: int) -> None:
    """Run the default study on SPECS (default: every bundled case), one result file per case.

    Interrupted batches resume: cases whose result file exists are skipped.
    """
    todo = list(specs) or list(bundled_cases())
    steps = [s.strip() for s in studies.split(",") if s.strip()]
    with tqdm(total=len(todo), desc="cases", unit="case", disable=None) as bar:
        result = run_batch(
            todo,
            out_dir,
            steps=steps,
            resume=not no_resume,
            jobs=jobs,
            progress=lambda _s: bar.update(1),
        )
    # one column per case reads better than a very wide row per case
    table = result.table.T.astype(object).where(result.table.T.notna(), "")
    table = table.map(lambda v: f"{v:.3f}" if isinstance(v, float) else v)
    echo_table(table, f"results in {out_dir}/ (one HDF5 file per case):")


COMMANDS = [run]
