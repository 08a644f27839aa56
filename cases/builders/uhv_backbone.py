"""Builder of the bundled case ``uhv-backbone``: a multi-region UHV/EHV transmission equivalent.

Shape taken from the plan (``seeds/plan-targets.toml``): the 1000 kV AC Jindongnan-Nanyang-
Jingmen corridor (640 km, single circuit, 6,000 MVA, operated up to 1,100 kV) linking the North
China and Central China grids, the +/-800 kV Xiangjiaba-Shanghai and +/-660 kV Ningdong-Shandong
DC links, and 500 kV regional grids with 220 kV load substations beneath them.

It is a planner's reduced equivalent, not a copy of the real grid: regions are Shanxi, Shandong
(North China), Henan, Hubei, Sichuan (Central China; one synchronous area with North China through
the UHV corridor), East China and Ningxia (North-west), each a meshed 500 kV ring with chords,
three 220 kV load substations under every 500 kV substation, and power plants on their own
500 kV (or 220 kV for wind) switchyards. East China and Ningxia are separate synchronous areas
connected only by the DC links; each synchronous area has one ``ext_grid`` (the rest of that
area) as slack.

Run ``python -m cases.builders.uhv_backbone`` from the repository root to write
``cases/uhv-backbone.json``. It converges with plain ``pandapower.runpp(net)`` (pandapower's
default init, which is a DC-power-flow start for this net).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandapower as pp

from cases.builders._common import PlanFigures, finish, seed_project, write_case

NAME = "uhv-backbone"
DESCRIPTION = (
    "Multi-region UHV/EHV equivalent: 1000 kV AC Jindongnan-Nanyang-Jingmen corridor, "
    "+/-800 kV and +/-660 kV DC links, 500/220 kV regional grids"
)
F_HZ = 50.0

# --- overhead line data, per km and circuit ------------------------------------------------------
# R: DC resistance of the ACSR sub-conductor at 20 degC (GB/T 1179-2008: LGJ-500/35 0.05812,
# LGJ-400/35 0.07389 ohm/km) divided by the bundle count, +5-10 % for AC and conductor
# temperature. X and B: typical positive-sequence values of Chinese bundled lines (power
# engineering design handbooks; 1000 kV 8-bundle lines: x ~ 0.26 ohm/km, b ~ 4.4 uS/km, the
# order of the values published for the 1000 kV pilot). c = b / (2 pi f). Ampacity: ~0.80 kA
# (LGJ-400) per sub-conductor at 70 degC conductor / 25 degC ambient.
LINE_TYPES: dict[str, dict[str, float]] = {
    # 8 x LGJ-500/35; thermal rating not binding: max_i_ka comes from the 6,000 MVA plan rating
    "1000kV 8xLGJ-500/35": {"r": 0.0080, "x": 0.263, "c": 14.0, "max_i": math.nan},
    "500kV 4xLGJ-400/35": {"r": 0.0195, "x": 0.279, "c": 13.1, "max_i": 3.20},
    "220kV 2xLGJ-400/35": {"r": 0.0390, "x": 0.306, "c": 11.8, "max_i": 1.60},
}

# --- transformer data ---------------------------------------------------------------------------
# Ratings 1050/525 kV and 525/230 kV are the Chinese standard ratios of UHV and 500 kV
# autotransformers (HV-MV windings modelled; the tertiary carries only reactive compensation).
# vk: ~18 % typical of 1000 kV 3,000 MVA autotransformers, 14 % for 500 kV 1,000 MVA units
# (GB/T 6451 range 12-16 %); vkr / pfe / i0 typical of such units (losses ~0.2 %).
TRAFO_UHV = {
    "sn_mva": 3000.0,
    "vn_hv_kv": 1050.0,
    "vn_lv_kv": 525.0,
    "vkr_percent": 0.15,
    "vk_percent": 18.0,
    "pfe_kw": 200.0,
    "i0_percent": 0.05,
}
TRAFO_500 = {
    "sn_mva": 1000.0,
    "vn_hv_kv": 525.0,
    "vn_lv_kv": 230.0,
    "vkr_percent": 0.20,
    "vk_percent": 14.0,
    "pfe_kw": 250.0,
    "i0_percent": 0.10,
}

#: Unit sizes, MW (wind: one aggregated 200 MW farm); sn_mva = unit / 0.9 (rated pf 0.9).
UNIT_MW = {"coal": 600.0, "hydro": 700.0, "nuclear": 1000.0, "wind": 200.0}
#: Output of the non-coal fleet at the bundled operating point (winter evening peak, dry
#: season), per unit of capacity; coal follows the regional balance.
DISPATCH = {"hydro": 0.60, "nuclear": 0.95, "wind": 0.35}
#: Generator voltage set point on the plant's HV bus, pu.
GEN_VM_PU = 1.03
#: Transmission losses assumed when balancing each region, share of its load.
LOSS_SHARE = 0.015
#: Load power factor at 220 kV (after the compensation in the 110/35/10 kV networks beneath).
LOAD_COS_PHI = 0.95
#: Capacitor banks on the tertiaries of every 220 kV load substation, share of its P load
#: (Mvar/MW); a region can set its own (regions with long lines and light load need less).
CAP_MVAR_PER_MW = 0.25
#: 500/220 kV transformers per substation, planned N-1: enough 1,000 MVA units to carry the
#: substation's load at this many MW per unit with one unit out (so at least two).
MW_PER_TRAFO = 850.0
#: MW one 500 kV circuit may carry when planning plant connections N-1 (3.2 kA at 500 kV is
#: 2,771 MVA; margin for reactive flow): circuits = ceil(plant capacity / this) + 1.
MW_PER_500KV_CIRCUIT = 2400.0
#: 1000/500 kV units per UHV substation: the sending end carries the whole transfer and gets a
#: third unit so that it stays within rating with one unit out.
UHV_TRAFOS = {"Jindongnan": 3, "Nanyang": 2, "Jingmen": 2}
#: 500 kV lines at least this long (km) get line-end shunt reactors compensating this share of
#: their charging, as is usual on long EHV lines.
LONG_LINE_KM = 250.0
LONG_LINE_REACTOR_SHARE = 0.6


@dataclass(frozen=True)
class Plant:
    """A power station: 500 kV substation it feeds, fuel, capacity in units of UNIT_MW."""

    name: str
    sub: int
    fuel: str
    units: int
    kv: float = 500.0
    line_km: float = 40.0


@dataclass(frozen=True)
class Region:
    """A regional 500 kV grid: substations on a ring with chords, loads and plants beneath it."""

    key: str
    name: str
    area: str
    subs: tuple[str, ...]
    load_mw: float
    export_mw: float
    plants: tuple[Plant, ...]
    chords: tuple[tuple[int, int], ...]
    cap_mvar_per_mw: float = CAP_MVAR_PER_MW


# Names of 500 kV substations are the cities of each province. Loads are the 220 kV demand of a
# winter evening peak, scaled down (roughly 10-50 % of the provinces' 2010 peaks) so that the
# equivalent stays at a few hundred buses while the 1000 kV and DC transfers remain a realistic
# share of regional demand. export_mw: planned net export (+) / import (-) of the region.
REGIONS: tuple[Region, ...] = (
    Region(
        "SX",
        "Shanxi",
        "north-central",
        ("Changzhi", "Taiyuan", "Datong", "Xinzhou", "Yangquan", "Linfen", "Yuncheng", "Jincheng"),
        9000.0,
        4500.0,
        (
            Plant("Yangcheng", 7, "coal", 8),
            Plant("Shentou", 2, "coal", 6),
            Plant("Hequ", 3, "coal", 4),
            Plant("Taiyuan No.2", 1, "coal", 4),
            Plant("Hejin", 6, "coal", 4),
        ),
        ((0, 4), (1, 5)),
    ),
    Region(
        "SD",
        "Shandong",
        "north-central",
        (
            "Jinan",
            "Qingdao",
            "Zibo",
            "Weifang",
            "Linyi",
            "Jining",
            "Dezhou",
            "Liaocheng",
            "Yantai",
            "Zaozhuang",
        ),
        14000.0,
        -3760.0,
        (
            Plant("Zouxian", 5, "coal", 8),
            Plant("Huangdao", 1, "coal", 5),
            Plant("Longkou", 8, "coal", 4),
            Plant("Dezhou", 6, "coal", 4),
        ),
        ((0, 5), (2, 7)),
        cap_mvar_per_mw=0.30,
    ),
    Region(
        "HA",
        "Henan",
        "north-central",
        (
            "Nanyang",
            "Zhengzhou",
            "Luoyang",
            "Pingdingshan",
            "Xinxiang",
            "Anyang",
            "Zhoukou",
            "Xinyang",
            "Shangqiu",
        ),
        11000.0,
        -1500.0,
        (
            Plant("Qinbei", 4, "coal", 8),
            Plant("Yaomeng", 3, "coal", 5),
            Plant("Xinxiang", 4, "coal", 4),
            Plant("Xiaolangdi", 2, "hydro", 2),
        ),
        ((0, 4), (2, 6)),
        cap_mvar_per_mw=0.20,
    ),
    Region(
        "HB",
        "Hubei",
        "north-central",
        (
            "Jingmen",
            "Wuhan",
            "Yichang",
            "Xiangyang",
            "Jingzhou",
            "Xiaogan",
            "Xianning",
            "Huanggang",
        ),
        10000.0,
        -3800.0,
        (
            Plant("Three Gorges", 2, "hydro", 6),
            Plant("Gezhouba", 2, "hydro", 2),
            Plant("Hanchuan", 5, "coal", 3),
            Plant("Yangluo", 1, "coal", 3),
        ),
        ((0, 4), (1, 5)),
    ),
    Region(
        "SC",
        "Sichuan",
        "north-central",
        ("Yibin", "Chengdu", "Zigong", "Leshan", "Mianyang", "Nanchong", "Dazhou", "Panzhihua"),
        8000.0,
        6800.0,
        (
            Plant("Xiangjiaba", 0, "hydro", 9),
            Plant("Ertan", 7, "hydro", 6),
            Plant("Pubugou", 3, "hydro", 6),
            Plant("Jinping", 2, "hydro", 8),
            Plant("Guang'an", 5, "coal", 6),
        ),
        ((0, 4), (1, 5)),
        cap_mvar_per_mw=0.20,
    ),
    Region(
        "EC",
        "East China",
        "east",
        (
            "Fengxian",
            "Shanghai",
            "Suzhou",
            "Wuxi",
            "Nanjing",
            "Hangzhou",
            "Jiaxing",
            "Ningbo",
            "Changzhou",
            "Nantong",
        ),
        16000.0,
        -5580.0,
        (
            Plant("Qinshan", 6, "nuclear", 4),
            Plant("Waigaoqiao", 1, "coal", 5),
            Plant("Beilun", 7, "coal", 6),
            Plant("Ligang", 3, "coal", 4),
        ),
        ((0, 5), (2, 7)),
    ),
    Region(
        "NX",
        "Ningxia",
        "northwest",
        ("Yinchuan", "Lingwu", "Wuzhong", "Shizuishan", "Zhongwei", "Guyuan"),
        4000.0,
        4000.0,
        (
            Plant("Ningdong", 1, "coal", 10),
            Plant("Shizuishan", 3, "coal", 4),
            Plant("Helan Shan wind", 4, "wind", 6, kv=220.0, line_km=60.0),
            Plant("Zhongwei wind", 4, "wind", 6, kv=220.0, line_km=50.0),
        ),
        ((0, 3),),
        cap_mvar_per_mw=0.05,
    ),
)

#: 500 kV AC ties between regions: (region, substation, region, substation, km); double circuit.
TIES: tuple[tuple[str, int, str, int, float], ...] = (
    ("SX", 4, "SD", 6, 300.0),
    ("SX", 1, "SD", 7, 330.0),
    ("HA", 7, "HB", 7, 240.0),
    ("HA", 2, "HB", 3, 260.0),
    ("HB", 2, "SC", 6, 350.0),
    ("HB", 5, "SC", 5, 380.0),
)

# --- 1000 kV corridor ---------------------------------------------------------------------------
#: Section lengths, km: Jindongnan-Nanyang and Nanyang-Jingmen (public figures round to 358 and
#: 282 km); their sum is the plan's 640 km, which the builder checks.
UHV_SECTIONS_KM = (358.0, 282.0)
#: Fixed series compensation at Nanyang, share of each section's reactance (the planner's choice
#: for lines of this length; the 2011 capacity extension of the pilot added series capacitors).
UHV_SERIES_COMP = 0.40
#: Line-end shunt reactors, Mvar at 1 pu, three single-phase units each; about 90 % of each
#: section's line charging, the usual degree for 1000 kV lines.
UHV_REACTORS_MVAR = ((720.0, 720.0), (540.0, 540.0))

# --- DC links (public project data) -------------------------------------------------------------
# Xiangjiaba-Shanghai (Fulong-Fengxian): 6,400 MW, +/-800 kV, 1,907 km, 6 x ACSR-720/50 per pole.
#   Losses: I^2 R of 4 kA per pole over 1,907 km at ~0.0066 ohm/km (~6.3 %) + converters (~0.7 %).
# Ningdong-Shandong (Yinchuan East-Qingdao): 4,000 MW, +/-660 kV, 1,335 km, 4 x ACSR-1000 per pole.
#   Losses: ~3.0 kA per pole at ~0.0073 ohm/km (~4.5 %) + converters (~1.5 %).
DC_LINKS = (
    {
        "kv": 800,
        "name": "Xiangjiaba-Shanghai +/-800 kV (Fulong-Fengxian)",
        "from": ("SC", 0),
        "to": ("EC", 0),
        "p_mw": 6000.0,
        "max_p_mw": 6400.0,
        "loss_percent": 7.0,
        "length_km": 1907.0,
    },
    {
        "kv": 660,
        "name": "Ningdong-Shandong +/-660 kV (Yinchuan East-Qingdao)",
        "from": ("NX", 1),
        "to": ("SD", 1),
        "p_mw": 4000.0,
        "max_p_mw": 4000.0,
        "loss_percent": 6.0,
        "length_km": 1335.0,
    },
)


def _ring_km(k: int, i: int) -> float:
    """Deterministic spread of 500 kV ring section lengths, 90-180 km."""
    return 90.0 + 15.0 * ((7 * i + 3 * k) % 7)


def _load_weight(i: int, j: int) -> float:
    """Deterministic spread of 220 kV substation loads around their regional mean (0.7-1.3)."""
    return 0.7 + 0.2 * ((3 * i + j) % 4)


class _Builder:
    """Collects elements as rows and creates each table with one vectorized pandapower call.

    Element indices are the row positions (every table starts empty), so creation order and
    indices are the same as with one ``create_*`` call per element, only ~10x faster.
    """

    TABLES = ("bus", "line", "trafo", "load", "shunt", "gen")

    def __init__(self) -> None:
        self.net = pp.create_empty_network(name=NAME, f_hz=F_HZ, sn_mva=100.0)
        self.sub500: dict[tuple[str, int], int] = {}
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in self.TABLES}
        self.bus_index: dict[str, int] = {}

    def add(self, table: str, **cols: Any) -> int:
        self.rows[table].append(cols)
        return len(self.rows[table]) - 1

    def flush(self) -> None:
        """Create all collected elements, table by table."""
        net = self.net
        creators = {
            "line": pp.create_lines_from_parameters,
            "trafo": pp.create_transformers_from_parameters,
            "load": pp.create_loads,
            "shunt": pp.create_shunts,
            "gen": pp.create_gens,
        }
        for table in self.TABLES:
            rows = self.rows[table]
            cols = {k: [r[k] for r in rows] for k in rows[0]}
            if table == "bus":
                pp.create_buses(net, len(rows), **cols)
            else:
                creators[table](net, **cols)

    def bus(self, name: str, vn_kv: float, region: str, area: str, max_vm_pu: float = 1.05) -> int:
        idx = self.add(
            "bus",
            vn_kv=vn_kv,
            name=name,
            min_vm_pu=0.95,
            max_vm_pu=max_vm_pu,
            region=region,
            area=area,
        )
        self.bus_index[name] = idx
        return idx

    def shunt(self, bus: int, q_mvar: float, name: str, p_mw: float = 0.0) -> int:
        return self.add("shunt", buses=bus, q_mvar=q_mvar, p_mw=p_mw, name=name)

    def line(
        self, f: int, t: int, km: float, kind: str, name: str, max_i_ka: float | None = None
    ) -> int:
        d = LINE_TYPES[kind]
        return self.add(
            "line",
            from_buses=f,
            to_buses=t,
            length_km=km,
            r_ohm_per_km=d["r"],
            x_ohm_per_km=d["x"],
            c_nf_per_km=d["c"],
            max_i_ka=d["max_i"] if max_i_ka is None else max_i_ka,
            name=name,
            type="ol",
            conductor=kind,
        )

    def double(self, f: int, t: int, km: float, kind: str, name: str, circuits: int = 2) -> None:
        for c in range(1, circuits + 1):
            self.line(f, t, km, kind, f"{name} #{c}")
        if km >= LONG_LINE_KM:
            # long 500 kV lines carry line-end shunt reactors (one per circuit and end)
            d = LINE_TYPES[kind]
            charging = 500.0**2 * 2 * math.pi * F_HZ * d["c"] * 1e-9 * km * circuits
            q = round(LONG_LINE_REACTOR_SHARE * charging / 2 / 30.0) * 30.0
            for bus in (f, t):
                bus_name = self.rows["bus"][bus]["name"]
                self.shunt(bus, q, f"{name} line reactor at {bus_name}", round(q * 0.002, 2))

    def trafo(self, hv: int, lv: int, data: dict[str, float], name: str) -> int:
        return self.add("trafo", hv_buses=hv, lv_buses=lv, name=name, **data)

    def region(self, r: Region, k: int) -> None:
        n = len(r.subs)
        for i, city in enumerate(r.subs):
            self.sub500[(r.key, i)] = self.bus(f"{r.key} {city} 500kV", 500.0, r.key, r.area)
        for i in range(n):
            j = (i + 1) % n
            self.double(
                self.sub500[(r.key, i)],
                self.sub500[(r.key, j)],
                _ring_km(k, i),
                "500kV 4xLGJ-400/35",
                f"{r.key} {r.subs[i]}-{r.subs[j]} 500kV",
            )
        for i, j in r.chords:
            self.double(
                self.sub500[(r.key, i)],
                self.sub500[(r.key, j)],
                200.0,
                "500kV 4xLGJ-400/35",
                f"{r.key} {r.subs[i]}-{r.subs[j]} 500kV",
            )
        weights = [_load_weight(i, j) for i in range(n) for j in range(3)]
        scale = r.load_mw / sum(weights)
        tan_phi = math.tan(math.acos(LOAD_COS_PHI))
        for i, city in enumerate(r.subs):
            hub = self.bus(f"{r.key} {city} 220kV", 220.0, r.key, r.area)
            sub_mw = sum(round(scale * _load_weight(i, j)) for j in range(3))
            for u in range(1, math.ceil(sub_mw / MW_PER_TRAFO) + 2):
                self.trafo(
                    self.sub500[(r.key, i)], hub, TRAFO_500, f"{r.key} {city} T{u} 500/220kV"
                )
            loads = []
            for j in range(3):
                b = self.bus(f"{r.key} {city} L{j + 1} 220kV", 220.0, r.key, r.area)
                loads.append(b)
                self.double(
                    hub, b, 25.0 + 10.0 * j, "220kV 2xLGJ-400/35", f"{r.key} {city} L{j + 1} 220kV"
                )
                p = round(scale * _load_weight(i, j))
                self.add(
                    "load",
                    buses=b,
                    p_mw=float(p),
                    q_mvar=float(round(p * tan_phi)),
                    name=f"{r.key} {city} L{j + 1}",
                    region=r.key,
                )
                self.shunt(
                    b,
                    -float(round(r.cap_mvar_per_mw * p / 10.0) * 10.0),
                    f"{r.key} {city} L{j + 1} capacitors",
                )
            # the three load substations form a 220 kV ring (single-circuit links)
            self.line(loads[0], loads[1], 30.0, "220kV 2xLGJ-400/35", f"{r.key} {city} L1-L2 220kV")
            self.line(loads[1], loads[2], 30.0, "220kV 2xLGJ-400/35", f"{r.key} {city} L2-L3 220kV")

    def plants(self, r: Region) -> None:
        need = r.load_mw * (1.0 + LOSS_SHARE) + r.export_mw
        fixed = sum(
            p.units * UNIT_MW[p.fuel] * DISPATCH[p.fuel] for p in r.plants if p.fuel != "coal"
        )
        coal = sum(p.units * UNIT_MW[p.fuel] for p in r.plants if p.fuel == "coal")
        factor = (need - fixed) / coal if coal else 0.0
        if coal and not 0.4 <= factor <= 0.95:
            raise ValueError(
                f"{r.name}: coal dispatch {factor:.2f} of capacity is outside 0.4-0.95"
            )
        for p in r.plants:
            bus = self.bus(f"{r.key} {p.name} {p.kv:.0f}kV", p.kv, r.key, r.area)
            sub = self.sub500[(r.key, p.sub)]
            if p.kv == 220.0:
                hub = self.bus_index[f"{r.key} {r.subs[p.sub]} 220kV"]
                self.double(bus, hub, p.line_km, "220kV 2xLGJ-400/35", f"{r.key} {p.name} 220kV")
            else:
                circuits = math.ceil(p.units * UNIT_MW[p.fuel] / MW_PER_500KV_CIRCUIT) + 1
                self.double(
                    bus,
                    sub,
                    p.line_km,
                    "500kV 4xLGJ-400/35",
                    f"{r.key} {p.name} 500kV",
                    circuits=circuits,
                )
            unit = UNIT_MW[p.fuel]
            share = factor if p.fuel == "coal" else DISPATCH[p.fuel]
            for u in range(p.units):
                self.add(
                    "gen",
                    buses=bus,
                    p_mw=float(round(unit * share)),
                    vm_pu=GEN_VM_PU,
                    sn_mva=unit / 0.9,
                    max_p_mw=unit,
                    min_p_mw=0.0,
                    max_q_mvar=0.6 * unit,
                    min_q_mvar=-0.3 * unit,
                    name=f"{r.key} {p.name} G{u + 1}",
                    fuel=p.fuel,
                    region=r.key,
                    plant=p.name,
                )


def build() -> pp.pandapowerNet:
    """Build the ``uhv-backbone`` net (deterministic)."""
    b = _Builder()
    net = b.net
    fig = PlanFigures()
    uhv = seed_project("ac", 1000)
    src = uhv["source"]
    if sum(UHV_SECTIONS_KM) != uhv["length_km"]:
        raise ValueError(
            f"UHV sections sum to {sum(UHV_SECTIONS_KM)} km, plan says {uhv['length_km']} km"
        )

    # UHV corridor first, so its elements have the lowest indices
    vmax_uhv = uhv["operating_kv"] / uhv["nominal_kv"]
    vn = float(uhv["nominal_kv"])
    jdn = b.bus("Jindongnan (Changzhi) 1000kV", vn, "SX", "north-central", vmax_uhv)
    ny_a = b.bus("Nanyang 1000kV line-side (Jindongnan line)", vn, "HA", "north-central", vmax_uhv)
    ny = b.bus("Nanyang 1000kV", vn, "HA", "north-central", vmax_uhv)
    ny_b = b.bus("Nanyang 1000kV line-side (Jingmen line)", vn, "HA", "north-central", vmax_uhv)
    jm = b.bus("Jingmen 1000kV", vn, "HB", "north-central", vmax_uhv)
    # rating from the plan's capacity: I = S / (sqrt(3) * U_nominal)
    max_i_ka = round(uhv["capacity_mva"] / (math.sqrt(3.0) * vn), 4)
    kind = "1000kV 8xLGJ-500/35"
    l1 = b.line(jdn, ny_a, UHV_SECTIONS_KM[0], kind, "Jindongnan-Nanyang 1000kV", max_i_ka)
    l2 = b.line(ny_b, jm, UHV_SECTIONS_KM[1], kind, "Nanyang-Jingmen 1000kV", max_i_ka)
    for (q_from, q_to), (f, t) in zip(UHV_REACTORS_MVAR, ((jdn, ny_a), (ny_b, jm)), strict=True):
        for q, bus in ((q_from, f), (q_to, t)):
            name = f"{b.rows['bus'][bus]['name']} line reactor"
            b.shunt(bus, q, name, round(q * 0.002, 2))

    for k, r in enumerate(REGIONS):
        b.region(r, k)
    for station, hv_bus, sub in (
        ("Jindongnan", jdn, ("SX", 0)),
        ("Nanyang", ny, ("HA", 0)),
        ("Jingmen", jm, ("HB", 0)),
    ):
        for u in range(1, UHV_TRAFOS[station] + 1):
            b.trafo(hv_bus, b.sub500[sub], TRAFO_UHV, f"{station} T{u} 1000/500kV")
    for fk, fi, tk, ti, km in TIES:
        b.double(
            b.sub500[(fk, fi)],
            b.sub500[(tk, ti)],
            km,
            "500kV 4xLGJ-400/35",
            f"tie {fk} {fi}-{tk} {ti} 500kV",
        )
    for r in REGIONS:
        b.plants(r)

    dc_ends = []
    for d in DC_LINKS:
        ends = []
        for key, i, side in ((*d["from"], "rectifier"), (*d["to"], "inverter")):
            region = next(r for r in REGIONS if r.key == key)
            conv = b.bus(f"{key} {region.subs[i]} converter 500kV", 500.0, key, region.area)
            b.double(
                conv,
                b.sub500[(key, i)],
                10.0,
                "500kV 4xLGJ-400/35",
                f"{key} {region.subs[i]} {side} 500kV",
                circuits=4,
            )
            ends.append(conv)
        dc_ends.append(ends)

    b.flush()
    for line, km, (f, t) in (
        (l1, UHV_SECTIONS_KM[0], (ny_a, ny)),
        (l2, UHV_SECTIONS_KM[1], (ny, ny_b)),
    ):
        x_ohm = -round(UHV_SERIES_COMP * LINE_TYPES[kind]["x"] * km, 1)
        pp.create_series_reactor_as_impedance(
            net,
            f,
            t,
            r_ohm=0.0,
            x_ohm=x_ohm,
            sn_mva=uhv["capacity_mva"],
            name=f"{net.line.at[line, 'name']} series capacitor {UHV_SERIES_COMP:.0%}",
        )
    for d, ends in zip(DC_LINKS, dc_ends, strict=True):
        idx = pp.create_dcline(
            net,
            ends[0],
            ends[1],
            p_mw=d["p_mw"],
            loss_percent=d["loss_percent"],
            loss_mw=0.0,
            vm_from_pu=1.02,
            vm_to_pu=1.02,
            name=d["name"],
            max_p_mw=d["max_p_mw"],
            nominal_kv=float(d["kv"]),
            length_km=d["length_km"],
        )
        proj = seed_project("dc", d["kv"])
        fig.add(
            f"transmission.projects.dc_{d['kv']}.nominal_kv",
            proj["nominal_kv"],
            "kV",
            proj["source"],
            f"dcline {idx} nominal_kv",
        )

    # one slack per synchronous area: the rest of that area
    for key, i, area in (
        ("HB", 1, "Central China"),
        ("EC", 1, "East China"),
        ("NX", 0, "North-west"),
    ):
        pp.create_ext_grid(
            net, b.sub500[(key, i)], vm_pu=GEN_VM_PU, name=f"{area} rest-of-area equivalent"
        )

    lines = f"line {l1} + line {l2}"
    fig.add(
        "transmission.projects.uhv_ac.length_km",
        uhv["length_km"],
        "km",
        src,
        f"{lines} length_km (sum)",
    )
    fig.add(
        "transmission.projects.uhv_ac.capacity_mva",
        uhv["capacity_mva"],
        "MVA",
        src,
        f"{lines} max_i_ka at nominal_kv",
    )
    fig.add(
        "transmission.projects.uhv_ac.nominal_kv",
        uhv["nominal_kv"],
        "kV",
        src,
        f"bus {jdn}-{jm} vn_kv",
    )
    fig.add(
        "transmission.projects.uhv_ac.operating_kv",
        uhv["operating_kv"],
        "kV",
        src,
        f"bus {jdn}-{jm} max_vm_pu x vn_kv",
    )
    fig.add(
        "transmission.projects.uhv_ac.circuits",
        uhv["circuits"],
        "count",
        src,
        f"{lines} (single circuit)",
    )
    finish(net, NAME, DESCRIPTION, fig)
    return net


if __name__ == "__main__":
    write_case(build())
