"""Time-series engine against pandapower ``runpp`` on the same states, step by step.

Reference: for every checked step the profile values are written into a copy of the net and
pandapower's own ``runpp`` (defaults: PV generators, no Q limits, tolerance 1e-8 pu) solves it.
Both solutions satisfy the 1e-8 pu mismatch, so they agree far inside the acceptance
tolerances (|d vm_pu| <= 1e-6, |d loading_percent| <= 1e-3).
"""

from __future__ import annotations

import copy

import h5py
import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest

import gridplan.timeseries as ts
from gridplan.results import read_table

VM_ATOL = 1e-6  # issue acceptance: |d vm_pu| against runpp
LOADING_ATOL = 1e-3  # issue acceptance: |d loading_percent| against runpp
LOSS_ATOL_MW = 1e-5  # sum of branch losses of two solutions within 1e-8 pu mismatch (100 MVA base)


def _apply(net: pp.pandapowerNet, profiles: ts.Profiles, k: int) -> None:
    for (et, col), df in profiles.tables.items():
        net[et].loc[df.columns, col] = df.iloc[k].to_numpy()


def _compare_with_runpp(net: pp.pandapowerNet, profiles: ts.Profiles, steps: range) -> None:
    res = ts.run(net, profiles, block_size=37)  # odd block size: several blocks, warm starts
    assert res.steps["converged"].all()
    ref_net = copy.deepcopy(net)
    for k in steps:
        _apply(ref_net, profiles, k)
        pp.runpp(ref_net)
        vm = res.vm_pu.iloc[k].reindex(ref_net.res_bus.index).to_numpy()
        ref = ref_net.res_bus.vm_pu.to_numpy()
        both = np.isfinite(ref)
        assert np.array_equal(np.isfinite(vm), both), f"step {k}: energized buses differ"
        np.testing.assert_allclose(vm[both], ref[both], rtol=0, atol=VM_ATOL, err_msg=f"step {k}")
        for el in ("line", "trafo"):
            got = res.loading_percent[el].iloc[k].reindex(ref_net[f"res_{el}"].index)
            np.testing.assert_allclose(
                got,
                ref_net[f"res_{el}"].loading_percent,
                rtol=0,
                atol=LOADING_ATOL,
                err_msg=f"{el} step {k}",
            )
        ref_loss = ref_net.res_line.pl_mw.sum() + ref_net.res_trafo.pl_mw.sum()
        assert abs(res.steps["p_loss_mw"].iloc[k] - ref_loss) < LOSS_ATOL_MW, f"step {k}"


def test_distribution_case_mv_oberrhein_matches_runpp_for_100_steps():
    net = pn.mv_oberrhein()
    net.sgen["scaling"] = 1.0  # the case ships its PV with scaling 0; make it matter
    profiles = ts.synthetic(net, 100, seed=3, noise=0.1)
    _compare_with_runpp(net, profiles, range(100))


def test_meshed_case118_with_pv_generators_matches_runpp_for_100_steps():
    net = pn.case118()
    profiles = ts.synthetic(net, 100, seed=5, noise=0.1)
    assert ("gen", "p_mw") in profiles.tables  # generator P changes at PV buses
    _compare_with_runpp(net, profiles, range(100))


def test_streamed_file_holds_the_same_numbers_as_the_in_memory_run(tmp_path):
    net = pn.mv_oberrhein()
    net.sgen["scaling"] = 1.0
    profiles = ts.synthetic(net, 50, seed=1)
    mem = ts.run(net, profiles, block_size=16)
    out = tmp_path / "ts.h5"
    disk = ts.run(net, profiles, out=out, block_size=16, case_name="mv_oberrhein")
    assert disk.vm_pu is None and disk.path == out
    with h5py.File(out) as h5:
        vm = h5["timeseries/bus/vm_pu"]
        assert vm.shape == (50, len(net.bus)) and vm.maxshape == (None, len(net.bus))
        np.testing.assert_array_equal(h5["timeseries/bus/index"][()], net.bus.index)
        # same solver, same arithmetic: the file holds the in-memory float64 numbers rounded
        # to float32 (the declared file dtype), exactly
        assert vm.dtype == np.float32
        np.testing.assert_array_equal(vm[()], mem.vm_pu.to_numpy().astype(np.float32))
        np.testing.assert_array_equal(
            h5["timeseries/line/loading_percent"][()],
            mem.loading_percent["line"].to_numpy().astype(np.float32),
        )
        attrs = dict(h5["timeseries"].attrs)
    steps = read_table(out, "timeseries/steps")
    np.testing.assert_allclose(steps["p_loss_mw"], mem.steps["p_loss_mw"], rtol=0, atol=0)
    # energy = sum of step losses x 1 h step (hand formula)
    assert attrs["energy_loss_mwh"] == pytest.approx(mem.steps["p_loss_mw"].sum() * 1.0)
    assert attrs["n_steps"] == 50


