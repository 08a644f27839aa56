"""EV charging: gridplan's Monte Carlo, valley filling and grid impact, timed against the targets
of issue 17 and against what a planner would otherwise use.

Run on demand (not part of the test suite)::

    python benchmarks/ev.py                  # everything (emobpy takes minutes)
    python benchmarks/ev.py --only profile,valley --days 365
    python benchmarks/ev.py --emobpy-hours 168

Each task runs in its own subprocess, so its peak memory (peak RSS minus RSS before the run)
is its own.

- profile: 100,000 vehicles (80 % private cars charging at home, 12 % commuters at work,
  5 % fast-charging drivers at 4 DC points per bus, 2 % taxis at those DC points, 1 % vans at
  depots) over 200 buses, 365 days of 15-minute steps, policies uncontrolled, time of use and
  balanced on the same draws, with the coincidence factor. Target: under 30 s and 2 GB.
  Also the whole command (``gridplan ev profile FILE --days 365``, imports and printing
  included) and the fleet Monte Carlo with the numpy twins (``GRIDPLAN_PURE_PYTHON=1``) on 30
  days, extrapolated to the year (linear in days).
- valley: 10,000 home-charging cars on the residential buses of ``tianjin-ecocity``, 365 days,
  valley filling per transformer against its base load. Target: under 60 s. The compiled
  ``valley_fill`` kernel's own time beside the whole run, and its numpy twin on 7 days.
- impact: a year of 15-minute steps (35,040) of the bundled scenario ``ev-tianjin-ecocity``
  through the time-series power flow on ``tianjin-ecocity``, all four policies. Target: under
  60 s. Beside it pandapower's ``run_timeseries`` (``ConstControl`` per profiled table) on the
  first ``--pp-steps`` steps of one policy, EXTRAPOLATED to 4 x 35,040 steps.
- emobpy: 100 vehicle-years of charging profiles with gridplan (100 home-charging cars, 365
  days, uncontrolled) against emobpy 0.6.2 (Mobility -> Consumption -> Availability ->
  Charging "immediate", one vehicle, ``--emobpy-hours`` of 15-minute steps, with the network
  blocked), EXTRAPOLATED linearly to 100 vehicle-years. emobpy 0.6.2 (2021) does not run on
  pandas 2 as released (``DataFrame.append`` is gone; its numba kernels get object arrays): the
  benchmark adds ``DataFrame.append`` back and casts the two columns to float, and says so. If
  emobpy is not installed or still fails, the table prints the error measured instead.

The machine's load changes every figure: run it on a quiet machine for numbers to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def big_scenario(n: int, buses: int = 200) -> str:
    """TOML text of the 100,000-vehicle benchmark fleet (``n`` vehicles over ``buses`` buses)."""
    shares = (
        ("private_car", "home", "", 0.80),
        ("commuter_car", "work", "", 0.12),
        ("private_car", "public_dc", "", 0.05),
        ("taxi", "taxi_dc", "", 0.02),
        ("logistics_van", "van_depot", "", 0.01),
    )
    lines = [
        "[scenario]",
        'name = "benchmark city"',
        'include = ["ev-defaults"]',
        "start = 2025-01-06",
        "",
        "[[sites]]",
        f"buses = {list(range(buses))}",
        'charger = "dc_60"',
        "points = 4",
    ]
    for vehicle, location, _, share in shares:
        lines += [
            "",
            "[[fleet]]",
            f"buses = {list(range(buses))}",
            f'vehicle = "{vehicle}"',
            f'location = "{location}"',
            f"count = {round(n * share)}",
        ]
    return "\n".join(lines) + "\n"


# -- workers (each in its own process) -------------------------------------------------------
def work_profile(n: int, days: int, policies: str) -> dict:
    from gridplan.model.ev_scenario import read_scenario
    from gridplan.studies.ev.profile import run_profile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.toml"
        path.write_text(big_scenario(n), encoding="utf-8")
        sc = read_scenario(path)
        rss0 = _rss_mb()
        t0 = time.perf_counter()
        c0 = time.process_time()
        r = run_profile(sc, days=days, seed=1, policies=policies.split(","))
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - c0
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "peak_mb": _peak_mb() - rss0,
        "vehicles": int(r.arrays.fleet.n),
        "sessions": int(r.summary.sessions.sum()),
        "peak_kw": float(r.summary.peak_kw.iloc[0]),
        "admd_kw": float(r.summary.admd_kw.iloc[0]),
    }


def work_command(n: int, days: int, policies: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.toml"
        path.write_text(big_scenario(n), encoding="utf-8")
        cmd = [
            sys.executable,
            "-c",
            "from gridplan.cli import main; main()",
            "ev",
            "profile",
            str(path),
            "--days",
            str(days),
            "--policies",
            policies,
            "--out",
            str(Path(tmp) / "p.h5"),
        ]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - t0
        size = (Path(tmp) / "p.h5").stat().st_size / 2**20 if proc.returncode == 0 else 0.0
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return {"seconds": elapsed, "file_mb": size}


def _tianjin_10k() -> tuple[object, object]:
    from gridplan.model.cases import load_case
    from gridplan.model.ev_scenario import read_scenario

    net = load_case("tianjin-ecocity")
    res = sorted(int(b) for b in net.load.bus[net.load.kind == "residential"].unique())
    text = (
        '[scenario]\nname = "10,000 home-charging cars on tianjin-ecocity"\n'
        'case = "tianjin-ecocity"\ninclude = ["ev-defaults"]\nstart = 2025-01-06\n\n'
        f'[[fleet]]\nbuses = {res}\ncustomer_kind = "residential"\n'
        'vehicle = "private_car"\nlocation = "home"\ncount = 10000\n'
    )
    tmp = Path(tempfile.mkdtemp()) / "v.toml"
    tmp.write_text(text, encoding="utf-8")
    return read_scenario(tmp, net), net


def work_valley(days: int, pure: bool) -> dict:
    import gridplan.core.ev_fleet as fl
    from gridplan.studies.ev.profile import run_profile

    sc, net = _tianjin_10k()
    if pure:
        import gridplan.core.ev_kernels as kernels
    else:
        from gridplan._ext import ev_kernels as kernels
    spent = {"valley_fill": 0.0}

    class Timed:
        def __getattr__(self, name: str) -> object:
            return getattr(kernels, name)

        def valley_fill(self, *args: object) -> None:
            t = time.perf_counter()
            kernels.valley_fill(*args)
            spent["valley_fill"] += time.perf_counter() - t

    real = fl.simulate

    def simulate(*a: object, **k: object) -> object:
        k["kernels"] = Timed()
        return real(*a, **k)

    fl.simulate = simulate
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    r = run_profile(sc, net=net, days=days, seed=1, policies=["valley"], coincidence=False)
    elapsed = time.perf_counter() - t0
    return {
        "seconds": elapsed,
        "kernel_seconds": spent["valley_fill"],
        "peak_mb": _peak_mb() - rss0,
        "vehicles": int(r.arrays.fleet.n),
        "sessions": int(r.summary.sessions.sum()),
        "missed_kwh": float(r.summary.missed_kwh.iloc[0]),
    }


def work_valley_quality(n: int) -> dict:
    """Greedy valley filling against the min-peak optimum (LP, HiGHS) on one transformer-night.

    ``n`` home-charging sessions (arrival N(18.5 h, 2 h), 13 h stays, 8-12 kWh, 7 kW) on the
    base load of tianjin-ecocity's Community T1 over two summer days; the LP minimizes the peak
    of base plus charging with every session's energy delivered within its stay.
    """
    import pandas as pd
    from scipy import sparse
    from scipy.optimize import linprog

    from gridplan.model.cases import load_case
    from gridplan.studies.ev import baseload
    from gridplan.studies.ev.topology import topology

    net = load_case("tianjin-ecocity")
    topo = topology(net)
    g = next(
        i for i, tr in enumerate(topo.groups) if net.trafo.name[tr[0]] == "Community T1 10/0.4kV"
    )
    index = pd.date_range("2025-07-08", periods=192, freq="15min")
    base = baseload.group_base_kw(net, baseload.base_tables(net, index), [topo.downstream[g]])[0]
    rng = np.random.default_rng(5)
    t0 = np.clip(rng.normal(18.5, 2.0, n), 14, 23.5) * 4
    t1 = t0 + 13 * 4
    e = rng.uniform(8, 12, n) / 0.93 / 0.25  # kW x steps
    p = np.full(n, 7.0)

    def fill(order: np.ndarray, sweeps: int) -> tuple[float, float]:
        load = base[None, :].copy()
        kf = np.zeros(n, dtype=np.int64)
        w = int((np.ceil(t1) - np.floor(t0)).max())
        x = np.zeros((n, w))
        got = np.zeros(n)
        t = time.perf_counter()
        kernels.valley_fill(
            load,
            np.zeros(n, dtype=np.int64),
            t0[order],
            t1[order],
            p,
            e[order],
            kf,
            x,
            got,
            sweeps,
        )
        return float(load.max()), time.perf_counter() - t

    from gridplan.kernels import ev_kernels as kernels

    greedy, _ = fill(np.argsort(t0, kind="stable"), 0)  # arrival order, no refill
    laxity = (t1 - t0) - e / p
    default, greedy_s = fill(np.lexsort((t0, laxity)), 2)  # what gridplan does
    # LP: variables x[v, k] over each session's steps, plus the peak z
    caps, steps, sess = [], [], []
    for v in range(n):
        for k in range(int(np.floor(t0[v])), int(np.ceil(t1[v]))):
            frac = min(t1[v], k + 1) - max(t0[v], k)
            if frac > 0:
                caps.append(p[v] * frac)
                steps.append(k)
                sess.append(v)
    m = len(caps)
    steps_a, sess_a = np.array(steps), np.array(sess)
    c = np.zeros(m + 1)
    c[-1] = 1.0
    a_ub = sparse.hstack(
        [
            sparse.csr_matrix((np.ones(m), (steps_a, np.arange(m))), shape=(192, m)),
            sparse.csr_matrix(-np.ones((192, 1))),
        ]
    )
    a_eq = sparse.hstack(
        [
            sparse.csr_matrix((np.ones(m), (sess_a, np.arange(m))), shape=(n, m)),
            sparse.csr_matrix((n, 1)),
        ]
    )
    t = time.perf_counter()
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=-base,
        A_eq=a_eq,
        b_eq=e,
        bounds=[(0, cp) for cp in caps] + [(None, None)],
        method="highs",
    )
    lp_s = time.perf_counter() - t
    return {
        "greedy_peak_kw": greedy,
        "default_peak_kw": default,
        "lp_peak_kw": float(res.x[-1]),
        "base_peak_kw": float(base.max()),
        "greedy_s": greedy_s,
        "lp_s": lp_s,
        "sessions": n,
    }


def work_impact(days: int) -> dict:
    from gridplan.studies.ev.api import load_scenario_and_case
    from gridplan.studies.ev.impact import run_impact

    sc, net, _ = load_scenario_and_case("ev-tianjin-ecocity")
    import gridplan.studies.ev.impact as imp

    spent = {"ts": 0.0}
    real = imp.ts.run

    def run(*a: object, **k: object) -> object:
        t = time.perf_counter()
        out = real(*a, **k)
        spent["ts"] += time.perf_counter() - t
        return out

    imp.ts.run = run
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    r = run_impact(net, sc, days=days, seed=1)
    elapsed = time.perf_counter() - t0
    s = r.summary
    return {
        "seconds": elapsed,
        "ts_seconds": spent["ts"],
        "peak_mb": _peak_mb() - rss0,
        "steps": int(days * 96),
        "peak_loading": {p: float(s.loc[p, "trafo_max_loading_percent"]) for p in s.index},
    }


def work_pandapower_ts(steps: int) -> dict:
    import copy
    import warnings

    import pandapower as pp
    import pandas as pd
    from pandapower.control import ConstControl
    from pandapower.timeseries import DFData, OutputWriter, run_timeseries

    from gridplan.studies.ev import baseload
    from gridplan.studies.ev.api import load_scenario_and_case
    from gridplan.studies.ev.impact import add_ev_loads
    from gridplan.studies.ev.profile import run_profile

    sc, net, _ = load_scenario_and_case("ev-tianjin-ecocity")
    prof = run_profile(sc, net=net, days=1, seed=1, policies=["uncontrolled"])
    work, ev = add_ev_loads(net, prof)
    index = prof.index[:steps]
    tables = baseload.base_tables(net, index)
    p = tables[("load", "p_mw")].copy()
    for site, row in ev.iterrows():
        p[int(row["load"])] = prof.runs["uncontrolled"].profiles[site, :steps] / 1000.0
    pp.runpp(copy.deepcopy(work))  # numba's one-off compile, not timed
    t0 = time.perf_counter()
    for (et, col), df in (
        (("load", "p_mw"), p),
        (("sgen", "p_mw"), tables[("sgen", "p_mw")]),
    ):
        data = df.reset_index(drop=True)
        data.columns = [str(c) for c in data.columns]
        ConstControl(
            work,
            element=et,
            variable=col,
            element_index=np.array([int(c) for c in df.columns]),
            data_source=DFData(data),
            profile_name=list(data.columns),
        )
    ow = OutputWriter(work, time_steps=range(steps), output_path=None)
    ow.log_variable("res_bus", "vm_pu")
    ow.log_variable("res_line", "loading_percent")
    ow.log_variable("res_trafo", "loading_percent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_timeseries(work, time_steps=range(steps), verbose=False)
    del pd
    return {"seconds": time.perf_counter() - t0, "steps": steps}


def work_gridplan_100(days: int) -> dict:
    from gridplan.model.ev_scenario import read_scenario
    from gridplan.studies.ev.profile import run_profile

    text = (
        '[scenario]\ninclude = ["ev-defaults"]\nstart = 2025-01-06\n\n'
        '[[fleet]]\nbus = 1\nvehicle = "private_car"\nlocation = "home"\ncount = 100\n'
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.toml"
        path.write_text(text, encoding="utf-8")
        t0 = time.perf_counter()
        sc = read_scenario(path)
        run_profile(sc, days=days, seed=1, policies=["uncontrolled"])
    return {"seconds": time.perf_counter() - t0}


def work_emobpy(hours: int) -> dict:
    """emobpy's four steps for one vehicle over ``hours`` hours, network blocked."""
    import socket

    def no_net(*_a: object, **_k: object) -> None:
        raise OSError("network blocked by the benchmark (offline check)")

    socket.socket.connect = no_net  # type: ignore[method-assign]
    socket.create_connection = no_net  # type: ignore[assignment]
    try:
        import emobpy
    except ImportError as exc:
        return {"error": f"emobpy not installed ({exc}); pip install emobpy"}
    import pandas as pd

    shims = []
    if not hasattr(pd.DataFrame, "append"):  # removed in pandas 2.0; emobpy 0.6.2 calls it

        def append(self, other, ignore_index=False, **_kw):
            if isinstance(other, dict):
                other = pd.DataFrame([other])
            elif isinstance(other, list):
                other = pd.DataFrame(other)
            elif isinstance(other, pd.Series):
                other = other.to_frame().T
            return pd.concat([self, other], ignore_index=ignore_index)

        pd.DataFrame.append = append  # type: ignore[attr-defined]
        shims.append("DataFrame.append restored")
    from emobpy import Availability, BEVspecs, Charging, Consumption, HeatInsulation, Mobility
    from emobpy.tools import set_seed

    class Availability2(Availability):
        # pandas 2 hands the numba kernel an object array; cast the two columns to float
        def _drawing_soc(self) -> None:
            self.point = "driving"
            self.statesplusdrv = list(set(self.dt.loc[:, "state"]))
            self.pointcode = self.statesplusdrv.index(self.point)
            states = self.dt[["state"]].values.T[0]
            self.arraycodestate = np.array([self.statesplusdrv.index(s) for s in states])
            arr = self.dt[["consumption", "charging_cap"]].to_numpy(dtype=float).T
            self.dt.loc[:, "soc"] = self._soc(
                self.pointcode,
                self.charging_eff,
                self.battery_capacity,
                self.soc_init,
                self.arraycodestate,
                *arr,
                self.t,
            )

    shims.append("two columns cast to float for emobpy's numba kernels")

    class MemDB:  # emobpy's DataBase reads pickles from a folder; keep the profiles in memory
        def __init__(self) -> None:
            self.db: dict[str, dict] = {}

        def add(self, obj: object) -> None:
            self.db[obj.name] = obj.__dict__  # type: ignore[attr-defined]

    cfg = Path(emobpy.__file__).parent / "data" / "base" / "config_files"
    out: dict[str, float | str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # emobpy writes log files into the working folder
        import shutil

        shutil.copytree(cfg, Path(tmp) / "config_files")
        try:
            set_seed()
            db = MemDB()
            t0 = time.perf_counter()
            m = Mobility(config_folder="config_files")
            m.set_params("bench", hours, 0.25, "user_defined", "01/01/2020")
            m.set_stats(
                "TripsPerDay.csv", "DepartureDestinationTrip.csv", "DistanceDurationTrip.csv"
            )
            m.set_rules("user_defined")
            m.run()
            db.add(m)
            t1 = time.perf_counter()
            car = BEVspecs().model(("Volkswagen", "ID.3", 2020))
            c = Consumption(m.name, car)
            c.load_setting_mobility(db)
            c.run(heat_insulation=HeatInsulation(True), weather_country="DE", weather_year=2016)
            db.add(c)
            t2 = time.perf_counter()
            a = Availability2(c.name, db)
            a.set_scenario(
                {
                    "prob_charging_point": {
                        k: {"public": 0.5, "none": 0.5}
                        for k in ("errands", "escort", "leisure", "shopping", "home")
                    }
                    | {
                        "workplace": {"public": 0.0, "workplace": 1.0, "none": 0.0},
                        "driving": {"none": 0.99, "fast75": 0.005, "fast150": 0.005},
                    },
                    "capacity_charging_point": {
                        "public": 22,
                        "home": 3.7,
                        "workplace": 11,
                        "none": 0,
                        "fast75": 75,
                        "fast150": 150,
                    },
                }
            )
            a.run()
            db.add(a)
            t3 = time.perf_counter()
            ch = Charging(a.name)
            ch.load_scenario(db)
            for col in ("consumption", "charging_cap"):
                ch.profile[col] = ch.profile[col].astype(float)
            ch.set_sub_scenario("immediate")
            ch.run()
            t4 = time.perf_counter()
        except Exception as exc:  # emobpy's own failure is the measurement here
            return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"}
    out.update(
        {
            "seconds": t4 - t0,
            "mobility_s": t1 - t0,
            "consumption_s": t2 - t1,
            "availability_s": t3 - t2,
            "charging_s": t4 - t3,
            "hours": hours,
            "success": bool(ch.success),
            "shims": "; ".join(shims),
        }
    )
    return out


def _worker(args: argparse.Namespace) -> None:
    name, *rest = args.worker
    fn = {
        "profile": lambda: work_profile(int(rest[0]), int(rest[1]), rest[2]),
        "command": lambda: work_command(int(rest[0]), int(rest[1]), rest[2]),
        "valley": lambda: work_valley(int(rest[0]), rest[1] == "pure"),
        "impact": lambda: work_impact(int(rest[0])),
        "quality": lambda: work_valley_quality(int(rest[0])),
        "pandapower": lambda: work_pandapower_ts(int(rest[0])),
        "gridplan100": lambda: work_gridplan_100(int(rest[0])),
        "emobpy": lambda: work_emobpy(int(rest[0])),
    }[name]
    print("RESULT " + json.dumps(fn()))


def _run(*worker: str, env: dict[str, str] | None = None) -> dict:
    cmd = [sys.executable, __file__, "--worker", *worker]
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=full_env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}


