"""A real one-node Slurm runs a 2-case study through the generated array script and through
``--cluster slurm`` (dask-jobqueue); both give the serial run's files, value for value.

Needs Slurm (``sinfo``); ``.ci/run`` installs and starts it (``.ci/slurm-one-node``). Without
``sinfo`` the tests are skipped, unless ``GRIDPLAN_REQUIRE_SLURM=1`` (set by ``.ci/run``) makes
that a failure. When ``sinfo`` is there but no controller answers and we are root, the fixture
starts the one-node Slurm itself and stops it afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from batch_util import (
    ROOT,
    assert_same_folder,
    env_with_source,
    needs_jobqueue,
    run_gridplan,
    write_study,
)

from gridplan.studies.batch import load_study, run_study

pytestmark = pytest.mark.orchestration

STUDY = """
    name = "two-cases"
    cases = ["case9", "case30"]
    [analyses.pf]
    [analyses.n1]
"""
SCRIPT = ROOT / ".ci" / "slurm-one-node"


def _node_up() -> bool:
    try:
        res = subprocess.run(
            ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0 and any(s in res.stdout for s in ("idle", "mix", "alloc"))


@pytest.fixture(scope="module")
def slurm():
    """A Slurm controller with an idle node (started here if needed and possible)."""
    if shutil.which("sinfo") is None:
        if os.environ.get("GRIDPLAN_REQUIRE_SLURM") == "1":
            pytest.fail("GRIDPLAN_REQUIRE_SLURM=1 but Slurm is not installed (no sinfo)")
        pytest.skip("Slurm is not installed (no sinfo); .ci/run installs and starts it")
    started = False
    if not _node_up():
        if os.geteuid() != 0 or not SCRIPT.is_file():
            pytest.fail("sinfo is installed but no Slurm controller answers; start one")
        res = subprocess.run(
            [str(SCRIPT), "start"], capture_output=True, text=True, timeout=600, check=False
        )
        assert res.returncode == 0, res.stdout + res.stderr
        started = "nothing started" not in res.stdout
    assert _node_up()
    yield
    if started:
        subprocess.run([str(SCRIPT), "stop"], capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    base = tmp_path_factory.mktemp("slurm-study")
    study = write_study(base, STUDY)
    ref = base / "serial"
    run_study(load_study(study), ref)
    return study, ref


def test_generated_array_script_runs_the_study_on_slurm(slurm, serial, tmp_path):
    study, ref = serial
    out = tmp_path / "array"
    script = tmp_path / "study.sbatch"
    res = run_gridplan(
        "batch", "slurm-script", str(study), "--array", "2", "--out-dir", str(out),
        "--mem", "1G", "--time", "00:20:00", "-o", str(script),
        cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    job = subprocess.run(
        ["sbatch", "--wait", "--parsable", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env_with_source(),
        timeout=900,
        check=False,
    )
    logs = "\n".join(p.read_text() for p in sorted((out / "logs").glob("*.out")))
    assert job.returncode == 0, job.stderr + logs
    assert len(list((out / "logs").glob("*.out"))) == 2  # two array tasks ran
    assert "shard 1/2" in logs and "shard 2/2" in logs
    assert_same_folder(ref, out)
    assert (out / "index.h5").is_file()  # written by the shard that finished last


def test_cluster_slurm_runs_the_study_through_dask_jobqueue(slurm, serial, tmp_path):
    needs_jobqueue()
    study, ref = serial
    out = tmp_path / "jobqueue"
    res = run_gridplan(
        "run", str(study), "--cluster", "slurm", "--jobs", "2", "--cores", "1",
        "--memory", "1GiB", "--walltime", "00:20:00", "--out-dir", str(out),
        cwd=tmp_path, timeout=900,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert "slurm cluster, 2 job(s) x 1 worker(s)" in res.stdout
    assert_same_folder(ref, out)
    assert Path(out / "index.h5").is_file()
