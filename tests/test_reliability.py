"""Distribution reliability on small nets worked by hand (see the docstring of each net).

Reference values are hand calculations following the rules of gridplan.core.reliability
(protection, isolation, upstream and tie restoration); tolerances are round-off only.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandapower as pp
import pytest
from click.testing import CliRunner

from gridplan import seeds
from gridplan.cli import cli
from gridplan.errors import CaseError
from gridplan.model.reliability_data import ReliabilityDefaults, build_reliability_model
from gridplan.results import ResultWriter, read_table
from gridplan.studies.reliability import run_reliability, write_reliability

sys.path.insert(0, str(Path(__file__).parent))
from test_reliability_validation import build_rbts_net

RBTS = Path(__file__).parent / "validation" / "rbts_bus2"


def two_feeders(tie_max_i_ka: float = 1.0, breaker_failure: float = 0.0) -> pp.pandapowerNet:
    """Feeder 1: S -L0(breaker)- A -L1(disc)- B -L2(disc)- C, fused lateral L3 A->LA,
    unprotected lateral L4 B->LB. Feeder 2: S -L5(breaker)- D. Open tie C-D (0.5 h).
    Every line: 0.1 f/yr (1 km), repair 4 h; switching 1 h. Customers LA 100, LB 50, C 20,
    D 10; loads 1, 1, 2, 1 MW. ``tie_max_i_ka`` rates feeder 2's line L5 (10 kV).

    Hand calculation (unlimited capacity): LA lam 0.5, U 1.1; LB lam 0.4, U 1.0;
    C lam 0.4, U 0.7; D lam 0.1, U 0.4 (see test_hand_worked_two_feeders).
    """
    net = pp.create_empty_network()
    b = {n: pp.create_bus(net, 10.0, name=n) for n in ("S", "A", "B", "C", "LA", "LB", "D")}
    pp.create_ext_grid(net, b["S"])
    spec = [
        ("S", "A", "breaker"),
        ("A", "B", "disconnector"),
        ("B", "C", "disconnector"),
        ("A", "LA", "fuse"),
        ("B", "LB", None),
        ("S", "D", "breaker"),
    ]
    for k, (f, t, dev) in enumerate(spec):
        i_ka = tie_max_i_ka if k == 5 else 1.0
        ln = pp.create_line_from_parameters(net, b[f], b[t], 1.0, 0.2, 0.3, 10.0, i_ka)
        net.line.loc[ln, "failure_rate_per_km_year"] = 0.1
        net.line.loc[ln, "repair_time_h"] = 4.0
        if dev:
            sw = pp.create_switch(net, b[f], ln, et="l", type="CB" if dev == "breaker" else "DS")
            net.switch.loc[sw, "device"] = dev
            net.switch.loc[sw, "switching_time_h"] = 1.0
            if dev == "breaker":
                net.switch.loc[sw, "failure_rate_per_year"] = breaker_failure
                net.switch.loc[sw, "repair_time_h"] = 10.0
    tie = pp.create_switch(net, b["C"], b["D"], et="b", closed=False, type="LBS")
    net.switch.loc[tie, "device"] = "tie"
    net.switch.loc[tie, "switching_time_h"] = 0.5
    for n, cust, p in (("LA", 100, 1.0), ("LB", 50, 1.0), ("C", 20, 2.0), ("D", 10, 1.0)):
        ld = pp.create_load(net, b[n], p_mw=p, q_mvar=0.0, name=n)
        net.load.loc[ld, "customers"] = cust
        net.load.loc[ld, "p_avg_mw"] = p
    return net


def _lp(res, name: str, col: str) -> float:
    return float(res.load_points.set_index("name").at[name, col])


def test_hand_worked_two_feeders() -> None:
    res = run_reliability(two_feeders(), case_name="two")
    expected = {"LA": (0.5, 1.1), "LB": (0.4, 1.0), "C": (0.4, 0.7), "D": (0.1, 0.4)}
    for name, (lam, u) in expected.items():
        assert _lp(res, name, "failure_rate_per_year") == pytest.approx(lam, rel=1e-12)
        assert _lp(res, name, "unavailability_h_per_year") == pytest.approx(u, rel=1e-12)
    s = res.system.iloc[0]
    assert s.saifi_per_year == pytest.approx((100 * 0.5 + 50 * 0.4 + 20 * 0.4 + 10 * 0.1) / 180)
    assert s.saidi_h_per_year == pytest.approx((100 * 1.1 + 50 * 1.0 + 20 * 0.7 + 10 * 0.4) / 180)
    assert s.ens_mwh_per_year == pytest.approx(1.1 + 1.0 + 2 * 0.7 + 0.4)


def test_tie_transfer_needs_capacity() -> None:
    # L5 rated 0.15 kA at 10 kV = 2.598 MVA, carrying D's 1 MW: 1.598 MVA spare < C's 2 MW,
    # so nothing is transferred; C and LB wait for repairs (hand: LB U 1.3, C U 1.6)
    res = run_reliability(two_feeders(tie_max_i_ka=0.15))
    assert _lp(res, "LA", "unavailability_h_per_year") == pytest.approx(1.1)
    assert _lp(res, "LB", "unavailability_h_per_year") == pytest.approx(1.3)
    assert _lp(res, "C", "unavailability_h_per_year") == pytest.approx(1.6)


def test_breaker_active_failure_trips_the_supply_bus() -> None:
    # each breaker 0.01 f/yr, repair 10 h, switching 1 h: cleared upstream of the breaker (the
    # supply bus), so all four load points are interrupted by both breakers' failures
    # (+0.02 f/yr). The failed breaker is isolated in 1 h; the rest of the supply comes back
    # then, and the failed breaker's own feeder over the tie (max(1 h, 0.5 h) = 1 h):
    # +0.02 h/yr everywhere. Without the tie, feeder 1 waits the 10 h repair of its breaker.
    base = run_reliability(two_feeders())
    res = run_reliability(two_feeders(breaker_failure=0.01))
    for name in ("LA", "LB", "C", "D"):
        assert _lp(res, name, "failure_rate_per_year") - _lp(
            base, name, "failure_rate_per_year"
        ) == pytest.approx(0.02)
        assert _lp(res, name, "unavailability_h_per_year") - _lp(
            base, name, "unavailability_h_per_year"
        ) == pytest.approx(0.02)
    no_tie = two_feeders(breaker_failure=0.01)
    no_tie.switch.drop(index=no_tie.switch.index[no_tie.switch.device == "tie"], inplace=True)
    plain = two_feeders()
    plain.switch.drop(index=plain.switch.index[plain.switch.device == "tie"], inplace=True)
    d_u = _lp(run_reliability(no_tie), "LA", "unavailability_h_per_year") - _lp(
        run_reliability(plain), "LA", "unavailability_h_per_year"
    )
    assert d_u == pytest.approx(0.01 * 10.0 + 0.01 * 1.0)  # own breaker 10 h, feeder 2's 1 h


def test_what_if_fuse_on_unprotected_lateral() -> None:
    # fusing L4 stops its 0.1 f/yr from interrupting LA (100 customers) and C (20)
    res = run_reliability(two_feeders(), what_if=["fuse@line:4", "tie@bus:4-6"])
    row = res.what_if.loc["fuse@line:4"]
    assert row.delta_saifi_per_year == pytest.approx(-(100 * 0.1 + 20 * 0.1) / 180)
    # LA loses 0.1 h (restored upstream after 1 h), C loses 0.1 h (over the tie after 1 h)
    assert row.delta_saidi_min_per_year == pytest.approx(-60 * (100 * 0.1 + 20 * 0.1) / 180)
    # a tie from LA to D lets LA be restored in 1 h instead of 4 h after an L0 or L3 failure
    # (L3's fuse isolates LA's lateral from A only when the fault is upstream): L0 saves 0.3 h
    tie = res.what_if.loc["tie@bus:4-6"]
    assert tie.delta_saidi_min_per_year == pytest.approx(-60 * 100 * 0.1 * 3 / 180)


def test_what_if_refuses_bad_changes() -> None:
    with pytest.raises(CaseError, match="must look like"):
        run_reliability(two_feeders(), what_if=["sectionalizer line 3"])
    with pytest.raises(CaseError, match="already has a protective device"):
        run_reliability(two_feeders(), what_if=["sectionalizer@line:3"])


def test_verdict_margin_against_seed_targets() -> None:
    res = run_reliability(two_feeders())
    v = res.verdict.loc["system"]
    target = seeds.get("reliability_targets.urban_min_percent")
    saidi = res.system.iloc[0].saidi_h_per_year
    assert v.target_percent == target
    assert v.margin_min_per_year == pytest.approx(((1 - target / 100) * 8760 - saidi) * 60)
    assert bool(v.passed) == (100 * (1 - saidi / 8760) >= target)
    strict = run_reliability(two_feeders(), target=99.999)
    assert not strict.verdict.loc["system"].passed


def test_meshed_net_is_refused() -> None:
    net = two_feeders()
    net.switch.loc[net.switch.device == "tie", "closed"] = True
    with pytest.raises(CaseError, match="not radially operated"):
        run_reliability(net)


def test_unsupplied_load_and_bad_device_are_reported() -> None:
    net = two_feeders()
    net.switch.loc[0, "device"] = "magic"
    net.switch.loc[1, "switching_time_h"] = -1.0
    with pytest.raises(CaseError) as err:
        run_reliability(net)
    assert "magic" in str(err.value) and "switching_time_h" in str(err.value)
    net = two_feeders()
    pp.create_load(net, pp.create_bus(net, 10.0), p_mw=1.0)
    with pytest.raises(CaseError, match="not supplied"):
        run_reliability(net)


def test_defaults_fill_missing_columns(tmp_path: Path) -> None:
    net = two_feeders()
    net.line.drop(columns=["failure_rate_per_km_year", "repair_time_h"], inplace=True)
    m = build_reliability_model(net)
    d = ReliabilityDefaults()
    assert m.events.rate_per_year[m.event_label.index("line 0")] == pytest.approx(
        d.line_mv_overhead_failure_rate_per_km_year * 1.0
    )
    toml = tmp_path / "rel.toml"
    toml.write_text("[reliability]\nline_mv_overhead_repair_time_h = 7.5\n")
    m2 = build_reliability_model(net, ReliabilityDefaults.from_toml(toml))
    assert m2.events.repair_h[m2.event_label.index("line 0")] == 7.5
    toml.write_text("line_mv_overhed_repair_time_h = 7.5\n")
    with pytest.raises(CaseError, match="unknown key"):
        ReliabilityDefaults.from_toml(toml)


def test_monte_carlo_means_agree_with_analytical() -> None:
    # annual indices are unbiased estimators of the analytical ones; with 20,000 years the
    # mean must lie within 3.5 standard errors (a fixed seed keeps the test deterministic)
    res = run_reliability(build_rbts_net(RBTS), method="mc", years=20000, seed=1)
    for _, row in res.mc_summary.iterrows():
        assert abs(row["mean"] - row["analytical"]) <= 3.5 * row["std_error"]
    assert res.mc_summary.loc["saidi_h_per_year", "p95"] > res.system.iloc[0].saidi_h_per_year


def test_hdf5_round_trip(tmp_path: Path) -> None:
    res = run_reliability(
        two_feeders(), case_name="two", method="mc", years=200, what_if=["fuse@line:4"]
    )
    out = tmp_path / "r.h5"
    with ResultWriter(out, case_name="two") as w:
        write_reliability(w, res)
    lp = read_table(out, "reliability/load_points")
    assert np.allclose(lp.unavailability_h_per_year, res.load_points.unavailability_h_per_year)
    comp = read_table(out, "reliability/components")
    assert comp.saidi_h_per_year.sum() == pytest.approx(res.system.iloc[0].saidi_h_per_year)
    for name in ("feeders", "system", "verdict", "what_if", "mc_summary", "mc_years"):
        assert len(read_table(out, f"reliability/{name}")) > 0


def test_cli_report_plot_and_file(tmp_path: Path) -> None:
    case = tmp_path / "two.json"
    pp.to_json(two_feeders(), str(case))
    out, png = tmp_path / "r.h5", tmp_path / "saidi.png"
    r = CliRunner().invoke(
        cli,
        [
            "reliability",
            str(case),
            "--out",
            str(out),
            "--plot",
            str(png),
            "--what-if",
            "fuse@line:4",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "SAIDI" in r.output and ("PASS" in r.output or "FAIL" in r.output)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert math.isclose(
        read_table(out, "reliability/system").saidi_h_per_year.iloc[0],
        (100 * 1.1 + 50 * 1.0 + 20 * 0.7 + 10 * 0.4) / 180,
    )


def test_parallel_circuits_are_one_redundant_component() -> None:
    # two parallel 110 kV circuits S-A (0.5 f/yr, 10 h each; breakers 0.01 f/yr, restored by
    # switching in 1 h) feed a fused 10 kV line A-B (0.1 f/yr, 4 h) with the load at B.
    # Hand: both circuits out together lam = l1 l2 (r1 + r2) / 8760, r = r1 r2 / (r1 + r2).
    net = pp.create_empty_network()
    s, a = pp.create_bus(net, 110.0), pp.create_bus(net, 110.0)
    b = pp.create_bus(net, 110.0)
    pp.create_ext_grid(net, s)
    for _ in range(2):
        ln = pp.create_line_from_parameters(net, s, a, 10.0, 0.1, 0.4, 10.0, 0.5)
        net.line.loc[ln, "failure_rate_per_km_year"] = 0.05
        net.line.loc[ln, "repair_time_h"] = 10.0
        sw = pp.create_switch(net, s, ln, et="l", type="CB")
        net.switch.loc[sw, ["device", "switching_time_h", "failure_rate_per_year"]] = [
            "breaker",
            1.0,
            0.01,
        ]
    ln = pp.create_line_from_parameters(net, a, b, 1.0, 0.1, 0.4, 10.0, 0.5)
    net.line.loc[ln, ["failure_rate_per_km_year", "repair_time_h"]] = [0.1, 4.0]
    sw = pp.create_switch(net, a, ln, et="l", type="LBS")
    net.switch.loc[sw, "device"] = "fuse"
    pp.create_load(net, b, p_mw=5.0, name="B")
    res = run_reliability(net)
    lam_par = 0.5 * 0.5 * 20.0 / 8760
    assert _lp(res, "B", "failure_rate_per_year") == pytest.approx(0.1 + 0.02 + lam_par)
    assert _lp(res, "B", "unavailability_h_per_year") == pytest.approx(
        0.4 + 0.02 * 1.0 + lam_par * 5.0
    )
    assert "line 0 || line 1" in set(res.components.element)


def test_temporary_faults_recloser_or_sustained() -> None:
    # 0.5 temporary faults/yr on L1 (1 km). With the feeder breaker (no reclosing) each one
    # is a sustained outage of feeder 1 until re-closed by hand (switching time 1 h): LA, LB
    # and C get +0.5 f/yr and +0.5 h/yr. With a recloser instead they see 0.5 momentary
    # interruptions/yr and nothing sustained: MAIFI = (100 + 50 + 20) * 0.5 / 180.
    base = run_reliability(two_feeders())
    net = two_feeders()
    net.line["temporary_failure_rate_per_km_year"] = [0.0, 0.5, 0.0, 0.0, 0.0, 0.0]
    sus = run_reliability(net)
    for name in ("LA", "LB", "C"):
        for col, delta in (("failure_rate_per_year", 0.5), ("unavailability_h_per_year", 0.5)):
            assert _lp(sus, name, col) - _lp(base, name, col) == pytest.approx(delta)
    assert sus.system.iloc[0].maifi_per_year == 0.0
    net.switch.loc[(net.switch.et == "l") & (net.switch.element == 0), "device"] = "recloser"
    rec = run_reliability(net)
    for name in ("LA", "LB", "C"):
        assert _lp(rec, name, "unavailability_h_per_year") == pytest.approx(
            _lp(base, name, "unavailability_h_per_year")
        )
        assert _lp(rec, name, "momentary_per_year") == pytest.approx(0.5)
    assert _lp(rec, "D", "momentary_per_year") == 0.0
    assert rec.system.iloc[0].maifi_per_year == pytest.approx(170 * 0.5 / 180)
    net.switch.loc[(net.switch.et == "l") & (net.switch.element == 0), "device"] = "breaker"
    # a breaker with auto-reclosing acts like the recloser
    net.switch["auto_reclose"] = (net.switch.et == "l") & (net.switch.element == 0)
    auto = run_reliability(net)
    assert auto.system.iloc[0].maifi_per_year == pytest.approx(170 * 0.5 / 180)
    net.switch["auto_reclose"] = False
    wi = run_reliability(net, what_if=["recloser@line:0"]).what_if.loc["recloser@line:0"]
    assert wi.delta_maifi_per_year == pytest.approx(170 * 0.5 / 180)
    assert wi.delta_saidi_min_per_year == pytest.approx(-60 * 170 * 0.5 / 180)


def test_powerflow_transfer_check_blocks_low_voltage() -> None:
    # feeder 2's line gets 4 ohm/km: D alone (1 MW) stays near 0.96 pu, but taking over C
    # (2 MW more) or LB + C (3 MW) would pull the far end below 0.9 pu. The capacity test
    # (1 kA) lets the transfer pass; the power-flow check refuses it, so LB and C wait for
    # repairs as in test_tie_transfer_needs_capacity (hand: LB 1.3 h/yr, C 1.6 h/yr).
    net = two_feeders()
    net.line.loc[5, ["r_ohm_per_km", "x_ohm_per_km"]] = [4.0, 4.0]
    cap = run_reliability(net)
    assert _lp(cap, "C", "unavailability_h_per_year") == pytest.approx(0.7)
    pf = run_reliability(net, transfer_check="powerflow")
    assert _lp(pf, "LA", "unavailability_h_per_year") == pytest.approx(1.1)
    assert _lp(pf, "LB", "unavailability_h_per_year") == pytest.approx(1.3)
    assert _lp(pf, "C", "unavailability_h_per_year") == pytest.approx(1.6)
    # with the default strong line, the power flow accepts every transfer (hand values)
    ok = run_reliability(two_feeders(), transfer_check="powerflow")
    assert _lp(ok, "C", "unavailability_h_per_year") == pytest.approx(0.7)
    assert _lp(ok, "LB", "unavailability_h_per_year") == pytest.approx(1.0)


@pytest.mark.parametrize("case", ["tianjin-ecocity", "rural-feeder"])
def test_bundled_distribution_cases_evaluate_consistently(case: str) -> None:
    # the bundled cases follow docs/reliability-data.md: they must be radially operated and
    # their component contributions must add up to the system indices
    from gridplan.model.cases import load_case

    res = run_reliability(load_case(case), case_name=case)
    s = res.system.iloc[0]
    assert res.components.saidi_h_per_year.sum() == pytest.approx(s.saidi_h_per_year)
    assert res.components.ens_mwh_per_year.sum() == pytest.approx(s.ens_mwh_per_year)
    assert res.components.saifi_per_year.sum() == pytest.approx(s.saifi_per_year)
    lp = res.load_points
    assert (lp.unavailability_h_per_year >= 0).all() and (lp.failure_rate_per_year > 0).all()
    v = res.verdict.loc["system"]
    assert bool(v.passed) == (v.asai_percent >= v.target_percent)


def test_what_if_combined_changes_add_up_here() -> None:
    # fusing L4 and adding the LA-D tie touch disjoint outage effects in the hand example, so
    # the combined candidate's SAIDI change is the sum of the single ones
    res = run_reliability(
        two_feeders(), what_if=["fuse@line:4", "tie@bus:4-6", "fuse@line:4+tie@bus:4-6"]
    )
    w = res.what_if.delta_saidi_min_per_year
    assert w["fuse@line:4+tie@bus:4-6"] == pytest.approx(w["fuse@line:4"] + w["tie@bus:4-6"])
