"""Speed of the reliability and adequacy studies (run on demand, not in the test suite).

    python benchmarks/reliability.py [--hl2-samples 5000]

Prints one table: task, size, wall time, target, and the ratio target/time (> 1 = faster than
the target of issue 6): the analytical evaluation of a 1,000-load-point distribution network
(net -> arrays conversion shown separately), HL-I COPT for 100 units with 8,760 hourly loads,
and HL-II Monte Carlo throughput (states/s, LPs/s) on the IEEE RTS 24-bus case.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandapower as pp


def distribution_net(
    n_feeders: int = 20, sections: int = 10, laterals: int = 5
) -> pp.pandapowerNet:
    """Synthetic 10 kV network: ``n_feeders`` feeders of ``sections`` main sections (breaker
    at the head, a sectionalizer on every section), ``laterals`` fused laterals per main node
    each feeding a 10/0.4 kV transformer and a load point; feeder ends tied in pairs."""
    net = pp.create_empty_network()
    src = pp.create_bus(net, 10.0)
    pp.create_ext_grid(net, src)
    ends = []
    for f in range(n_feeders):
        prev = src
        for s in range(sections):
            nb = pp.create_bus(net, 10.0)
            ln = pp.create_line_from_parameters(net, prev, nb, 0.5, 0.2, 0.3, 10.0, 0.4)
            dev = "breaker" if s == 0 else "sectionalizer"
            sw = pp.create_switch(net, prev, ln, et="l", type="CB" if s == 0 else "LBS")
            net.switch.loc[sw, "device"] = dev
            for _ in range(laterals):
                lb = pp.create_bus(net, 10.0)
                ll = pp.create_line_from_parameters(net, nb, lb, 0.3, 0.3, 0.3, 10.0, 0.2)
                fs = pp.create_switch(net, nb, ll, et="l", type="LBS")
                net.switch.loc[fs, "device"] = "fuse"
                lv = pp.create_bus(net, 0.4)
                pp.create_transformer(net, lb, lv, "0.4 MVA 10/0.4 kV")
                ld = pp.create_load(net, lv, p_mw=0.1, q_mvar=0.03)
                net.load.loc[ld, "customers"] = 50
                net.load.loc[ld, "p_avg_mw"] = 0.06
            prev = nb
        ends.append(prev)
        net.bus.loc[net.bus.index[-(sections * (2 * laterals + 1)) :], "feeder"] = f"F{f}"
    for a, b in zip(ends[::2], ends[1::2], strict=True):
        t = pp.create_switch(net, a, b, et="b", closed=False, type="LBS")
        net.switch.loc[t, "device"] = "tie"
    return net


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_mib(fn) -> float:
    """Peak traced Python/numpy allocation of one call, MiB (tracemalloc slows the call down,
    so it is measured apart from the timing)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hl2-samples", type=int, default=5000)
    args = ap.parse_args()

    from gridplan.core import adequacy as adq
    from gridplan.core import reliability as rel
    from gridplan.model.reliability_data import build_reliability_model
    from gridplan.studies.adequacy import run_adequacy

    rows = []
    net = distribution_net()
    n_lp = len(net.load)
    t_conv = best_of(lambda: build_reliability_model(net), 1)
    m = build_reliability_model(net)

    def evaluate() -> None:
        seg = rel.build_segments(m.network, m.events)
        lam, u = rel.load_point_indices(seg, m.events, n_lp)
        rel.system_indices(lam, u, m.network.lp_customers, m.network.lp_p_avg_mw)

    t_eval = best_of(evaluate)
    peak_eval = peak_mib(evaluate)
    rows.append(
        (
            "FMEA evaluation",
            f"{n_lp} load points, {len(m.events.edge)} events",
            t_eval,
            1.0,
            f"{peak_eval:.1f} MiB",
        )
    )
    rows.append(("net -> arrays", f"{len(net.bus)} buses", t_conv, 1.0, ""))
    seg = rel.build_segments(m.network, m.events)
    t_mc = best_of(
        lambda: rel.sample_annual(
            seg,
            m.events,
            m.network.lp_customers,
            m.network.lp_p_avg_mw,
            10000,
            np.random.default_rng(0),
        ),
        1,
    )
    rows.append(("distribution MC", "10,000 years", t_mc, float("nan"), ""))

    rng = np.random.default_rng(1)
    sizes = np.array([12, 20, 50, 76, 100, 155, 197, 350, 400])
    cap = rng.choice(sizes, 100).astype(float)
    q = rng.uniform(0.01, 0.12, 100)
    mttr = rng.uniform(20, 150, 100)
    from gridplan.core.rel_loadshapes import rts79_hourly_pu

    h, _ = rts79_hourly_pu()
    load = np.r_[h, h[:24]] * cap.sum() / 1.25  # 8760 hourly loads, 25 % reserve

    def hl1() -> None:
        c = adq.build_copt(cap, q, mttr_h=mttr)
        adq.loss_of_load(c, load)

    t_hl1 = best_of(hl1)
    peak_hl1 = peak_mib(hl1)
    rows.append(
        (
            "HL-I COPT + indices",
            f"100 units ({cap.sum():.0f} MW), 8760 h",
            t_hl1,
            1.0,
            f"{peak_hl1:.1f} MiB",
        )
    )

    import pandapower.networks as pn

    from gridplan.model.cases import bundled_cases, load_case

    hl2 = [("case24_ieee_rts", pn.case24_ieee_rts(), args.hl2_samples)]
    if "uhv-backbone" in bundled_cases():
        hl2.append(("uhv-backbone", load_case("uhv-backbone"), max(args.hl2_samples // 10, 200)))
    for name, case, samples in hl2:
        t0 = time.perf_counter()
        res = run_adequacy(
            case,
            case_name=name,
            composite=True,
            target_cov=0.0,
            max_samples=samples,
            seed=0,
            include_ext_grid=True,
        )
        t_hl2 = time.perf_counter() - t0
        c = res.composite.iloc[0]
        rows.append(
            (
                "HL-II Monte Carlo",
                f"{name}, {int(c.samples)} states, {int(c.lp_solved)} LPs",
                t_hl2,
                float("nan"),
                f"{c.states_per_s:.0f} states/s, {c.lp_solved / c.duration_s:.0f} LP/s",
            )
        )

    print(f"{'task':<22} {'size':<42} {'time_s':>9} {'target_s':>9} {'ratio':>7}  note")
    for task, size, t, target, note in rows:
        ratio = target / t if target == target else float("nan")
        print(f"{task:<22} {size:<42} {t:9.4f} {target:9.2f} {ratio:7.1f}  {note}")


if __name__ == "__main__":
    main()
