"""Read the reliability data of a pandapower net (docs/reliability-data.md) into arrays.

:func:`build_reliability_model` turns a radially operated distribution net into the arrays of
:mod:`gridplan.core.reliability` once, in stages that each return their arrays and the problems
they found (all reported together in one error): the switching devices
(:func:`switching_devices`), the supply tree from every ``ext_grid`` bus over closed, in-service
lines, transformers and bus-bus switches (:func:`supply_tree`), the normally-open ties
(:func:`ties`), the edges with one failure event per component (:func:`failure_events`) and
the load points (:func:`load_points`).

Missing columns and NaN values fall back to :class:`ReliabilityDefaults`, per component class
and voltage class (LV < 1 kV, MV 1-35 kV, HV > 35 kV); a user overrides them with a TOML file
(:meth:`ReliabilityDefaults.from_toml`) or by passing another instance.

:func:`generating_units` reads generator outage data for adequacy studies the same way.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.core.reliability import (
    DEVICE_BREAKER,
    DEVICE_DISCONNECTOR,
    DEVICE_NAMES,
    DEVICE_NONE,
    DEVICE_RECLOSER,
    DEVICE_SECTIONALIZER,
    HOURS_PER_YEAR,
    PROTECTIVE,
    FailureEvents,
    RadialNetwork,
)
from gridplan.errors import CaseError, format_problems

LV_MAX_KV = 1.0
MV_MAX_KV = 35.0


@dataclass(frozen=True)
class ReliabilityDefaults:
    """Fallback reliability data, used where the net has no column or a NaN.

    Sources: the MV overhead line (0.065 f/(km*yr), 5 h), distribution transformer
    (0.015 f/yr, 200 h) and switching time (1 h) values are those of the RBTS distribution
    system (Allan et al., IEEE Trans. PWRS 6(2), 1991). The others are typical planning values
    (assumptions, not from a standard): override them with data of the utility.
    """

    line_lv_failure_rate_per_km_year: float = 0.10
    line_lv_repair_time_h: float = 4.0
    line_mv_overhead_failure_rate_per_km_year: float = 0.065
    line_mv_overhead_repair_time_h: float = 5.0
    line_mv_cable_failure_rate_per_km_year: float = 0.04
    line_mv_cable_repair_time_h: float = 15.0
    line_hv_failure_rate_per_km_year: float = 0.02
    line_hv_repair_time_h: float = 10.0
    trafo_mv_lv_failure_rate_per_year: float = 0.015
    trafo_mv_lv_repair_time_h: float = 200.0
    trafo_hv_mv_failure_rate_per_year: float = 0.015
    trafo_hv_mv_repair_time_h: float = 200.0
    dcline_failure_rate_per_year: float = 2.0
    dcline_repair_time_h: float = 10.0
    switching_time_h: float = 1.0
    tie_switching_time_h: float = 1.0
    breaker_failure_rate_per_year: float = 0.0
    switch_repair_time_h: float = 4.0
    customers_per_load: float = 1.0
    load_factor: float = 1.0  # p_avg_mw / p_mw when p_avg_mw is missing (1.0: ENS upper bound)
    reliability_class: str = "urban"

    @classmethod
    def from_toml(cls, path: str | Path) -> ReliabilityDefaults:
        """Defaults with the keys of a TOML file (table ``[reliability]`` or top level) replaced."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CaseError(f"{path}: cannot read reliability defaults ({exc})") from exc
        data = data.get("reliability", data)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise CaseError(
                format_problems(
                    str(path),
                    [f"unknown key {k!r}, must be one of {sorted(names)}" for k in unknown],
                )
            )
        return dataclasses.replace(cls(), **data)


@dataclass
class ReliabilityModel:
    """A net's reliability arrays plus the labels needed to report results.

    ``edge_label`` and ``event_label`` name pandapower elements (``"line 4"``, ``"trafo 2"``,
    ``"switch 7"``); ``lp_load`` holds the pandapower load index of every load point.
    """

    network: RadialNetwork
    events: FailureEvents
    lp_load: np.ndarray
    lp_name: np.ndarray
    lp_bus: np.ndarray
    lp_feeder: np.ndarray
    lp_class: np.ndarray
    edge_label: list[str]
    event_label: list[str]
    event_kind: list[str]
    bus_node: dict[int, int]
    element_edge: dict[str, int] = field(default_factory=dict)
    event_length_km: np.ndarray = field(default_factory=lambda: np.zeros(0))
    element_name: dict[str, str] = field(default_factory=dict)
    temp_edge: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    temp_rate_per_year: np.ndarray = field(default_factory=lambda: np.zeros(0))
    temp_label: list[str] = field(default_factory=list)
    temp_restore_h: float = 1.0
    tie_label: list[str] = field(default_factory=list)


def _num(df: pd.DataFrame, col: str, default: float | np.ndarray) -> np.ndarray:
    """Column as float with NaN (or a missing column) replaced by ``default``."""
    base = np.broadcast_to(np.asarray(default, dtype=float), (len(df),)).copy()
    if col not in df:
        return base
    vals = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isnan(vals), base, vals)


def _str(df: pd.DataFrame, col: str, default: str) -> np.ndarray:
    if col not in df:
        return np.full(len(df), default, dtype=object)
    vals = df[col].to_numpy(dtype=object)
    return np.array(
        [
            default
            if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == ""
            else str(v).strip()
            for v in vals
        ],
        dtype=object,
    )


def _check_nonneg(where: str, df: pd.DataFrame, cols: list[str], problems: list[str]) -> None:
    for col in cols:
        if col in df:
            vals = pd.to_numeric(df[col], errors="coerce")
            bad = df.index[(vals < 0).to_numpy()].tolist()
            if bad:
                problems.append(f"{where}.{col} must be >= 0, got negative values at {bad[:10]}")


