"""Adequacy study on pandapower nets: HL-I from generator columns, HL-II Monte Carlo, CLI.

References: the IEEE RTS-79 published HL-I indices (tests/validation/ieee_rts79), a hand
calculation for a two-line transfer, and the analytical HL-I result for an HL-II run on a
network that cannot constrain anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandapower as pp
import pandas as pd
import pytest
from click.testing import CliRunner

from gridplan.cli import cli
from gridplan.core.adequacy import build_copt, loss_of_load
from gridplan.core.rel_composite import CompositeSystem, sample_composite
from gridplan.results import read_table
from gridplan.studies.adequacy import run_adequacy

RTS = Path(__file__).parent / "validation" / "ieee_rts79"


def _within(ci: tuple[float, float], exact: float, k: float = 3.5) -> bool:
    """``exact`` within ``k`` standard errors of the estimate whose 95 % CI is ``ci``: a
    correct estimator fails this with probability 5e-4 (the seeds are fixed anyway)."""
    mid, se = (ci[0] + ci[1]) / 2, (ci[1] - ci[0]) / (2 * 1.959963984540054)
    return abs(mid - exact) <= k * se


def rts_single_bus() -> pp.pandapowerNet:
    """The 32 RTS-79 units (Table 6 data in gen columns) and a 2850 MW load on one bus."""
    net = pp.create_empty_network()
    b = pp.create_bus(net, 230.0)
    pp.create_ext_grid(net, b)
    u = pd.read_csv(RTS / "units.csv")
    for _, r in u.iterrows():
        for _ in range(int(r["count"])):
            g = pp.create_gen(net, b, p_mw=0.0, max_p_mw=float(r.capacity_mw))
            net.gen.loc[g, "mttf_h"] = float(r.mttf_h)
            net.gen.loc[g, "mttr_h"] = float(r.mttr_h)
    pp.create_load(net, b, p_mw=2850.0)
    return net


def test_rts79_from_net_columns_matches_published() -> None:
    # FOR from MTTF/MTTR (Table 6) equals the tabulated FOR to 2 digits; tolerance 1 %
    exp = json.loads((RTS / "expected.json").read_text())
    res = run_adequacy(rts_single_bus(), case_name="rts")
    i = res.indices.iloc[0]
    assert i.installed_mw == 3405
    assert i.lole_h_per_year == pytest.approx(exp["hourly"]["lole_h_per_year"], rel=0.01)
    assert i.eens_mwh_per_year == pytest.approx(exp["hourly"]["eens_mwh_per_year"], rel=0.01)
    assert i.lole_d_per_year == pytest.approx(exp["daily_peak"]["lole_d_per_year"], rel=0.01)


def test_units_without_data_take_rts_class_defaults() -> None:
    net = rts_single_bus()
    net.gen.drop(columns=["mttf_h", "mttr_h"], inplace=True)
    res = run_adequacy(net, case_name="rts")
    u = res.units
    assert u.loc[u.capacity_mw == 400, "forced_outage_rate"].eq(0.12).all()
    assert u.loc[u.capacity_mw == 20, "forced_outage_rate"].eq(0.10).all()
    exp = json.loads((RTS / "expected.json").read_text())
    assert res.indices.iloc[0].lole_h_per_year == pytest.approx(
        exp["hourly"]["lole_h_per_year"], rel=0.01
    )


def test_hl2_two_parallel_lines_hand_calculation() -> None:
    # bus 0: a perfectly reliable 200 MW unit; bus 1: 100 MW load; two lines of 60 MW each,
    # unavailability q. Curtailment: 0 (both up), 40 MW (one up), 100 MW (none).
    q = 0.2
    s = CompositeSystem(
        n_bus=2,
        br_from=np.array([0, 0]),
        br_to=np.array([1, 1]),
        br_b_pu=np.array([10.0, 10.0]),
        br_rating_mw=np.array([60.0, 60.0]),
        br_unavailability=np.array([q, q]),
        gen_bus=np.array([0]),
        gen_capacity_mw=np.array([200.0]),
        gen_unavailability=np.array([0.0]),
        load_mw=np.array([0.0, 100.0]),
    )
    r = sample_composite(
        s,
        np.ones(1),
        np.random.default_rng(3),
        target_cov=0.01,
        max_samples=100000,
        hours_per_year=8760.0,
    )
    eens = (2 * q * (1 - q) * 40 + q * q * 100) * 8760
    lole = (1 - (1 - q) ** 2) * 8760
    assert r.lp_failed == 0
    assert _within(r.eens_ci95_mwh_per_year, eens)
    assert _within(r.lole_ci95_h_per_year, lole)
    # all curtailment is at the load bus
    assert r.bus_eens_mwh_per_year[0] == 0.0


def test_hl2_on_unconstrained_network_equals_hl1() -> None:
    # 8 units on three buses joined by reliable, unlimited lines: HL-II must estimate the
    # analytical HL-I EENS/LOLE of a flat load (within 3.5 standard errors)
    cap = np.array([40.0, 40.0, 30.0, 30.0, 20.0, 20.0, 10.0, 10.0])
    q = np.array([0.05, 0.05, 0.04, 0.04, 0.03, 0.03, 0.02, 0.02])
    load = 170.0
    s = CompositeSystem(
        n_bus=3,
        br_from=np.array([0, 1]),
        br_to=np.array([1, 2]),
        br_b_pu=np.array([5.0, 5.0]),
        br_rating_mw=np.array([np.inf, np.inf]),
        br_unavailability=np.zeros(2),
        gen_bus=np.array([0, 0, 1, 1, 2, 2, 0, 1]),
        gen_capacity_mw=cap,
        gen_unavailability=q,
        load_mw=np.array([50.0, 60.0, 60.0]),
    )
    hl1 = loss_of_load(build_copt(cap, q, step_mw=10.0), np.array([load]))
    r = sample_composite(
        s,
        np.ones(1),
        np.random.default_rng(7),
        target_cov=0.02,
        max_samples=200000,
        hours_per_year=8760.0,
    )
    assert _within(r.eens_ci95_mwh_per_year, hl1.eens_mwh * 8760)
    assert _within(r.lole_ci95_h_per_year, hl1.lole * 8760)
    assert r.bus_eens_mwh_per_year.sum() == pytest.approx(r.eens_mwh_per_year, rel=1e-9)


def test_cli_adequacy_with_composite(tmp_path: Path) -> None:
    case = tmp_path / "rts.json"
    pp.to_json(rts_single_bus(), str(case))
    out = tmp_path / "a.h5"
    r = CliRunner().invoke(
        cli, ["adequacy", str(case), "--composite", "--max-samples", "3000", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "HL-I" in r.output and "HL-II" in r.output
    ind = read_table(out, "adequacy/indices")
    assert ind.lole_h_per_year.iloc[0] == pytest.approx(9.39418, rel=0.01)
    assert read_table(out, "adequacy/composite").samples.iloc[0] == 3000


def test_pandapower_rts24_case_reproduces_published_hl1() -> None:
    # pandapower's case24_ieee_rts holds the 32 RTS units (gen, sgen and the ext_grid with
    # max_p_mw); without outage columns each takes its RTS-79 class data (Table 6)
    import pandapower.networks as pn

    exp = json.loads((RTS / "expected.json").read_text())
    res = run_adequacy(pn.case24_ieee_rts(), include_ext_grid=True)
    i = res.indices.iloc[0]
    assert len(res.units) == 32 and i.installed_mw == 3405
    assert i.lole_h_per_year == pytest.approx(exp["hourly"]["lole_h_per_year"], rel=0.01)
    assert i.eens_mwh_per_year == pytest.approx(exp["hourly"]["eens_mwh_per_year"], rel=0.01)


def test_derated_unit_from_net_columns() -> None:
    # a 100 MW unit with FOR 0.02 and a derated state (50 MW lost, p 0.1) plus a reliable-ish
    # 60 MW unit, flat 120 MW load: hand LOLP = P(avail < 120) enumerated over the states
    net = pp.create_empty_network()
    b = pp.create_bus(net, 110.0)
    pp.create_ext_grid(net, b)
    g = pp.create_gen(net, b, p_mw=0.0, max_p_mw=100.0)
    net.gen.loc[g, ["forced_outage_rate", "mttr_h", "derated_outage_mw", "derated_probability"]] = [
        0.02,
        50.0,
        50.0,
        0.1,
    ]
    g2 = pp.create_gen(net, b, p_mw=0.0, max_p_mw=60.0)
    net.gen.loc[g2, ["forced_outage_rate", "mttr_h"]] = [0.05, 40.0]
    pp.create_load(net, b, p_mw=120.0)
    res = run_adequacy(net, load_model="flat")
    states_a = [(100.0, 0.88), (50.0, 0.10), (0.0, 0.02)]
    states_b = [(60.0, 0.95), (0.0, 0.05)]
    lolp = sum(pa * pb for ca, pa in states_a for cb, pb in states_b if ca + cb < 120.0)
    eens = sum(pa * pb * max(0.0, 120.0 - ca - cb) for ca, pa in states_a for cb, pb in states_b)
    i = res.indices.iloc[0]
    assert i.lolp == pytest.approx(lolp, rel=1e-12)
    assert i.lole_h_per_year == pytest.approx(lolp * 8760, rel=1e-12)
    assert i.eens_mwh_per_year == pytest.approx(eens * 8760, rel=1e-12)
    assert np.isnan(i.lolf_per_year)  # frequencies are not tracked with multi-state units


def test_hl2_dc_link_between_ac_islands() -> None:
    # bus 0 (100 MW reliable unit) and bus 1 (80 MW load) are joined only by a 60 MW DC link
    # with unavailability q: curtailment 20 MW with the link, 80 MW without
    q = 0.1
    s = CompositeSystem(
        n_bus=2,
        br_from=np.zeros(0, np.int64),
        br_to=np.zeros(0, np.int64),
        br_b_pu=np.zeros(0),
        br_rating_mw=np.zeros(0),
        br_unavailability=np.zeros(0),
        gen_bus=np.array([0]),
        gen_capacity_mw=np.array([100.0]),
        gen_unavailability=np.array([0.0]),
        load_mw=np.array([0.0, 80.0]),
        dc_from=np.array([0]),
        dc_to=np.array([1]),
        dc_max_mw=np.array([60.0]),
        dc_unavailability=np.array([q]),
        dc_sched_mw=np.array([60.0]),
    )
    r = sample_composite(
        s,
        np.ones(1),
        np.random.default_rng(5),
        target_cov=0.005,
        max_samples=50000,
        hours_per_year=8760.0,
    )
    assert r.lp_failed == 0
    assert _within(r.eens_ci95_mwh_per_year, ((1 - q) * 20 + q * 80) * 8760)
    assert r.lole_h_per_year == pytest.approx(8760)  # 20 MW short in every hour


def test_auto_step_for_small_units() -> None:
    from gridplan.studies.adequacy import auto_step_mw

    assert auto_step_mw(np.array([12.0, 400.0])) == 1.0
    assert auto_step_mw(np.array([0.021, 0.5])) == pytest.approx(0.001)


def test_hl2_screen_agrees_with_lp(monkeypatch: pytest.MonkeyPatch) -> None:
    # the no-LP screen (pro-rata dispatch checked on the intact or outaged network) must only
    # skip states whose optimal curtailment is zero: with the same seed, the run with the screen
    # and the run solving an LP for every state must give identical curtailment sums
    import dataclasses

    import pandapower.networks as pn

    from gridplan.core import rel_composite as rc
    from gridplan.model.reliability_data import ReliabilityDefaults, generating_units
    from gridplan.studies.adequacy import _composite_system

    net = pn.case24_ieee_rts()
    s = _composite_system(
        net, generating_units(net, include_ext_grid=True), ReliabilityDefaults(), True
    )
    # more outages than real data so the screen sees 1-3 branch outages often
    s = dataclasses.replace(
        s, br_unavailability=np.full(len(s.br_from), 0.04), load_mw=s.load_mw * 0.9
    )
    a = rc.sample_composite(
        s, np.ones(1), np.random.default_rng(11), target_cov=0.0, max_samples=300, min_samples=300
    )
    monkeypatch.setattr(rc, "_ptdf_all_up", lambda _s: None)
    b = rc.sample_composite(
        s, np.ones(1), np.random.default_rng(11), target_cov=0.0, max_samples=300, min_samples=300
    )
    assert b.lp_solved > a.lp_solved  # the screen did skip LPs
    assert a.eens_mwh_per_year == pytest.approx(b.eens_mwh_per_year, rel=1e-9, abs=1e-9)
    assert a.lole_h_per_year == b.lole_h_per_year
