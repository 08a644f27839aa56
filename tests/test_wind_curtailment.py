"""Curtailment year: closed-form cases, energy balance, DC limits checked with pandapower."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest

from gridplan.studies.wind.curtailment import year

HOURS = 240


@pytest.fixture
def linear_turbine(tmp_path):
    # a "turbine" whose output is 5 MW per m/s up to 100 MW: the offer is set by the wind
    path = tmp_path / "linear.csv"
    path.write_text("wind_speed_ms,p_mw\n0,0\n20,100\n40,100\n")
    return str(path)


def _wind(seed: int = 0) -> pd.DataFrame:
    idx = pd.date_range("2030-01-01", periods=HOURS, freq="h")
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"v": rng.uniform(0.0, 25.0, HOURS)}, index=idx)


def _radial(x_mw: float, load_mw: float, circuits: int = 1) -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b0 = pp.create_bus(net, 110.0)
    b1 = pp.create_bus(net, 110.0)
    pp.create_ext_grid(net, b0)
    for _ in range(circuits):
        pp.create_line_from_parameters(
            net, b0, b1, 10.0, 0.05, 0.4, 0.0, x_mw / (math.sqrt(3) * 110.0)
        )
    pp.create_load(net, b1, p_mw=load_mw, q_mvar=0.0)
    return net


def _check_balance(res) -> None:
    s = res.steps
    np.testing.assert_allclose(s.available_mw, s.produced_mw + s.curtailed_mw, atol=1e-9)
    assert (res.curtailed_mw >= -1e-9).all()
    avail = res.wind.p_mw.to_numpy()
    assert (res.curtailed_mw <= avail + 1e-9).all()


def test_one_line_closed_form(linear_turbine) -> None:
    # one line of rating X from the wind bus (local load L): curtailed = max(0, A - L - X)
    x, load = 50.0, 10.0
    farms = [
        {"name": "W", "turbine": linear_turbine, "n_turbines": 1, "hub_height_m": 10.0, "bus": 1}
    ]
    res = year(_radial(x, load), farms, _wind())
    a = res.wind.p_mw["W"].to_numpy()
    np.testing.assert_allclose(res.curtailed_mw[:, 0], np.maximum(0.0, a - load - x), atol=1e-6)
    _check_balance(res)
    # the line's DC flow after dispatch (by Kirchhoff: produced - load) is within X
    assert (res.steps.produced_mw - load <= x + 1e-6).all()
    # the hours without an LP are exactly those with nothing to curtail
    assert ((res.steps.curtailed_mw > 1e-9) == res.steps.lp).all()
    assert 0 < res.summary["share_without_lp"] < 1


def test_two_lines_n1_closed_form(linear_turbine) -> None:
    # two parallel lines of rating X: N-0 carries 2X, N-1 (either out) only X
    x, load = 30.0, 5.0
    farms = [
        {"name": "W", "turbine": linear_turbine, "n_turbines": 1, "hub_height_m": 10.0, "bus": 1}
    ]
    n0 = year(_radial(x, load, circuits=2), farms, _wind(1), ac_check=False)
    n1 = year(_radial(x, load, circuits=2), farms, _wind(1), n1=True, ac_check=False)
    a = n0.wind.p_mw["W"].to_numpy()
    np.testing.assert_allclose(n0.curtailed_mw[:, 0], np.maximum(0.0, a - load - 2 * x), atol=1e-6)
    np.testing.assert_allclose(n1.curtailed_mw[:, 0], np.maximum(0.0, a - load - x), atol=1e-6)
    assert n1.summary["n_outages"] == 2
    assert set(n1.binding.outage) <= {"line 0", "line 1"} and len(n1.binding)


def test_must_run_generator_closed_form(linear_turbine) -> None:
    # wind and a 60 MW coal unit behind one 50 MW line, local load 10 MW. Without wind the unit
    # runs at 60 - ... its case output; wind displaces it down to its must-run floor (50 % of
    # that output), so curtailed = max(0, A + floor - L - X)
    x, load, g = 50.0, 10.0, 40.0
    net = _radial(x, load)
    pp.create_gen(net, 1, p_mw=g, vm_pu=1.0, max_p_mw=60.0, min_p_mw=0.0, fuel="coal")
    farms = [
        {"name": "W", "turbine": linear_turbine, "n_turbines": 1, "hub_height_m": 10.0, "bus": 1}
    ]
    res = year(
        net, farms, _wind(2), balance="gens", min_stable_percent={"coal": 50}, ac_check=False
    )
    a = res.wind.p_mw["W"].to_numpy()
    floor = 0.5 * g  # the load is flat: the no-wind output is the case's
    np.testing.assert_allclose(
        res.curtailed_mw[:, 0], np.maximum(0.0, a + floor - load - x), atol=1e-6
    )
    _check_balance(res)
    # without the must-run floor the unit can go to zero first
    free = year(net, farms, _wind(2), balance="gens", ac_check=False)
    np.testing.assert_allclose(free.curtailed_mw[:, 0], np.maximum(0.0, a - load - x), atol=1e-6)


@pytest.mark.parametrize("balance", ["slack", "gens"])
def test_meshed_dispatch_respects_limits_in_pandapower_dc(linear_turbine, balance: str) -> None:
    # case9 (345 kV, lines of 150-300 MW) with 250 MW of wind at bus 5 and 100 MW at bus 8:
    # every dispatched hour with curtailment, re-solved by pandapower's own DC power flow,
    # keeps every line within its rating
    net = pn.case9()
    farms = [
        {"name": "A", "turbine": linear_turbine, "n_turbines": 2.5, "hub_height_m": 10.0, "bus": 5},
        {"name": "B", "turbine": linear_turbine, "n_turbines": 1.0, "hub_height_m": 10.0, "bus": 8},
    ]
    res = year(net, farms, _wind(3), balance=balance, min_stable_percent=80.0, ac_check=False)
    _check_balance(res)
    assert res.summary["energy_curtailed_mwh"] > 0
    limit = (
        np.sqrt(3) * net.bus.vn_kv.loc[net.line.from_bus].to_numpy() * net.line.max_i_ka.to_numpy()
    )
    hours = np.flatnonzero(res.steps.curtailed_mw.to_numpy() > 1e-6)[:8]
    assert hours.size
    for t in hours:
        work = copy.deepcopy(net)
        for j, f in enumerate(farms):
            p = float(res.wind.p_mw.iloc[t, j] - res.curtailed_mw[t, j])
            pp.create_sgen(work, f["bus"], p_mw=p)
        _set_gens(work, res, t)
        pp.rundcpp(work)
        flow = np.abs(work.res_line.p_from_mw.to_numpy())
        assert (flow <= limit + 1e-4).all(), (t, flow - limit)
        # and curtailment was needed: with the whole offer some line is over its rating
        for j in range(len(farms)):
            work.sgen.loc[j, "p_mw"] = float(res.wind.p_mw.iloc[t, j])
        pp.rundcpp(work)
        assert (np.abs(work.res_line.p_from_mw.to_numpy()) > limit + 1e-6).any()


def _set_gens(work: pp.pandapowerNet, res, t: int) -> None:
    """The generators' dispatch of hour t, from the AC-check profile the study builds."""
    gens = res.generator_mw
    for g in gens.columns:
        work.gen.loc[g, "p_mw"] = gens.iloc[t][g]


