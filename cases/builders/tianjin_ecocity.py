"""Builder of the bundled case ``tianjin-ecocity``: an urban 110/10/0.4 kV eco-city district.

After the Sino-Singapore Tianjin Eco-City integrated smart-grid demonstration named in the plan:
a 110/10 kV substation with two 40 MVA transformers on split 10 kV busbars, six 10 kV XLPE
cable feeders paired into three open rings (normally-open ties at the ring ends), ring main units
with 10/0.4 kV transformers, and a smart community of the plan's 655 households in 11 buildings
on its own LV network with rooftop PV, a battery and EV chargers (home AC, public AC and DC).

Operating point: Tianjin's summer afternoon air-conditioning peak (loads at peak, PV at 70 % of
its rating, the battery discharging at full power). Converges with plain ``pandapower.runpp``.
Reliability data follow docs/reliability-data.md; values and sources are in ``_common.py``.

Run ``python -m cases.builders.tianjin_ecocity`` from the repository root.
"""

from __future__ import annotations

import pandapower as pp

from cases.builders._common import (
    SWITCHING_TIME_AUTOMATED_H,
    PlanFigures,
    add_line,
    add_load,
    add_switch,
    add_trafo,
    finish,
    seed,
    split_evenly,
    write_case,
)

NAME = "tianjin-ecocity"
DESCRIPTION = (
    "Urban 110/10/0.4 kV eco-city district: 6 cable feeders in open rings, smart "
    "community of 655 households with PV, battery and EV chargers"
)
CLASS = "urban"
CABLE = "YJV22-8.7/15 3x300 Cu"
LV_CABLE = "YJV22-0.6/1 4x240 Cu"
DIST_TRAFO = "SCB11-800/10 10/0.4kV"

# Ring main units per feeder and the section lengths between them, km (first: from the
# substation); ring pairs are (F1, F4), (F2, F5), (F3, F6) across the two busbar sections.
FEEDER_SECTIONS_KM = {
    "F1": (1.2, 0.5, 0.6, 0.4, 0.5),
    "F2": (0.9, 0.6, 0.5, 0.7, 0.4),
    "F3": (1.5, 0.4, 0.5, 0.6, 0.6),
    "F4": (1.0, 0.6, 0.4, 0.5, 0.5),
    "F5": (1.3, 0.5, 0.7, 0.4, 0.6),
    "F6": (0.8, 0.5, 0.6, 0.5, 0.4),
}
RING_PAIRS = (("F1", "F4"), ("F2", "F5"), ("F3", "F6"))
TIE_KM = 0.4
# Load of the LV block behind each ring main unit: (kind, peak MW, customers); the smart
# community takes the place of the block at F2's third RMU, a public DC charging station F5's
# second. Peak per residential customer ~1.6 kW after diversity (Chinese residential design
# practice, GB 50293 planning indices); commercial blocks 10-30 customers.
BLOCKS = (
    ("residential", 0.42, 260),
    ("commercial", 0.50, 24),
    ("residential", 0.36, 225),
    ("commercial", 0.45, 18),
    ("residential", 0.40, 250),
)
COMMUNITY_AT = ("F2", 2)
CHARGING_STATION_AT = ("F5", 1)
# load factor (average / peak), for ENS
LOAD_FACTOR = {
    "residential": 0.45,
    "commercial": 0.55,
    "ev_home_ac": 0.15,
    "ev_public_ac": 0.20,
    "ev_public_dc": 0.25,
}
COS_PHI = {
    "residential": 0.95,
    "commercial": 0.92,
    "ev_home_ac": 0.99,
    "ev_public_ac": 0.99,
    "ev_public_dc": 0.99,
}

# Smart community: peak per household after diversity (MW); rooftop PV per household (kWp: the
# usable roof of a 6-18 storey building, ~300 m2 at ~150 W/m2, gives 0.5-1 kWp per flat); home
# AC chargers (7 kW, one per ~8 households, 30 % simultaneous at the peak); public chargers in
# the community car park.
HOUSEHOLD_PEAK_MW = 0.0016
PV_KWP_PER_HOUSEHOLD = 0.6
PV_OUTPUT_SHARE = 0.7
HOME_CHARGER_KW = 7.0
HOUSEHOLDS_PER_HOME_CHARGER = 8
HOME_CHARGER_SIMULTANEITY = 0.3
PUBLIC_AC = (10, 7.0)  # chargers, kW each
PUBLIC_DC = (2, 60.0)
STATION_DC = (8, 60.0)  # public DC charging station on F5
PUBLIC_SIMULTANEITY = 0.6
# Battery: 250 kW / 500 kWh (2 h) at the community LV board (assumed size)
BATTERY_MW, BATTERY_MWH = 0.25, 0.5


