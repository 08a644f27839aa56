"""Distribution reliability against published test systems (folders in tests/validation/).

Every folder holding a ``network.json`` is a distribution test system: the net is built from
that data as a pandapower net following docs/reliability-data.md, evaluated with
``gridplan.studies.reliability``, and compared with the folder's expected results (tolerances
and sources are in the folder: ``expected_system.json``, ``expected_load_points.csv``, README).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandapower as pp
import pytest

from gridplan.studies.reliability import run_reliability

VALIDATION = Path(__file__).parent / "validation"
DISTRIBUTION_CASES = sorted(p.parent for p in VALIDATION.glob("*/network.json"))


def build_rbts_net(folder: Path) -> pp.pandapowerNet:
    """A pandapower net of a radial test system described by ``folder/network.json``.

    Sections become lines (device switches at their upstream end), each load point with a
    transformer gets an MV/LV transformer and an LV bus; ties are open bus-bus switches.
    """
    d = json.loads((folder / "network.json").read_text())
    net = pp.create_empty_network(name=d["name"])
    buses: dict[str, int] = {}
    feeder_of: dict[str, str] = {}
    cols = d["sections_columns"]
    sections = [dict(zip(cols, s, strict=True)) for s in d["sections"]]
    for s in sections:
        feeder_of.setdefault(s["to"], s["feeder"])
        feeder_of.setdefault(s["from"], s["feeder"])

    def bus(name: str, vn: float) -> int:
        if name not in buses:
            buses[name] = pp.create_bus(net, vn_kv=vn, name=name)
        return buses[name]

    bus("S", d["vn_kv"])
    pp.create_ext_grid(net, buses["S"])
    lengths = {int(k): v for k, v in d["section_length_km"].items()}
    for s in sections:
        fb = bus(s["from"], d["vn_kv"])
        tb = bus(s["to"], d["vn_kv"])
        line = pp.create_line_from_parameters(
            net,
            fb,
            tb,
            length_km=lengths[s["length_type"]],
            r_ohm_per_km=0.3,
            x_ohm_per_km=0.35,
            c_nf_per_km=10.0,
            max_i_ka=1.0,
            name=f"section {s['section']}",
        )
        net.line.loc[line, "failure_rate_per_km_year"] = d["line_failure_rate_per_km_year"]
        net.line.loc[line, "repair_time_h"] = d["line_repair_time_h"]
        kind = {"breaker": "CB", "fuse": "LBS", "disconnector": "DS"}[s["device_at_from"]]
        sw = pp.create_switch(net, fb, line, et="l", closed=True, type=kind)
        net.switch.loc[sw, "device"] = s["device_at_from"]
        net.switch.loc[sw, "switching_time_h"] = d["switching_time_h"]
    for a, b in d["ties"]:
        sw = pp.create_switch(net, buses[a], buses[b], et="b", closed=False, type="LBS")
        net.switch.loc[sw, "device"] = "tie"
        net.switch.loc[sw, "switching_time_h"] = d["switching_time_h"]
    lcols = d["load_points_columns"]
    for row in d["load_points"]:
        lp = dict(zip(lcols, row, strict=True))
        at = buses[lp["load_point"]]
        if lp["transformer"]:
            lv = bus(lp["load_point"] + "_lv", d["lv_kv"])
            t = pp.create_transformer_from_parameters(
                net,
                at,
                lv,
                sn_mva=2.0,
                vn_hv_kv=d["vn_kv"],
                vn_lv_kv=d["lv_kv"],
                vkr_percent=1.0,
                vk_percent=6.0,
                pfe_kw=0.0,
                i0_percent=0.0,
            )
            net.trafo.loc[t, "failure_rate_per_year"] = d["trafo_failure_rate_per_year"]
            net.trafo.loc[t, "repair_time_h"] = d["trafo_repair_time_h"]
            at = lv
        ld = pp.create_load(net, at, p_mw=lp["p_peak_mw"], name=lp["load_point"])
        net.load.loc[ld, "customers"] = lp["customers"]
        net.load.loc[ld, "p_avg_mw"] = lp["p_avg_mw"]
        net.load.loc[ld, "reliability_class"] = "urban"
    net.bus["feeder"] = [feeder_of.get(n.removesuffix("_lv"), "") for n in net.bus.name]
    return net


@pytest.fixture(scope="module", params=DISTRIBUTION_CASES, ids=lambda p: p.name)
def case(request: pytest.FixtureRequest) -> tuple[Path, object]:
    folder = request.param
    return folder, run_reliability(build_rbts_net(folder), case_name=folder.name)


def test_validation_folders_found() -> None:
    # the discovery must see the RBTS folder; an empty glob would make the tests below vanish
    assert "rbts_bus2" in [p.name for p in DISTRIBUTION_CASES]


def test_load_point_indices_match_reference(case: tuple[Path, object]) -> None:
    folder, res = case
    exp = {r["load_point"]: r for r in csv.DictReader(open(folder / "expected_load_points.csv"))}
    tol = json.loads((folder / "expected_system.json").read_text())["load_point_rtol"]
    lp = res.load_points.set_index("name")
    assert sorted(lp.index) == sorted(exp)
    for name, row in exp.items():
        for col in (
            "failure_rate_per_year",
            "outage_duration_h",
            "unavailability_h_per_year",
            "ens_mwh_per_year",
        ):
            assert lp.at[name, col] == pytest.approx(float(row[col]), rel=tol), (name, col)


def test_system_indices_match_published(case: tuple[Path, object]) -> None:
    folder, res = case
    exp = json.loads((folder / "expected_system.json").read_text())
    sysrow = res.system.iloc[0]
    for key, value in exp["published"].items():
        assert sysrow[key] == pytest.approx(value, rel=exp["rtol"][key]), key


def test_feeder_indices_sum_to_system(case: tuple[Path, object]) -> None:
    # customer-weighted feeder SAIDI must add up to the system SAIDI (same load points)
    _, res = case
    f = res.feeders
    saidi = np.dot(f.saidi_h_per_year, f.customers) / f.customers.sum()
    assert saidi == pytest.approx(res.system.iloc[0].saidi_h_per_year, rel=1e-12)
    assert f.ens_mwh_per_year.sum() == pytest.approx(res.system.iloc[0].ens_mwh_per_year)
