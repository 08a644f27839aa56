"""Builder of the bundled case ``wind-test-centre``: turbines, PV and storage on a collector grid.

After the national wind-power integration research and test centre named in the plan: the plan's
30 turbines totalling 78 MW (test-stand prototypes from 1.5 to 5 MW), 640 kW of PV and 2.5 MW of
storage. Turbines sit behind 35/0.69 kV box transformers on five 35 kV collector feeders (cable
out of the substation, then overhead LGJ-240), collected at a 110/35 kV booster substation with one
100 MVA transformer and exported over a 15 km 110 kV line.

Operating point: every turbine and the PV at rated output, the battery charging at its rated
power (the design check for collector loading and voltage rise). Converges with plain
``pandapower.runpp``. Reliability data follow docs/reliability-data.md.

Run ``python -m cases.builders.wind_test_centre`` from the repository root.
"""

from __future__ import annotations

import pandapower as pp

from cases.builders._common import (
    RELIABILITY,
    SWITCHING_TIME_MANUAL_H,
    PlanFigures,
    add_line,
    add_load,
    add_switch,
    add_trafo,
    finish,
    seed,
    write_case,
)

NAME = "wind-test-centre"
DESCRIPTION = (
    "Wind integration test centre: 30 turbines (78 MW), 640 kW PV, 2.5 MW storage "
    "on a 35 kV collector grid behind a 110/35 kV substation"
)
CLASS = "rural"

# Turbine ratings on the test stands, MW, and how many of each: the mix of prototypes tested;
# the builder checks count and sum against the plan figures.
TURBINE_MIX = ((1.5, 8), (2.0, 10), (3.0, 6), (4.0, 2), (5.0, 4))
FEEDERS = ("C1", "C2", "C3", "C4", "C5")
CABLE_OUT_KM = 1.5
SPACING_KM = 0.7  # between turbines along a feeder (about 5-7 rotor diameters)
# Box transformers, 35/0.69 kV, rated ~1.1 x the turbine: vk 6.5 %, losses typical of S11
# oil units of these sizes (load loss ~0.9 %, no-load ~0.12 %).
BOX_VK_PERCENT = 6.5
BOX_VKR_PERCENT = 0.9
BOX_PFE_PER_MVA_KW = 1.2
TURBINE_COS_PHI_RATED = 0.95
# Storage: 2.5 MW, 2 h (assumed energy) behind a 35/0.4 kV 3.15 MVA transformer
STORAGE_HOURS = 2.0
STATION_SERVICE_MW = 0.15


def _turbines() -> list[float]:
    """Turbine ratings, MW, in a fixed order interleaving sizes so feeders stay balanced."""
    out: list[float] = []
    for mw, n in TURBINE_MIX:
        out.extend([mw] * n)
    # snake order over the feeders: largest first
    return sorted(out, reverse=True)


def _box_trafo(
    net: pp.pandapowerNet, hv: int, lv: int, sn_mva: float, vn_lv_kv: float, name: str
) -> int:
    idx = pp.create_transformer_from_parameters(
        net,
        hv,
        lv,
        sn_mva=sn_mva,
        vn_hv_kv=35.0,
        vn_lv_kv=vn_lv_kv,
        vk_percent=BOX_VK_PERCENT,
        vkr_percent=BOX_VKR_PERCENT,
        pfe_kw=round(BOX_PFE_PER_MVA_KW * sn_mva, 2),
        i0_percent=0.5,
        name=name,
        tap_side="hv",
        tap_neutral=0,
        tap_min=-2,
        tap_max=2,
        tap_step_percent=2.5,
        tap_pos=0,
        tap_changer_type="Ratio",
        model="S11-M 35kV box",
    )
    for col, val in RELIABILITY["trafo_distribution"].items():
        net.trafo.at[idx, col] = val
    return idx