def _switch_device(sw: pd.DataFrame, problems: list[str]) -> np.ndarray:
    """Device name per switch: the ``device`` column, else inferred from type and state."""
    inferred = np.where(
        ~sw["closed"].to_numpy(dtype=bool),
        "tie",
        np.where(
            sw["type"].astype(str).to_numpy() == "CB",
            "breaker",
            np.where(sw["type"].astype(str).to_numpy() == "LBS", "sectionalizer", "disconnector"),
        ),
    )
    out = np.array(inferred, dtype=object)
    if "device" in sw:
        given = _str(sw, "device", "")
        for i, d in enumerate(given):
            if d == "":
                continue
            if d not in DEVICE_NAMES and d != "tie":
                problems.append(
                    f"switch {sw.index[i]}: device must be one of "
                    f"{[*DEVICE_NAMES, 'tie']}, got {d!r} instead"
                )
            else:
                out[i] = d
    return out


# -- stage 1: switching devices --------------------------------------------------------------


@dataclass
class SwitchingDevices:
    """Every switch of the net (rows of ``net.switch``) as a reliability device.

    ``open_at`` holds the buses where a line (``"l"``) or transformer (``"t"``) is switched
    open, ``device_at`` the closed switch row at a line/transformer end ``(et, element, bus)``.
    """

    index: np.ndarray  # net.switch index
    device: np.ndarray  # object: breaker, recloser, sectionalizer, fuse, disconnector, tie
    switching_time_h: np.ndarray
    failure_rate_per_year: np.ndarray
    repair_time_h: np.ndarray
    recloses: np.ndarray  # bool, auto-reclosing
    et: np.ndarray  # str: "b", "l", "t"
    element: np.ndarray  # int64, the bus or element the switch connects to
    bus: np.ndarray  # int64
    closed: np.ndarray  # bool
    open_at: dict[tuple[str, int], set[int]] = field(default_factory=dict)
    device_at: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def code(self, i: int) -> int:
        """``DEVICE_*`` code of switch row ``i``."""
        return DEVICE_NAMES.get(str(self.device[i]), DEVICE_NONE)

    def strongest(self, rows: list[int]) -> int | None:
        """The switch row acting as device: protective before isolating, faster first."""
        rows = [i for i in rows if self.code(i) != DEVICE_NONE]
        if not rows:
            return None
        return min(rows, key=lambda i: (self.code(i) not in PROTECTIVE, self.switching_time_h[i]))


def switching_devices(
    net: pp.pandapowerNet, d: ReliabilityDefaults
) -> tuple[SwitchingDevices, list[str]]:
    """Stage 1: the switches as devices, with the problems of their data."""
    problems: list[str] = []
    sw = net.switch
    _check_nonneg("switch", sw, ["switching_time_h", "failure_rate_per_year"], problems)
    device = _switch_device(sw, problems) if len(sw) else np.array([], dtype=object)
    devices = SwitchingDevices(
        index=sw.index.to_numpy(),
        device=device,
        switching_time_h=_num(sw, "switching_time_h", d.switching_time_h),
        failure_rate_per_year=_num(
            sw,
            "failure_rate_per_year",
            np.where(device == "breaker", d.breaker_failure_rate_per_year, 0.0),
        ),
        repair_time_h=_num(sw, "repair_time_h", d.switch_repair_time_h),
        recloses=(_num(sw, "auto_reclose", 0.0) > 0) if len(sw) else np.zeros(0, dtype=bool),
        et=sw.et.astype(str).to_numpy(),
        element=sw.element.to_numpy(dtype=np.int64),
        bus=sw.bus.to_numpy(dtype=np.int64),
        closed=sw.closed.to_numpy(dtype=bool),
    )
    for i in range(len(sw)):
        et, el, b = devices.et[i], int(devices.element[i]), int(devices.bus[i])
        if et in ("l", "t"):
            if not devices.closed[i]:
                devices.open_at.setdefault((et, el), set()).add(b)
            else:
                devices.device_at[(et, el, b)] = i
    return devices, problems


# -- stage 2: supply tree ----------------------------------------------------------------------


@dataclass
class SupplyTree:
    """The normal switching state as a tree from the supply points (``ext_grid`` buses).

    Nodes are the in-service buses (``node_of``: pandapower bus -> node, in ``bus`` order).
    ``cand`` lists the closed branches ``(kind, element, bus a, bus b)`` (parallel lines or
    transformers between the same two buses merged into one ``("parallel", [(kind, element),
    ...], a, b)``), ``edges`` the tree edges ``(cand index, parent node, child node)`` in
    breadth-first order, ``visited`` the nodes reached.
    """

    bus: pd.DataFrame
    node_of: dict[int, int]
    line: pd.DataFrame  # in-service lines
    trafo: pd.DataFrame  # in-service transformers
    cand: list[tuple]
    edges: list[tuple[int, int, int]]
    visited: np.ndarray

    @property
    def n_bus(self) -> int:
        """Number of bus nodes."""
        return len(self.bus)


