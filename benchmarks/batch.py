"""Batch runs: throughput with 1 and 2 workers, one N-1 split over 2 workers, overhead per task.

Run on demand (not part of the test suite)::

    python benchmarks/batch.py                 # all three parts
    python benchmarks/batch.py --parts split   # one part: throughput, split, overhead

Every configuration is a whole ``gridplan run`` command in a fresh process (``python -m
gridplan run ...``), timed from start to exit: imports, worker start-up, case loading, the
analyses, writing the task files and the index. Beside it, the compute time: the sum of the
tasks' own run times as their files record them (``/task@elapsed_s``).

1. **Throughput**: a 20-case study (the 4 bundled cases and 16 pandapower.networks cases from
   4 to 1354 buses) with ``pf`` and ``n1`` (40 tasks), with ``--workers 1`` (this process)
   and ``--workers 2``; parallel efficiency = T1 / (2 x T2).
2. **Split N-1**: all 16,049 branch outages of case9241pegase in AC, one ``n1`` task, with
   ``--workers 1`` (one process: what ``gridplan n1 case9241pegase --out`` does) and
   ``--workers 2`` (split into 8 chunks of decreasing size, merged); target >= 1.7x. The
   merged file is checked to hold the same tables as the single-process one.
3. **Overhead per task**: 200 tiny cases (case9 with 200 load levels, one JSON file each) with
   ``pf``, ``--workers 1``: (command time - 200 x the bare ``run_powerflow`` time of the case)
   / 200, target < 0.5 s; and a rerun where every task is up to date.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
THROUGHPUT_CASES = (
    "case4gs", "case5", "case6ww", "case9", "case14", "case24_ieee_rts", "case30", "case33bw",
    "case39", "case57", "case89pegase", "case118", "case145", "case_illinois200", "case300",
    "case1354pegase",
)  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).strip(os.pathsep)
    return env


CPU: dict[str, float] = {}  # CPU seconds (user + sys) of the last _run, workers included


def _run(study: Path, out: Path, workers: int) -> float:
    """Wall time of ``gridplan run STUDY --workers N`` in a fresh process, s; its CPU time
    (the process and its worker processes, user + sys) goes to ``CPU["last"]``."""
    cmd = [sys.executable, "-m", "gridplan", "run", str(study), "--out-dir", str(out)]
    cmd += ["--workers", str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["last"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}")
    return wall


def _task_seconds(out: Path) -> float:
    """Sum of the tasks' own run times (``/task@elapsed_s``)."""
    total = 0.0
    for p in out.rglob("*.h5"):
        if p.name != "index.h5":
            with h5py.File(p, "r") as h5:
                total += float(h5["task"].attrs["elapsed_s"])
    return total


