"""Wind integration: gridplan vs what a planner would otherwise script, side by side.

Run on demand (not part of the test suite)::

    python benchmarks/wind.py                       # all three parts
    python benchmarks/wind.py --parts power,year --hosting-buses 20

1. Power from wind, 100 farms x 8,760 h: ``gridplan.wind.power`` (vectorized) vs windpowerlib's
   ``ModelChain`` run farm by farm (logarithmic profile, power curve; same inputs). The whole
   call (reading the farm table and the wind, building the turbines) and the numerics alone.
2. Hosting capacity at N-1 (all line and transformer outages) for 50 candidate buses of
   ``case1354pegase`` (every 27th bus): ``gridplan.wind.hosting`` (screening, AC search on the
   bound outages, AC confirmation against every outage), in one process and with
   ``--jobs 2``; against the naive method a planner would script: bisection of the wind MW to
   1 MW, each trial a pandapower ``runpp`` plus ``pandapower.contingency.run_contingency`` over
   the outages. That costs hours per bus, so it runs on 2 buses with ``--pp-sample`` outages
   per trial and its time per trial is EXTRAPOLATED to all outages, and to 50 buses (marked).
   Both use ``balance="slack"`` (the injection goes to the slack, as a plain sgen would).
3. A curtailment year (8,760 h) on ``uhv-backbone`` with its bundled 20 GW scenario: the whole
   call (wind, reference dispatch, LPs, AC check) and its parts, with the share of hours
   solved without an LP; N-0 and (``--n1``) N-1.

The machine may be shared: the times are as measured, and say so.
"""

from __future__ import annotations

import argparse
import copy
import math
import time
import warnings

import numpy as np
import pandas as pd


def _table(rows: list[dict], title: str) -> None:
    print(f"\n{title}")
    df = pd.DataFrame(rows)
    print(df.to_string(index=False))


# ---------------------------------------------------------------------------------------------
def bench_power(n_farms: int = 100, hours: int = 8760, mc_farms: int = 10) -> list[dict]:
    from gridplan.core import wind_power as core
    from gridplan.model.wind import read_farms, read_wind
    from gridplan.studies.wind.power import compute_power, power

    idx = pd.date_range("2030-01-01", periods=hours, freq="h")
    regimes = [core.Regime(core.weibull_scale(5.0 + 0.02 * i, 2.0), 2.0) for i in range(n_farms)]
    v = core.synthetic_speeds(idx.hour.to_numpy(), idx.dayofyear.to_numpy(), regimes, seed=1)
    wind = pd.DataFrame(v, index=idx, columns=[f"s{i}" for i in range(n_farms)])
    types = ["E-82/2000", "E-126/4200", "V112/3075", "E-101/3050"]
    farms = [
        {
            "name": f"F{i}",
            "turbine": types[i % len(types)],
            "n_turbines": 20,
            "hub_height_m": 120.0,
            "wind": f"s{i}",
        }
        for i in range(n_farms)
    ]
    power(farms[:2], wind[["s0", "s1"]])  # warm-up (file reads, imports)
    t0 = time.perf_counter()
    res = power(farms, wind)
    t_whole = time.perf_counter() - t0
    fl, ws = read_farms(farms), read_wind(wind)
    t0 = time.perf_counter()
    compute_power(fl, ws, density_correction=False)
    t_kernel = time.perf_counter() - t0
    rows = [
        {
            "tool": "gridplan.wind.power (whole call)",
            "farms x hours": f"{n_farms} x {hours}",
            "time_s": round(t_whole, 3),
            "ratio": 1.0,
        },
        {
            "tool": "  numerics only (compute_power)",
            "farms x hours": f"{n_farms} x {hours}",
            "time_s": round(t_kernel, 3),
            "ratio": "",
        },
    ]
    try:
        import windpowerlib
    except ImportError:
        return rows
    weather_cols = {}
    t0 = time.perf_counter()
    for i in range(mc_farms):
        weather = pd.DataFrame(
            {
                ("wind_speed", 10): wind[f"s{i}"].to_numpy(),
                ("temperature", 2): np.full(hours, 283.15),
                ("pressure", 0): np.full(hours, 101325.0),
                ("roughness_length", 0): np.full(hours, 0.1),
            },
            index=idx,
        )
        weather.columns.names = ["variable_name", "height"]
        t = windpowerlib.WindTurbine(hub_height=120.0, turbine_type=types[i % len(types)])
        mc = windpowerlib.ModelChain(t).run_model(weather)
        weather_cols[i] = mc.power_output.to_numpy() * 20 / 1e6
    t_mc = (time.perf_counter() - t0) / mc_farms * n_farms
    err = max(
        float(np.max(np.abs(res.p_mw[f"F{i}"].to_numpy() - weather_cols[i]))) for i in weather_cols
    )
    rows.append(
        {
            "tool": f"windpowerlib ModelChain per farm ({mc_farms} run, EXTRAPOLATED)",
            "farms x hours": f"{n_farms} x {hours}",
            "time_s": round(t_mc, 2),
            "ratio": round(t_mc / t_whole, 1),
        }
    )
    rows.append(
        {
            "tool": f"  largest |difference| over those farms, MW: {err:.2e}",
            "farms x hours": "",
            "time_s": "",
            "ratio": "",
        }
    )
    return rows