def test_bad_farm_bus_cli(cli, tmp_path, linear_turbine) -> None:
    farms = tmp_path / "farms.csv"
    farms.write_text(f"name,turbine,n_turbines,hub_height_m,bus\nWF7,{linear_turbine},1,10,9999\n")
    wind = tmp_path / "wind.csv"
    _wind().to_csv(wind, index_label="time")
    res = cli("wind", "year", "case9", "--farms", str(farms), "--wind", str(wind))
    assert res.code == 2
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert lines[0] == f"error: {farms}: farm 'WF7': bus 9999 does not exist in case9"
    assert "Traceback" not in res.err


def test_year_cli_writes_results(cli, tmp_path, linear_turbine) -> None:
    farms = tmp_path / "farms.csv"
    farms.write_text(f"name,turbine,n_turbines,hub_height_m,bus\nW,{linear_turbine},1,10,1\n")
    wind = tmp_path / "wind.csv"
    _wind().to_csv(wind, index_label="time")
    case = tmp_path / "radial.json"
    pp.to_json(_radial(50.0, 10.0), str(case))
    out, png = tmp_path / "y.h5", tmp_path / "y.png"
    res = cli(
        "wind",
        "year",
        str(case),
        "--farms",
        str(farms),
        "--wind",
        str(wind),
        "--out",
        str(out),
        "--plot",
        str(png),
    )
    assert res.code == 0, res.err
    assert "curtailed" in res.out and "needed no LP" in res.out
    from gridplan.results import read_attrs, read_table

    f = read_table(out, "wind/year/farms")
    assert f.loc["W", "curtailed_mwh"] > 0
    assert read_attrs(out, "wind/year")["n_steps"] == HOURS
    assert png.stat().st_size > 1000