def _table(rows: list[tuple[str, ...]], head: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    print()


def throughput(tmp: Path) -> None:
    cases = ", ".join(f'"{c}"' for c in (":bundled", *THROUGHPUT_CASES))
    study = tmp / "throughput.toml"
    study.write_text(f"cases = [{cases}]\n[analyses.pf]\n[analyses.n1]\n")
    rows = []
    times = {}
    cpu: dict[int, float] = {}
    for workers in (1, 2):
        out = tmp / f"throughput-{workers}"
        wall = _run(study, out, workers)
        times[workers] = wall
        n = sum(1 for p in out.rglob("*.h5") if p.name != "index.h5")
        cpu[workers] = CPU["last"]
        rows.append((str(workers), str(n), f"{wall:.1f}", f"{cpu[workers]:.1f}",
                     f"{_task_seconds(out):.1f}", f"{n / wall:.2f}"))  # fmt: skip
    eff = times[1] / (2 * times[2])
    print(
        f"1. throughput: 20 cases x (pf, n1), whole command; parallel efficiency {eff:.2f} "
        f"(CPU time 2 workers / 1 worker: {cpu[2] / cpu[1]:.2f}; on a loaded machine the "
        "wall times say little, the CPU ratio bounds the efficiency from above: 1 / ratio)"
    )
    _table(rows, ("workers", "tasks", "command s", "CPU s", "task s (sum)", "tasks/s"))


def _same_tables(a: Path, b: Path) -> bool:
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        names: list[str] = []
        fa["contingency"].visit(names.append)
        for n in names:
            x = fa["contingency"][n]
            if isinstance(x, h5py.Dataset):
                y = fb["contingency"][n][()]
                x = x[()]
                same = (
                    np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else
                    np.array_equal(x, y)
                )  # fmt: skip
                if not same:
                    return False
    return True


def split(tmp: Path) -> None:
    study = tmp / "split.toml"
    study.write_text('cases = ["case9241pegase"]\n[analyses.n1]\n')
    rows = []
    walls = {}
    cpu: dict[int, float] = {}
    for workers in (1, 2):
        out = tmp / f"split-{workers}"
        wall = _run(study, out, workers)
        walls[workers] = wall
        f = out / "case9241pegase/base/n1.h5"
        with h5py.File(f, "r") as h5:
            task = float(h5["task"].attrs["elapsed_s"])
            chunks = int(h5["task"].attrs["chunks"])
            scan = float(h5["contingency"].attrs["time_scan_s"])
        cpu[workers] = CPU["last"]
        rows.append((str(workers), str(max(chunks, 1)), f"{wall:.1f}", f"{cpu[workers]:.1f}",
                     f"{task:.1f}", f"{scan:.1f}"))  # fmt: skip
    same = _same_tables(tmp / "split-1/case9241pegase/base/n1.h5",
                        tmp / "split-2/case9241pegase/base/n1.h5")  # fmt: skip
    print(
        f"2. split N-1, case9241pegase, 16,049 AC outages: speed-up {walls[1] / walls[2]:.2f}x "
        f"(target >= 1.7x); merged tables equal the single-process ones: {same}; CPU time "
        f"2 workers / 1 process {cpu[2] / cpu[1]:.2f} (a quiet 2-core machine can give at "
        f"most {2 * cpu[1] / cpu[2]:.2f}x)"
    )
    _table(
        rows,
        ("workers", "chunks", "command s", "CPU s", "task s", "scan s (sum over chunks)"),
    )


def overhead(tmp: Path) -> None:
    import pandapower as pp
    import pandapower.networks as pn

    from gridplan.studies.powerflow import run_powerflow

    grids = tmp / "tiny"
    grids.mkdir()
    net = pn.case9()
    base = net.load.p_mw.copy()
    for i in range(200):
        net.load["p_mw"] = base * (0.5 + i / 200)
        pp.to_json(net, str(grids / f"tiny{i:03d}.json"))
    study = tmp / "tiny.toml"
    study.write_text('cases = ["tiny/*.json"]\n[analyses.pf]\n')
    from gridplan.model.cases import load_case

    files = sorted(grids.glob("*.json"))
    run_powerflow(load_case(files[0]))  # numba compiled once, as in the command
    t0 = time.perf_counter()
    for f in files[:20]:
        run_powerflow(load_case(f))
    bare = (time.perf_counter() - t0) / 20
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import gridplan.cli"], env=_env(), check=True)
    start = time.perf_counter() - t0
    out = tmp / "tiny-out"
    wall = _run(study, out, 1)
    again = _run(study, out, 1)
    rows = [
        ("first run", f"{wall:.1f}", f"{wall / 200:.3f}", f"{(wall - 200 * bare) / 200:.3f}"),
        ("rerun, all up to date", f"{again:.1f}", f"{again / 200:.3f}", f"{again / 200:.3f}"),
    ]
    print(
        f"3. overhead per task: 200 tiny cases (case9, a JSON file each), pf, 1 process; "
        f"the same work in a script (load_case + run_powerflow) {bare * 1000:.0f} ms per case; "
        f"interpreter start and imports {start:.1f} s (in the command times); "
        "target: overhead < 0.5 s per task"
    )
    _table(rows, ("run", "command s", "s per task", "overhead s per task"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--parts", default="throughput,split,overhead", help="comma-separated parts to run"
    )
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start\n")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for part in args.parts.split(","):
            {"throughput": throughput, "split": split, "overhead": overhead}[part.strip()](tmp)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