# ---------------------------------------------------------------------------------------------
def _naive_hosting(net, bus: int, outages: dict, p_hi: float, tol_mw: float = 1.0):
    """Bisection to tol_mw with runpp + run_contingency per trial (slack takes the wind)."""
    import pandapower as pp
    import pandapower.contingency as pc

    base = copy.deepcopy(net)
    pp.runpp(base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pc.run_contingency(base, outages)
    ref_ld = base.res_line.max_loading_percent.to_numpy()
    lo, hi = 0.0, p_hi
    trials = 0
    t_pf = t_ct = 0.0
    while hi - lo > tol_mw:
        mid = 0.5 * (lo + hi)
        work = copy.deepcopy(net)
        pp.create_sgen(work, bus, p_mw=mid)
        t0 = time.perf_counter()
        ok = True
        try:
            pp.runpp(work)
        except Exception:
            ok = False
        t1 = time.perf_counter()
        if ok:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pc.run_contingency(work, outages)
            ld = work.res_line.max_loading_percent.to_numpy()
            ok = not np.any((ld > 100.0) & (ld > np.maximum(ref_ld, 100.0) + 1.0))
        t2 = time.perf_counter()
        t_pf += t1 - t0
        t_ct += t2 - t1
        trials += 1
        lo, hi = (mid, hi) if ok else (lo, mid)
    return lo, trials, t_pf, t_ct


def bench_hosting(n_buses: int = 50, pp_sample: int = 20, pp_buses: int = 2) -> list[dict]:
    import pandapower as pp

    import gridplan
    from gridplan.model.contingency_model import compile_contingency_model
    from gridplan.studies.wind.hosting import hosting

    net = gridplan.load_case("case1354pegase")
    buses = net.bus.index[::27][:n_buses].tolist()
    pp.runpp(copy.deepcopy(net))  # numba's one-off JIT, charged to nobody
    t0 = time.perf_counter()
    model = compile_contingency_model(net)
    t_compile = time.perf_counter() - t0
    rows = []
    results = {}
    for jobs in (1, 2):
        t0 = time.perf_counter()
        res = hosting(net, buses, n1=True, balance="slack", model=model, jobs=jobs)
        dt = time.perf_counter() - t0
        results[jobs] = res
        rows.append(
            {
                "tool": f"gridplan.wind.hosting --n1, jobs={jobs}",
                "buses": len(buses),
                "outages": res.n_outages,
                "time_s": round(dt + t_compile, 1),
                "per_bus_s": round(dt / len(buses), 2),
                "ratio": "",
                "note": (
                    f"compile {t_compile:.1f} s + base cases {res.timings_s['base_cases_s']:.1f}"
                    f" + screen {res.timings_s['screen_s']:.1f}"
                    f" + refine {res.timings_s['refine_s']:.1f}"
                ),
            }
        )
    r1 = results[1].table
    # the naive planner's script, on the first buses, a sample of outages per trial
    rng = np.random.default_rng(0)
    lines = np.array(net.line.index[net.line.in_service])
    trafos = np.array(net.trafo.index[net.trafo.in_service])
    n_all = lines.size + trafos.size
    pick = np.sort(rng.choice(n_all, min(pp_sample, n_all), replace=False))
    outages = {}
    if (pick < lines.size).any():
        outages["line"] = {"index": lines[pick[pick < lines.size]]}
    if (pick >= lines.size).any():
        outages["trafo"] = {"index": trafos[pick[pick >= lines.size] - lines.size]}
    per_trial, trial_counts = [], []
    for bus in buses[:pp_buses]:
        p_hi = max(2.0 * float(r1.loc[bus, "hosting_mw"]), 10.0)
        _lo, trials, t_pf, t_ct = _naive_hosting(net, bus, outages, p_hi)
        per_trial.append((t_pf + t_ct * n_all / pick.size) / max(trials, 1))
        trial_counts.append(trials)
    # a planner bisects from 0 to a generous upper bound: trials to 1 MW from the case's size
    trials_full = math.ceil(math.log2(max(float(r1.hosting_mw.max()) * 2, 10.0)))
    t_naive = float(np.mean(per_trial)) * trials_full * len(buses)
    best = min(float(rows[0]["time_s"]), float(rows[1]["time_s"]))
    for r in rows:
        r["ratio"] = round(t_naive / float(r["time_s"]), 1)
    rows.append(
        {
            "tool": "pandapower bisection + run_contingency per trial (EXTRAPOLATED)",
            "buses": len(buses),
            "outages": n_all,
            "time_s": round(t_naive, 0),
            "per_bus_s": round(t_naive / len(buses), 1),
            "ratio": 1.0,
            "note": f"{pp_buses} buses run with {pick.size} outages/trial, "
            f"{np.mean(per_trial):.1f} s/trial extrapolated to all outages, "
            f"x {trials_full} trials x {len(buses)} buses",
        }
    )
    limits = r1.limit_kind.value_counts().to_dict()
    rows.append(
        {
            "tool": f"  gridplan results: median {r1.hosting_mw.median():.1f} MW, limits {limits}",
            "buses": "",
            "outages": "",
            "time_s": "",
            "per_bus_s": "",
            "ratio": "",
            "note": f"best gridplan {best:.1f} s",
        }
    )
    return rows


# ---------------------------------------------------------------------------------------------
def bench_year(n1: bool) -> list[dict]:
    import gridplan
    from gridplan.studies.wind.curtailment import scenario_options, year

    net = gridplan.load_case("uhv-backbone")
    opts = scenario_options("uhv-backbone", "year")
    rows = []
    for with_n1 in (False, True) if n1 else (False,):
        t0 = time.perf_counter()
        res = year(
            net,
            scenario="uhv-backbone",
            load_shape=opts.get("load_shape", "case"),
            balance=opts.get("balance", "auto"),
            min_stable_percent=opts.get("min_stable_percent"),
            n1=with_n1,
        )
        dt = time.perf_counter() - t0
        s, t = res.summary, res.timings_s
        rows.append(
            {
                "run": f"gridplan wind year uhv-backbone{' --n1' if with_n1 else ''}",
                "steps": s["n_steps"],
                "time_s": round(dt, 1),
                "without_lp": f"{100 * s['share_without_lp']:.1f} %",
                "curtailed": f"{s['curtailed_percent']:.2f} %",
                "parts_s": "compile {compile_s:.1f}, reference {reference_s:.1f}, screen "
                "{screen_s:.1f}, LPs {lp_s:.1f}, AC check {ac_s:.1f}".format(**t),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="power,hosting,year")
    ap.add_argument("--hosting-buses", type=int, default=50)
    ap.add_argument("--pp-sample", type=int, default=20, help="outages per naive trial")
    ap.add_argument("--n1", action="store_true", help="also the curtailment year at N-1")
    args = ap.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",")}
    print("times as measured on this machine (possibly shared with other jobs)")
    if "power" in parts:
        _table(bench_power(), "1. power from wind, 100 farms x 8,760 h (target: well under 1 s)")
    if "hosting" in parts:
        _table(
            bench_hosting(args.hosting_buses, args.pp_sample),
            f"2. hosting capacity at N-1, {args.hosting_buses} buses of case1354pegase "
            "(target: under 60 s)",
        )
    if "year" in parts:
        _table(
            bench_year(args.n1),
            "3. curtailment year on uhv-backbone, 20 GW scenario (target: under 60 s)",
        )


if __name__ == "__main__":
    main()