def build() -> pp.pandapowerNet:
    """Build the ``tianjin-ecocity`` net (deterministic)."""
    net = pp.create_empty_network(name=NAME, f_hz=50.0)
    fig = PlanFigures()
    auto = SWITCHING_TIME_AUTOMATED_H

    def bus(vn_kv: float, name: str, feeder: str) -> int:
        return pp.create_bus(net, vn_kv, name=name, feeder=feeder)

    # 110 kV supply: two cable circuits from the upstream 220/110 kV station
    up = bus(110.0, "Upstream 220/110kV station 110kV", "HV")
    hv = bus(110.0, "Eco-city 110kV", "HV")
    pp.create_ext_grid(net, up, vm_pu=1.0, name="Tianjin 220 kV grid equivalent")
    for c in (1, 2):
        ln = add_line(
            net, up, hv, 6.0, "YJLW03-64/110 1x630 Cu", f"110kV incomer #{c}", "line_110kv"
        )
        add_switch(net, up, ln, "l", "breaker", auto, name=f"110kV incomer #{c} CB")
    sections = []
    for s, roman in ((1, "I"), (2, "II")):
        mv = bus(10.0, f"Eco-city 10kV section {roman}", "SS")
        tr = add_trafo(
            net,
            hv,
            mv,
            "SZ11-40000/110 110/10.5kV",
            f"Eco-city T{s} 110/10kV",
            "trafo_primary",
            tap_step_percent=1.25,
            tap_range=8,
        )
        add_switch(net, hv, tr, "t", "breaker", auto, name=f"T{s} 110kV CB")
        sections.append(mv)
    add_switch(
        net,
        sections[0],
        sections[1],
        "b",
        "tie",
        auto,
        closed=False,
        name="10kV bus coupler (normally open)",
    )

    households, h_src = seed("smart_community.households")
    buildings, b_src = seed("smart_community.buildings")
    ends: dict[str, int] = {}
    community_elements: dict[str, list[int]] = {}
    for f_no, (feeder, sections_km) in enumerate(FEEDER_SECTIONS_KM.items()):
        prev = sections[0] if f_no < 3 else sections[1]
        for k, km in enumerate(sections_km):
            rmu = bus(10.0, f"{feeder} RMU{k + 1} 10kV", feeder)
            ln = add_line(net, prev, rmu, km, CABLE, f"{feeder} cable {k}-{k + 1}", "cable_10kv")
            if k == 0:
                add_switch(net, prev, ln, "l", "breaker", auto, name=f"{feeder} feeder CB")
            else:
                add_switch(
                    net, prev, ln, "l", "sectionalizer", auto, name=f"{feeder} RMU{k} LBS out"
                )
            add_switch(net, rmu, ln, "l", "sectionalizer", auto, name=f"{feeder} RMU{k + 1} LBS in")
            prev = rmu
            if (feeder, k) == COMMUNITY_AT:
                community_elements = _community(net, rmu, feeder, households, buildings)
                continue
            lv = bus(0.4, f"{feeder} RMU{k + 1} 0.4kV", feeder)
            tr = add_trafo(
                net, rmu, lv, DIST_TRAFO, f"{feeder} RMU{k + 1} 10/0.4kV", "trafo_distribution"
            )
            add_switch(net, rmu, tr, "t", "fuse", auto, name=f"{feeder} RMU{k + 1} fuse")
            if (feeder, k) == CHARGING_STATION_AT:
                n, kw = STATION_DC
                add_load(
                    net,
                    lv,
                    n * kw / 1000.0 * PUBLIC_SIMULTANEITY,
                    COS_PHI["ev_public_dc"],
                    f"{feeder} public DC charging station",
                    "ev_public_dc",
                    1,
                    LOAD_FACTOR["ev_public_dc"],
                    CLASS,
                )
                continue
            kind, p, customers = BLOCKS[(f_no + k) % len(BLOCKS)]
            add_load(
                net,
                lv,
                p,
                COS_PHI[kind],
                f"{feeder} RMU{k + 1} {kind} block",
                kind,
                customers,
                LOAD_FACTOR[kind],
                CLASS,
            )
        ends[feeder] = prev
    for a, b in RING_PAIRS:
        ln = add_line(net, ends[a], ends[b], TIE_KM, CABLE, f"tie {a}-{b}", "cable_10kv")
        add_switch(
            net, ends[a], ln, "l", "tie", auto, closed=False, name=f"tie {a}-{b} (normally open)"
        )
        add_switch(net, ends[b], ln, "l", "sectionalizer", auto, name=f"tie {a}-{b} LBS")

    res = net.load.index[net.load.kind.eq("residential") & net.load.name.str.startswith("Bldg")]
    fig.add(
        "smart_community.households",
        households,
        "count",
        h_src,
        f"load {res.min()}-{res.max()} step 2 ('Bldg NN flats'): customers (sum)",
    )
    fig.add(
        "smart_community.buildings",
        buildings,
        "count",
        b_src,
        f"bus {community_elements['buildings'][0]}-{community_elements['buildings'][-1]}",
    )
    target, t_src = seed("reliability_targets.urban_min_percent")
    fig.add(
        "reliability_targets.urban_min_percent",
        target,
        "percent",
        t_src,
        "load reliability_class == 'urban'",
    )
    finish(net, NAME, DESCRIPTION, fig)
    return net


