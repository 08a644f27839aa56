"""Capacity credit (ELCC, EFC): firm and zero resources, a hand-worked EENS case, multi-state
units in the case data."""

from __future__ import annotations

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from gridplan.core import capacity_credit as cc
from gridplan.core.adequacy import build_copt, loss_of_load
from gridplan.errors import CaseError
from gridplan.studies.adequacy import run_adequacy
from gridplan.studies.wind.credit import credit


def _rts_like_copt():
    # 24 units of 12-400 MW with RTS-79 outage rates: a system with a visible risk
    cap = np.array(
        [12] * 5
        + [20] * 4
        + [50] * 6
        + [76] * 4
        + [100] * 3
        + [155] * 4
        + [197] * 3
        + [350]
        + [400] * 2
    )
    q = np.array(
        [0.02] * 5
        + [0.10] * 4
        + [0.01] * 6
        + [0.02] * 4
        + [0.04] * 3
        + [0.04] * 4
        + [0.05] * 3
        + [0.08]
        + [0.12] * 2
    )
    return build_copt(cap.astype(float), q, step_mw=1.0)


def _load(peak: float = 2850.0, n: int = 8736) -> np.ndarray:
    t = np.arange(n)
    return peak * (0.72 + 0.18 * np.sin(2 * np.pi * t / 24) ** 2 + 0.1 * np.cos(2 * np.pi * t / n))


@pytest.mark.parametrize("metric", ["lole", "eens"])
@pytest.mark.parametrize("x_mw", [50.0, 300.0])
def test_perfectly_reliable_unit_has_credit_equal_to_its_capacity(metric: str, x_mw: float) -> None:
    copt = _rts_like_copt()
    load = _load()
    tol = 0.05
    w = np.full(load.size, x_mw)
    e = cc.elcc(copt, load, w, metric=metric, tol_mw=tol)
    f = cc.efc(copt, load, w, metric=metric, tol_mw=tol)
    # ELCC: R(L - X + x) = R(L) holds at x = X exactly; EFC is the same equation seen from
    # the other side: both within the bisection gap
    assert e.lo_mw <= x_mw <= e.hi_mw + 1e-9 and e.hi_mw - e.lo_mw <= tol
    assert f.lo_mw - 1e-9 <= x_mw <= f.hi_mw + 1e-9 and f.hi_mw - f.lo_mw <= tol
    assert abs(e.value_mw - x_mw) <= tol and abs(f.value_mw - x_mw) <= tol


@pytest.mark.parametrize("metric", ["lole", "eens"])
def test_zero_output_has_zero_credit(metric: str) -> None:
    copt = _rts_like_copt()
    load = _load()
    w = np.zeros(load.size)
    assert cc.elcc(copt, load, w, metric=metric).value_mw == 0.0
    assert cc.efc(copt, load, w, metric=metric).value_mw == 0.0


def test_hand_worked_eens_credit() -> None:
    # two 100 MW units, FOR 0.1: available 200 (p 0.81), 100 (0.18), 0 (0.01); flat load
    # 150 MW. EENS per hour of a load L in [100, 200] MW: 0.18 (L - 100) + 0.01 L.
    # Resource: 0 and 60 MW in alternate hours.
    #   with it: (10.5 + 0.01 * 90) / 2 = 5.7 MWh/h
    #   EFC: 0.19 (150 - x) - 18 = 5.7           -> x = 25.263 MW
    #   ELCC: [0.19 (150 + x) - 18 + 0.19 (90 + x) - 18] / 2 = 10.5 -> x = 30 MW
    copt = build_copt(np.array([100.0, 100.0]), np.array([0.1, 0.1]), step_mw=10.0)
    load = np.full(1000, 150.0)
    w = np.tile([0.0, 60.0], 500)
    assert cc.risk(copt, load - w, "eens") == pytest.approx(5.7 * 1000, rel=1e-12)
    tol = 1e-4
    e = cc.elcc(copt, load, w, metric="eens", tol_mw=tol)
    f = cc.efc(copt, load, w, metric="eens", tol_mw=tol)
    assert e.value_mw == pytest.approx(30.0, abs=tol)
    assert f.value_mw == pytest.approx((150 - (5.7 + 18) / 0.19), abs=tol)