def _candidates(
    net: pp.pandapowerNet,
    devices: SwitchingDevices,
    node_of: dict[int, int],
    line: pd.DataFrame,
    trafo: pd.DataFrame,
) -> list[tuple]:
    """Closed branches between in-service buses, parallel circuits merged into one."""
    cand: list[tuple] = []
    for i, sid in enumerate(devices.index):
        b, el = int(devices.bus[i]), int(devices.element[i])
        if devices.et[i] == "b" and devices.closed[i] and b in node_of and el in node_of:
            cand.append(("switch", int(sid), b, el))
    l_from = line.from_bus.to_numpy(dtype=np.int64)
    l_to = line.to_bus.to_numpy(dtype=np.int64)
    for pos_i, lid in enumerate(line.index):
        fb, tb = int(l_from[pos_i]), int(l_to[pos_i])
        if fb not in node_of or tb not in node_of or devices.open_at.get(("l", int(lid))):
            continue
        cand.append(("line", int(lid), fb, tb))
    t_hv = trafo.hv_bus.to_numpy(dtype=np.int64)
    t_lv = trafo.lv_bus.to_numpy(dtype=np.int64)
    for pos_i, tid in enumerate(trafo.index):
        hb, lb = int(t_hv[pos_i]), int(t_lv[pos_i])
        if hb not in node_of or lb not in node_of or devices.open_at.get(("t", int(tid))):
            continue
        cand.append(("trafo", int(tid), hb, lb))

    # parallel circuits (lines/transformers between the same two buses) form one component
    groups: dict[tuple[int, int], list[int]] = {}
    for k, (kind, _, a, b) in enumerate(cand):
        if kind in ("line", "trafo"):
            groups.setdefault((min(a, b), max(a, b)), []).append(k)
    merged = {ks[0]: ks for ks in groups.values() if len(ks) > 1}
    drop = {k for ks in merged.values() for k in ks[1:]}
    return [
        ("parallel", [cand[j][:2] for j in merged[k]], c[2], c[3]) if k in merged else c
        for k, c in enumerate(cand)
        if k not in drop
    ]


def _breadth_first(
    cand: list[tuple], node_of: dict[int, int], n_bus: int, roots: list[int]
) -> tuple[list[tuple[int, int, int]], np.ndarray, list[str]]:
    """Breadth-first search from the supply points over candidate edges.

    Returns the tree edges ``(cand index, parent node, child node)``, the nodes reached and
    the candidates closing a loop.
    """
    adj: list[list[int]] = [[] for _ in range(n_bus)]
    for k, (_, _, a, b) in enumerate(cand):
        adj[node_of[a]].append(k)
        adj[node_of[b]].append(k)
    visited = np.zeros(n_bus, dtype=bool)
    used = np.zeros(len(cand), dtype=bool)
    loops: list[str] = []
    tree_edges: list[tuple[int, int, int]] = []  # (cand index, parent node, child node)
    for r in roots:
        if visited[r]:
            continue
        visited[r] = True
        queue = deque([r])
        while queue:
            v = queue.popleft()
            for k in adj[v]:
                if used[k]:
                    continue
                used[k] = True
                kind, el, a, b = cand[k]
                w = node_of[b] if node_of[a] == v else node_of[a]
                if visited[w]:
                    loops.append(
                        f"{kind} {el}"
                        if kind != "parallel"
                        else " || ".join(f"{a} {b}" for a, b in el)
                    )
                    continue
                visited[w] = True
                tree_edges.append((k, v, w))
                queue.append(w)
    return tree_edges, visited, loops


def supply_tree(net: pp.pandapowerNet, devices: SwitchingDevices) -> tuple[SupplyTree, list[str]]:
    """Stage 2: breadth-first tree from every ``ext_grid`` bus over the closed branches.

    Problems: no in-service ``ext_grid``, closed loops (the net is not radially operated),
    load buses the tree does not reach.
    """
    problems: list[str] = []
    bus = net.bus[net.bus.in_service.astype(bool)]
    node_of = {int(b): i for i, b in enumerate(bus.index)}
    n_bus = len(bus)
    line = net.line[net.line.in_service.astype(bool)]
    trafo = net.trafo[net.trafo.in_service.astype(bool)]
    if net.ext_grid.empty or not net.ext_grid.in_service.any():
        problems.append(
            "ext_grid: a distribution case needs at least one in-service ext_grid "
            "(the supply point), got none"
        )
    cand = _candidates(net, devices, node_of, line, trafo)

    roots = sorted(
        {
            node_of[int(b)]
            for b in net.ext_grid[net.ext_grid.in_service.astype(bool)].bus
            if int(b) in node_of
        }
    )
    tree_edges, visited, loops = _breadth_first(cand, node_of, n_bus, roots)
    if loops:
        problems.append(
            f"the net is not radially operated; closed loops through "
            f"{', '.join(loops[:10])}{' ...' if len(loops) > 10 else ''}"
        )
    load = net.load[net.load.in_service.astype(bool)]
    dead = sorted({int(b) for b in load.bus if int(b) in node_of and not visited[node_of[int(b)]]})
    if dead:
        problems.append(
            f"load buses {dead[:10]} are not supplied from any ext_grid "
            "in the normal switching state"
        )
    tree = SupplyTree(bus, node_of, line, trafo, cand, tree_edges, visited)
    return tree, problems


# -- stage 3: ties -------------------------------------------------------------------------------


@dataclass
class Ties:
    """Normally-open ties: end buses, switching time (h), capacity (MVA), label."""

    a: list[int] = field(default_factory=list)  # pandapower bus
    b: list[int] = field(default_factory=list)
    switch_time_h: list[float] = field(default_factory=list)
    capacity_mva: list[float] = field(default_factory=list)
    label: list[str] = field(default_factory=list)

    def add(self, a: int, b: int, t: float, cap: float, label: str) -> None:
        """One more tie between buses ``a`` and ``b``."""
        self.a.append(a)
        self.b.append(b)
        self.switch_time_h.append(t)
        self.capacity_mva.append(cap)
        self.label.append(label)


def _line_capacity_mva(net: pp.pandapowerNet, line: pd.DataFrame) -> np.ndarray:
    """Thermal capacity of every line at its from bus's rated voltage, MVA (inf when unrated)."""
    vn_of = net.bus.vn_kv.astype(float).to_dict()
    l_cap = (
        line.max_i_ka.to_numpy(dtype=float)
        * np.array([vn_of[int(b)] for b in line.from_bus.to_numpy(dtype=np.int64)])
        * math.sqrt(3)
        * _num(line, "parallel", 1.0)
    )
    return np.where(l_cap > 0, l_cap, math.inf)


