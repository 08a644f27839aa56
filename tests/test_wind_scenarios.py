"""Bundled wind scenarios and the batch study functions."""

from __future__ import annotations

import pytest

import gridplan
from gridplan import seeds
from gridplan.errors import CaseError
from gridplan.model.wind import bundled_scenarios, read_farms, read_scenario, scenario_path
from gridplan.results import ResultWriter, read_table
from gridplan.studies.wind.batch import (
    STUDIES,
    credit_study,
    hosting_study,
    power_study,
    year_study,
)


def test_bundled_scenarios_exist() -> None:
    assert {"wind-test-centre", "uhv-backbone"} <= set(bundled_scenarios())


def test_test_centre_scenario_is_the_plans_30_turbines() -> None:
    net = gridplan.load_case("wind-test-centre")
    farms = read_farms(scenario_path("wind-test-centre"))
    assert len(farms) == seeds.get("wind.test_centre_turbines") == 30
    assert sum(f.installed_mw for f in farms) == pytest.approx(
        seeds.get("wind.test_centre_wind_mw")
    )
    for f in farms:  # each farm is one of the case's turbines, with its rating
        assert net.sgen.at[f.sgen, "type"] == "WP"
        assert f.installed_mw == pytest.approx(net.sgen.at[f.sgen, "rated_mw"])


def test_uhv_scenario_is_20_gw_in_the_west() -> None:
    net = gridplan.load_case("uhv-backbone")
    doc = read_scenario("uhv-backbone")
    farms = read_farms(doc["_path"])
    assert sum(f.installed_mw for f in farms) == pytest.approx(
        1000 * seeds.get("wind.integration_target_gw")
    )
    for f in farms:
        assert (
            net.bus.at[f.bus, "region"] in ("SX", "SC", "NX")
            and net.bus.at[f.bus, "vn_kv"] == 500.0
        )
    for b in str(doc["hosting"]["buses"]).split(","):
        assert net.bus.at[int(b), "region"] in ("SX", "SC", "NX")


def test_batch_studies_on_the_test_centre(tmp_path) -> None:
    net = gridplan.load_case("wind-test-centre")
    out = tmp_path / "tc.h5"
    with ResultWriter(out, case_name="wind-test-centre") as w:
        p = power_study(net, None, w)
        h = hosting_study(net, {"hosting": {"buses": "2,61", "n1": False}}, w)
        y = year_study(net, {"year": {"ac_check": False}}, w)
        c = credit_study(net, None, w)
    assert p["wind_farms"] == 30 and p["wind_installed_mw"] == pytest.approx(78.0)
    assert 0.15 < p["wind_capacity_factor"] < 0.45
    assert h["hosting_buses"] == 2 and h["hosting_min_mw"] > 0
    assert y["wind_year_available_mwh"] == pytest.approx(p["wind_energy_mwh"])
    assert c == {}  # an unlimited 110 kV infeed: no capacity credit to compute
    assert len(read_table(out, "wind/hosting")) == 2
    assert len(read_table(out, "wind/year/farms")) == 30
    assert set(STUDIES) == {"wind_power", "wind_hosting", "wind_year", "wind_credit"}


def test_batch_studies_skip_cases_without_a_scenario(tmp_path) -> None:
    net = gridplan.load_case("case9")
    with ResultWriter(tmp_path / "c9.h5") as w:
        assert all(fn(net, None, w) == {} for fn in STUDIES.values())


def test_batch_options_are_checked(tmp_path) -> None:
    net = gridplan.load_case("wind-test-centre")
    with ResultWriter(tmp_path / "x.h5") as w:
        with pytest.raises(CaseError, match="unknown key"):
            power_study(net, {"sceanrio": "x"}, w)
        with pytest.raises(CaseError, match=r"wind hosting options: unknown key\(s\) nl"):
            hosting_study(net, {"hosting": {"nl": True}}, w)
