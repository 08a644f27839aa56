"""No debris and no contradictions after a crash, a full disk or a read-only folder.

- an output folder on a read-only mount (root writes anywhere else, so a real read-only bind
  mount is made in a private mount namespace with ``unshare``; skipped where that is refused);
- a file size limit (``RLIMIT_FSIZE``, SIGXFSZ ignored so writes fail with EFBIG, as on a full
  disk) during ``n1 --store-matrix --out`` and ``timeseries --out``: exit 1, one line, nothing
  left; also with gridplan's room check disabled, so HDF5 itself meets the failed write (that
  used to end in a segmentation fault);
- a writer killed with SIGKILL leaves its ``.part`` and lock; the next writer into the folder
  removes them, and never a live writer's;
- two writers of one path: the second is refused in one line;
- Ctrl-C during ``n1 --store-matrix``: an outage marked not_simulated carries no value and is
  never a cause; its cut-off MW are NaN.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import gridplan
from gridplan.errors import CaseError
from gridplan.results import ResultWriter, read_table
from gridplan.studies.n1 import n1_matrix_sink, n1_violation_sink, run_n1, write_n1

LIMITS = {"max_loading_percent": 60.0, "vm_min_pu": 0.97, "vm_max_pu": 1.05}
# children import the gridplan this test imported (a source tree or the installed package)
ENV = {**os.environ, "PYTHONPATH": str(Path(gridplan.__file__).resolve().parents[1])}


def _python(code: str, cwd: Path, *, fsize: int | None = None, timeout: float = 600):
    """Run ``code`` in a fresh interpreter (cwd outside the source tree, see test_bad_input)."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ENV,
        preexec_fn=limit if fsize is not None else None,
        check=False,
    )


def _errors(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("warning: ")]


@pytest.mark.parametrize("room_check", [True, False], ids=["room-check", "hdf5-fails"])
@pytest.mark.parametrize(
    ("argv", "fsize"),
    [
        (["n1", "case118", "--store-matrix", "--out", "out/n1.h5"], 150_000),
        (["timeseries", "case118", "--synthetic", "500", "--out", "out/ts.h5"], 350_000),
    ],
    ids=["n1 --store-matrix", "timeseries"],
)
def test_file_size_limit_is_one_line_exit_1_and_no_debris(tmp_path, argv, fsize, room_check):
    # the full files are 239 kB (n1) and 0.7 MB (timeseries: float32, shuffle + gzip): both
    # limits stop them part-way
    (tmp_path / "out").mkdir()
    code = f"""
        import gridplan.results.writer as w
        if not {room_check}:
            w._room_bytes = lambda *args: None  # let HDF5 meet the failed write itself
        from gridplan.cli import main
        main({argv!r})
    """
    res = _python(code, tmp_path, fsize=fsize)
    assert res.returncode == 1, res.stderr[-3000:]
    lines = _errors(res.stderr)
    assert lines[0] == (
        f"error: {argv[-1]}: cannot write the result file (File too large); nothing was kept "
        "under this name"
    ), res.stderr[-3000:]
    assert len(lines) == 2 and lines[1].startswith("hint: ")
    assert sorted(os.listdir(tmp_path / "out")) == []  # no file, no .part, no lock


def _mount_namespace_available(folder: Path) -> str | None:
    if os.geteuid() != 0:
        return "a read-only bind mount needs root"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) not installed"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount --bind {folder} {folder}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"no private mount namespace here: {probe.stderr.strip()}"
    return None