def ties(
    net: pp.pandapowerNet, devices: SwitchingDevices, tree: SupplyTree
) -> tuple[Ties, list[str]]:
    """Stage 3: the normally-open ties, bus-bus switches and lines switched open by a tie.

    Every open switch whose device is ``tie`` is one; no problems are found here today (the
    list is part of every stage's interface).
    """
    problems: list[str] = []
    node_of = tree.node_of
    out = Ties()
    sw_time = devices.switching_time_h
    for i, sid in enumerate(devices.index):
        b, el = int(devices.bus[i]), int(devices.element[i])
        if devices.et[i] == "b" and b in node_of and el in node_of:
            if not devices.closed[i] and devices.device[i] == "tie":
                out.add(b, el, float(sw_time[i]), math.inf, f"switch {sid}")
    line = tree.line
    l_cap = _line_capacity_mva(net, line)
    l_from = line.from_bus.to_numpy(dtype=np.int64)
    l_to = line.to_bus.to_numpy(dtype=np.int64)
    for pos_i, lid in enumerate(line.index):
        fb, tb = int(l_from[pos_i]), int(l_to[pos_i])
        if fb not in node_of or tb not in node_of:
            continue
        if not devices.open_at.get(("l", int(lid))):
            continue  # a closed line: a tree candidate
        on_line = np.flatnonzero((devices.et == "l") & (devices.element == lid))
        if any(devices.device[i] == "tie" and not devices.closed[i] for i in on_line):
            t = float(sw_time[on_line].max())
            out.add(fb, tb, t, float(l_cap[pos_i]), f"line {lid}")
    return out, problems


# -- stage 4: failure events -------------------------------------------------------------------


@dataclass
class EdgesAndEvents:
    """Tree edges (a virtual node below a device at a branch's downstream end) and events."""

    n_node: int
    e_par: list[int] = field(default_factory=list)
    e_chi: list[int] = field(default_factory=list)
    e_dev: list[int] = field(default_factory=list)
    e_time: list[float] = field(default_factory=list)
    e_cap: list[float] = field(default_factory=list)
    e_label: list[str] = field(default_factory=list)
    e_recl: list[bool] = field(default_factory=list)
    ev_edge: list[int] = field(default_factory=list)
    ev_rate: list[float] = field(default_factory=list)
    ev_rep: list[float] = field(default_factory=list)
    ev_on_dev: list[bool] = field(default_factory=list)
    ev_label: list[str] = field(default_factory=list)
    ev_kind: list[str] = field(default_factory=list)
    ev_len: list[float] = field(default_factory=list)
    ev_restore: list[float] = field(default_factory=list)
    element_edge: dict[str, int] = field(default_factory=dict)
    tmp_edge: list[int] = field(default_factory=list)
    tmp_rate: list[float] = field(default_factory=list)
    tmp_label: list[str] = field(default_factory=list)

    def add_edge(
        self, par: int, chi: int, dev: int, t: float, cap: float, label: str, recl: bool = False
    ) -> int:
        """A tree edge from node ``par`` down to ``chi``; returns its number."""
        self.e_recl.append(recl)
        self.e_par.append(par)
        self.e_chi.append(chi)
        self.e_dev.append(dev)
        self.e_time.append(t)
        self.e_cap.append(cap)
        self.e_label.append(label)
        return len(self.e_par) - 1

    def add_event(
        self,
        e: int,
        rate: float,
        rep: float,
        on_dev: bool,
        label: str,
        kind: str,
        length: float = math.nan,
        restore_h: float = math.nan,
    ) -> None:
        """A failure event on edge ``e`` (only when its rate is positive)."""
        if rate > 0:
            self.ev_len.append(length)
            self.ev_restore.append(restore_h)
            self.ev_edge.append(e)
            self.ev_rate.append(rate)
            self.ev_rep.append(rep)
            self.ev_on_dev.append(on_dev)
            self.ev_label.append(label)
            self.ev_kind.append(kind)

    def add_device_event(self, e: int, devices: SwitchingDevices, i: int, **kw: float) -> None:
        """The active failure of switch row ``i`` on edge ``e``."""
        label = f"switch {devices.index[i]}"
        rate, rep = float(devices.failure_rate_per_year[i]), float(devices.repair_time_h[i])
        self.add_event(e, rate, rep, True, label, "switch", **kw)


