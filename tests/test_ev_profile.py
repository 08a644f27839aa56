"""EV fleet Monte Carlo: energy balance, ratings, state of charge, swap racks, seeds, distances,
coincidence factor (issue 17 acceptance, profile part)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import special

from gridplan.core import ev_fleet as fl
from gridplan.model.ev_scenario import read_scenario
from gridplan.studies.ev.profile import run_profile

# Energies are sums of a few thousand sessions; each is exact to a few ulps, so the balance
# holds to ~1e-13 relative. 1e-9 is the tolerance.
REL = 1e-9

MIXED = """
[scenario]
name = "mixed"
include = ["ev-defaults"]
start = 2025-03-03

[[sites]]
bus = 2
charger = "dc_60"
points = 2

[[sites]]
bus = 3
charger = "swap_rack_60"
points = 3

[[sites]]
bus = 4
charger = "public_ac_7"
points = 5

[[fleet]]
bus = 1
vehicle = "private_car"
location = "home"
count = 300

[[fleet]]
bus = 1
vehicle = "commuter_car"
location = "work"
count = 60

[[fleet]]
bus = 2
vehicle = "taxi"
location = "taxi_dc"
count = 12

[[fleet]]
bus = 3
vehicle = "taxi"
location = "taxi_swap"
count = 30

[[fleet]]
bus = 4
vehicle = "private_car"
location = "public_ac"
count = 25

[[fleet]]
bus = 5
vehicle = "bus"
location = "bus_depot"
count = 8

[[fleet]]
bus = 6
vehicle = "logistics_van"
location = "van_depot"
count = 10

[[fleet]]
bus = 7
vehicle = "private_car"
location = "long_stay"
count = 10
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory):
    path = write(tmp_path_factory.mktemp("ev"), MIXED)
    sc = read_scenario(path)
    return run_profile(sc, days=21, seed=3, keep_sessions=True)


def test_every_vehicle_balances_energy_or_reports_the_shortfall(mixed):
    for p in mixed.policies:
        v = mixed.vehicles(p)
        # charged x efficiency + what is not recharged at the end = energy driven
        lhs = v.charged_kwh * v.efficiency + v.shortfall_kwh
        np.testing.assert_allclose(lhs, v.driven_kwh, rtol=REL, atol=1e-9)
        assert (v.shortfall_kwh >= 0).all()
        # the sessions' delivered energy, vehicle by vehicle, is what the vehicles were charged
        s = mixed.runs[p].sessions
        per_vehicle = np.bincount(s["vehicle"], s["delivered_kwh"], minlength=len(v))
        np.testing.assert_allclose(per_vehicle, v.charged_kwh, rtol=REL, atol=1e-9)
        # and the per-step site profiles carry exactly that energy
        prof = mixed.runs[p].profiles
        total = prof.sum() * mixed.dt_h
        assert total == pytest.approx(v.charged_kwh.sum(), rel=REL)
        site_energy = prof.sum(axis=1) * mixed.dt_h
        by_site = np.bincount(v.site, v.charged_kwh, minlength=len(mixed.sites))
        np.testing.assert_allclose(site_energy, by_site, rtol=REL, atol=1e-6)


def test_vehicles_that_always_charge_long_enough_get_all_their_energy(tmp_path):
    path = write(
        tmp_path,
        """
        [scenario]
        include = ["ev-defaults"]

        [locations.home]
        plug_probability = 1.0

        [[fleet]]
        bus = 1
        vehicle = "private_car"
        location = "home"
        count = 400
        """,
    )
    r = run_profile(read_scenario(path), days=14, seed=5, policies=["uncontrolled", "valley"])
    for p in r.policies:
        v = r.vehicles(p)
        # every evening the stay (>= 2 h at 7 kW) covers a day's driving: nothing missing
        assert (v.shortfall_kwh == 0).all() and (v.missed_kwh == 0).all()
        np.testing.assert_allclose(v.charged_kwh, v.driven_kwh / v.efficiency, rtol=REL)
        assert r.summary.loc[p, "unserved_km"] == 0


def test_no_charger_above_its_rating_in_any_step(mixed):
    sites = mixed.sites
    for p in mixed.policies:
        s = mixed.runs[p].sessions
        assert (s["p_max_kw"] <= s["rating_kw"] * (1 + 1e-12)).all()
        assert (s["t_start"] >= s["t_plug"] - 1e-9).all() and (
            s["t_end"] <= s["t_leave"] + 1e-9
        ).all()
        prof = mixed.runs[p].profiles
        points = np.where(sites.points >= 0, sites.points, sites.vehicles)
        cap = points * sites.rating_kw.to_numpy()
        assert (prof.max(axis=1) <= cap * (1 + 1e-9) + 1e-9).all()
        assert prof.min() > -1e-9


