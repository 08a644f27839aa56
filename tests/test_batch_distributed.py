"""Batch runs on several processes: local pool, a real Dask LocalCluster, shards, killed
runs, and one N-1 split over two workers.

Every check compares result files with those of a serial run of the same study, value for
value (bit-identical: the same code on the same inputs, so no tolerance is needed), or reads
the task files to show what was (not) recomputed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py
import pytest
from batch_util import (
    SMALL_STUDY,
    assert_same_file,
    assert_same_folder,
    env_with_source,
    gridplan_cmd,
    task_files,
    write_study,
)

from gridplan.results.tasks import file_state
from gridplan.studies.batch import load_study, run_study
from gridplan.studies.batch.engine import shard_tasks
from gridplan.studies.batch.executors import DaskExecutor, LocalExecutor, start_method
from gridplan.studies.batch.index import merge
from gridplan.studies.batch.n1split import CHUNKS_PER_WORKER

pytestmark = pytest.mark.orchestration

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The small study and its serial run (the reference)."""
    base = tmp_path_factory.mktemp("small")
    study = write_study(base, SMALL_STUDY)
    ref = base / "serial"
    run_study(load_study(study), ref)
    return study, ref


@pytest.fixture(scope="module")
def dask_cluster():
    """A real Dask LocalCluster: 2 worker processes, 1 thread each."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_local_pool_and_dask_local_cluster_equal_the_serial_run(small, dask_cluster, tmp_path):
    study, ref = small
    res = run_study(load_study(study), tmp_path / "pool", LocalExecutor(2))
    assert {o.status for o in res.outcomes} == {"done"}
    assert_same_folder(ref, tmp_path / "pool")
    ex = DaskExecutor(dask_cluster)
    assert ex.n_workers == 2
    res = run_study(load_study(study), tmp_path / "dask", ex)
    assert {o.status for o in res.outcomes} == {"done"}
    assert_same_folder(ref, tmp_path / "dask")
    _assert_same_index(ref, tmp_path / "dask")


def _assert_same_index(a: Path, b: Path) -> None:
    """Same summary (run times and dates aside), same figures, same links."""
    with h5py.File(a / "index.h5") as ha, h5py.File(b / "index.h5") as hb:
        for col in ("task_id", "status", "reason", "file", "task_key", "case_sha256"):
            assert list(ha[f"batch/summary/{col}"].asstr()[()]) == list(
                hb[f"batch/summary/{col}"].asstr()[()]
            ), col
        for col in ("task", "figure", "text"):
            assert list(ha[f"batch/figures/{col}"].asstr()[()]) == list(
                hb[f"batch/figures/{col}"].asstr()[()]
            ), col
        va, vb = ha["batch/figures/value"][()], hb["batch/figures/value"][()]
        assert va.tobytes() == vb.tobytes()
        for name in ha["batch/summary/task_id"].asstr()[()]:
            link = ha.get(f"tasks/{name}", getlink=True)
            other = hb.get(f"tasks/{name}", getlink=True)
            assert (
                (link.filename, link.path)
                == (other.filename, other.path)
                == (
                    f"{name}.h5",
                    "/",
                )
            )


def test_shards_and_merge_equal_the_unsharded_run(small, tmp_path, cli):
    study, ref = small
    out = tmp_path / "sharded"
    s = load_study(study)
    parts = [shard_tasks(s.tasks(), (i, 2)) for i in (1, 2)]
    assert sorted(t.id for p in parts for t in p) == sorted(t.id for t in s.tasks())
    assert not {t.id for t in parts[0]} & {t.id for t in parts[1]}
    res = cli("run", str(study), "--shard", "1/2", "--out-dir", str(out))
    assert res.code == 0, res.err
    assert "index.h5 not written yet: 4 tasks of other shards" in res.out
    assert not (out / "index.h5").exists()
    res = cli("run", str(study), "--shard", "2/2", "--out-dir", str(out))
    assert res.code == 0, res.err
    assert (out / "index.h5").is_file()  # the last shard finds every task complete
    (out / "index.h5").unlink()
    res = cli("batch", "merge", str(out))
    assert res.code == 0, res.err
    assert_same_folder(ref, out)
    _assert_same_index(ref, out)


def _complete_files(out: Path) -> dict[Path, tuple[int, int, str]]:
    stamps = {}
    for p in out.rglob("*.h5"):
        if p.name == "index.h5" or p.name.startswith("."):
            continue
        state, rec = file_state(p)
        assert state == "complete", f"{p} is at a final path but not complete"
        st = p.stat()
        stamps[p] = (st.st_ino, st.st_mtime_ns, rec.run_id)
    return stamps


def test_sigkill_mid_run_then_rerun_recomputes_nothing_finished(tmp_path):
    study = write_study(
        tmp_path,
        """
        cases = ["case9", "case14", "case30", "case39", "case57"]
        [analyses.pf]
        [analyses.n1]
        """,
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        gridplan_cmd("run", str(study), "--out-dir", str(out)),
        env=env_with_source(),
        cwd=tmp_path,  # not the checkout: `python -m` would import its uncompiled gridplan
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            done = [p for p in out.rglob("*.h5") if not p.name.startswith(".")]
            if len(done) >= 3 or proc.poll() is not None:
                break
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    finished = _complete_files(out)  # no partial file at a final path
    assert 3 <= len(finished) < 10
    res = run_study(load_study(study), out)
    actions = {o.task_id: o.action for o in res.outcomes}
    for p, stamp in finished.items():
        tid = str(p.relative_to(out).with_suffix(""))
        assert actions[tid] == "up to date", tid
        st = p.stat()
        assert (st.st_ino, st.st_mtime_ns, file_state(p)[1].run_id) == stamp, tid
    assert sum(a == "computed" for a in actions.values()) == 10 - len(finished)
    assert len(_complete_files(out)) == 10


def _descendants(pid: int) -> set[int]:
    """Processes below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited (nobody reaped it yet)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_workers_exit_when_the_parent_is_killed(tmp_path):
    """issue 21: `gridplan run --jobs 2` killed leaves no worker running without a parent."""
    study = write_study(
        tmp_path,
        """
        cases = ["case300", "case1354pegase"]
        [scenarios.a]
        [scenarios.b]
        load_scale = 1.05
        [analyses.n1]
        """,
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        gridplan_cmd("run", str(study), "--jobs", "2", "--out-dir", str(out)),
        env=env_with_source(),
        cwd=tmp_path,  # not the checkout: `python -m` would import its uncompiled gridplan
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    workers: set[int] = set()
    left: list[int] = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            workers = _descendants(proc.pid)
            if len(workers) >= 2 and list(out.rglob(".*.part")):
                break  # the workers are writing task files
            time.sleep(0.05)
        assert proc.poll() is None and len(workers) >= 2, "workers never started"
        proc.kill()  # the parent only
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        left = [w for w in workers if _alive(w)]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for w in left:  # clean up before failing
            os.kill(w, signal.SIGKILL)
    assert not left, f"worker processes {left} still run after their parent was killed"
    # and what they were writing was not left under a final name
    _complete_files(out)


def test_split_n1_of_case2869pegase_over_two_workers_equals_one_process(dask_cluster, tmp_path):
    study = write_study(
        tmp_path,
        """
        cases = ["case2869pegase"]
        [analyses.n1]
        """,
    )
    s = load_study(study)
    one = tmp_path / "one"
    res1 = run_study(s, one)  # one process: no split
    assert res1.outcomes[0].status == "done"
    two = tmp_path / "two"
    seen: list[int] = []
    from gridplan.studies.batch.engine import Progress

    res2 = run_study(s, two, DaskExecutor(dask_cluster), progress=Progress(items_done=seen.append))
    assert res2.outcomes[0].status == "done"
    with h5py.File(two / "case2869pegase/base/n1.h5") as h5:
        assert h5["task"].attrs["chunks"] == CHUNKS_PER_WORKER * 2
        n_out = h5["contingency"].attrs["n_outages"]
    assert len(seen) == CHUNKS_PER_WORKER * 2 and sum(seen) == n_out == 4582  # every chunk
    # chunks of decreasing size (whole blocks of 256 outages): every chunk has some, the
    # largest several times the smallest
    assert min(seen) > 0 and max(seen) > 4 * min(seen)
    assert task_files(one) == task_files(two)
    assert_same_file(one / "case2869pegase/base/n1.h5", two / "case2869pegase/base/n1.h5")
    assert res1.outcomes[0].figures == res2.outcomes[0].figures
    index = merge(two)
    assert index.counts() == {"done": 1}


def test_sigterm_stops_cleanly_without_debris(tmp_path):
    """SIGTERM (scancel, a walltime) stops a run as Ctrl-C does: the running task unwinds and
    deletes its temporary file, nothing half-written gets a final name, the index is written."""
    study = write_study(tmp_path, '\ncases = ["case9", "case1354pegase"]\n[analyses.n1]\n')
    out = tmp_path / "out"
    proc = subprocess.Popen(
        gridplan_cmd("run", str(study), "--out-dir", str(out)),
        env=env_with_source(),
        cwd=tmp_path,  # not the checkout: `python -m` would import its uncompiled gridplan
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if list((out / "case1354pegase").rglob(".*.part")):
                break  # the big task is being written
            time.sleep(0.02)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert not list(out.rglob(".*.part"))
    done = _complete_files(out)
    assert list(done) == [out / "case9/base/n1.h5"]
    assert file_state(out / "case1354pegase/base/n1.h5")[0] == "missing"
    assert (out / "index.h5").is_file()


def test_local_workers_are_forked_only_while_the_driver_runs_one_thread(tmp_path):
    """Forked workers skip the imports a spawned one pays (3-5 s); a fork while another
    thread runs could copy a held lock, so the pool is spawned then."""
    code = (
        "import sys\n"
        "from gridplan.studies.batch.executors import LocalExecutor\n"
        "ex = LocalExecutor(2)\n"
        "print(ex.start_method, ex.submit(sum, [1, 2]).result())\n"
        "ex.close()\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], env=env_with_source(), cwd=tmp_path,
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    expected = "fork" if sys.platform.startswith("linux") else "spawn"
    assert res.stdout.split() == [expected, "3"]
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert start_method() == "spawn"
    finally:
        stop.set()
        other.join()
