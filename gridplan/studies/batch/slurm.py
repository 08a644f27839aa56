"""``sbatch`` array scripts that run a study in shards, with no scheduler of gridplan's own.

Array task ``I`` (1-based) runs ``gridplan run STUDY --shard I/N``: every N-th task of the
study. Shards share the output folder (one file per task, written atomically), the last one
to finish writes ``index.h5``; ``gridplan batch merge OUT`` rebuilds it at any time.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from gridplan.errors import CaseError
from gridplan.studies.batch.study import Study


def array_script(
    study: Study,
    study_path: str | Path,
    out_dir: str | Path,
    array: int,
    *,
    partition: str | None = None,
    account: str | None = None,
    cpus_per_task: int = 1,
    mem: str = "4G",
    time: str = "01:00:00",
    max_running: int | None = None,
    python: str | None = None,
    workdir: str | Path | None = None,
) -> str:
    """The text of an ``sbatch`` script running ``study`` as ``array`` shards.

    Each array task gets ``cpus_per_task`` cores and runs that many local workers; its
    log goes to ``OUT/logs/slurm-<job>_<task>.out``.
    """
    n_tasks = len(study.tasks())
    if array < 1:
        raise CaseError(f"--array must be >= 1, got {array} instead")
    if cpus_per_task < 1:
        raise CaseError(f"--cpus-per-task must be >= 1, got {cpus_per_task} instead")
    out = Path(out_dir).resolve()
    spec = str(Path(study_path).resolve())
    py = python or sys.executable
    throttle = f"%{max_running}" if max_running else ""
    lines = [
        "#!/bin/bash",
        f"# gridplan study {study.name!r}: {n_tasks} tasks in {array} array jobs",
        "# written by `gridplan batch slurm-script`; submit with: sbatch THIS_FILE",
        f"#SBATCH --job-name=gridplan-{study.name}",
        f"#SBATCH --array=1-{array}{throttle}",
        f"#SBATCH --cpus-per-task={cpus_per_task}",
        f"#SBATCH --mem={mem}",
        f"#SBATCH --time={time}",
        f"#SBATCH --output={out}/logs/slurm-%A_%a.out",
    ]
    if partition:
        lines.append(f"#SBATCH --partition={partition}")
    if account:
        lines.append(f"#SBATCH --account={account}")
    cmd = [
        py,
        "-m",
        "gridplan",
        "run",
        spec,
        "--out-dir",
        str(out),
        "--workers",
        str(cpus_per_task),
    ]
    lines += [
        "set -euo pipefail",
        f"cd {shlex.quote(str(Path(workdir or Path.cwd()).resolve()))}",
        "# one writer per file: HDF5 file locking is not needed and fails on some shared",
        "# file systems",
        "export HDF5_USE_FILE_LOCKING=FALSE",
        "# shard I of N: every N-th task of the study; finished tasks are skipped on rerun",
        f'exec {shlex.join(cmd)} --shard "${{SLURM_ARRAY_TASK_ID}}/{array}"',
        "",
        "# The last shard to finish writes index.h5; to rebuild it after all shards:",
        f"#   {shlex.join([py, '-m', 'gridplan', 'batch', 'merge', str(out)])}",
        "# or chain it: sbatch --dependency=afterany:JOBID --wrap "
        + shlex.quote(shlex.join([py, "-m", "gridplan", "batch", "merge", str(out)])),
        "",
    ]
    return "\n".join(lines)