def test_output_on_a_read_only_mount(tmp_path):
    # root ignores folder permissions, but not a read-only mount: the folder is bind-mounted
    # read-only in a private mount namespace (unshare -m), seen only by the child
    ro = tmp_path / "ro"
    ro.mkdir()
    reason = _mount_namespace_available(ro)
    if reason:
        pytest.skip(reason)
    commands = [
        ["pf", "case9", "--out", f"{ro}/pf.h5"],
        ["n1", "case9", "--out", f"{ro}/sub/n1.h5"],
        ["timeseries", "case9", "--synthetic", "4", "--out", f"{ro}/ts.h5"],
        ["reliability", "rural-feeder", "--out", f"{ro}/r.h5"],
        ["reliability", "rural-feeder", "--plot", f"{ro}/r.png"],
        ["adequacy", "case24_ieee_rts", "--out", f"{ro}/a.h5"],
        ["results", "export", "x.h5", "powerflow/bus", "--csv", f"{ro}/bus.csv"],
        ["run", "rural-feeder", "--out-dir", f"{ro}/batch"],
    ]
    code = f"""
        import contextlib, io, sys
        from gridplan.cli import main
        for argv in {commands!r}:
            err = io.StringIO()
            code = 0
            with contextlib.redirect_stderr(err):
                try:
                    main(argv)
                except SystemExit as exc:
                    code = exc.code
            print(code, err.getvalue().splitlines()[0])
    """
    script = tmp_path / "ro_run.py"
    script.write_text(textwrap.dedent(code))
    res = subprocess.run(
        [
            "unshare",
            "-m",
            "sh",
            "-c",
            f"mount --bind {ro} {ro} && mount -o remount,bind,ro {ro} && "
            f"exec {sys.executable} {script}",
        ],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    lines = res.stdout.splitlines()
    assert len(lines) == len(commands)
    for argv, line in zip(commands, lines, strict=True):
        assert line.startswith("2 error: "), (argv, line)
        assert f"folder {ro} is on a read-only file system" in line, (argv, line)
    assert os.listdir(ro) == []


def test_read_only_folder_and_root(cli, tmp_path):
    # chmod 555 stops every user but root; gridplan asks the kernel (os.access), so it refuses
    # exactly when the write would fail: for root the write goes through
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        res = cli("pf", "case9", "--out", str(folder / "pf.h5"))
        if os.geteuid() == 0:
            assert res.code == 0, res.err
            assert (folder / "pf.h5").is_file()
        else:
            assert res.code == 2
            assert f"folder {folder} is not writable" in res.err
    finally:
        folder.chmod(0o755)


_HOLD_WRITER = """
    import sys, time
    from gridplan.results import ResultWriter
    import pandas as pd
    w = ResultWriter(sys.argv[1], case_name="held")
    w.write_table("powerflow/summary", pd.DataFrame({"iterations": [3]}))
    print("ready", flush=True)
    time.sleep(600)
"""


def _start_writer(tmp_path: Path, target: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_HOLD_WRITER), str(target)],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_killed_writer_debris_is_removed_by_the_next_writer(tmp_path):
    out = tmp_path / "out"
    dead = _start_writer(tmp_path, out / "killed.h5")
    alive = _start_writer(tmp_path, out / "running.h5")
    try:
        dead.kill()  # SIGKILL: no cleanup runs
        dead.wait(timeout=60)
        before = sorted(os.listdir(out))
        assert [n for n in before if n.startswith(".killed.h5.")] != []
        assert ".killed.h5.lock" in before
        with ResultWriter(out / "next.h5", case_name="next"):
            pass
        after = sorted(os.listdir(out))
        # the dead writer's .part and lock are gone, the live writer's are kept
        assert not [n for n in after if n.startswith(".killed.h5")]
        assert ".running.h5.lock" in after
        assert [n for n in after if n.startswith(".running.h5.") and n.endswith(".part")]
        assert "next.h5" in after
    finally:
        alive.kill()
        alive.wait(timeout=60)


def test_a_second_writer_of_one_path_is_refused(tmp_path):
    target = tmp_path / "shared.h5"
    first = _start_writer(tmp_path, target)
    try:
        with pytest.raises(CaseError, match=r"another gridplan run is writing this file \(pid"):
            ResultWriter(target, case_name="second")
    finally:
        first.kill()
        first.wait(timeout=60)
    # the holder died: its lock is free, the next writer proceeds and cleans up after it
    with ResultWriter(target, case_name="third"):
        pass
    assert sorted(os.listdir(tmp_path)) == ["shared.h5"]


@pytest.fixture
def sigint_default():
    """Ctrl-C handled as in the CLI started from a terminal: Python's default handler (a test
    process started in the background, as by some CI runners, inherits SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_during_store_matrix_never_books_a_not_simulated_outage(
    net118, model118, tmp_path, sigint_default
):
    # a real SIGINT arrives while the matrix of the second part is being written: that part is
    # booked whole, the scan stops after it, and the rest is not_simulated with no values
    out = tmp_path / "n1.h5"
    calls = []
    with ResultWriter(out, case_name="case118") as w:
        matrix = n1_matrix_sink(w)

        def sink(pos: np.ndarray, eld: np.ndarray) -> None:
            calls.append(pos.size)
            if len(calls) == 2:
                os.kill(os.getpid(), signal.SIGINT)
            matrix(pos, eld)

        res = run_n1(
            net118,
            model=model118,
            block=32,
            matrix_sink=sink,
            violation_sink=n1_violation_sink(w),
            **LIMITS,
        )
        write_n1(w, res)
    assert res.interrupted
    o = res.outages
    done = o.status.to_numpy() != "not_simulated"
    assert done.sum() == sum(calls) == 64
    rest = o[~done]
    assert (rest.reason == "interrupted").all()
    for col in ("cut_load_mw", "cut_gen_mw", "max_loading_percent", "min_vm_pu", "max_vm_pu"):
        assert rest[col].isna().all(), col
    assert o[done].cut_load_mw.notna().all() and o[done].cut_gen_mw.notna().all()
    # never a cause: per element, per bus, nor in the violations
    not_sim = set(np.flatnonzero(~done))
    el, bus = res.elements, res.buses
    causes = set(el.cause_index) | {v for c in el if c.endswith("_outage") for v in el[c]}
    causes |= set(bus.min_vm_cause) | set(bus.max_vm_cause)
    assert not (causes - {-1}) & not_sim
    viol = read_table(out, "contingency/violations")
    assert len(viol) and not set(viol.outage) & not_sim
    # the matrix holds exactly the simulated outages
    rows = read_table(out, "contingency/outages")
    assert rows.cut_load_mw.isna().sum() == len(rest)
    import h5py

    with h5py.File(out) as h5:
        stored = h5["contingency/loading_matrix_outage"][()]
    assert sorted(stored) == sorted(np.flatnonzero(done))
