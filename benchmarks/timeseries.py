"""Time-series power flow: gridplan vs pandapower ``run_timeseries`` vs power-grid-model.

Run on demand (not part of the test suite)::

    python benchmarks/timeseries.py                      # 8760 hourly steps, both cases
    python benchmarks/timeseries.py --steps 2000 --cases mv_oberrhein

Every tool solves the same hourly states (``gridplan.timeseries.synthetic`` profiles, seed 0:
daily load shapes with 3 % noise, PV for sgens, generators following the load level) and keeps
the same outputs in memory: bus voltage magnitude and angle and branch loading for every step.
Each tool runs in its own subprocess so its peak memory (peak RSS minus RSS before the run)
is its own.

- gridplan: ``gridplan.timeseries.run`` (compile + batched Newton + branch flows) on all
  cores, once with results in memory and once streaming them to HDF5 (shuffle+deflate) in a
  temporary file; and in memory on one thread (``threads=1``), beside power-grid-model's
  single-threaded run. One untimed
  ``runpp`` first, as for pandapower: the compile step runs pandapower's ``runpp`` once, and
  numba's one-off loading of its kernels is not charged to either tool.
- pandapower: ``pandapower.timeseries.run_timeseries`` with one ``ConstControl`` + ``DFData``
  per profiled element type and column and an ``OutputWriter`` logging the same results. It
  takes ~10-100 ms per step, so only the first ``--pp-sample`` steps are timed and the time for
  all steps is EXTRAPOLATED linearly (said so in the table). One untimed ``runpp`` first, so
  numba's one-off JIT compilation is not charged to the sample.
- power-grid-model: ``PowerGridModel.calculate_power_flow`` with a batch update of one
  ``sym_load`` per node (p/q per step), Newton-Raphson, tolerance 1e-8, model built from the
  same internal pandapower model (generic_branch per ppc branch with the exact pi-model
  parameters, shunts, sources at the reference buses). power-grid-model has no voltage-
  controlled (PV) nodes: generators at PV buses become constant-power injections with the
  reactive power gridplan found for that step, so it solves the same states. Run single-
  threaded (``threading=-1``) and with all cores (``threading=0``).

The accuracy column is the largest |vm_pu| difference to gridplan over the steps where the
tool agrees within 1e-6 pu; steps that disagree or fail are counted in the notes.
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
import warnings

import numpy as np

CASES = ("mv_oberrhein", "case1354pegase")


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _net_and_profiles(case: str, steps: int):
    import pandapower.networks as pn

    import gridplan.timeseries as ts

    net = getattr(pn, case)()
    if "sgen" in net and len(net.sgen):
        net.sgen["scaling"] = 1.0  # mv_oberrhein ships its PV with scaling 0
    return net, ts.synthetic(net, steps, seed=0)


def _ref_path(case: str, steps: int) -> str:
    return os.path.join(tempfile.gettempdir(), f"gridplan_bench_ts_{case}_{steps}.npz")


def _reference_vm(case: str, steps: int, rows: np.ndarray, what: str = "vm") -> np.ndarray:
    """gridplan's vm_pu / va_degree (steps x pandapower buses) for ``rows``, saved by the
    gridplan worker of this run."""
    with np.load(_ref_path(case, steps)) as data:
        return data[what][rows]


# -- workers (each in its own process) --------------------------------------------------
def work_gridplan(case: str, steps: int, stream: bool, threads: int | None = None) -> dict:
    import gridplan.timeseries as ts

    net, profiles = _net_and_profiles(case, steps)
    # warm-up (not timed), as for pandapower: the model compile runs pandapower's runpp, whose
    # first call loads numba's compiled kernels (~0.5 s once per process)
    import copy

    import pandapower as pp

    pp.runpp(copy.deepcopy(net))
    rss0 = _rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = ts.run(
            net, profiles, out=os.path.join(tmp, "ts.h5") if stream else None, threads=threads
        )
        elapsed = time.perf_counter() - t0
    out = {
        "seconds": elapsed,
        "steps": steps,
        "peak_mb": _peak_mb() - rss0,
        "converged": int(res.steps["converged"].sum()),
        "iterations_mean": float(res.steps["iterations"].mean()),
    }
    if threads is not None:  # the same states as on all cores (the reference), bit for bit?
        ref = _reference_vm(case, steps, np.arange(steps))
        out["max_dvm_pu"] = float(np.nanmax(np.abs(res.vm_pu.to_numpy() - ref)))
    if not stream and threads is None:
        np.savez(_ref_path(case, steps), vm=res.vm_pu.to_numpy(), va=res.va_degree.to_numpy())
    return out


def work_pandapower(case: str, steps: int, sample: int) -> dict:
    import pandapower as pp
    from pandapower.control import ConstControl
    from pandapower.timeseries import DFData, OutputWriter, run_timeseries

    net, profiles = _net_and_profiles(case, steps)
    n = min(sample, steps)
    # warm-up (not timed): pandapower JIT-compiles its numba kernels on the first power flow
    import copy

    pp.runpp(copy.deepcopy(net))
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    for (et, col), df in profiles.tables.items():
        data = df.iloc[:n].reset_index(drop=True)
        data.columns = [str(c) for c in data.columns]
        ConstControl(
            net,
            element=et,
            variable=col,
            element_index=df.columns.to_numpy(),
            data_source=DFData(data),
            profile_name=list(data.columns),
        )
    ow = OutputWriter(net, time_steps=range(n), output_path=None)
    ow.log_variable("res_bus", "vm_pu")
    ow.log_variable("res_bus", "va_degree")
    ow.log_variable("res_line", "loading_percent")
    ow.log_variable("res_trafo", "loading_percent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_timeseries(net, time_steps=range(n), verbose=False)
    elapsed = time.perf_counter() - t0
    vm = ow.output["res_bus.vm_pu"].to_numpy()
    ref = _reference_vm(case, steps, np.arange(n))
    both = np.isfinite(vm) & np.isfinite(ref)
    del pp
    dev = np.where(both, np.abs(vm - ref), 0.0).max(axis=1)
    return {
        "seconds": elapsed,
        "steps": n,
        "peak_mb": _peak_mb() - rss0,
        "max_dvm_pu": float(dev.max()),
        "agree": int((dev <= 1e-6).sum()),
    }


def _pgm_input(net):
    """power-grid-model input from the internal pandapower model (see module docstring)."""
    from pandapower.pypower.idx_brch import BR_B, BR_G, BR_R, BR_X, F_BUS, SHIFT, T_BUS, TAP
    from pandapower.pypower.idx_bus import BASE_KV, BS, GS
    from power_grid_model import ComponentType as CT
    from power_grid_model import DatasetType as DT
    from power_grid_model import initialize_array

    from gridplan.model.timeseries_model import TimeSeriesModel

    model = TimeSeriesModel.compile(net)
    import copy

    import pandapower as pp

    work = copy.deepcopy(net)
    pp.runpp(work)
    ppci = work._ppc["internal"]
    bus, br, base = ppci["bus"], ppci["branch"], float(ppci["baseMVA"])
    nb, nl = bus.shape[0], br.shape[0]
    kv = bus[:, BASE_KV].real
    node = initialize_array(DT.input, CT.node, nb)
    node["id"] = np.arange(nb)
    node["u_rated"] = kv * 1e3
    gb = initialize_array(DT.input, CT.generic_branch, nl)
    f, t = br[:, F_BUS].real.astype(int), br[:, T_BUS].real.astype(int)
    zb = kv[t] ** 2 / base  # ppc pi-model impedances are per unit of the to-side base
    gb["id"] = nb + np.arange(nl)
    gb["from_node"], gb["to_node"] = f, t
    gb["from_status"] = gb["to_status"] = 1
    gb["r1"], gb["x1"] = br[:, BR_R].real * zb, br[:, BR_X].real * zb
    gb["g1"], gb["b1"] = br[:, BR_G].real / zb, br[:, BR_B].real / zb
    tap = br[:, TAP].real.copy()
    tap[tap == 0] = 1.0
    gb["k"], gb["theta"], gb["sn"] = tap, np.deg2rad(br[:, SHIFT].real), np.nan
    sh = np.flatnonzero((bus[:, GS] != 0) | (bus[:, BS] != 0))
    shunt = initialize_array(DT.input, CT.shunt, len(sh))
    shunt["id"] = nb + nl + np.arange(len(sh))
    shunt["node"], shunt["status"] = sh, 1
    shunt["g1"] = bus[sh, GS].real * 1e6 / (kv[sh] * 1e3) ** 2
    shunt["b1"] = bus[sh, BS].real * 1e6 / (kv[sh] * 1e3) ** 2
    shunt["g0"] = shunt["b0"] = 0.0
    load = initialize_array(DT.input, CT.sym_load, nb)
    load["id"] = nb + nl + len(sh) + np.arange(nb)
    load["node"], load["status"], load["type"] = np.arange(nb), 1, 0
    load["p_specified"] = load["q_specified"] = 0.0
    src = initialize_array(DT.input, CT.source, len(model.ref))
    src["id"] = 2 * nb + nl + len(sh) + np.arange(len(model.ref))
    src["node"], src["status"] = model.ref, 1
    src["u_ref"], src["u_ref_angle"] = np.abs(model.v0[model.ref]), np.angle(model.v0[model.ref])
    src["sk"], src["rx_ratio"], src["z01_ratio"] = 1e20, 0.1, 1.0
    inp = {CT.node: node, CT.generic_branch: gb, CT.shunt: shunt, CT.sym_load: load, CT.source: src}
    return model, inp, load["id"].copy()


def work_pgm(case: str, steps: int, threading: int) -> dict:
    from power_grid_model import ComponentType as CT
    from power_grid_model import DatasetType as DT
    from power_grid_model import PowerGridModel, initialize_array

    from gridplan.model.timeseries_model import ProfileInjections

    net, profiles = _net_and_profiles(case, steps)
    model, inp, load_ids = _pgm_input(net)
    # per-step bus injections, the same the gridplan engine solves (not timed: profile mapping)
    sbus = ProfileInjections(model, profiles).block(0, steps)
    # PV buses as PQ with the reactive power gridplan found for that step, so that both
    # tools solve the same state (power-grid-model has no voltage-controlled nodes)
    pv = model.pv
    if pv.size:
        vm_ref = _reference_vm(case, steps, np.arange(steps))
        va_ref = np.deg2rad(_reference_vm(case, steps, np.arange(steps), "va"))
        on = model.bus_ppci >= 0
        v = np.zeros((steps, model.n_bus), dtype=complex)
        v[:, model.bus_ppci[on]] = vm_ref[:, on] * np.exp(1j * va_ref[:, on])
        s_pv = (v * np.conj((model.ybus @ v.T).T))[:, pv]
        sbus[:, pv] = sbus[:, pv].real + 1j * s_pv.imag
        del v
    upd = initialize_array(DT.update, CT.sym_load, (steps, len(load_ids)))
    upd["id"] = load_ids[None, :]
    upd["status"] = 1
    upd["p_specified"] = -sbus.real * model.base_mva * 1e6
    upd["q_specified"] = -sbus.imag * model.base_mva * 1e6
    del sbus
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    pgm = PowerGridModel(inp, system_frequency=50.0)
    out = pgm.calculate_power_flow(
        update_data={CT.sym_load: upd},
        error_tolerance=1e-8,
        max_iterations=20,
        threading=threading,
        continue_on_batch_error=True,
        output_component_types={
            CT.node: ["u_pu", "u_angle"],
            CT.generic_branch: ["i_from", "i_to", "loading"],
        },
    )
    elapsed = time.perf_counter() - t0
    u = out[CT.node]["u_pu"]
    ref = _reference_vm(case, steps, np.arange(steps))
    # gridplan reports pandapower buses; map through the compiled bus lookup
    on = model.bus_ppci >= 0
    got = np.full_like(ref, np.nan)
    got[:, on] = u[:, model.bus_ppci[on]]
    both = np.isfinite(got) & np.isfinite(ref)
    failed = len(pgm.batch_error.failed_scenarios) if pgm.batch_error is not None else 0
    ok = np.ones(steps, dtype=bool)
    if failed:
        ok[pgm.batch_error.failed_scenarios] = False
    dev = np.where(both, np.abs(got - ref), 0.0).max(axis=1)
    agree = ok & (dev <= 1e-6)
    return {
        "seconds": elapsed,
        "steps": steps,
        "peak_mb": _peak_mb() - rss0,
        "max_dvm_pu": float(dev[agree].max()) if agree.any() else float("nan"),
        "failed": failed,
        "agree": int(agree.sum()),
    }


def _worker(args: argparse.Namespace) -> None:
    tool, case, steps = args.worker
    steps = int(steps)
    if tool == "gridplan":
        res = work_gridplan(case, steps, stream=False)
    elif tool == "gridplan1":
        res = work_gridplan(case, steps, stream=False, threads=1)
    elif tool == "gridplan_h5":
        res = work_gridplan(case, steps, stream=True)
    elif tool == "pandapower":
        res = work_pandapower(case, steps, args.pp_sample)
    elif tool == "pgm1":
        res = work_pgm(case, steps, threading=-1)
    elif tool == "pgm":
        res = work_pgm(case, steps, threading=0)
    else:
        raise SystemExit(f"unknown tool {tool}")
    print("RESULT " + json.dumps(res))


def _run(tool: str, case: str, steps: int, pp_sample: int) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        tool,
        case,
        str(steps),
        "--pp-sample",
        str(pp_sample),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=8760, help="hourly steps (default a year)")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    ap.add_argument(
        "--pp-sample",
        type=int,
        default=100,
        help="steps pandapower run_timeseries actually runs (then extrapolated)",
    )
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args)
        return
    tools = [
        ("gridplan", "gridplan (in memory)"),
        ("gridplan1", "gridplan 1 thread (in memory)"),
        ("gridplan_h5", "gridplan (stream to HDF5)"),
        ("pandapower", "pandapower run_timeseries"),
        ("pgm1", "power-grid-model 1 thread"),
        ("pgm", "power-grid-model all cores"),
    ]
    print(f"time-series power flow, {args.steps} hourly steps, {os.cpu_count()} cores")
    for case in args.cases.split(","):
        rows = {}
        for tool, _label in tools:  # gridplan first: it writes the reference voltages
            rows[tool] = _run(tool, case, args.steps, args.pp_sample)
        base = rows["gridplan"]
        g_rate = base["steps"] / base["seconds"] if "seconds" in base else float("nan")
        print(f"\n{case}")
        print(
            f"  {'tool':32s} {'steps run':>9s} {'time (s)':>10s} {'steps/s':>9s} "
            f"{'gridplan x':>10s} {'peak MB':>8s} {'max |dvm| vs gridplan':>22s}"
        )
        for tool, label in tools:
            r = rows[tool]
            if "error" in r:
                print(f"  {label:32s} failed: {r['error']}")
                continue
            rate = r["steps"] / r["seconds"]
            total = args.steps / rate
            extra = " (extrapolated)" if r["steps"] < args.steps else ""
            dvm = r.get("max_dvm_pu")
            dvm_s = f"{dvm:.1e}" if dvm is not None else "-"
            notes = []
            if "agree" in r and r["agree"] < r["steps"]:
                notes.append(f"only {r['agree']}/{r['steps']} steps agree within 1e-6 pu")
            if r.get("failed"):
                notes.append(f"{r['failed']} steps did not converge")
            if notes:
                extra += ("; " if extra else " ") + "; ".join(notes)
            print(
                f"  {label:32s} {r['steps']:9d} {total:10.2f} {rate:9.0f} "
                f"{g_rate / rate:10.2f} {r['peak_mb']:8.0f} {dvm_s:>22s}{extra}"
            )
        if "iterations_mean" in base:
            print(
                f"  gridplan: {base['converged']}/{base['steps']} converged, "
                f"{base['iterations_mean']:.1f} iterations per step on average"
            )
        print("  'gridplan x' = gridplan (all cores, in memory) steps/s / the tool's steps/s")
        _equal_threads(rows)


def _equal_threads(rows: dict) -> None:
    """gridplan against power-grid-model at one thread each, and gridplan's scaling."""
    one, pgm1, base = rows.get("gridplan1", {}), rows.get("pgm1", {}), rows["gridplan"]
    if "seconds" in one and "seconds" in pgm1 and "seconds" in base:
        print(
            f"  at equal threads (1): gridplan {pgm1['seconds'] / one['seconds']:.2f}x "
            f"power-grid-model; gridplan's scaling to {os.cpu_count()} cores: "
            f"{one['seconds'] / base['seconds']:.2f}x"
        )


if __name__ == "__main__":
    main()