def test_worst_step_per_element_is_the_argmax_of_the_step_table():
    net = pn.mv_oberrhein()
    net.sgen["scaling"] = 1.0
    profiles = ts.synthetic(net, 48, seed=2)
    res = ts.run(net, profiles, block_size=10)
    worst = res.worst.set_index(["element", "quantity", "element_index"])
    line_ld = res.loading_percent["line"]
    for idx in line_ld.columns[:20]:
        row = worst.loc[("line", "loading_percent", idx)]
        assert row["step"] == line_ld[idx].to_numpy().argmax()
        assert row["value"] == line_ld[idx].max()
    vm = res.vm_pu
    bus = vm.columns[np.isfinite(vm.iloc[0].to_numpy())][0]
    assert worst.loc[("bus", "vm_min_pu", bus)]["step"] == vm[bus].to_numpy().argmin()


def test_a_step_pandapower_cannot_solve_is_flagged_and_the_rest_still_solved():
    net = pn.case118()
    profiles = ts.synthetic(net, 6, seed=0)
    loads = profiles.tables[("load", "p_mw")]
    loads.iloc[3] *= 40.0  # far beyond the loadability limit
    res = ts.run(net, profiles)
    ref = copy.deepcopy(net)
    _apply(ref, profiles, 3)
    with pytest.raises(pp.LoadflowNotConverged):
        pp.runpp(ref)
    assert res.steps["converged"].tolist() == [True, True, True, False, True, True]
    assert res.vm_pu.iloc[3].isna().all()
    assert np.isnan(res.steps["p_loss_mw"].iloc[3])


def test_summary_counts_hours_with_violations():
    net = pn.mv_oberrhein()
    profiles = ts.synthetic(net, 24, seed=0)
    # a tight band every step violates: all 24 one-hour steps count
    res = ts.run(net, profiles, vm_min_pu=0.999, vm_max_pu=1.0)
    assert res.summary["hours_with_violations"] == 24.0
    res = ts.run(net, profiles, vm_min_pu=0.5, vm_max_pu=1.5, max_loading_percent=1e6)
    assert res.summary["hours_with_violations"] == 0.0
    assert isinstance(res.steps.index, pd.RangeIndex)


def test_cli_writes_file_and_prints_losses(cli, tmp_path):
    net = pn.mv_oberrhein()
    profiles = ts.synthetic(net, 12, seed=0)
    path = tmp_path / "p.h5"
    ts.write_h5(path, profiles)
    out = tmp_path / "ts.h5"
    r = cli("timeseries", "mv_oberrhein", "--profiles", str(path), "--out", str(out))
    assert r.code == 0, r.err
    ref = ts.run(net, profiles)
    # the printed energy is the sum of step losses x 1 h of an independent in-memory run
    assert f"energy losses {ref.steps['p_loss_mw'].sum():.2f} MWh" in r.out
    assert "12 converged" in r.out and out.exists()


def test_cli_bad_profile_is_one_line_and_exit_2(cli, tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("time,load.0.p_mw,load.77777.p_mw\n2025-01-01T00:00,1,1\n2025-01-01T01:00,1,1\n")
    r = cli("timeseries", "mv_oberrhein", "--profiles", str(p))
    assert r.code == 2
    assert r.err.startswith("error: ") and "load [77777] which the case does not have" in r.err
    assert r.err.count("\n") <= 2
