"""Batch runs in one process: study files, task files and keys, resume, failures, the index.

References: the power-flow figures of a task are checked against pandapower's own ``runpp``
on the same case with the scenario applied by hand (tolerance 1e-9 MW / pu: the same
solver, only the summation differs); everything else is checked against the files and
rules themselves (a rerun changes no byte of a finished task file, etc.).
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest
from batch_util import SMALL_STUDY, assert_same_file, needs_jobqueue, write_study

from gridplan.errors import BatchError, CaseError
from gridplan.results.tasks import file_state
from gridplan.studies.batch import load_study, run_study, status
from gridplan.studies.batch.index import merge
from gridplan.studies.batch.study import default_study_path


def _run(study_path: Path, out: Path, **kw):
    return run_study(load_study(study_path), out, **kw)


def _stamp(path: Path) -> tuple[int, int, str]:
    """What changes whenever a file is written again: inode, mtime, run id."""
    st = path.stat()
    with h5py.File(path, "r") as h5:
        return st.st_ino, st.st_mtime_ns, str(h5["task"].attrs["run_id"])


# ---------------------------------------------------------------------------------------
def test_study_tasks_files_and_figures_against_runpp(tmp_path):
    study = write_study(tmp_path, SMALL_STUDY)
    out = tmp_path / "out"
    res = _run(study, out)
    ids = [o.task_id for o in sorted(res.outcomes, key=lambda o: o.index)]
    assert ids == [
        f"{c}/{s}/{a}" for c in ("case9", "case14") for s in ("base", "peak") for a in ("pf", "n1")
    ]
    assert all(o.status == "done" and o.action == "computed" for o in res.outcomes)
    for c in ("case9", "case14"):
        for s, scale in (("base", 1.0), ("peak", 1.2)):
            path = out / c / s / "pf.h5"
            state, rec = file_state(path)
            assert state == "complete" and rec.status == "done"
            # reference: pandapower's runpp on the case with the loads scaled by hand
            net = getattr(pn, c)()
            net.load["p_mw"] *= scale
            net.load["q_mvar"] *= scale
            pp.runpp(net)
            loss = float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum())
            assert rec.figures["p_loss_mw"] == pytest.approx(loss, abs=1e-9)
            assert rec.figures["vm_min_pu"] == pytest.approx(net.res_bus.vm_pu.min(), abs=1e-9)
            assert rec.figures["p_load_mw"] == pytest.approx(net.load.p_mw.sum(), abs=1e-9)
            with h5py.File(path, "r") as h5:
                vm = h5["powerflow/bus/vm_pu"][()]
            np.testing.assert_allclose(vm, net.res_bus.vm_pu.to_numpy(), atol=1e-9)
    # the index reaches every task file's tables through external links
    with h5py.File(out / "index.h5", "r") as h5:
        summary = h5["batch/summary/task_id"].asstr()[()]
        assert sorted(summary) == sorted(ids)
        vm = h5["tasks/case14/peak/pf/powerflow/bus/vm_pu"][()]
        assert vm.shape == (14,)
        assert h5["tasks/case9/base/n1/contingency/outages/status"].shape[0] > 0
    csv = pd.read_csv(out / "batch-summary.csv", index_col=0)
    assert csv.loc["case14/peak/pf", "status"] == "done"
    assert csv.loc["case14/peak/pf", "pf.p_loss_mw"] == pytest.approx(
        file_state(out / "case14/peak/pf.h5")[1].figures["p_loss_mw"]
    )


def test_rerun_skips_up_to_date_tasks_and_keeps_their_figures(tmp_path, monkeypatch):
    study = write_study(tmp_path, SMALL_STUDY)
    out = tmp_path / "out"
    first = _run(study, out)
    stamps = {p: _stamp(p) for p in out.rglob("*.h5") if p.name != "index.h5"}
    # an untouched case is not even read again to check the keys
    import gridplan.model.cases as cases_mod
    from gridplan.studies.batch import worker

    def no_load(spec, **_kw):
        raise AssertionError(f"{spec} was read again")

    worker._cases.clear()
    monkeypatch.setattr(cases_mod, "load_case", no_load)
    again = _run(study, out)
    monkeypatch.undo()
    assert {o.action for o in again.outcomes} == {"up to date"}
    assert {p: _stamp(p) for p in stamps} == stamps  # not one byte rewritten
    # issue 21: the summary keeps every task's figures on a rerun
    csv = pd.read_csv(out / "batch-summary.csv", index_col=0)
    fig = {o.task_id: o.figures for o in first.outcomes}
    for tid in ("case9/base/pf", "case14/peak/n1"):
        col = "pf.p_loss_mw" if tid.endswith("pf") else "n1.violations"
        name = col.split(".", 1)[1]
        assert csv.loc[tid, col] == pytest.approx(fig[tid][name])
        assert again.table.loc[tid, name] == pytest.approx(fig[tid][name])


def test_stale_and_partial_tasks_are_recomputed_and_named(tmp_path):
    grid = tmp_path / "grids" / "g.json"
    grid.parent.mkdir()
    net = pn.case9()
    pp.to_json(net, str(grid))
    study = write_study(
        tmp_path,
        """
        cases = ["grids/g.json", "case14"]
        [analyses.pf]
        [analyses.n1]
        max_loading_percent = 100.0
        """,
    )
    out = tmp_path / "out"
    _run(study, out)
    keep = _stamp(out / "case14/base/pf.h5")
    # the case file changes: its tasks are stale (issue 21: a stored case hash that differs
    # from the case is not "done")
    net.load.loc[0, "p_mw"] += 1.0
    pp.to_json(net, str(grid))
    # a task file without its completion mark is partial
    with h5py.File(out / "case14/base/n1.h5", "r+") as h5:
        del h5["task"].attrs["complete"]
    st = status(out)
    assert st.loc["g/base/pf", "status"] == "stale"
    assert st.loc["g/base/pf", "reason"] == "the case data changed"
    assert st.loc["case14/base/n1", "status"] == "partial"
    assert st.loc["case14/base/pf", "status"] == "done"
    res = _run(study, out)
    act = {o.task_id: o.action for o in res.outcomes}
    assert act["g/base/pf"] == "recomputed: stale: the case data changed"
    assert act["g/base/n1"] == "recomputed: stale: the case data changed"
    assert act["case14/base/n1"].startswith("recomputed: partial file")
    assert act["case14/base/pf"] == "up to date"
    assert _stamp(out / "case14/base/pf.h5") == keep
    # changed options: stale as well, said so
    study.write_text(study.read_text().replace("= 100.0", "= 90.0"))
    res = _run(study, out)
    act = {o.task_id: o.action for o in res.outcomes}
    assert act["case14/base/n1"] == "recomputed: stale: the analysis options changed"
    assert act["case14/base/pf"] == "up to date"


def test_failed_task_is_recorded_and_the_others_go_on(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"_module": "pandapower.auxiliary", "_class": "pandapowerNet"')
    study = write_study(tmp_path, '\ncases = ["case9", "broken.json"]\n[analyses.pf]\n')
    out = tmp_path / "out"
    with pytest.raises(BatchError) as err:
        _run(study, out)
    assert "1 of 2 tasks failed" in str(err.value) and "broken" in str(err.value)
    assert file_state(out / "case9/base/pf.h5")[1].status == "done"
    state, rec = file_state(out / "broken/base/pf.h5")
    assert state == "complete" and rec.status == "failed" and "broken.json" in rec.reason
    # a failed task runs again next time; the finished one does not
    bad.write_text(pp.to_json(pn.case9()))
    res = _run(study, out)
    act = {o.task_id: (o.status, o.action) for o in res.outcomes}
    assert act == {
        "case9/base/pf": ("done", "up to date"),
        "broken/base/pf": ("done", "retried: failed before"),
    }


def test_not_applicable_is_recorded_with_the_reason(tmp_path, cli):
    out = tmp_path / "out"
    res = cli("run", "uhv-backbone", "--analyses", "reliability", "--out-dir", str(out))
    assert res.code == 0, res.err
    state, rec = file_state(out / "uhv-backbone/base/reliability.h5")
    assert state == "complete" and rec.status == "not_applicable"
    assert "meshed" in rec.reason and "closed loops" in rec.reason
    csv = pd.read_csv(out / "batch-summary.csv", index_col=0)
    row = csv.loc["uhv-backbone/base/reliability"]
    assert row.status == "not_applicable" and "meshed" in row.reason
    assert "not applicable" in res.out and "meshed" in res.out


def test_same_file_stems_get_distinct_names_and_clashes_are_refused(tmp_path):
    for d in ("x", "y"):
        (tmp_path / d).mkdir()
        pp.to_json(pn.case9() if d == "x" else pn.case14(), str(tmp_path / d / "grid.json"))
    study = write_study(tmp_path, '\ncases = ["x/grid.json", "y/grid.json"]\n[analyses.pf]\n')
    s = load_study(study)
    assert [c.name for c in s.cases] == ["x-grid", "y-grid"]
    out = tmp_path / "out"
    run_study(s, out)
    # each keeps its own result: case9 has 9 buses, case14 has 14
    with h5py.File(out / "x-grid/base/pf.h5", "r") as h5:
        assert h5["powerflow/bus/vm_pu"].shape == (9,)
    with h5py.File(out / "y-grid/base/pf.h5", "r") as h5:
        assert h5["powerflow/bus/vm_pu"].shape == (14,)
    clash = write_study(
        tmp_path,
        """
        cases = [{spec = "x/grid.json", name = "g"}, {spec = "y/grid.json", name = "G"}]
        [analyses.pf]
        """,
        "clash.toml",
    )
    with pytest.raises(CaseError, match="would share the result name"):
        load_study(clash)


@pytest.mark.parametrize(
    "body, message",
    [
        ('cases = ["case9"]\nanalyses = 3', "no analyses"),
        ('cases = ["case9"]\n[analyses.pf]\ndcc = true', "analyses.pf: unknown option(s) dcc"),
        ('cases = ["case9"]\n[analyses.n1]\nmode = "fast"', "analyses.n1.mode must be one of"),
        ('cases = ["case9"]\n[analyses.n1]\ntop = "3"', "analyses.n1.top must be int"),
        ('cases = ["case9"]\n[analyses.n1]\nsplit = 0', "split must be 'auto', 'never'"),
        ('cases = ["case9"]\n[analyses.x]\nanalysis = "wnd"', "unknown analysis 'wnd'"),
        ('cases = ["case9"]\n[scenarios.hi]\nload_scale = -1\n[analyses.pf]', "finite number > 0"),
        ('cases = ["case9"]\n[scenarios.hi]\nprofile = "no.csv"\n[analyses.pf]', "no such file"),
        ('cases = ["cas9"]\n[analyses.pf]', "unknown case 'cas9'"),
        ('cases = ["grids/*.json"]\n[analyses.pf]', "matches no file"),
        ('case = ["case9"]\n[analyses.pf]', "unknown key(s) case"),
        ('cases = ["case9"]\n[cluster]\ncores = "2"\n[analyses.pf]', "cluster.cores must be int"),
        ('cases = ["case9"]\n[analyses.pf]\ncases = "case9"', "pf.cases must be a list of case"),
        (
            'cases = ["case9"]\n[analyses.pf]\ncases = ["case30"]',
            "analyses.pf.cases: no case case30",
        ),
    ],
)
def test_bad_study_files_give_one_line_naming_the_entry(tmp_path, cli, body, message):
    study = write_study(tmp_path, body)
    with pytest.raises(CaseError) as err:
        load_study(study)
    assert message in str(err.value) and str(study) in str(err.value)
    res = cli("run", str(study), "--out-dir", str(tmp_path / "out"))
    assert res.code == 2 and "Traceback" not in res.err
    assert len([ln for ln in res.err.splitlines() if ln.startswith("error:")]) == 1


def test_scenario_profile_and_snapshot(tmp_path):
    """A profile drives the time series; its peak step, applied as a snapshot, sets the
    loads of the power flow (checked against runpp with those loads set by hand)."""
    net = pn.case14()
    idx = pd.date_range("2025-01-01", periods=6, freq="h")
    f = np.array([0.6, 0.8, 1.3, 1.1, 0.7, 0.5])
    cols = {f"load.{i}.p_mw": f * p for i, p in zip(net.load.index, net.load.p_mw, strict=True)}
    prof = pd.DataFrame(cols, index=idx)
    prof.index.name = "time"
    prof.to_csv(tmp_path / "year.csv")
    study = write_study(
        tmp_path,
        """
        cases = ["case14"]
        [scenarios.year]
        profile = "year.csv"
        snapshot = "peak"
        [analyses.pf]
        [analyses.timeseries]
        """,
    )
    out = tmp_path / "out"
    _run(study, out)
    ref = copy.deepcopy(net)
    ref.load["p_mw"] = ref.load.p_mw * 1.3
    pp.runpp(ref)
    rec = file_state(out / "case14/year/pf.h5")[1]
    assert rec.figures["p_load_mw"] == pytest.approx(ref.load.p_mw.sum(), abs=1e-9)
    assert rec.figures["vm_min_pu"] == pytest.approx(ref.res_bus.vm_pu.min(), abs=1e-9)
    ts = file_state(out / "case14/year/timeseries.h5")[1]
    assert ts.figures["steps"] == 6 and ts.figures["converged_steps"] == 6
    # the profile's digest is in the key: a changed profile makes both tasks stale
    prof.iloc[0] *= 1.01
    prof.to_csv(tmp_path / "year.csv")
    res = _run(study, out)
    assert {o.action for o in res.outcomes} == {
        "recomputed: stale: the scenario or a file it names changed"
    }


def test_merge_and_status(tmp_path, cli):
    study = write_study(tmp_path, SMALL_STUDY)
    out = tmp_path / "out"
    _run(study, out)
    before = pd.read_csv(out / "batch-summary.csv", index_col=0)
    (out / "index.h5").unlink()
    (out / "batch-summary.csv").unlink()
    res = cli("batch", "merge", str(out))
    assert res.code == 0, res.err
    assert "8 tasks (8 done)" in res.out
    after = pd.read_csv(out / "batch-summary.csv", index_col=0)
    pd.testing.assert_frame_equal(before, after)
    (out / "case9/peak/n1.h5").unlink()
    s = status(out)
    assert s.loc["case9/peak/n1", "status"] == "missing"
    assert (s.drop(index="case9/peak/n1").status == "done").all()
    res = cli("batch", "status", str(out))
    assert res.code == 0 and "7 done" in res.out and "1 missing" in res.out
    assert "case9/peak/n1" in res.out


def test_default_study_file_is_shipped_and_covers_the_bundled_cases():
    s = load_study(default_study_path())
    from gridplan.model.cases import bundled_cases

    assert [c.name for c in s.cases] == list(bundled_cases())
    assert list(s.analyses) == [
        "pf",
        "n1",
        "reliability",
        "adequacy",
        "timeseries",
        "wind_hosting",
        "wind_year",
        "ev_impact",
    ]
    # the five grid analyses on every case; wind on the two cases with a wind scenario, EV on the
    # eco-city (the analyses' `cases` filters)
    assert len(s.tasks()) == 5 * len(bundled_cases()) + 2 + 2 + 1
    wind = sorted(t.case.name for t in s.tasks() if t.analysis.name == "wind_hosting")
    assert wind == ["uhv-backbone", "wind-test-centre"]


def test_cli_runs_case_specs_with_the_default_analyses(tmp_path, cli):
    out = tmp_path / "res"
    res = cli("run", "case9", "case30", "--analyses", "pf,n1", "--out-dir", str(out))
    assert res.code == 0, res.err
    assert (out / "case9/base/pf.h5").is_file() and (out / "case30/base/n1.h5").is_file()
    stamp = _stamp(out / "case9/base/pf.h5")
    res = cli("run", "case9", "case30", "--analyses", "pf,n1", "--out-dir", str(out))
    assert res.code == 0 and "0 run now, 4 up to date" in res.out
    assert _stamp(out / "case9/base/pf.h5") == stamp
    res = cli("run", "case9", "--analyses", "pf", "--force", "--out-dir", str(out))
    assert res.code == 0 and _stamp(out / "case9/base/pf.h5") != stamp


def test_batch_failure_exit_code_and_message(tmp_path, cli):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    out = tmp_path / "res"
    res = cli("run", "case9", str(bad), "--analyses", "pf", "--out-dir", str(out))
    assert res.code == 1
    assert "1 of 2 tasks failed" in res.err and "bad.json" in res.err
    assert (out / "case9/base/pf.h5").is_file()


def test_slurm_script_text(tmp_path, cli):
    study = write_study(tmp_path, SMALL_STUDY)
    script = tmp_path / "run.sbatch"
    res = cli(
        "batch", "slurm-script", str(study), "--array", "3", "--out-dir", str(tmp_path / "o"),
        "--cpus-per-task", "2", "--partition", "short", "-o", str(script),
    )  # fmt: skip
    assert res.code == 0, res.err
    text = script.read_text()
    assert "#SBATCH --array=1-3" in text and "#SBATCH --cpus-per-task=2" in text
    assert "#SBATCH --partition=short" in text
    assert '--shard "${SLURM_ARRAY_TASK_ID}/3"' in text and "--workers 2" in text
    assert (tmp_path / "o" / "logs").is_dir()


def test_pbs_and_slurm_job_scripts_carry_the_settings():
    """dask-jobqueue's job scripts for --cluster (built without a batch system)."""
    needs_jobqueue()
    from gridplan.studies.batch.executors import jobqueue_settings, lifetime_args

    # workers retire 5 min before a 1 h walltime, staggered by +-2 min
    assert lifetime_args("01:00:00") == ["--lifetime", "3180s", "--lifetime-stagger", "120s"]
    settings = {"queue": "batch", "cores": 2, "memory": "4GiB", "walltime": "00:30:00"}
    for kind, marks in (
        ("pbs", ("#PBS -q batch", "#PBS -l walltime=00:30:00", "ncpus=2")),
        ("slurm", ("#SBATCH -p batch", "#SBATCH -t 00:30:00", "#SBATCH --cpus-per-task=2")),
    ):
        cls, kw, jobs = jobqueue_settings(kind, {**settings, "jobs": 3})
        assert jobs == 3 and kw["processes"] == 2
        cluster = cls(**kw)
        try:
            text = cluster.job_script()
        finally:
            cluster.close()
        for m in marks:
            assert m in text, (kind, m, text)
        # 30 min: 3 min early (a tenth), staggered by 90 s (a twentieth)
        assert "--lifetime 1530s" in text and "--lifetime-stagger 90s" in text
        assert "--nworkers 2" in text and "--nthreads 1" in text
    with pytest.raises(CaseError, match="unknown setting"):
        jobqueue_settings("slurm", {"queu": "x"})