def test_interpolated_lole_equals_adequacy_on_the_grid() -> None:
    copt = _rts_like_copt()
    load = np.round(_load())  # integer MW: reserves on the 1 MW grid
    assert cc.risk(copt, load, "lole") == pytest.approx(loss_of_load(copt, load).lole, rel=1e-12)
    # and is continuous between grid points (the bisection needs no plateau)
    r = [cc.risk(copt, load + d, "lole") for d in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert np.all(np.diff(r) > 0)
    np.testing.assert_allclose(np.diff(r), np.diff(r)[0], rtol=1e-6)


def _system_net() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b = pp.create_bus(net, 110.0)
    pp.create_ext_grid(net, b)
    for cap in (400, 400, 350, 197, 197, 197, 155, 155, 155, 155, 100, 100, 100):
        pp.create_gen(net, b, p_mw=0.0, max_p_mw=float(cap))
    pp.create_load(net, b, p_mw=2300.0)
    return net


def test_study_firm_wind_through_the_whole_chain(tmp_path) -> None:
    # a "turbine" whose curve gives 5 MW at every speed, 40 of them: a firm 200 MW resource
    curve = tmp_path / "firm.csv"
    curve.write_text("wind_speed_ms,p_mw\n0,5\n40,5\n")
    idx = pd.date_range("2030-01-01", periods=8760, freq="h")
    wind = pd.DataFrame({"v": np.full(8760, 9.0)}, index=idx)
    farms = [{"name": "firm", "turbine": str(curve), "n_turbines": 40, "hub_height_m": 10.0}]
    res = credit(_system_net(), farms, wind, tol_mw=0.1)
    for m, row in res.credit.iterrows():
        assert row.nameplate_mw == pytest.approx(200.0)
        assert row.elcc_low_mw <= 200.0 + 1e-9 and row.elcc_mw == pytest.approx(200.0, abs=0.1), m
        assert row.efc_mw == pytest.approx(200.0, abs=0.1), m
        assert row.risk_with < row.risk_without
    assert res.hours == 8736  # the RTS-79 load year is 52 weeks


def test_study_calm_wind_has_zero_credit() -> None:
    idx = pd.date_range("2030-01-01", periods=8760, freq="h")
    wind = pd.DataFrame({"v": np.full(8760, 2.0)}, index=idx)  # below cut-in all year
    farms = [{"name": "calm", "turbine": "IEC-II/3000", "n_turbines": 50, "hub_height_m": 10.0}]
    res = credit(_system_net(), farms, wind)
    assert (res.credit.elcc_mw == 0).all() and (res.credit.efc_mw == 0).all()


def test_multistate_unit_from_case_data() -> None:
    # a 100 MW unit with FOR 0.02 and two derated states (20 MW lost p 0.05, 50 MW lost
    # p 0.03) plus a 60 MW unit FOR 0.05; flat 120 MW load: LOLP and EENS enumerated by hand
    net = pp.create_empty_network()
    b = pp.create_bus(net, 110.0)
    pp.create_ext_grid(net, b)
    g = pp.create_gen(net, b, p_mw=0.0, max_p_mw=100.0)
    net.gen["derated_states"] = ""
    net.gen.loc[g, ["forced_outage_rate", "mttr_h", "derated_states"]] = [
        0.02,
        50.0,
        "20:0.05; 50:0.03",
    ]
    g2 = pp.create_gen(net, b, p_mw=0.0, max_p_mw=60.0)
    net.gen.loc[g2, ["forced_outage_rate", "mttr_h"]] = [0.05, 40.0]
    pp.create_load(net, b, p_mw=120.0)
    res = run_adequacy(net, load_model="flat")
    states_a = [(100.0, 0.90), (80.0, 0.05), (50.0, 0.03), (0.0, 0.02)]
    states_b = [(60.0, 0.95), (0.0, 0.05)]
    lolp = sum(pa * pb for ca, pa in states_a for cb, pb in states_b if ca + cb < 120.0)
    eens = sum(pa * pb * max(0.0, 120.0 - ca - cb) for ca, pa in states_a for cb, pb in states_b)
    i = res.indices.iloc[0]
    assert i.lolp == pytest.approx(lolp, rel=1e-12)
    assert i.eens_mwh_per_year == pytest.approx(eens * 8760, rel=1e-12)
    assert res.units.derated_states.iloc[0] == "20:0.05;50:0.03"


def test_multistate_bad_states_reported() -> None:
    net = pp.create_empty_network()
    b = pp.create_bus(net, 110.0)
    g = pp.create_gen(net, b, p_mw=0.0, max_p_mw=100.0)
    net.gen["derated_states"] = "20:0.05;150:0.1"
    pp.create_load(net, b, p_mw=50.0)
    with pytest.raises(
        CaseError, match=rf"gen {g}: every derated state must have 0 < outage < capacity"
    ):
        run_adequacy(net, load_model="flat")


def test_credit_cli(cli, tmp_path) -> None:
    net = _system_net()
    case = tmp_path / "sys.json"
    pp.to_json(net, str(case))
    farms = tmp_path / "farms.csv"
    farms.write_text("name,turbine,p_mw,hub_height_m,wind\nW,IEC-II/3000,600,100,north\n")
    idx = pd.date_range("2030-01-01", periods=8760, freq="h")
    rng = np.random.default_rng(1)
    wind = tmp_path / "wind.csv"
    pd.DataFrame({"north": 6 * rng.weibull(2.0, 8760)}, index=idx).to_csv(wind, index_label="time")
    out, png = tmp_path / "c.h5", tmp_path / "c.png"
    res = cli(
        "wind",
        "credit",
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
    assert "lole: ELCC" in res.out and "eens: ELCC" in res.out
    from gridplan.results import read_table

    t = read_table(out, "wind/credit/credit")
    assert 0 < t.loc["lole", "elcc_mw"] < 600 and 0 < t.loc["eens", "efc_mw"] < 600
    bad = cli(
        "wind", "credit", str(case), "--farms", str(farms), "--wind", str(wind), "--metric", "lolp"
    )
    assert bad.code == 2