class _BranchData:
    """Failure rate (1/yr), repair time (h), capacity (MVA), length (km) of lines/trafos."""

    def __init__(self, net: pp.pandapowerNet, d: ReliabilityDefaults, tree: SupplyTree) -> None:
        line, trafo = tree.line, tree.trafo
        self.d = d
        self.vn = tree.bus.vn_kv.to_numpy(dtype=float)
        self.l_len = line.length_km.to_numpy(dtype=float)
        self.l_cap = _line_capacity_mva(net, line)
        self.l_cable = (
            (line["type"].astype(str).to_numpy() == "cs")
            if "type" in line
            else np.zeros(len(line), dtype=bool)
        )
        self.line_fr = _num(line, "failure_rate_per_km_year", np.nan)
        self.line_tfr = _num(line, "temporary_failure_rate_per_km_year", 0.0)
        self.line_rt = _num(line, "repair_time_h", np.nan)
        self.line_pos = {int(i): k for k, i in enumerate(line.index)}
        self.t_vn_lv = trafo.vn_lv_kv.to_numpy(dtype=float)
        self.t_sn = trafo.sn_mva.to_numpy(dtype=float) * _num(trafo, "parallel", 1.0)
        self.trafo_fr = _num(trafo, "failure_rate_per_year", np.nan)
        self.trafo_rt = _num(trafo, "repair_time_h", np.nan)
        self.trafo_pos = {int(i): k for k, i in enumerate(trafo.index)}

    def __call__(self, kind: str, el: int, v: int) -> tuple[float, float, float, float]:
        """Data of element ``el`` of ``kind`` whose upstream node is ``v``."""
        d = self.d
        if kind == "line":
            pos = self.line_pos[el]
            vkv = float(self.vn[v])
            if vkv < LV_MAX_KV:
                fr_d, rt_d = d.line_lv_failure_rate_per_km_year, d.line_lv_repair_time_h
            elif vkv <= MV_MAX_KV:
                fr_d, rt_d = (
                    (d.line_mv_cable_failure_rate_per_km_year, d.line_mv_cable_repair_time_h)
                    if self.l_cable[pos]
                    else (
                        d.line_mv_overhead_failure_rate_per_km_year,
                        d.line_mv_overhead_repair_time_h,
                    )
                )
            else:
                fr_d, rt_d = d.line_hv_failure_rate_per_km_year, d.line_hv_repair_time_h
            fr = fr_d if math.isnan(self.line_fr[pos]) else self.line_fr[pos]
            rep = rt_d if math.isnan(self.line_rt[pos]) else self.line_rt[pos]
            length = float(self.l_len[pos])
            return fr * length, rep, float(self.l_cap[pos]), length
        pos = self.trafo_pos[el]
        mv_lv = float(self.t_vn_lv[pos]) < LV_MAX_KV
        fr_d = d.trafo_mv_lv_failure_rate_per_year if mv_lv else d.trafo_hv_mv_failure_rate_per_year
        rt_d = d.trafo_mv_lv_repair_time_h if mv_lv else d.trafo_hv_mv_repair_time_h
        rate = fr_d if math.isnan(self.trafo_fr[pos]) else self.trafo_fr[pos]
        rep = rt_d if math.isnan(self.trafo_rt[pos]) else self.trafo_rt[pos]
        sn = float(self.t_sn[pos])
        return rate, rep, sn if sn > 0 else math.inf, math.nan


def _all_circuits_out(
    data: list[tuple[float, float, float, float]],
) -> tuple[float, float, float, float]:
    """Rate, repair time, capacity and length of parallel circuits failing together.

    All circuits out together (independent overlapping outages):
    ``U = 8760 prod(lam_i r_i / 8760)``, ``1/r = sum 1/r_i``, ``lam = U / r``; a single
    circuit is assumed to carry the load (N-1 is the n1 study's question).
    """
    lam_r = np.array([x[0] * x[1] for x in data])
    reps = np.array([x[1] for x in data])
    rep = float(1.0 / np.sum(1.0 / reps)) if np.all(reps > 0) else 0.0
    u_all = HOURS_PER_YEAR * float(np.prod(lam_r / HOURS_PER_YEAR))
    rate = u_all / rep if rep > 0 else 0.0
    cap = float(sum(x[2] for x in data))
    return rate, rep, cap, math.nan


def _switch_edge(out: EdgesAndEvents, devices: SwitchingDevices, sid: int, v: int, w: int) -> None:
    """The edge of a closed bus-bus switch ``sid`` from node ``v`` to ``w``, and its failures."""
    label = f"switch {sid}"
    i = int(np.flatnonzero(devices.index == sid)[0])
    e = out.add_edge(
        v,
        w,
        devices.code(i),
        float(devices.switching_time_h[i]),
        math.inf,
        label,
        bool(devices.recloses[i]),
    )
    out.element_edge[label] = e
    out.add_device_event(e, devices, i)


def _branch_edge(
    out: EdgesAndEvents,
    d: ReliabilityDefaults,
    devices: SwitchingDevices,
    tree: SupplyTree,
    branch_data: _BranchData,
    members: list[tuple[str, int]],
    v: int,
    w: int,
) -> None:
    """The edge of a line/transformer (or parallel circuits) from node ``v`` to ``w``, a second
    edge below a device at its downstream end, and their failure events.
    """
    sw_time = devices.switching_time_h
    sw_index = devices.index
    up_bus = int(tree.bus.index[v])
    down_bus = int(tree.bus.index[w])
    ups, downs, data = [], [], []
    for mk, me in members:
        et = "l" if mk == "line" else "t"
        if (et, me, up_bus) in devices.device_at:
            ups.append(devices.device_at[(et, me, up_bus)])
        if (et, me, down_bus) in devices.device_at:
            downs.append(devices.device_at[(et, me, down_bus)])
        data.append(branch_data(mk, me, v))
    up, down = devices.strongest(ups), devices.strongest(downs)
    labels = [f"{mk} {me}" for mk, me in members]
    label = " || ".join(labels)
    single = len(members) == 1
    rate, rep, cap, length = data[0] if single else _all_circuits_out(data)
    kind = members[0][0] if single else "parallel"
    child = w
    if down is not None:
        child = out.n_node
        out.n_node += 1
    e = out.add_edge(
        v,
        child,
        devices.code(up) if up is not None else DEVICE_NONE,
        float(sw_time[up]) if up is not None else d.switching_time_h,
        cap,
        label,
        bool(devices.recloses[up]) if up is not None else False,
    )
    for lab in labels:
        out.element_edge[lab] = e
    out.add_event(e, rate, rep, False, label, kind, length)
    if single and kind == "line":
        pos = branch_data.line_pos[members[0][1]]
        if branch_data.line_tfr[pos] > 0:
            out.tmp_edge.append(e)
            out.tmp_rate.append(float(branch_data.line_tfr[pos] * branch_data.l_len[pos]))
            out.tmp_label.append(f"line {members[0][1]}")
    e2 = None
    if down is not None:
        e2 = out.add_edge(
            child,
            w,
            devices.code(down),
            float(sw_time[down]),
            cap,
            f"switch {sw_index[down]}",
            bool(devices.recloses[down]) if single else False,
        )
        out.element_edge[f"switch {sw_index[down]}"] = e2
    if single:
        if up is not None:
            out.add_device_event(e, devices, up)
        if e2 is not None:
            out.add_device_event(e2, devices, down)
    else:
        # a device failing on one of several parallel circuits trips the supply above,
        # is isolated, and the load is restored over the other circuits after switching
        for i in ups + downs:
            out.add_device_event(e, devices, i, restore_h=float(sw_time[i]))