def test_state_of_charge_stays_within_zero_and_capacity(mixed):
    for p in mixed.policies:
        v = mixed.vehicles(p)
        assert (v.soc_min_kwh >= -1e-9).all()
        assert (v.soc_max_kwh <= v.battery_kwh + 1e-9).all()
        assert (v.soc_min_kwh <= v.soc_max_kwh + 1e-9).all()
    # the private cars at public AC points do run their batteries down to empty
    v = mixed.vehicles("uncontrolled")
    assert v.soc_min_kwh.min() == pytest.approx(0.0, abs=1e-9)


def _max_overlap(start: np.ndarray, end: np.ndarray) -> int:
    t = np.concatenate([start, end])
    d = np.concatenate([np.ones(start.size), -np.ones(end.size)])
    order = np.lexsort((d, t))  # at equal times an end (-1) comes before a start
    return int(np.cumsum(d[order]).max())


def test_swap_stations_never_charge_more_batteries_than_racks(mixed):
    site = int(np.flatnonzero(mixed.sites.kind == "swap")[0])
    racks = int(mixed.sites.points[site])
    for p in mixed.policies:
        s = mixed.runs[p].sessions
        m = (s["site"] == site) & s["served"] & (s["t_end"] > s["t_start"])
        busy = _max_overlap(s["t_start"][m], s["t_end"][m])
        assert busy <= racks
        stats = mixed.site_stats[(mixed.site_stats.policy == p) & (mixed.site_stats.site == site)]
        # the limit binds: all racks busy at some time and batteries waited for one
        assert busy == racks and float(stats.max_wait_h.iloc[0]) > 0
        assert mixed.runs[p].profiles[site].max() <= racks * 60.0 * (1 + 1e-12)


def test_same_seed_same_profiles(tmp_path):
    sc = read_scenario(write(tmp_path, MIXED))
    a = run_profile(sc, days=5, seed=11, policies=["uncontrolled", "tou"])
    b = run_profile(sc, days=5, seed=11, policies=["uncontrolled", "tou"])
    c = run_profile(sc, days=5, seed=12, policies=["uncontrolled", "tou"])
    for p in a.policies:
        np.testing.assert_array_equal(a.runs[p].profiles, b.runs[p].profiles)
        assert not np.array_equal(a.runs[p].profiles, c.runs[p].profiles)
    # a policy run alone sees the same draws as in company
    d = run_profile(sc, days=5, seed=11, policies=["tou"])
    np.testing.assert_array_equal(d.runs["tou"].profiles, a.runs["tou"].profiles)


def test_sampled_mean_daily_distance_within_one_percent(tmp_path):
    path = write(
        tmp_path,
        """
        [scenario]
        include = ["ev-defaults"]

        [[fleet]]
        bus = 1
        vehicle = "private_car"
        location = "home"
        count = 2000

        [[fleet]]
        bus = 1
        vehicle = "logistics_van"
        location = "van_depot"
        count = 1000
        """,
    )
    sc = read_scenario(path)
    r = run_profile(sc, days=70, seed=2, policies=["uncontrolled"], coincidence=False)
    cls = r.classes
    # lognormal (cv 1, capped at the 312.5 km range) and gamma (weekday/weekend means)
    assert cls.loc["private_car", "scenario_km_per_day"] == pytest.approx(48.3)
    assert cls.loc["logistics_van", "scenario_km_per_day"] == pytest.approx(
        (50 * 120 + 20 * 60) / 70
    )
    rel = cls.distance_km_per_day / cls.scenario_km_per_day - 1.0
    assert (rel.abs() < 0.01).all(), rel


def test_capped_distributions_keep_their_stated_mean():
    # closed forms against a brute-force integral of min(x, cap) over the density
    for kind, params in (
        (fl.LOGNORMAL, fl.capped_lognormal(48.3, 1.0, 312.5)),
        (fl.GAMMA, fl.capped_gamma(120.0, 0.35, 227.0)),
    ):
        x = np.linspace(1e-6, 3000.0, 3_000_001)
        a, b = params
        if kind == fl.LOGNORMAL:
            pdf = np.exp(-((np.log(x) - a) ** 2) / (2 * b * b)) / (x * b * math.sqrt(2 * math.pi))
            cap = 312.5
        else:
            pdf = np.exp((a - 1) * np.log(x) - x / b - special.gammaln(a) - a * math.log(b))
            cap = 227.0
        mean = np.trapezoid(np.minimum(x, cap) * pdf, x)
        assert mean == pytest.approx(48.3 if kind == fl.LOGNORMAL else 120.0, rel=1e-6)


