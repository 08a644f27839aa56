"""EV grid impact on tianjin-ecocity: smart charging lowers the transformer peak and keeps the
energy; the time-series loading agrees with pandapower's runpp at the peak step."""

from __future__ import annotations

import math

import h5py
import numpy as np
import pandapower as pp
import pytest

from gridplan.ev import load_scenario_and_case
from gridplan.studies.ev import baseload
from gridplan.studies.ev.impact import add_ev_loads, run_impact


@pytest.fixture(scope="module")
def impact():
    sc, net, _ = load_scenario_and_case("ev-tianjin-ecocity")
    return net, run_impact(net, sc, days=14, seed=1, policies=["uncontrolled", "valley"])


def test_valley_filling_lowers_the_transformer_peak_and_keeps_the_energy(impact):
    net, r = impact
    s = r.summary
    # the community's LV board 1 transformer carries the most EV charging at the evening peak
    t1 = int(net.trafo.index[net.trafo.name == "Community T1 10/0.4kV"][0])
    peak = r.trafo[r.trafo.trafo == t1].set_index("policy").max_loading_percent
    assert peak["uncontrolled"] == pytest.approx(86.3, abs=0.1)  # this seed's numbers
    assert peak["valley"] == pytest.approx(74.2, abs=0.1)
    assert peak["valley"] < peak["uncontrolled"] - 10.0
    assert s.loc["valley", "ev_energy_mwh"] == pytest.approx(
        s.loc["uncontrolled", "ev_energy_mwh"], rel=1e-9
    )
    assert s.loc["uncontrolled", "ev_energy_mwh"] == pytest.approx(47.2046, rel=1e-5)
    assert (s.steps_not_converged == 0).all()


def test_peak_step_loading_matches_pandapower_runpp(impact):
    net, r = impact
    t1 = int(net.trafo.index[net.trafo.name == "Community T1 10/0.4kV"][0])
    row = r.trafo[(r.trafo.trafo == t1) & (r.trafo.policy == "uncontrolled")].iloc[0]
    k = int(row.step_max)
    # rebuild that step independently and solve it with plain pandapower
    work, ev = add_ev_loads(net, r.profile)
    tables = baseload.base_tables(net, r.profile.index[k : k + 1])
    work.load.loc[net.load.index, "p_mw"] = tables[("load", "p_mw")].iloc[0].to_numpy()
    work.load.loc[net.load.index, "q_mvar"] = tables[("load", "q_mvar")].iloc[0].to_numpy()
    work.sgen["p_mw"] = tables[("sgen", "p_mw")].iloc[0].to_numpy()
    work.storage["p_mw"] = 0.0
    ev_kw = r.profile.runs["uncontrolled"].profiles[ev.index.to_numpy(), k]
    tan = math.tan(math.acos(0.99))
    work.load.loc[ev["load"], "p_mw"] = ev_kw / 1000.0
    work.load.loc[ev["load"], "q_mvar"] = ev_kw / 1000.0 * tan
    pp.runpp(work, tolerance_mva=1e-10, numba=False)
    assert work.res_trafo.loading_percent[t1] == pytest.approx(row.max_loading_percent, abs=1e-5)


def test_impact_command_writes_tables_and_plot(cli, tmp_path):
    out, png = tmp_path / "i.h5", tmp_path / "i.png"
    res = cli(
        "ev",
        "impact",
        "tianjin-ecocity",
        "--scenario",
        "ev-tianjin-ecocity",
        "--days",
        "2",
        "--policies",
        "uncontrolled,tou",
        "--out",
        str(out),
        "--plot",
        str(png),
    )
    assert res.code == 0, res.err
    assert "Community T1 10/0.4kV" in res.out
    with h5py.File(out) as f:
        assert list(f["ev/impact/summary/index"].asstr()[:]) == ["uncontrolled", "tou"]
        assert f["ev/impact/trafo_duration"].shape[0] == 2
        assert f["ev/impact/trafo_duration"].shape[2] == 101
        assert f["ev/impact/trafo/max_loading_percent"].attrs["units"] == "%"
        # the duration curve starts at the highest loading
        d = f["ev/impact/trafo_duration"][0]
        idx = list(f["ev/impact/trafo_index"][:])
        rows = f["ev/impact/trafo"]
        pol = rows["policy"].asstr()[:]
        m = pol == "uncontrolled"
        mx = dict(zip(rows["trafo"][:][m], rows["max_loading_percent"][:][m], strict=True))
        assert np.allclose([d[idx.index(t), 0] for t in mx], list(mx.values()))
        assert f["ev/profile/p_kw"].shape[:2] == (2, 2 * 96)
    assert png.stat().st_size > 10_000


def test_batch_analyses_write_their_groups_and_return_key_figures(tmp_path):
    from gridplan.errors import CaseError
    from gridplan.model.cases import load_case
    from gridplan.results import ResultWriter
    from gridplan.studies.ev.batch import ANALYSES

    net = load_case("tianjin-ecocity")
    base = {"scenario": "ev-tianjin-ecocity", "policies": "uncontrolled,valley"}
    options = {
        "ev_profile": {**base, "days": 2},
        "ev_impact": {**base, "days": 1},
        "ev_hosting": {**base, "days": 1, "seeds": 1, "only": ["Community T1 10/0.4kV"]},
    }
    out = tmp_path / "b.h5"
    figures = {}
    with ResultWriter(out, case_name="tianjin-ecocity") as w:
        for name, fn in ANALYSES.items():
            figures[name] = fn(net, options[name], w)
    assert figures["ev_profile"]["ev_vehicles"] == 172
    assert figures["ev_impact"]["ev_trafo_max_loading_percent_valley"] > 0
    assert figures["ev_hosting"]["ev_hosting_min_count_uncontrolled"] > 0
    with h5py.File(out) as f:
        assert {"profile", "impact", "hosting"} <= set(f["ev"])
    with pytest.raises(CaseError, match="unknown option"):
        ANALYSES["ev_profile"](net, {**base, "dayz": 2}, None)
