"""EV scenario files: bad input gives one line naming the file, the key and what is wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gridplan.errors import CaseError
from gridplan.model.cases import load_case
from gridplan.model.ev_scenario import bundled_scenarios, read_scenario

GOOD = """
[scenario]
case = "tianjin-ecocity"
include = ["ev-defaults"]

[[fleet]]
bus = 21
vehicle = "private_car"
location = "home"
count = 5
"""


@pytest.fixture(scope="module")
def tianjin():
    return load_case("tianjin-ecocity")


def scenario(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.toml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("change", "key", "what"),
    [
        (
            ("bus = 21", "bus = 999"),
            "fleet[0].bus",
            "bus 999, which is not a bus of case tianjin-ecocity",
        ),
        (
            ("count = 5", "count = 5\n[vehicles.private_car]\nbattery_kwh = -50.0"),
            "vehicles.private_car.battery_kwh",
            "must be > 0, got -50.0",
        ),
        (
            ("count = 5", 'count = 5\ncharger = "hyper_350"'),
            "fleet[0].charger",
            "charger class 'hyper_350', which does not exist",
        ),
        (
            (
                "count = 5",
                "count = 5\n[locations.home]\nweekday = [{ arrival_h = 18.0, dwell_h = 30.0 }]",
            ),
            "locations.home.weekday[0].dwell_h",
            "must not exceed 24 h (stays longer than a day are only allowed where the location "
            "sets multi_day = true), got up to 30 h",
        ),
        (
            ("count = 5", 'count = 5\n[chargers.home_ac_7]\nkind = "plasma"'),
            "chargers.home_ac_7.kind",
            "must be one of ac, dc, swap, got 'plasma'",
        ),
    ],
)
def test_bad_scenario_one_line_with_file_key_and_problem(tmp_path, cli, change, key, what):
    text = GOOD.replace(*change)
    if "bus 999" not in what:  # only the unknown bus needs the case (loading it takes seconds)
        text = text.replace('case = "tianjin-ecocity"\n', "")
    path = scenario(tmp_path, text)
    res = cli("ev", "profile", str(path), "--days", "1")
    assert res.code == 2
    lines = [ln for ln in res.err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in res.err
    assert str(path) in lines[0] and key in lines[0] and what in lines[0], lines[0]


def test_dwell_over_a_day_is_allowed_where_the_location_says_so(tmp_path, tianjin):
    text = GOOD + (
        "[locations.home]\nmulti_day = true\n"
        "weekday = [{ arrival_h = 18.0, dwell_h = { dist = 'uniform', min = 10.0, max = 60.0 } }]\n"
    )
    sc = read_scenario(scenario(tmp_path, text), tianjin)
    assert sc.locations["home"].multi_day


def test_every_problem_is_reported_at_once(tmp_path, tianjin):
    text = GOOD.replace("bus = 21", "bus = 999").replace(
        'location = "home"', 'location = "nowhere"'
    )
    text += "[vehicles.private_car]\nbattery_kwh = 0\n"
    with pytest.raises(CaseError) as err:
        read_scenario(scenario(tmp_path, text), tianjin)
    msg = str(err.value)
    assert "fleet[0].bus" in msg and "fleet[0].location" in msg and "battery_kwh" in msg
    assert "\n" not in msg


def test_misspelled_keys_are_errors_not_ignored(tmp_path):
    text = GOOD.replace("count = 5", "count = 5\nadoptoin = 0.2")
    with pytest.raises(CaseError, match=r"fleet\[0\]\.adoptoin is not a known key"):
        read_scenario(scenario(tmp_path, text))


def test_adoption_share_of_the_customers_at_each_bus(tianjin):
    net = tianjin
    sc = read_scenario("ev-tianjin-ecocity", net)
    home = [r for r in sc.rows if r.location == "home"]
    households = net.load[net.load.kind == "residential"].groupby("bus").customers.sum()
    assert sum(r.count for r in home) == round(0.125 * 655)
    for r in home:
        assert abs(r.count - 0.125 * households[r.bus]) < 1.0


def test_bundled_scenarios_read_against_their_case(tianjin):
    names = bundled_scenarios()
    assert {
        "ev-tianjin-ecocity",
        "ev-tianjin-ecocity-7x",
        "ev-public-fujian",
        "ev-public-tianjin",
    } <= set(names)
    for name in names:
        text = names[name].read_text(encoding="utf-8")
        net = tianjin if 'case = "tianjin-ecocity"' in text else None
        sc = read_scenario(name, net)
        assert sc.n_vehicles > 0
