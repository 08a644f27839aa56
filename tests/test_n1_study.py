"""N-1 study: statuses (islanded, diverged, not_simulated), dc mode, outage files, HDF5, CLI."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
from click.testing import CliRunner

from gridplan.cli import cli
from gridplan.errors import CaseError
from gridplan.model.contingency_model import compile_contingency_model
from gridplan.model.outages import read_outages
from gridplan.results import read_table
from gridplan.studies.n1 import n1_states, run_n1


@pytest.fixture(scope="module")
def ac118(net118, model118):
    # report all: every broken limit is a row (the tables' consistency, not the report rule)
    return run_n1(
        net118,
        model=model118,
        case_name="case118",
        max_loading_percent=4.0,
        vm_min_pu=0.95,
        report="all",
    )


def _two_bus(load_mw: float) -> pp.pandapowerNet:
    """Slack - double circuit - load bus; one circuit out leaves a weak single line."""
    net = pp.create_empty_network()
    b0 = pp.create_bus(net, 110.0)
    b1 = pp.create_bus(net, 110.0)
    b2 = pp.create_bus(net, 110.0)
    pp.create_ext_grid(net, b0)
    for _ in range(2):
        pp.create_line_from_parameters(net, b0, b1, 60.0, 0.1, 0.4, 10.0, 0.5)
    pp.create_line_from_parameters(net, b1, b2, 10.0, 0.1, 0.4, 10.0, 0.5)  # radial spur
    pp.create_load(net, b1, p_mw=load_mw, q_mvar=0.3 * load_mw)
    pp.create_load(net, b2, p_mw=7.0, q_mvar=1.0)
    return net


def test_islanding_outages_report_load_cut_off_like_runpp(net118, ac118):
    # case118 has 9 radial branch outages; pandapower's runpp leaves the cut-off buses NaN
    isl = ac118.outages[ac118.outages.status == "islanded"]
    assert len(isl) == 9
    work = copy.deepcopy(net118)
    for _, row in isl.iterrows():
        kind, idx = row["elements"].split()
        work[kind].at[int(idx), "in_service"] = False
        pp.runpp(work)
        gone = work.res_bus.index[work.res_bus.vm_pu.isna()]
        load = work.load[work.load.bus.isin(gone)].p_mw.sum()
        gen = (
            work.gen[work.gen.bus.isin(gone)].p_mw.sum()
            + work.sgen[work.sgen.bus.isin(gone)].p_mw.sum()
        )
        work[kind].at[int(idx), "in_service"] = True
        assert row.n_bus_cut == len(gone)
        assert row.cut_load_mw == pytest.approx(load, abs=1e-9)
        assert row.cut_gen_mw == pytest.approx(gen, abs=1e-9)
        # the part that keeps the slack is solved: statistics exist and are not zeros
        assert row.min_vm_pu > 0.9


def test_spur_outage_is_islanded_and_matches_runpp():
    net = _two_bus(20.0)
    res = run_n1(net)
    row = res.outages.set_index("name").loc["line 2"]
    assert row.status == "islanded"
    assert row.cut_load_mw == pytest.approx(7.0)
    status, vm, _ = n1_states(net, [("spur", [("line", 2)])])
    work = copy.deepcopy(net)
    work.line.at[2, "in_service"] = False
    pp.runpp(work)
    assert status == ["islanded"]
    assert np.isnan(vm[0, 2]) and np.isnan(work.res_bus.vm_pu.iloc[2])
    assert np.nanmax(np.abs(vm[0] - work.res_bus.vm_pu.to_numpy())) < 1e-6


def test_voltage_collapse_outage_is_diverged_with_its_mismatch():
    # 210 MW over one 60 km 110 kV circuit has no power-flow solution (pandapower fails too),
    # while both circuits carry it; the scan must flag it and go on with the others
    net = _two_bus(210.0)
    pp.runpp(net)
    work = copy.deepcopy(net)
    work.line.at[0, "in_service"] = False
    with pytest.raises(pp.LoadflowNotConverged):
        pp.runpp(work)
    res = run_n1(net)
    out = res.outages.set_index("name")
    assert out.loc["line 0", "status"] == "diverged"
    assert out.loc["line 1", "status"] == "diverged"
    assert out.loc["line 0", "max_mismatch_pu"] > 1e-3
    assert "mismatch" in out.loc["line 0", "reason"]
    # a failed outage never shows up as 0 % loading or 0 pu voltage
    assert np.isnan(out.loc["line 0", "max_loading_percent"])
    assert np.isnan(out.loc["line 0", "min_vm_pu"])
    assert out.loc["line 2", "status"] == "islanded"
    assert not (res.violations.outage == 0).any()


def test_out_of_service_element_is_not_simulated(net118):
    net = copy.deepcopy(net118)
    net.line.at[5, "in_service"] = False
    res = run_n1(net, outages=[("l5", [("line", 5)]), ("l6", [("line", 6)])])
    assert res.outages.status.iloc[0] == "not_simulated"
    # line 6 is solved (it becomes radial with line 5 already out)
    assert res.outages.status.iloc[1] in ("converged", "islanded")
    assert "already out of service" in res.outages.reason.iloc[0]


def test_element_table_worst_case_and_violations_are_consistent(ac118):
    el = ac118.elements
    out = ac118.outages
    # the worst outage of each element is the one whose own worst loading is that value
    worst = el.dropna(subset=["max_loading_percent"])
    assert len(worst) > 0
    for _, r in worst.nlargest(5, "max_loading_percent").iterrows():
        assert out.max_loading_percent.iloc[int(r.cause_index)] >= r.max_loading_percent - 1e-9
        assert r.top1_loading_percent >= r.top2_loading_percent >= r.top3_loading_percent
    v = ac118.violations
    lv = v[v.quantity == "loading_percent"]
    assert (lv.value > 4.0).all() and (lv.limit == 4.0).all()
    assert np.allclose(lv.change, lv.value - lv.base_value)
    n_over = int((out.max_loading_percent > 4.0).sum())
    assert lv.outage.nunique() == n_over


def test_dc_mode_matches_pandapower_rundcpp_on_lodf(net118):
    # dc post-outage active flows equal pandapower's DC power flow with the line out, up to the
    # base-case difference (we add the LODF change to the AC base flows): compare changes
    res = run_n1(net118, mode="dc", outages=[("l7", [("line", 7)]), ("l20", [("line", 20)])])
    # line 7 is radial (islanding); line 20 is meshed
    assert list(res.outages.status) == ["islanded", "converged"]
    # dc computes no voltages: NaN voltage columns and no voltage violations
    assert res.outages.min_vm_pu.isna().all() and res.buses.min_vm_pu.isna().all()
    assert not (res.violations.quantity == "vm_pu").any()
    from gridplan.model.contingency_outages import engine_outage

    m = compile_contingency_model(net118)
    dc = m.dc_solver()
    br = m.bridge_tree()
    o, _ = engine_outage(m, [("line", 20)], br)
    work = copy.deepcopy(net118)
    pp.rundcpp(work)
    p0 = work.res_line.p_from_mw.to_numpy().copy()
    work.line.at[20, "in_service"] = False
    pp.rundcpp(work)
    dp_ref = work.res_line.p_from_mw.to_numpy() - p0
    # LODF change from the engine: rebuild from loading inverse is lossy, so recompute here
    n = m.n_bus
    rhs = np.zeros((n, 1))
    k = o.branches[0]
    rhs[m.f[k], 0] = 1.0
    rhs[m.t[k], 0] = -1.0
    rhs[dc.held, :] = 0.0
    th = dc.unit_transfer_angles(rhs)[:, 0]
    ptdf = dc.b * (th[dc.f_rcm] - th[dc.t_rcm])  # angle rows in the setup's bus order
    dp = ptdf * (p0[20] / m.base_mva) / (1 - ptdf[k]) * m.base_mva
    a, b = 0, len(net118.line)
    mask = np.arange(a, b) != 20
    # pandapower's DC model (no taps' magnitude in B, same susceptances): 1e-6 MW agreement
    assert np.max(np.abs(dp[a:b][mask] - dp_ref[mask])) < 1e-6
    ld, _ = dc.solve_block([o])
    assert np.isnan(ld[0, k])


def test_outage_files_all_formats(tmp_path, net118):
    csv = tmp_path / "o.csv"
    csv.write_text("name,element_type,element\ncorridor,line,0\ncorridor,line,1\nt1,trafo,2\n")
    assert read_outages(csv, net118) == [
        ("corridor", [("line", 0), ("line", 1)]),
        ("t1", [("trafo", 2)]),
    ]
    js = tmp_path / "o.json"
    js.write_text(
        json.dumps(
            {"outages": [{"name": "a", "elements": [["line", 3], {"type": "gen", "index": 1}]}]}
        )
    )
    assert read_outages(js, net118) == [("a", [("line", 3), ("gen", 1)])]
    net = copy.deepcopy(net118)
    net.line.at[4, "name"] = "L-4"
    pw = tmp_path / "c.json"
    pw.write_text(
        json.dumps(
            {
                "type": "default",
                "version": "1.0",
                "name": "list",
                "contingencies": [
                    {"id": "c1", "elements": [{"id": "L-4", "type": "BRANCH"}]},
                    {
                        "id": "c2",
                        "elements": [{"id": "L-4", "type": "LINE"}, {"id": "7", "type": "LINE"}],
                    },
                ],
            }
        )
    )
    assert read_outages(pw, net) == [("c1", [("line", 4)]), ("c2", [("line", 4), ("line", 7)])]
    f0, t0 = int(net118.line.from_bus.iloc[0]), int(net118.line.to_bus.iloc[0])
    name = lambda b: net118.bus.name.iloc[b] if str(net118.bus.name.iloc[b]).isdigit() else b  # noqa: E731
    con = tmp_path / "o.con"
    con.write_text(
        f"CONTINGENCY ONE\n OPEN BRANCH FROM BUS {name(f0)} TO BUS {name(t0)} CIRCUIT 1\nEND\nEND\n"
    )
    assert read_outages(con, net118) == [("ONE", [("line", 0)])]
    bad = tmp_path / "bad.con"
    bad.write_text(
        "CONTINGENCY X\n REMOVE UNIT 1 FROM BUS 5\nEND\n"
        "CONTINGENCY Y\n OPEN BRANCH FROM BUS 99999 TO BUS 1\nEND\n"
    )
    with pytest.raises(CaseError) as exc:
        read_outages(bad, net118)
    msg = str(exc.value)
    # every problem in one message, with line numbers
    assert "line 2" in msg and "REMOVE UNIT" in msg and "line 5" in msg and "99999" in msg
    badcsv = tmp_path / "bad.csv"
    badcsv.write_text("name,element_type,element\nx,line,99999\ny,bus,1\n")
    with pytest.raises(CaseError, match=r"line 99999 does not exist.*element type must be"):
        read_outages(badcsv, net118)


def test_double_branch_outage_matches_runpp(net118):
    # N-2 corridor: both circuits out together, solved by the same engine (rank-8 update)
    pair = [("line", 0), ("line", 1)]
    status, vm, ld = n1_states(net118, [("pair", pair)])
    work = copy.deepcopy(net118)
    work.line.loc[[0, 1], "in_service"] = False
    pp.runpp(work)
    assert status[0] in ("converged", "islanded")
    ok = work.res_bus.vm_pu.notna().to_numpy()
    assert np.max(np.abs(vm[0][ok] - work.res_bus.vm_pu.to_numpy()[ok])) < 1e-6
    lp = work.res_line.loading_percent.to_numpy()
    both = np.isfinite(ld["line"][0]) & work.line.in_service.to_numpy()
    assert np.max(np.abs(ld["line"][0][both] - lp[both])) < 1e-3


def test_generator_outage_matches_runpp(net118):
    # a gen out: its P is picked up by the slack and its bus loses voltage control (PV -> PQ)
    gens = [int(g) for g in net118.gen.index[:6]]
    specs = [(f"gen {g}", [("gen", g)]) for g in gens]
    status, vm, ld = n1_states(net118, specs)
    work = copy.deepcopy(net118)
    for j, g in enumerate(gens):
        work.gen.at[g, "in_service"] = False
        pp.runpp(work)
        work.gen.at[g, "in_service"] = True
        assert status[j] == "converged"
        assert np.max(np.abs(vm[j] - work.res_bus.vm_pu.to_numpy())) < 1e-6
        lp = work.res_line.loading_percent.to_numpy()
        assert np.max(np.abs(ld["line"][j] - lp)) < 1e-3


def test_cli_writes_contingency_group_and_matrix(tmp_path):
    out = tmp_path / "n1.h5"
    r = CliRunner().invoke(
        cli,
        [
            "n1",
            "case118",
            "--out",
            str(out),
            "--store-matrix",
            "--max-loading",
            "4",
            "--no-progress",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "186 outages (ac)" in r.output and "9 islanded" in r.output
    outages = read_table(out, "contingency/outages")
    assert len(outages) == 186
    assert set(outages.status) == {"converged", "islanded"}
    import h5py

    with h5py.File(out) as f:
        m = f["contingency/loading_matrix"][:]
        rows = f["contingency/loading_matrix_outage"][:]
        assert f["contingency"].attrs["n_islanded"] == 9
    assert m.dtype == np.float32 and m.shape == (186, 186)
    assert sorted(rows) == list(range(186))
    # the matrix agrees with the per-outage worst loading
    worst = np.nanmax(m, axis=1)
    assert np.allclose(worst, outages.max_loading_percent.to_numpy()[rows], rtol=1e-6)


def test_trafo3w_and_switched_net_outages_match_runpp():
    # pandapower's multi-voltage example: trafo3w (3 ppc branches + star bus), bus-bus
    # switches, sgens, shunts; the trafo3w outage cuts off the MV/LV part (islanded)
    net = pn.example_multivoltage()
    specs = [("t3w", [("trafo3w", int(net.trafo3w.index[0]))])]
    specs += [(f"line {i}", [("line", int(i))]) for i in net.line.index[:6]]
    status, vm, ld = n1_states(net, specs)
    assert status[0] == "islanded"
    work = copy.deepcopy(net)
    for j, (_, elems) in enumerate(specs):
        for kind, idx in elems:
            work[kind].at[idx, "in_service"] = False
        try:
            pp.runpp(work)
            ok = work.res_bus.vm_pu.notna().to_numpy()
            assert np.array_equal(np.isnan(vm[j]), ~ok)
            assert np.max(np.abs(vm[j][ok] - work.res_bus.vm_pu.to_numpy()[ok])) < 1e-6
            for kind, mine in ld.items():
                ref = work[f"res_{kind}"].loading_percent.to_numpy()
                both = np.isfinite(mine[j]) & np.isfinite(ref)
                if both.any():
                    assert np.max(np.abs(mine[j][both] - ref[both])) < 1e-3
        finally:
            for kind, idx in elems:
                work[kind].at[idx, "in_service"] = True


def test_ctrl_c_keeps_finished_outages(net118, model118):
    # KeyboardInterrupt during the scan (here raised by the progress callback after the
    # second block of 32): finished outages keep their results, the rest are not_simulated
    calls = []

    def progress(n):
        calls.append(n)
        if len(calls) == 2:
            raise KeyboardInterrupt

    res = run_n1(net118, model=model118, block=32, progress=progress)
    assert res.interrupted
    done = res.outages[res.outages.status != "not_simulated"]
    rest = res.outages[res.outages.status == "not_simulated"]
    assert len(done) == 64 and len(rest) == 186 - 64
    assert (rest.reason == "interrupted").all()
    assert done.max_loading_percent.notna().all()
    assert rest.max_loading_percent.isna().all()


def test_block_size_changes_no_result(net118, model118, ac118):
    """Blocks are a memory layout, not a method: case118 in blocks of 7 outages gives the
    default scan's (one block of 256) statistics to 1e-9 (chord iterations stop on the same
    1e-8 pu mismatch per outage; the rest is rounding in a different order)."""
    from gridplan.studies.n1 import auto_block

    assert [auto_block(n) for n in (118, 2869, 9241, 13659, 60000)] == [256, 256, 64, 64, 32]
    small = run_n1(
        net118, model=model118, case_name="case118", max_loading_percent=4.0, vm_min_pu=0.95,
        report="all", block=7,
    )  # fmt: skip
    assert (small.outages["status"] == ac118.outages["status"]).all()
    for col in ("max_loading_percent", "top2_loading_percent"):
        np.testing.assert_allclose(
            small.elements[col].to_numpy(float), ac118.elements[col].to_numpy(float), atol=1e-9
        )
    np.testing.assert_allclose(
        small.buses["min_vm_pu"].to_numpy(float), ac118.buses["min_vm_pu"].to_numpy(float),
        atol=1e-9,
    )  # fmt: skip
    assert len(small.violations) == len(ac118.violations)


@pytest.mark.parametrize("mode", ["ac", "dc"])
def test_threads_give_the_one_thread_results_bit_for_bit(net118, model118, mode):
    """Blocks solved on 3 threads are booked in block order: every table equals one
    thread's exactly (blocks of 16: case118's 186 outages make 12 blocks to share)."""
    kw = dict(model=model118, mode=mode, max_loading_percent=4.0, vm_min_pu=0.95, block=16)
    one = run_n1(net118, threads=1, **kw)
    three = run_n1(net118, threads=3, **kw)
    for name in ("outages", "elements", "buses", "violations"):
        a, b = getattr(one, name), getattr(three, name)
        assert a.columns.equals(b.columns) and len(a) == len(b) > 0, name
        for col in a.columns:
            x, y = a[col].to_numpy(), b[col].to_numpy()
            if x.dtype.kind == "f":
                assert np.array_equal(x, y, equal_nan=True), (name, col)
            else:
                assert (x == y).all(), (name, col)