def test_index_links_survive_moving_the_folder(tmp_path):
    study = write_study(tmp_path, '\ncases = ["case9"]\n[analyses.pf]\n')
    out = tmp_path / "out"
    _run(study, out)
    moved = tmp_path / "moved"
    shutil.move(out, moved)
    with h5py.File(moved / "index.h5", "r") as h5:
        assert h5["tasks/case9/base/pf/powerflow/bus/vm_pu"].shape == (9,)
    index = merge(moved)
    assert index.counts() == {"done": 1}
    snap = json.loads((moved / "study.json").read_text())
    assert snap["cases"] == [{"name": "case9", "spec": "case9"}]
    assert_same_file(moved / "case9/base/pf.h5", moved / "case9/base/pf.h5")


def test_docs_list_every_analysis_and_option():
    from gridplan.studies.batch.analyses import options_block

    doc = (Path(__file__).parents[1] / "docs" / "batch.md").read_text(encoding="utf-8")
    assert options_block() in doc, (
        "docs/batch.md is stale: run `python -m gridplan.studies.batch.docs --write docs/batch.md`"
    )


def test_wind_and_ev_analyses_run_from_a_study_as_their_own_functions(tmp_path):
    # a study task gives the numbers the study function gives on its own (each is validated
    # against its references in test_wind_*.py / test_ev_*.py); EV without a scenario is
    # recorded not applicable with the reason
    from gridplan.model.cases import load_case
    from gridplan.studies.wind.hosting import hosting

    study = write_study(
        tmp_path,
        """
        cases = ["wind-test-centre"]
        [analyses.wind_hosting]
        buses = [5, 6]
        [analyses.ev_profile]
        """,
    )
    res = run_study(load_study(study), out_dir=tmp_path / "out")
    table = res.table
    ev = table.loc["wind-test-centre/base/ev_profile"]
    assert ev["status"] == "not_applicable" and "needs an EV scenario" in ev["reason"]
    assert table.loc["wind-test-centre/base/wind_hosting", "status"] == "done"
    # the scenario's [hosting] table: n1 = true, balance = "slack"
    direct = hosting(load_case("wind-test-centre"), [5, 6], n1=True, balance="slack")
    with h5py.File(tmp_path / "out/wind-test-centre/base/wind_hosting.h5", "r") as h5:
        got = h5["wind/hosting/hosting_mw"][:]
    np.testing.assert_array_equal(got, direct.table["hosting_mw"].to_numpy())


def test_importing_dask_jobqueue_leaves_ctrl_c_alone():
    # dask_jobqueue's import sets SIGINT to sys.exit process-wide; gridplan puts the handler
    # back, so Ctrl-C still stops a scan with KeyboardInterrupt (finished work booked)
    import subprocess
    import sys

    needs_jobqueue()
    code = (
        "import signal; h = signal.getsignal(signal.SIGINT); {imp}; "
        "print(signal.getsignal(signal.SIGINT) is h)"
    )
    plain = "import dask_jobqueue"
    ours = "from gridplan.studies.batch.executors import _import_jobqueue; _import_jobqueue()"
    for imp, expected in ((plain, "False"), (ours, "True")):
        out = subprocess.run(
            [sys.executable, "-c", code.format(imp=imp)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
        assert out.stdout.strip() == expected, imp
