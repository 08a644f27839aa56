"""Builder of the bundled case ``rural-feeder``: a long 10 kV overhead radial feeder with villages.

The case against which the plan's rural supply-reliability target is judged: a 110/10 kV county
substation feeding one 24 km overhead trunk (LGJ-150 then LGJ-120) with fused laterals (LGJ-70 /
LGJ-50) to villages, each served by pole-mounted 10/0.4 kV transformers behind drop-out fuses.
Protection and restoration: the substation breaker (with auto-reclosing), a mid-line recloser,
manual sectionalizers on the trunk and fuses at every lateral tap. A pole-mounted 10 kV capacitor
bank supports the voltage at the far end, and the far-end transformers sit on their -5 % tap, as
on long Chinese rural feeders.

Operating point: winter evening peak. Converges with plain ``pandapower.runpp``.
Reliability data follow docs/reliability-data.md; values and sources are in ``_common.py``.

Run ``python -m cases.builders.rural_feeder`` from the repository root.
"""

from __future__ import annotations

import pandapower as pp

from cases.builders._common import (
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

NAME = "rural-feeder"
DESCRIPTION = (
    "Rural 10 kV overhead radial feeder, 24 km trunk with fused laterals, recloser "
    "and sectionalizers, serving {villages} villages"
)
CLASS = "rural"
FEEDER = "F1"

# Trunk sections, km, and conductor; a sectionalizer (S) or recloser (R) sits at the start of
# the section it names.
TRUNK = (
    (1.5, "LGJ-150/25 10kV", ""),
    (2.0, "LGJ-150/25 10kV", ""),
    (2.0, "LGJ-150/25 10kV", "S"),
    (2.5, "LGJ-150/25 10kV", ""),
    (2.0, "LGJ-150/25 10kV", ""),
    (2.0, "LGJ-150/25 10kV", "R"),
    (2.5, "LGJ-120/20 10kV", ""),
    (2.0, "LGJ-120/20 10kV", ""),
    (2.0, "LGJ-120/20 10kV", "S"),
    (1.5, "LGJ-120/20 10kV", ""),
    (2.0, "LGJ-120/20 10kV", ""),
    (2.0, "LGJ-120/20 10kV", "S"),
)
# Laterals: (trunk node, sections km, conductor); every lateral node serves one village.
LATERALS = (
    (1, (1.2, 1.5), "LGJ-70/10 10kV"),
    (3, (2.0,), "LGJ-50/8 10kV"),
    (4, (1.5, 1.0, 1.5), "LGJ-70/10 10kV"),
    (6, (2.5,), "LGJ-50/8 10kV"),
    (7, (1.0, 2.0), "LGJ-70/10 10kV"),
    (9, (3.0,), "LGJ-50/8 10kV"),
    (10, (1.5, 1.5), "LGJ-70/10 10kV"),
    (12, (2.0,), "LGJ-50/8 10kV"),
)
# Villages on trunk nodes (without a lateral): trunk node list
TRUNK_VILLAGES = (2, 5, 8, 11)
# Households per village follow this deterministic pattern (rural villages of 80-200
# households); peak per household after diversity 0.8 kW (rural, electric heating rare),
# load factor 0.35 (pronounced evening peak), power factor 0.95 after LV capacitors.
HOUSEHOLD_PEAK_MW = 0.0008
LOAD_FACTOR = 0.35
COS_PHI = 0.95
#: Households served below this many use a 100 kVA unit, below the next a 200 kVA one, else 315.
TRAFO_SIZES = (
    (100, "S13-M-100/10 10/0.4kV"),
    (200, "S13-M-200/10 10/0.4kV"),
    (10_000, "S13-M-315/10 10/0.4kV"),
)
#: Trunk nodes from which the village transformers use their -5 % tap (far end of the feeder).
FAR_END_FROM_NODE = 7
CAPACITOR = (9, 0.3)  # trunk node, Mvar


def _households(i: int) -> int:
    return 80 + 20 * ((5 * i + 2) % 7)


def build() -> pp.pandapowerNet:
    """Build the ``rural-feeder`` net (deterministic)."""
    net = pp.create_empty_network(name=NAME, f_hz=50.0)
    fig = PlanFigures()
    manual = SWITCHING_TIME_MANUAL_H

    def bus(vn_kv: float, name: str, feeder: str = FEEDER) -> int:
        return pp.create_bus(net, vn_kv, name=name, feeder=feeder)

    hv = bus(110.0, "County substation 110kV", "HV")
    pp.create_ext_grid(net, hv, vm_pu=1.0, name="County 110 kV grid equivalent")
    mv = bus(10.0, "County substation 10kV", "SS")
    tr = add_trafo(
        net,
        hv,
        mv,
        "SZ11-20000/110 110/10.5kV",
        "County T1 110/10kV",
        "trafo_primary",
        tap_step_percent=1.25,
        tap_range=8,
    )
    add_switch(net, hv, tr, "t", "breaker", manual, name="T1 110kV CB")

    trunk = [mv]
    for k, (km, conductor, device) in enumerate(TRUNK):
        node = bus(10.0, f"Trunk node {k + 1}")
        ln = add_line(
            net, trunk[-1], node, km, conductor, f"Trunk section {k + 1}", "overhead_10kv"
        )
        if k == 0:
            feeder_cb = add_switch(
                net, mv, ln, "l", "breaker", manual, name="Feeder CB (auto-reclosing)"
            )
        elif device == "R":
            add_switch(
                net, trunk[-1], ln, "l", "recloser", manual, name=f"Recloser at trunk node {k}"
            )
        elif device == "S":
            add_switch(
                net,
                trunk[-1],
                ln,
                "l",
                "sectionalizer",
                manual,
                name=f"Sectionalizer at trunk node {k}",
            )
        trunk.append(node)

    village = 0

    def add_village(at: int, tap: int) -> None:
        nonlocal village
        village += 1
        n = _households(village)
        kind = next(t for limit, t in TRAFO_SIZES if n < limit)
        lv = bus(0.4, f"Village {village:02d} 0.4kV")
        t = add_trafo(
            net, at, lv, kind, f"Village {village:02d} 10/0.4kV", "trafo_distribution", tap_pos=tap
        )
        add_switch(net, at, t, "t", "fuse", manual, name=f"Village {village:02d} drop-out fuse")
        add_load(
            net,
            lv,
            n * HOUSEHOLD_PEAK_MW,
            COS_PHI,
            f"Village {village:02d}",
            "residential",
            n,
            LOAD_FACTOR,
            CLASS,
        )

    lateral_of = {node: (sections, conductor) for node, sections, conductor in LATERALS}
    for k in range(1, len(trunk)):
        tap = -2 if k >= FAR_END_FROM_NODE else 0
        if k in TRUNK_VILLAGES:
            add_village(trunk[k], tap)
        if k not in lateral_of:
            continue
        sections, conductor = lateral_of[k]
        prev = trunk[k]
        for j, km in enumerate(sections):
            node = bus(10.0, f"Lateral {k} node {j + 1}")
            ln = add_line(
                net, prev, node, km, conductor, f"Lateral {k} section {j + 1}", "overhead_10kv"
            )
            if j == 0:
                add_switch(net, prev, ln, "l", "fuse", manual, name=f"Lateral {k} tap fuse")
            add_village(node, tap)
            prev = node
    node, q = CAPACITOR
    pp.create_shunt(net, trunk[node], q_mvar=-q, name=f"Pole-mounted capacitor {q * 1000:.0f} kvar")

    target, src = seed("reliability_targets.rural_min_percent")
    fig.add(
        "reliability_targets.rural_min_percent",
        target,
        "percent",
        src,
        "load reliability_class == 'rural'",
    )
    finish(net, NAME, DESCRIPTION.format(villages=village), fig)
    # the feeder breaker's reclosing relay clears temporary faults like a recloser
    net.switch["auto_reclose"] = net.switch.index == feeder_cb
    return net


if __name__ == "__main__":
    write_case(build())
