"""Helpers for the batch tests: small study files and an exact comparison of result files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np

# attributes that differ between two runs of the same task by nature (clock, command, run)
VOLATILE = (
    "created_utc",
    "indexed_utc",
    "command",
    "run_id",
    "elapsed_s",
    "steps_per_s",
    "study_source",
    "chunks",
)

ROOT = Path(__file__).resolve().parents[1]


def write_study(folder: Path, body: str, name: str = "study.toml") -> Path:
    """A study file ``folder/name`` with ``body`` (dedented)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


SMALL_STUDY = """
    name = "small"
    cases = ["case9", "case14"]

    [scenarios.base]
    [scenarios.peak]
    load_scale = 1.2

    [analyses.pf]
    [analyses.n1]
"""


def _volatile(name: str) -> bool:
    return name in VOLATILE or name.startswith("time_")


def task_datasets(path: Path) -> dict[str, np.ndarray]:
    """Every dataset of a result file (path -> array), external links not followed."""
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as h5:

        def visit(name: str, obj: object) -> None:
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]

        h5.visititems(visit)
    return out


def task_attrs(path: Path) -> dict[str, dict[str, object]]:
    """Attributes of every group and dataset (volatile ones left out)."""
    out: dict[str, dict[str, object]] = {}
    with h5py.File(path, "r") as h5:

        def grab(name: str, obj: h5py.HLObject) -> None:
            out[name] = {k: v for k, v in obj.attrs.items() if not _volatile(k)}

        grab("/", h5)
        h5.visititems(grab)
    return out


def assert_same_file(a: Path, b: Path) -> None:
    """Same datasets with bit-identical values (NaN equal to NaN), same attributes."""
    da, db = task_datasets(a), task_datasets(b)
    assert sorted(da) == sorted(db), (a, b)
    for k in da:
        x, y = da[k], db[k]
        assert x.dtype == y.dtype and x.shape == y.shape, (a, k)
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), (a, k)
        else:
            assert np.array_equal(x, y), (a, k)
    aa, ab = task_attrs(a), task_attrs(b)
    assert aa.keys() == ab.keys(), (a, b)
    for k in aa:
        left = {n: v for n, v in aa[k].items()}
        right = {n: v for n, v in ab[k].items()}
        assert left.keys() == right.keys(), (a, k)
        for n in left:
            assert np.array_equal(np.asarray(left[n]), np.asarray(right[n])), (a, k, n)


def task_files(out: Path) -> list[Path]:
    """Task files of a batch folder, relative, sorted (index.h5 left out)."""
    return sorted(p.relative_to(out) for p in out.rglob("*.h5") if p.name != "index.h5")


def assert_same_folder(a: Path, b: Path) -> None:
    """Two batch folders hold the same task files with the same results."""
    fa, fb = task_files(a), task_files(b)
    assert fa == fb and fa
    for rel in fa:
        assert_same_file(a / rel, b / rel)


def gridplan_cmd(*args: str) -> list[str]:
    """``python -m gridplan ARGS`` with this interpreter."""
    return [sys.executable, "-m", "gridplan", *args]


def env_with_source() -> dict[str, str]:
    """The environment with the gridplan this test imports first on PYTHONPATH (subprocesses).

    That is the installed package in CI (the checkout holds no compiled kernels there) and the
    checkout in an editable install.
    """
    import gridplan

    env = dict(os.environ)
    home = str(Path(gridplan.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([home, env.get("PYTHONPATH", "")]).strip(os.pathsep)
    return env


def run_gridplan(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``gridplan ARGS`` in a subprocess."""
    return subprocess.run(
        gridplan_cmd(*args),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env_with_source(),
        timeout=timeout,
        check=False,
    )


def needs_jobqueue() -> None:
    """Skip unless dask-jobqueue is installed, without importing it (its import replaces the
    process's SIGINT handler; gridplan's own import of it puts the handler back)."""
    import importlib.util

    import pytest

    if importlib.util.find_spec("dask_jobqueue") is None:
        pytest.skip("dask-jobqueue is not installed")