def test_coincidence_factor_falls_with_fleet_size_to_its_plateau(tmp_path):
    # identical vehicles: 7 kW, 40 km a day at 0.16 kWh/km through a 0.93 efficient point
    # (charging time d = 6.4 / 0.93 / 7 h), arrival N(18 h, 2 h), long stays. The expected demand
    # per vehicle at time t is 7 kW x P(arrival in [t - d, t]); the plateau of the coincidence
    # factor is its maximum over the (15-min averaged) day.
    path = write(
        tmp_path,
        """
        [scenario]
        include = ["ev-defaults"]

        [vehicles.car]
        battery_kwh = 50.0
        consumption_kwh_per_km = 0.16
        distance_km = 40.0

        [locations.night]
        kind = "home"
        charger = "home_ac_7"
        plug_probability = 1.0
        weekday = [{ arrival_h = { dist = "normal", mean = 18.0, sd = 2.0 }, dwell_h = 12.0 }]

        [[fleet]]
        bus = 1
        vehicle = "car"
        location = "night"
        count = 16384
        """,
    )
    r = run_profile(read_scenario(path), days=20, seed=4, policies=["uncontrolled"])
    cf = r.cf.set_index("n_vehicles")
    d = 40 * 0.16 / 0.93 / 7.0
    t = np.linspace(0, 24, 24 * 60 * 4 + 1)
    expected = special.ndtr((t - 18) / 2) - special.ndtr((t - d - 18) / 2)
    step = np.convolve(expected, np.ones(60) / 60, mode="valid")  # 15-min means (1/4-min grid)
    plateau = float(step.max())
    assert cf.loc[1, "cf_mean"] == 1.0  # a lone vehicle charges at full power
    means = cf.cf_mean.to_numpy()
    assert (np.diff(means) <= 0.01).all(), means  # falls (up to sampling noise)
    assert means[0] - means[-1] > 0.5
    n = 16384
    noise = math.sqrt(plateau * (1 - plateau) / n)  # std of the fleet's share charging
    assert plateau - noise <= cf.loc[n, "cf_mean"] <= plateau + 5 * noise
    assert cf.loc[4096, "cf_mean"] == pytest.approx(plateau, abs=6 * math.sqrt(plateau / 4096))


def test_valley_filling_lowers_the_community_transformer_peak_and_keeps_the_energy():
    from gridplan.ev import load_scenario_and_case
    from gridplan.studies.ev import baseload
    from gridplan.studies.ev.topology import topology

    sc, net, _ = load_scenario_and_case("ev-tianjin-ecocity-7x")
    r = run_profile(sc, net=net, days=14, seed=1, policies=["uncontrolled", "valley"])
    topo = topology(net)
    tables = baseload.base_tables(net, r.index)
    t2 = next(
        g for g, tr in enumerate(topo.groups) if net.trafo.name[tr[0]] == "Community T2 10/0.4kV"
    )
    base = baseload.group_base_kw(net, tables, [topo.downstream[t2]])[0]
    sites = r.sites.index[r.sites.trafo_group == "Community T2 10/0.4kV"]
    load = {p: base + r.runs[p].profiles[sites].sum(axis=0) for p in r.policies}
    energy = {p: r.runs[p].profiles.sum() * r.dt_h for p in r.policies}
    assert energy["valley"] == pytest.approx(energy["uncontrolled"], rel=REL)
    assert load["valley"].max() < 0.85 * load["uncontrolled"].max()


def test_time_of_use_timer_peak_shows_and_the_random_delay_spreads_it(tmp_path):
    text = """
        [scenario]
        include = ["ev-defaults"]
        [locations.home]
        plug_probability = 1.0
        [policies.tou]
        start_h = 23.0
        end_h = 7.0
        delay_h = {delay}
        [[fleet]]
        bus = 1
        vehicle = "private_car"
        location = "home"
        count = 2000
        """
    peaks = {}
    for delay in (0.0, 2.0):
        sc = read_scenario(write(tmp_path, text.replace("{delay}", str(delay)), f"t{delay}.toml"))
        r = run_profile(sc, days=7, seed=1, policies=["uncontrolled", "tou"], coincidence=False)
        band = r.band[r.band.policy == "tou"].set_index("hour")
        peaks[delay] = band.max_kw.max()
        if delay == 0.0:
            # every car home before 23:00 starts on the timer: the day's peak is the 23:00 step
            assert band.mean_kw.idxmax() == 23.0
            assert peaks[0.0] > 2 * r.summary.loc["uncontrolled", "peak_kw"]
    assert peaks[2.0] < 0.6 * peaks[0.0]