def failure_events(
    net: pp.pandapowerNet, d: ReliabilityDefaults, devices: SwitchingDevices, tree: SupplyTree
) -> tuple[EdgesAndEvents, list[str]]:
    """Stage 4: one edge per tree branch (plus one below a downstream device) and its events.

    Events: a branch's permanent failures (line rate per km times length, or the transformer
    rate; defaults by voltage class), the active failures of its devices, and temporary
    line faults. Parallel circuits fail together (independent overlapping outages). Problems:
    negative line or transformer data.
    """
    problems: list[str] = []
    _check_nonneg(
        "line",
        tree.line,
        [
            "failure_rate_per_km_year",
            "repair_time_h",
            "length_km",
            "temporary_failure_rate_per_km_year",
        ],
        problems,
    )
    _check_nonneg("trafo", tree.trafo, ["failure_rate_per_year", "repair_time_h"], problems)
    out = EdgesAndEvents(n_node=tree.n_bus)
    branch_data = _BranchData(net, d, tree)
    for k, v, w in tree.edges:
        kind, el, _, _ = tree.cand[k]
        if kind == "switch":
            _switch_edge(out, devices, el, v, w)
        else:
            members = el if kind == "parallel" else [(kind, el)]
            _branch_edge(out, d, devices, tree, branch_data, members, v, w)
    return out, problems


# -- stage 5: load points ------------------------------------------------------------------------


@dataclass
class LoadPoints:
    """Every in-service load as a load point: node, customers, average and peak load."""

    load: np.ndarray  # pandapower load index
    name: np.ndarray
    bus: np.ndarray
    node: np.ndarray
    customers: np.ndarray
    p_avg_mw: np.ndarray
    s_peak_mva: np.ndarray
    feeder: np.ndarray
    reliability_class: np.ndarray


def _feeder_names(tree: SupplyTree, edges: EdgesAndEvents) -> np.ndarray:
    """Feeder of every node: the bus ``feeder`` column, else the first tree edge below the
    supply point (``"feeder line 3"``).
    """
    n_bus, n_node = tree.n_bus, edges.n_node
    bus_feeder = _str(tree.bus, "feeder", "")
    node_feeder = np.empty(n_node, dtype=object)
    node_feeder[:n_bus] = bus_feeder
    par_of = np.full(n_node, -1, dtype=np.int64)
    par_of[np.asarray(edges.e_chi, dtype=np.int64)] = np.asarray(edges.e_par, dtype=np.int64)
    edge_of = np.full(n_node, -1, dtype=np.int64)
    edge_of[np.asarray(edges.e_chi, dtype=np.int64)] = np.arange(len(edges.e_chi))
    derived = np.empty(n_node, dtype=object)
    for v in range(n_node):
        path = []
        u = v
        while u >= 0 and derived[u] is None and par_of[u] >= 0:
            path.append(u)
            u = int(par_of[u])
        top = derived[u] if derived[u] is not None else ""
        for x in reversed(path):
            if top == "" and par_of[x] >= 0 and par_of[par_of[x]] < 0:
                top = f"feeder {edges.e_label[edge_of[x]]}"
            derived[x] = top
        if derived[v] is None:
            derived[v] = top
    return np.array(
        [node_feeder[n] if n < n_bus and node_feeder[n] else derived[n] for n in range(n_node)],
        dtype=object,
    )


def load_points(
    net: pp.pandapowerNet, d: ReliabilityDefaults, tree: SupplyTree, edges: EdgesAndEvents
) -> tuple[LoadPoints, list[str]]:
    """Stage 5: the load points. Problems: negative customers or average load, a load on an
    out-of-service bus, a reliability class other than urban or rural.
    """
    problems: list[str] = []
    load = net.load[net.load.in_service.astype(bool)]
    _check_nonneg("load", net.load, ["customers", "p_avg_mw"], problems)
    lp_bus = load.bus.to_numpy(dtype=np.int64)
    off = [int(i) for i, b in zip(load.index, lp_bus, strict=True) if int(b) not in tree.node_of]
    if off:
        problems.append(f"loads {off[:10]} must be on in-service buses")
    lp_node = np.array([tree.node_of.get(int(b), 0) for b in lp_bus], dtype=np.int64)
    p_mw = load.p_mw.to_numpy(dtype=float) * _num(load, "scaling", 1.0)
    q = load.q_mvar.to_numpy(dtype=float) * _num(load, "scaling", 1.0)
    lp_class = _str(load, "reliability_class", d.reliability_class)
    bad_cls = sorted({c for c in lp_class if c not in ("urban", "rural")})
    if bad_cls:
        problems.append(f"load.reliability_class must be 'urban' or 'rural', got {bad_cls}")
    return (
        LoadPoints(
            load=load.index.to_numpy(dtype=np.int64),
            name=_str(load, "name", ""),
            bus=lp_bus,
            node=lp_node,
            customers=_num(load, "customers", d.customers_per_load),
            p_avg_mw=_num(load, "p_avg_mw", p_mw * d.load_factor),
            s_peak_mva=np.hypot(p_mw, q),
            feeder=_feeder_names(tree, edges)[lp_node],
            reliability_class=lp_class,
        ),
        problems,
    )