def _fmt(x: float) -> str:
    if x != x:
        return "-"
    if x >= 3600:
        return f"{x / 3600:.1f} h"
    return f"{x:.3g} s" if x < 100 else f"{x:.0f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="profile,valley,impact,emobpy", help="tasks to run")
    ap.add_argument("--days", type=int, default=365, help="days of the profile/valley/impact runs")
    ap.add_argument("--vehicles", type=int, default=100_000, help="fleet of the profile task")
    ap.add_argument("--pp-steps", type=int, default=96, help="steps pandapower actually runs")
    ap.add_argument(
        "--emobpy-hours", type=int, default=168, help="hours of emobpy's sample vehicle"
    )
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args)
        return
    tasks = set(args.only.split(","))
    rows: list[tuple[str, str, str, str, str, str]] = []
    notes: list[str] = []
    d = args.days
    pols = "uncontrolled,tou,balanced"
    if "profile" in tasks:
        r = _run("profile", str(args.vehicles), str(d), pols)
        r1 = _run("profile", str(args.vehicles), str(d), "uncontrolled")
        cmd = _run("command", str(args.vehicles), str(d), pols)
        sample = min(d, 30)
        tw = _run(
            "profile", str(args.vehicles), str(sample), pols, env={"GRIDPLAN_PURE_PYTHON": "1"}
        )
        task = f"profile {args.vehicles:,} vehicles x {d} d, 15 min"
        if "error" in r:
            rows.append((task, "gridplan", "error", "", "< 30 s, < 2 GB", r["error"]))
        else:
            rows.append(
                (
                    task,
                    "gridplan (3 policies + CF)",
                    _fmt(r["seconds"]),
                    f"{r['peak_mb']:.0f} MB",
                    "< 30 s, < 2 GB",
                    f"{r['sessions']:,} sessions; CPU {_fmt(r['cpu_seconds'])} (all threads)",
                )
            )
            if "seconds" in r1:
                rows.append(
                    (
                        task,
                        "gridplan (uncontrolled + CF)",
                        _fmt(r1["seconds"]),
                        f"{r1['peak_mb']:.0f} MB",
                        "",
                        f"CPU {_fmt(r1['cpu_seconds'])} (all threads)",
                    )
                )
            if "seconds" in cmd:
                rows.append(
                    (
                        task,
                        "whole command (3 policies, --out)",
                        _fmt(cmd["seconds"]),
                        "",
                        "",
                        f"file {cmd['file_mb']:.0f} MB",
                    )
                )
            if "seconds" in tw:
                ext = tw["seconds"] * d / sample
                rows.append(
                    (
                        task,
                        f"numpy twins ({sample} d, EXTRAPOLATED)",
                        _fmt(ext),
                        f"{tw['peak_mb']:.0f} MB",
                        "",
                        f"compiled is {ext / r['seconds']:.1f}x faster",
                    )
                )
    if "valley" in tasks:
        r = _run("valley", str(d), "compiled")
        tw = _run("valley", str(min(d, 7)), "pure", env={"GRIDPLAN_PURE_PYTHON": "1"})
        task = f"valley filling 10,000 vehicles x {d} d"
        if "error" in r:
            rows.append((task, "gridplan", "error", "", "< 60 s", r["error"]))
        else:
            rows.append(
                (
                    task,
                    "gridplan (whole run)",
                    _fmt(r["seconds"]),
                    f"{r['peak_mb']:.0f} MB",
                    "< 60 s",
                    f"{r['sessions']:,} sessions, missed {r['missed_kwh']:.0f} kWh",
                )
            )
            rows.append((task, "  valley_fill kernel", _fmt(r["kernel_seconds"]), "", "", ""))
            if "kernel_seconds" in tw:
                ext = tw["kernel_seconds"] * d / min(d, 7)
                rows.append(
                    (
                        task,
                        f"  numpy twin ({min(d, 7)} d, EXTRAPOLATED)",
                        _fmt(ext),
                        "",
                        "",
                        f"compiled {ext / max(r['kernel_seconds'], 1e-9):.0f}x faster",
                    )
                )
    if "valley" in tasks:
        q = _run("quality", "800")
        task = "valley filling vs min-peak LP, one night"
        if "error" in q:
            rows.append((task, "gridplan", "error", "", "", q["error"]))
        else:
            lp = q["lp_peak_kw"]
            rows.append(
                (
                    task,
                    f"valley_fill ({q['sessions']} sessions, least laxity first + 2 refills)",
                    _fmt(q["greedy_s"]),
                    "",
                    "",
                    f"peak {q['default_peak_kw']:.1f} kW, LP +"
                    f"{100 * (q['default_peak_kw'] / lp - 1):.1e} %; base alone "
                    f"{q['base_peak_kw']:.1f} kW",
                )
            )
            rows.append(
                (
                    task,
                    "  greedy in arrival order, no refill",
                    "",
                    "",
                    "",
                    f"peak {q['greedy_peak_kw']:.1f} kW, LP +"
                    f"{100 * (q['greedy_peak_kw'] / lp - 1):.2f} %",
                )
            )
            rows.append(
                (task, "LP optimum (scipy HiGHS)", _fmt(q["lp_s"]), "", "", f"peak {lp:.1f} kW")
            )
    if "impact" in tasks:
        r = _run("impact", str(d))
        pp_r = _run("pandapower", str(args.pp_steps))
        task = f"impact tianjin-ecocity, {d * 96:,} steps x 4 policies"
        if "error" in r:
            rows.append((task, "gridplan", "error", "", "< 60 s", r["error"]))
        else:
            peaks = ", ".join(f"{p} {v:.1f} %" for p, v in r["peak_loading"].items())
            rows.append(
                (
                    task,
                    "gridplan (whole run)",
                    _fmt(r["seconds"]),
                    f"{r['peak_mb']:.0f} MB",
                    "< 60 s",
                    f"peak trafo loading: {peaks}",
                )
            )
            rows.append((task, "  time-series power flows", _fmt(r["ts_seconds"]), "", "", ""))
            if "seconds" in pp_r:
                ext = pp_r["seconds"] / pp_r["steps"] * d * 96 * 4
                rows.append(
                    (
                        task,
                        f"pandapower run_timeseries ({pp_r['steps']} steps, EXTRAPOLATED)",
                        _fmt(ext),
                        "",
                        "",
                        f"gridplan {ext / r['seconds']:.0f}x faster",
                    )
                )
            else:
                notes.append(f"pandapower run_timeseries failed: {pp_r.get('error')}")
    if "emobpy" in tasks:
        g = _run("gridplan100", "365")
        e = _run("emobpy", str(args.emobpy_hours))
        task = "100 vehicle-years of profiles"
        rows.append(
            (
                task,
                "gridplan (100 cars x 365 d)",
                _fmt(g.get("seconds", float("nan"))),
                "",
                "",
                g.get("error", ""),
            )
        )
        if "error" in e:
            rows.append((task, "emobpy 0.6.2", "not compared", "", "", e["error"]))
            notes.append(f"emobpy not compared: {e['error']}")
        else:
            per_year = e["seconds"] / e["hours"] * 8760.0
            ext = per_year * 100
            rows.append(
                (
                    task,
                    f"emobpy ({e['hours']} h x 1 vehicle, EXTRAPOLATED)",
                    _fmt(ext),
                    "",
                    "",
                    f"gridplan {ext / g['seconds']:,.0f}x faster",
                )
            )
            notes.append(
                f"emobpy sample: mobility {e['mobility_s']:.1f} s, consumption "
                f"{e['consumption_s']:.1f} s, availability {e['availability_s']:.1f} s, charging "
                f"{e['charging_s']:.1f} s for {e['hours']} h of one vehicle; ran offline with: "
                f"{e['shims']}"
            )
    w = [
        max(len(r[i]) for r in [*rows, ("task", "tool", "time", "peak mem", "target", "notes")])
        for i in range(6)
    ]
    head = ("task", "tool", "time", "peak mem", "target", "notes")
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(head)))
    print("  ".join("-" * w[i] for i in range(6)))
    for r in rows:
        print("  ".join(str(v).ljust(w[i]) for i, v in enumerate(r)))
    for n in notes:
        print(f"note: {n}")
    print("(measured on this machine as loaded now; see `uptime`)")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main()
