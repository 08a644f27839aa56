"""EV hosting capacity: a feeder built so that the first violation is known by construction."""

from __future__ import annotations

import textwrap

import h5py
import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from gridplan.model.ev_scenario import read_scenario
from gridplan.studies.ev.hosting import run_hosting

S_MVA, BASE_MW, P_KW = 0.4, 0.1935, 7.0  # (400 - 193.5) / 7 = 29.5 vehicles fill the rating

SCENARIO = """
[scenario]
include = ["ev-defaults"]
start = 2025-07-07

[chargers.wallbox]
kind = "ac"
power_kw = 7.0
efficiency = 0.93
power_factor = 1.0

[vehicles.car]
battery_kwh = 50.0
consumption_kwh_per_km = 0.2
distance_km = 20.0

[locations.home]
kind = "home"
charger = "wallbox"
plug_probability = 1.0
weekday = [{ arrival_h = 18.0, dwell_h = 10.0 }]

[hosting]
candidates = "customers"
vehicle = "car"
location = "home"
max_count = 60
"""


def feeder() -> pp.pandapowerNet:
    """10/0.4 kV transformer of 400 kVA (vk 1 %, vkr 0.5 %) with a 193.5 kW base load (pf 1)."""
    net = pp.create_empty_network(name="test-feeder")
    hv = pp.create_bus(net, 10.0, name="MV", feeder="SS")
    lv = pp.create_bus(net, 0.4, name="LV", feeder="F1")
    pp.create_ext_grid(net, hv, vm_pu=1.0)
    pp.create_transformer_from_parameters(
        net,
        hv,
        lv,
        sn_mva=S_MVA,
        vn_hv_kv=10.0,
        vn_lv_kv=0.4,
        vkr_percent=0.5,
        vk_percent=1.0,
        pfe_kw=0.0,
        i0_percent=0.0,
        name="T",
    )
    pp.create_load(net, lv, p_mw=BASE_MW, q_mvar=0.0, name="base", customers=100)
    return net


def loading_with(n: int) -> float:
    net = feeder()
    pp.create_load(net, 1, p_mw=n * P_KW / 1000.0, q_mvar=0.0)
    pp.runpp(net, tolerance_mva=1e-10, numba=False)
    return float(net.res_trafo.loading_percent[0])


def test_hosting_count_is_the_constructed_one(tmp_path):
    # by construction: n EVs of 7 kW all charging from 18:00 on a 400 kVA transformer with a
    # 193.5 kW base load; the count is floor((400 - 193.5) / 7) = 29, and pandapower's runpp
    # confirms 29 fit and 30 do not (the small impedance moves loading by < 0.5 %)
    expected = int((S_MVA - BASE_MW) * 1000.0 // P_KW)
    assert expected == 29
    fits, breaks = loading_with(expected), loading_with(expected + 1)
    assert fits < 100.0 < breaks
    path = tmp_path / "h.toml"
    path.write_text(textwrap.dedent(SCENARIO), encoding="utf-8")
    net = feeder()
    sc = read_scenario(path, net)
    index = pd.date_range("2025-07-07", periods=2 * 96, freq="15min")
    base = pd.DataFrame({"load.0.p_mw": BASE_MW, "load.0.q_mvar": 0.0}, index=index)
    r = run_hosting(
        net,
        sc,
        days=2,
        seeds=3,
        policies=["uncontrolled"],
        base_profiles=base,
        kinds=("feeder", "trafo"),
    )
    assert set(r.results.target) == {"F1", "T"}
    for _, row in r.results.iterrows():
        assert row.hosting_count == expected
        assert row.limit_element == "trafo 0" and row.limit_quantity == "loading_percent"
        assert row.limit_value == pytest.approx(breaks, abs=1e-6)
        assert row.limit_time == pd.Timestamp("2025-07-07 18:00")
        assert row.hosting_share == pytest.approx(expected / 100)
    assert (r.seeds.hosting_count == expected).all()


def test_hosting_command_writes_results(cli, tmp_path):
    out = tmp_path / "h.h5"
    res = cli(
        "ev",
        "hosting",
        "tianjin-ecocity",
        "--scenario",
        "ev-tianjin-ecocity",
        "--days",
        "1",
        "--seeds",
        "2",
        "--policies",
        "uncontrolled,valley",
        "--target",
        "Community T1 10/0.4kV",
        "--out",
        str(out),
    )
    assert res.code == 0, res.err
    assert "Community T1 10/0.4kV" in res.out
    with h5py.File(out) as f:
        assert f["ev/hosting"].attrs["seeds"] == 2
        assert f["ev/hosting/results/hosting_count"].shape == (2,)
        assert f["ev/hosting/seeds/hosting_count"].shape == (4,)
        counts = dict(
            zip(
                f["ev/hosting/results/policy"].asstr()[:],
                f["ev/hosting/results/hosting_count"][:],
                strict=True,
            )
        )
    # valley filling hosts more cars on the community transformer than uncontrolled charging
    assert counts["valley"] > 2 * counts["uncontrolled"] > 0


def test_prefix_fleets_from_one_simulation_equal_simulating_them(tmp_path):
    # hosting rebuilds the profile of the first n vehicles from the sessions of the largest
    # fleet when vehicles do not interact; it must equal simulating n vehicles
    from gridplan.core import ev_fleet as fl
    from gridplan.model.ev_scenario import build_arrays
    from gridplan.studies.ev.hosting import _FleetRun

    path = tmp_path / "h.toml"
    path.write_text(
        textwrap.dedent(
            """
            [scenario]
            include = ["ev-defaults"]
            [[fleet]]
            buses = [1, 2, 3]
            vehicle = "private_car"
            location = "home"
            count = 90
            [[fleet]]
            bus = 3
            vehicle = "commuter_car"
            location = "work"
            count = 30
            """
        ),
        encoding="utf-8",
    )
    sc = read_scenario(path)
    order = np.random.default_rng(0).permutation(
        np.repeat(np.arange(len(sc.rows)), [r.count for r in sc.rows])
    )
    fa = build_arrays(sc, 9, vehicle_rows=order)
    for policy in ("uncontrolled", "tou", "balanced"):
        run = _FleetRun(fa, 4, policy, sc.tou, None, np.arange(fa.sites.n), fa.sites.n, True)
        for n in (0, 1, 17, 60, 120):
            direct = fl.simulate(
                fa.fleet,
                fa.sites,
                fa.calendar,
                4,
                policies=(policy,),
                tou=sc.tou,
                coincidence=False,
                n_active=n,
            )[0].profiles
            np.testing.assert_allclose(run.site_profiles(n), direct, rtol=0, atol=1e-9)