def _element_names(net: pp.pandapowerNet, tree: SupplyTree) -> dict[str, str]:
    names: dict[str, str] = {}
    for kind, df in (("line", tree.line), ("trafo", tree.trafo), ("switch", net.switch)):
        if "name" in df:
            for idx, nm in zip(df.index, _str(df, "name", ""), strict=True):
                if nm:
                    names[f"{kind} {idx}"] = nm
    return names


def build_reliability_model(
    net: pp.pandapowerNet, defaults: ReliabilityDefaults | None = None
) -> ReliabilityModel:
    """Convert ``net`` into reliability arrays (the net is not modified).

    In five stages, each returning its arrays and the problems it found:
    :func:`switching_devices`, :func:`supply_tree`, :func:`ties`, :func:`failure_events`,
    :func:`load_points`.

    Parameters
    ----------
    net : pandapowerNet
        A radially operated distribution net with the columns of docs/reliability-data.md.
    defaults : ReliabilityDefaults, optional
        Fallback values for missing data.

    Raises
    ------
    CaseError
        When the net is not radially operated (a closed loop), has load buses without supply,
        no ``ext_grid``, or invalid reliability data; every problem found is reported.
    """
    d = defaults or ReliabilityDefaults()
    devices, problems = switching_devices(net, d)
    tree, found = supply_tree(net, devices)
    problems += found
    tie_set, found = ties(net, devices, tree)
    problems += found
    edges, found = failure_events(net, d, devices, tree)
    problems += found
    lps, found = load_points(net, d, tree, edges)
    problems += found
    if problems:
        looped = any("not radially operated" in p for p in problems)
        raise CaseError(
            format_problems("reliability data", problems),
            hint="open one switch per loop and mark it device='tie' (docs/reliability-data.md)"
            if looped
            else "see docs/reliability-data.md",
        )
    node_of = tree.node_of
    network = RadialNetwork(
        edge_parent=np.asarray(edges.e_par, dtype=np.int64),
        edge_child=np.asarray(edges.e_chi, dtype=np.int64),
        edge_device=np.asarray(edges.e_dev, dtype=np.int8),
        edge_switch_time_h=np.asarray(edges.e_time, dtype=float),
        edge_capacity_mva=np.asarray(edges.e_cap, dtype=float),
        n_node=edges.n_node,
        lp_node=lps.node,
        lp_customers=lps.customers,
        lp_p_avg_mw=lps.p_avg_mw,
        lp_s_peak_mva=lps.s_peak_mva,
        tie_a=np.array([node_of[a] for a in tie_set.a], dtype=np.int64),
        tie_b=np.array([node_of[b] for b in tie_set.b], dtype=np.int64),
        tie_switch_time_h=np.array(tie_set.switch_time_h, dtype=float),
        tie_capacity_mva=np.array(tie_set.capacity_mva, dtype=float),
        edge_recloses=np.asarray(edges.e_recl, dtype=bool),
    )
    events = FailureEvents(
        edge=np.asarray(edges.ev_edge, dtype=np.int64),
        rate_per_year=np.asarray(edges.ev_rate, dtype=float),
        repair_h=np.asarray(edges.ev_rep, dtype=float),
        on_device=np.asarray(edges.ev_on_dev, dtype=bool),
        restore_h=np.asarray(edges.ev_restore, dtype=float),
    )
    return ReliabilityModel(
        network=network,
        events=events,
        lp_load=lps.load,
        lp_name=lps.name,
        lp_bus=lps.bus,
        lp_feeder=lps.feeder,
        lp_class=lps.reliability_class,
        edge_label=edges.e_label,
        event_label=edges.ev_label,
        event_kind=edges.ev_kind,
        bus_node=node_of,
        element_edge=edges.element_edge,
        event_length_km=np.asarray(edges.ev_len, dtype=float),
        element_name=_element_names(net, tree),
        temp_edge=np.asarray(edges.tmp_edge, dtype=np.int64),
        temp_rate_per_year=np.asarray(edges.tmp_rate, dtype=float),
        temp_label=edges.tmp_label,
        temp_restore_h=d.switching_time_h,
        tie_label=tie_set.label,
    )


DEVICE_FOR_WHATIF = {
    "sectionalizer": DEVICE_SECTIONALIZER,
    "recloser": DEVICE_RECLOSER,
    "breaker": DEVICE_BREAKER,
    "fuse": DEVICE_NAMES["fuse"],
    "disconnector": DEVICE_DISCONNECTOR,
}


# -- generating units (adequacy) -------------------------------------------------------------

# Forced outage rate, MTTF and MTTR (h) of the IEEE RTS-79 unit classes (IEEE RTS Task Force,
# IEEE Trans. PAS-98(6), 1979, Table 6); a unit without data takes the class nearest in size.
RTS79_UNIT_CLASSES: tuple[tuple[float, float, float, float], ...] = (
    # capacity_mw, forced_outage_rate, mttf_h, mttr_h
    (12.0, 0.02, 2940.0, 60.0),
    (20.0, 0.10, 450.0, 50.0),
    (50.0, 0.01, 1980.0, 20.0),
    (76.0, 0.02, 1960.0, 40.0),
    (100.0, 0.04, 1200.0, 50.0),
    (155.0, 0.04, 960.0, 40.0),
    (197.0, 0.05, 950.0, 50.0),
    (350.0, 0.08, 1150.0, 100.0),
    (400.0, 0.12, 1100.0, 150.0),
)


@dataclass
class GeneratingUnits:
    """Generating units for adequacy: capacity (MW), forced outage rate, MTTF/MTTR (h), bus."""

    name: np.ndarray
    element: np.ndarray  # "gen 3", "sgen 1", "ext_grid 0"
    bus: np.ndarray
    capacity_mw: np.ndarray
    forced_outage_rate: np.ndarray
    mttf_h: np.ndarray
    mttr_h: np.ndarray
    derated_outage_mw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    derated_probability: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # per unit: capacity lost in each derated state (MW) and its probability; empty arrays
    # for a two-state unit (the full outage is always ``forced_outage_rate``)
    derated_states: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def states_text(self) -> np.ndarray:
        """Derated states per unit as ``"outage_mw:probability;..."`` ("" for two-state)."""
        return np.array(
            [
                ";".join(f"{o:g}:{p:g}" for o, p in zip(*st, strict=True))
                for st in self.derated_states
            ],
            dtype=object,
        )