def build() -> pp.pandapowerNet:
    """Build the ``wind-test-centre`` net (deterministic)."""
    net = pp.create_empty_network(name=NAME, f_hz=50.0)
    fig = PlanFigures()
    manual = SWITCHING_TIME_MANUAL_H
    n_turbines, n_src = seed("wind.test_centre_turbines")
    wind_mw, w_src = seed("wind.test_centre_wind_mw")
    pv_kw, pv_src = seed("wind.test_centre_pv_kw")
    storage_mw, s_src = seed("wind.test_centre_storage_mw")
    ratings = _turbines()
    if len(ratings) != n_turbines or abs(sum(ratings) - wind_mw) > 1e-9:
        raise ValueError(
            f"turbine mix gives {len(ratings)} turbines / {sum(ratings)} MW, plan "
            f"says {n_turbines} / {wind_mw} MW"
        )

    def bus(vn_kv: float, name: str, feeder: str) -> int:
        return pp.create_bus(net, vn_kv, name=name, feeder=feeder)

    grid = bus(110.0, "Grid 110kV", "HV")
    pp.create_ext_grid(net, grid, vm_pu=1.0, name="Regional 110 kV grid equivalent")
    hv = bus(110.0, "Test centre 110kV", "HV")
    ln = add_line(net, grid, hv, 15.0, "LGJ-300/40 110kV", "110kV export line", "line_110kv")
    add_switch(net, hv, ln, "l", "breaker", manual, name="110kV line CB")
    mv = bus(35.0, "Test centre 35kV", "SS")
    tr = add_trafo(
        net,
        hv,
        mv,
        "SZ11-100000/110 115/36.75kV",
        "Main T1 110/35kV",
        "trafo_primary",
        tap_step_percent=1.25,
        tap_range=8,
    )
    add_switch(net, hv, tr, "t", "breaker", manual, name="Main T1 110kV CB")

    # deal turbines to feeders in snake order (1..5, 5..1, ...) so MW per feeder are close
    order: list[int] = []
    while len(order) < len(ratings):
        order.extend(range(len(FEEDERS)))
        order.extend(reversed(range(len(FEEDERS))))
    on_feeder: dict[int, list[float]] = {f: [] for f in range(len(FEEDERS))}
    for mw, f in zip(ratings, order[: len(ratings)], strict=True):
        on_feeder[f].append(mw)
    wt_no = 0
    wind_sgens = []
    for f, feeder in enumerate(FEEDERS):
        prev = mv
        for k, mw in enumerate(on_feeder[f]):
            node = bus(35.0, f"{feeder} WT{k + 1} 35kV", feeder)
            if k == 0:
                ln = add_line(
                    net,
                    prev,
                    node,
                    CABLE_OUT_KM,
                    "YJV22-26/35 3x300 Cu",
                    f"{feeder} cable out",
                    "cable_35kv",
                )
                add_switch(net, prev, ln, "l", "breaker", manual, name=f"{feeder} feeder CB")
            else:
                ln = add_line(
                    net,
                    prev,
                    node,
                    SPACING_KM,
                    "LGJ-240/30 35kV",
                    f"{feeder} section {k}-{k + 1}",
                    "overhead_35kv",
                )
            wt_no += 1
            lv = bus(0.69, f"WT{wt_no:02d} 0.69kV", feeder)
            sn = round(1.1 * mw / TURBINE_COS_PHI_RATED * 10) / 10
            t = _box_trafo(net, node, lv, sn, 0.69, f"WT{wt_no:02d} box 35/0.69kV")
            add_switch(net, node, t, "t", "fuse", manual, name=f"WT{wt_no:02d} fuse-LBS")
            wind_sgens.append(
                pp.create_sgen(
                    net,
                    lv,
                    p_mw=mw,
                    q_mvar=0.0,
                    sn_mva=round(mw / TURBINE_COS_PHI_RATED, 3),
                    name=f"WT{wt_no:02d} {mw:g} MW",
                    type="WP",
                    fuel="wind",
                    rated_mw=mw,
                )
            )
            prev = node

    # PV, storage and station service on their own transformers off the 35 kV busbar
    pv_bus = bus(0.4, "PV array 0.4kV", "SS")
    t = _box_trafo(net, mv, pv_bus, 0.8, 0.4, "PV 35/0.4kV")
    add_switch(net, mv, t, "t", "fuse", manual, name="PV fuse-LBS")
    pv = pp.create_sgen(
        net,
        pv_bus,
        p_mw=pv_kw / 1000.0,
        sn_mva=pv_kw / 1000.0,
        name=f"PV {pv_kw:g} kWp",
        type="PV",
        fuel="solar",
        rated_mw=pv_kw / 1000,
    )
    st_bus = bus(0.4, "Storage 0.4kV", "SS")
    t = _box_trafo(net, mv, st_bus, 3.15, 0.4, "Storage 35/0.4kV")
    add_switch(net, mv, t, "t", "breaker", manual, name="Storage CB")
    st = pp.create_storage(
        net,
        st_bus,
        p_mw=storage_mw,
        max_e_mwh=storage_mw * STORAGE_HOURS,
        sn_mva=storage_mw,
        soc_percent=50.0,
        max_p_mw=storage_mw,
        min_p_mw=-storage_mw,
        name=f"Battery {storage_mw:g} MW",
        type="battery",
    )
    aux = bus(0.4, "Station service 0.4kV", "SS")
    t = _box_trafo(net, mv, aux, 0.4, 0.4, "Station service 35/0.4kV")
    add_switch(net, mv, t, "t", "fuse", manual, name="Station service fuse-LBS")
    add_load(net, aux, STATION_SERVICE_MW, 0.9, "Station service", "station_service", 1, 0.6, CLASS)

    fig.add(
        "wind.test_centre_turbines",
        n_turbines,
        "count",
        n_src,
        f"sgen {wind_sgens[0]}-{wind_sgens[-1]} (type WP)",
    )
    fig.add(
        "wind.test_centre_wind_mw",
        wind_mw,
        "MW",
        w_src,
        f"sgen {wind_sgens[0]}-{wind_sgens[-1]} rated_mw (sum)",
    )
    fig.add("wind.test_centre_pv_kw", pv_kw, "kW", pv_src, f"sgen {pv} rated_mw x 1000")
    fig.add("wind.test_centre_storage_mw", storage_mw, "MW", s_src, f"storage {st} max_p_mw")
    finish(net, NAME, DESCRIPTION, fig)
    return net


if __name__ == "__main__":
    write_case(build())