def _community(
    net: pp.pandapowerNet, rmu: int, feeder: str, households: int, buildings: int
) -> dict[str, list[int]]:
    """The smart community's LV network under ring main unit ``rmu``; returns building buses."""
    auto = SWITCHING_TIME_AUTOMATED_H
    boards = []
    for s in (1, 2):
        lv = pp.create_bus(net, 0.4, name=f"Community LV board {s} 0.4kV", feeder=feeder)
        tr = add_trafo(net, rmu, lv, DIST_TRAFO, f"Community T{s} 10/0.4kV", "trafo_distribution")
        add_switch(net, rmu, tr, "t", "fuse", auto, name=f"Community T{s} fuse")
        boards.append(lv)
    add_switch(
        net,
        boards[0],
        boards[1],
        "b",
        "tie",
        auto,
        closed=False,
        name="Community LV bus tie (normally open)",
    )
    # buildings of 6 to 18 storeys: households proportional to these weights, summing exactly
    weights = [1.0 + 0.1 * ((7 * i) % 5) for i in range(buildings)]
    flats = split_evenly(households, weights)
    out: list[int] = []
    half = (buildings + 1) // 2
    for i, n in enumerate(flats):
        board = boards[0] if i < half else boards[1]
        b = pp.create_bus(net, 0.4, name=f"Bldg {i + 1:02d} 0.4kV", feeder=feeder)
        km = round(0.06 + 0.03 * (i % half), 3)
        ln = add_line(net, board, b, km, LV_CABLE, f"Bldg {i + 1:02d} LV cable", "cable_04kv")
        add_switch(net, board, ln, "l", "breaker", auto, name=f"Bldg {i + 1:02d} LV breaker")
        add_load(
            net,
            b,
            n * HOUSEHOLD_PEAK_MW,
            COS_PHI["residential"],
            f"Bldg {i + 1:02d} flats",
            "residential",
            n,
            LOAD_FACTOR["residential"],
            CLASS,
        )
        chargers = max(1, round(n / HOUSEHOLDS_PER_HOME_CHARGER))
        add_load(
            net,
            b,
            chargers * HOME_CHARGER_KW / 1000.0 * HOME_CHARGER_SIMULTANEITY,
            COS_PHI["ev_home_ac"],
            f"Bldg {i + 1:02d} home EV chargers ({chargers})",
            "ev_home_ac",
            0,
            LOAD_FACTOR["ev_home_ac"],
            CLASS,
        )
        kwp = round(n * PV_KWP_PER_HOUSEHOLD)
        pp.create_sgen(
            net,
            b,
            p_mw=round(kwp * PV_OUTPUT_SHARE / 1000.0, 4),
            sn_mva=kwp / 1000.0,
            name=f"Bldg {i + 1:02d} rooftop PV {kwp} kWp",
            type="PV",
        )
        out.append(b)
    park = pp.create_bus(net, 0.4, name="Community car park 0.4kV", feeder=feeder)
    ln = add_line(net, boards[1], park, 0.08, LV_CABLE, "Car park LV cable", "cable_04kv")
    add_switch(net, boards[1], ln, "l", "breaker", auto, name="Car park LV breaker")
    for (n, kw), kind in ((PUBLIC_AC, "ev_public_ac"), (PUBLIC_DC, "ev_public_dc")):
        add_load(
            net,
            park,
            n * kw / 1000.0 * PUBLIC_SIMULTANEITY,
            COS_PHI[kind],
            f"Car park {n} x {kw:.0f} kW {kind}",
            kind,
            1,
            LOAD_FACTOR[kind],
            CLASS,
        )
    pp.create_storage(
        net,
        boards[0],
        p_mw=-BATTERY_MW,
        max_e_mwh=BATTERY_MWH,
        sn_mva=BATTERY_MW,
        soc_percent=50.0,
        max_p_mw=BATTERY_MW,
        min_p_mw=-BATTERY_MW,
        name="Community battery 250 kW / 500 kWh",
        type="battery",
    )
    return {"buildings": out}


if __name__ == "__main__":
    write_case(build())