def parse_derated_states(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse ``"outage_mw:probability; outage_mw:probability"`` into two arrays.

    Raises ``ValueError`` with what is wrong.
    """
    outs, probs = [], []
    for part in str(text).replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        bits = part.split(":")
        if len(bits) != 2:
            raise ValueError(f"each state must be 'outage_mw:probability', got {part!r}")
        try:
            outs.append(float(bits[0]))
            probs.append(float(bits[1]))
        except ValueError:
            raise ValueError(f"each state must be two numbers, got {part!r}") from None
    return np.array(outs), np.array(probs)


def generating_units(net: pp.pandapowerNet, *, include_ext_grid: bool = False) -> GeneratingUnits:
    """Read the generating units of ``net`` with their outage data.

    Capacity is ``max_p_mw`` when present, else ``p_mw`` (``gen``, ``sgen``); ``ext_grid``
    units only with ``include_ext_grid`` and a ``max_p_mw``. Outage data come from the
    columns ``forced_outage_rate`` or ``mttf_h`` and ``mttr_h`` (FOR = MTTR/(MTTF+MTTR)); a
    unit without them takes the IEEE RTS-79 class nearest in capacity (Table 6 of the RTS).
    A derated state is given by ``derated_outage_mw`` (capacity lost in it) and
    ``derated_probability`` (its probability; the unit is then a 3-state unit: full capacity
    with ``1 - FOR - derated_probability``). Several derated states are given by the text
    column ``derated_states``: ``"outage_mw:probability;..."`` (e.g. ``"100:0.06;250:0.03"``;
    full capacity then has ``1 - FOR - sum of the probabilities``).
    """
    frames = [("gen", net.gen), ("sgen", net.sgen)]
    if include_ext_grid:
        frames.append(("ext_grid", net.ext_grid))
    names, elems, buses, cap, fo, mttf, mttr = [], [], [], [], [], [], []
    der_mw: list[float] = []
    der_p: list[float] = []
    der_states: list[tuple[np.ndarray, np.ndarray]] = []
    problems: list[str] = []
    cls = np.array(RTS79_UNIT_CLASSES)
    for et, df in frames:
        df = df[df.in_service.astype(bool)]
        if df.empty:
            continue
        p = _num(df, "p_mw", 0.0) if "p_mw" in df else np.zeros(len(df))
        c = _num(df, "max_p_mw", p)
        nearest = np.abs(cls[:, 0][None, :] - c[:, None]).argmin(axis=1)
        f_col = _num(df, "forced_outage_rate", np.nan)
        mf = _num(df, "mttf_h", np.nan)
        mr = _num(df, "mttr_h", np.nan)
        dmw = _num(df, "derated_outage_mw", 0.0)
        dp = _num(df, "derated_probability", 0.0)
        dstates = _str(df, "derated_states", "")
        for i, idx in enumerate(df.index):
            if c[i] <= 0:
                continue
            k = nearest[i]
            r_h = mr[i] if not np.isnan(mr[i]) else cls[k, 3]
            if not np.isnan(f_col[i]):
                q = f_col[i]
                f_h = r_h * (1 - q) / q if q > 0 else math.inf
            elif not np.isnan(mf[i]):
                f_h = mf[i]
                q = r_h / (f_h + r_h)
            else:
                q, f_h = cls[k, 1], cls[k, 2]
                r_h = cls[k, 3]
            if not 0 <= q < 1:
                problems.append(f"{et} {idx}: forced_outage_rate must be in [0, 1), got {q}")
            st_out, st_p = np.zeros(0), np.zeros(0)
            if dstates[i]:
                try:
                    st_out, st_p = parse_derated_states(dstates[i])
                except ValueError as exc:
                    problems.append(f"{et} {idx}: derated_states {exc}")
                if dp[i] > 0:
                    problems.append(
                        f"{et} {idx}: give derated_states or derated_outage_mw/"
                        "derated_probability, not both"
                    )
            elif dp[i] > 0:
                st_out, st_p = np.array([float(dmw[i])]), np.array([float(dp[i])])
            if st_p.size and not (
                np.all((st_out > 0) & (st_out < c[i])) and np.all(st_p > 0) and q + st_p.sum() <= 1
            ):
                problems.append(
                    f"{et} {idx}: every derated state must have 0 < outage < capacity "
                    f"({c[i]:g} MW) and probability > 0, with FOR + their probabilities <= 1, "
                    f"got {';'.join(f'{o:g}:{p:g}' for o, p in zip(st_out, st_p, strict=True))}"
                )
            der_states.append((st_out, st_p))
            p_der = float(st_p.sum())
            der_p.append(p_der)
            der_mw.append(float(np.dot(st_out, st_p) / p_der) if p_der > 0 else 0.0)
            names.append(str(df.at[idx, "name"]) if "name" in df else "")
            elems.append(f"{et} {idx}")
            buses.append(int(df.at[idx, "bus"]))
            cap.append(float(c[i]))
            fo.append(float(q))
            mttf.append(float(f_h))
            mttr.append(float(r_h))
    if problems:
        raise CaseError(format_problems("generating units", problems))
    return GeneratingUnits(
        np.array(names, dtype=object),
        np.array(elems, dtype=object),
        np.array(buses, dtype=np.int64),
        np.array(cap),
        np.array(fo),
        np.array(mttf),
        np.array(mttr),
        np.array(der_mw),
        np.array(der_p),
        der_states,
    )
