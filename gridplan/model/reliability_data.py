"""Read the reliability data of a pandapower net (docs/reliability-data.md) into arrays.

:func:`build_reliability_model` turns a radially operated distribution net into the arrays of
:mod:`gridplan.core.reliability` once: the supply tree (from every ``ext_grid`` bus over closed,
in-service lines, transformers and bus-bus switches), the switching devices, the normally-open
ties, the load points and one failure event per component.

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


def build_reliability_model(
    net: pp.pandapowerNet, defaults: ReliabilityDefaults | None = None
) -> ReliabilityModel:
    """Convert ``net`` into reliability arrays (the net is not modified).

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
    problems: list[str] = []
    bus = net.bus[net.bus.in_service.astype(bool)]
    node_of = {int(b): i for i, b in enumerate(bus.index)}
    vn = bus.vn_kv.to_numpy(dtype=float)
    n_bus = len(bus)

    line = net.line[net.line.in_service.astype(bool)]
    trafo = net.trafo[net.trafo.in_service.astype(bool)]
    sw = net.switch
    _check_nonneg(
        "line",
        line,
        [
            "failure_rate_per_km_year",
            "repair_time_h",
            "length_km",
            "temporary_failure_rate_per_km_year",
        ],
        problems,
    )
    _check_nonneg("trafo", trafo, ["failure_rate_per_year", "repair_time_h"], problems)
    _check_nonneg("switch", sw, ["switching_time_h", "failure_rate_per_year"], problems)
    _check_nonneg("load", net.load, ["customers", "p_avg_mw"], problems)
    device = _switch_device(sw, problems) if len(sw) else np.array([], dtype=object)
    sw_time = _num(sw, "switching_time_h", d.switching_time_h)
    sw_fail = _num(
        sw,
        "failure_rate_per_year",
        np.where(device == "breaker", d.breaker_failure_rate_per_year, 0.0),
    )
    sw_rep = _num(sw, "repair_time_h", d.switch_repair_time_h)
    sw_reclose = (_num(sw, "auto_reclose", 0.0) > 0) if len(sw) else np.zeros(0, dtype=bool)
    if net.ext_grid.empty or not net.ext_grid.in_service.any():
        problems.append(
            "ext_grid: a distribution case needs at least one in-service ext_grid "
            "(the supply point), got none"
        )
    if problems:
        raise CaseError(format_problems("reliability data", problems))

    # candidate tree edges: (kind, element, bus a, bus b)
    open_at: dict[tuple[str, int], set[int]] = {}
    dev_at: dict[tuple[str, int, int], int] = {}  # (et, element, bus) -> switch row
    ties: list[tuple[int, int, float, float, str]] = []
    cand: list[tuple[str, int, int, int]] = []
    sw_et = sw.et.astype(str).to_numpy()
    sw_el = sw.element.to_numpy(dtype=np.int64)
    sw_bus = sw.bus.to_numpy(dtype=np.int64)
    sw_closed = sw.closed.to_numpy(dtype=bool)
    for i, sid in enumerate(sw.index):
        et, el, b, closed = sw_et[i], int(sw_el[i]), int(sw_bus[i]), bool(sw_closed[i])
        if et in ("l", "t"):
            if not closed:
                open_at.setdefault((et, el), set()).add(b)
            else:
                dev_at[(et, el, b)] = i
        elif et == "b":
            if b not in node_of or el not in node_of:
                continue
            if closed:
                cand.append(("switch", int(sid), b, el))
            elif device[i] == "tie":
                ties.append((b, el, float(sw_time[i]), math.inf, f"switch {sid}"))

    vn_of = net.bus.vn_kv.astype(float).to_dict()
    l_from = line.from_bus.to_numpy(dtype=np.int64)
    l_to = line.to_bus.to_numpy(dtype=np.int64)
    l_len = line.length_km.to_numpy(dtype=float)
    l_par = _num(line, "parallel", 1.0)
    l_cap = (
        line.max_i_ka.to_numpy(dtype=float)
        * np.array([vn_of[int(b)] for b in l_from])
        * math.sqrt(3)
        * l_par
    )
    l_cap = np.where(l_cap > 0, l_cap, math.inf)
    l_cable = (
        (line["type"].astype(str).to_numpy() == "cs")
        if "type" in line
        else np.zeros(len(line), dtype=bool)
    )
    for pos_i, lid in enumerate(line.index):
        fb, tb = int(l_from[pos_i]), int(l_to[pos_i])
        if fb not in node_of or tb not in node_of:
            continue
        opened = open_at.get(("l", int(lid)), set())
        if opened:
            on_line = np.flatnonzero((sw_et == "l") & (sw_el == lid))
            if any(device[i] == "tie" and not sw_closed[i] for i in on_line):
                t = float(sw_time[on_line].max())
                ties.append((fb, tb, t, float(l_cap[pos_i]), f"line {lid}"))
            continue
        cand.append(("line", int(lid), fb, tb))
    t_hv = trafo.hv_bus.to_numpy(dtype=np.int64)
    t_lv = trafo.lv_bus.to_numpy(dtype=np.int64)
    t_vn_lv = trafo.vn_lv_kv.to_numpy(dtype=float)
    t_sn = trafo.sn_mva.to_numpy(dtype=float) * _num(trafo, "parallel", 1.0)
    for pos_i, tid in enumerate(trafo.index):
        hb, lb = int(t_hv[pos_i]), int(t_lv[pos_i])
        if hb not in node_of or lb not in node_of or open_at.get(("t", int(tid))):
            continue
        cand.append(("trafo", int(tid), hb, lb))

    # parallel circuits (lines/transformers between the same two buses) form one component
    groups: dict[tuple[int, int], list[int]] = {}
    for k, (kind, _, a, b) in enumerate(cand):
        if kind in ("line", "trafo"):
            groups.setdefault((min(a, b), max(a, b)), []).append(k)
    merged = {ks[0]: ks for ks in groups.values() if len(ks) > 1}
    drop = {k for ks in merged.values() for k in ks[1:]}
    cand = [
        ("parallel", [cand[j][:2] for j in merged[k]], c[2], c[3]) if k in merged else c
        for k, c in enumerate(cand)
        if k not in drop
    ]

    # breadth-first search from the supply points over candidate edges
    adj: list[list[int]] = [[] for _ in range(n_bus)]
    for k, (_, _, a, b) in enumerate(cand):
        adj[node_of[a]].append(k)
        adj[node_of[b]].append(k)
    parent_cand = np.full(n_bus, -1, dtype=np.int64)
    visited = np.zeros(n_bus, dtype=bool)
    used = np.zeros(len(cand), dtype=bool)
    roots = sorted(
        {
            node_of[int(b)]
            for b in net.ext_grid[net.ext_grid.in_service.astype(bool)].bus
            if int(b) in node_of
        }
    )
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
                parent_cand[w] = k
                tree_edges.append((k, v, w))
                queue.append(w)
    if loops:
        raise CaseError(
            f"reliability: the net is not radially operated; closed loops through "
            f"{', '.join(loops[:10])}{' ...' if len(loops) > 10 else ''}",
            hint="open one switch per loop and mark it device='tie' (docs/reliability-data.md)",
        )
    load = net.load[net.load.in_service.astype(bool)]
    dead = sorted({int(b) for b in load.bus if int(b) in node_of and not visited[node_of[int(b)]]})
    if dead:
        raise CaseError(
            f"reliability: load buses {dead[:10]} are not supplied from any ext_grid "
            "in the normal switching state"
        )

    # edges, with a virtual node for a device at the downstream end of a line/trafo
    e_par: list[int] = []
    e_chi: list[int] = []
    e_dev: list[int] = []
    e_time: list[float] = []
    e_cap: list[float] = []
    e_label: list[str] = []
    e_recl: list[bool] = []
    ev_edge: list[int] = []
    ev_rate: list[float] = []
    ev_rep: list[float] = []
    ev_on_dev: list[bool] = []
    ev_label: list[str] = []
    ev_kind: list[str] = []
    ev_len: list[float] = []
    ev_restore: list[float] = []
    element_edge: dict[str, int] = {}
    n_node = n_bus
    line_fr = _num(line, "failure_rate_per_km_year", np.nan)
    line_tfr = _num(line, "temporary_failure_rate_per_km_year", 0.0)
    tmp_edge: list[int] = []
    tmp_rate: list[float] = []
    tmp_label: list[str] = []
    line_rt = _num(line, "repair_time_h", np.nan)
    line_pos = {int(i): k for k, i in enumerate(line.index)}
    trafo_fr = _num(trafo, "failure_rate_per_year", np.nan)
    trafo_rt = _num(trafo, "repair_time_h", np.nan)
    trafo_pos = {int(i): k for k, i in enumerate(trafo.index)}

    def sw_device_code(i: int) -> int:
        return DEVICE_NAMES.get(str(device[i]), DEVICE_NONE)

    def add_edge(
        par: int, chi: int, dev: int, t: float, cap: float, label: str, recl: bool = False
    ) -> int:
        e_recl.append(recl)
        e_par.append(par)
        e_chi.append(chi)
        e_dev.append(dev)
        e_time.append(t)
        e_cap.append(cap)
        e_label.append(label)
        return len(e_par) - 1

    def add_event(
        e: int,
        rate: float,
        rep: float,
        on_dev: bool,
        label: str,
        kind: str,
        length: float = math.nan,
        restore_h: float = math.nan,
    ) -> None:
        if rate > 0:
            ev_len.append(length)
            ev_restore.append(restore_h)
            ev_edge.append(e)
            ev_rate.append(rate)
            ev_rep.append(rep)
            ev_on_dev.append(on_dev)
            ev_label.append(label)
            ev_kind.append(kind)

    def strongest(rows: list[int]) -> int | None:
        """The switch row acting as device: protective before isolating, faster first."""
        rows = [i for i in rows if sw_device_code(i) != DEVICE_NONE]
        if not rows:
            return None
        return min(rows, key=lambda i: (sw_device_code(i) not in PROTECTIVE, sw_time[i]))

    def branch_data(kind: str, el: int, v: int) -> tuple[float, float, float, float]:
        """Failure rate (1/yr), repair time (h), capacity (MVA), length (km) of a branch."""
        if kind == "line":
            pos = line_pos[el]
            vkv = float(vn[v])
            if vkv < LV_MAX_KV:
                fr_d, rt_d = d.line_lv_failure_rate_per_km_year, d.line_lv_repair_time_h
            elif vkv <= MV_MAX_KV:
                fr_d, rt_d = (
                    (d.line_mv_cable_failure_rate_per_km_year, d.line_mv_cable_repair_time_h)
                    if l_cable[pos]
                    else (
                        d.line_mv_overhead_failure_rate_per_km_year,
                        d.line_mv_overhead_repair_time_h,
                    )
                )
            else:
                fr_d, rt_d = d.line_hv_failure_rate_per_km_year, d.line_hv_repair_time_h
            fr = fr_d if math.isnan(line_fr[pos]) else line_fr[pos]
            rep = rt_d if math.isnan(line_rt[pos]) else line_rt[pos]
            return fr * float(l_len[pos]), rep, float(l_cap[pos]), float(l_len[pos])
        pos = trafo_pos[el]
        mv_lv = float(t_vn_lv[pos]) < LV_MAX_KV
        fr_d = d.trafo_mv_lv_failure_rate_per_year if mv_lv else d.trafo_hv_mv_failure_rate_per_year
        rt_d = d.trafo_mv_lv_repair_time_h if mv_lv else d.trafo_hv_mv_repair_time_h
        rate = fr_d if math.isnan(trafo_fr[pos]) else trafo_fr[pos]
        rep = rt_d if math.isnan(trafo_rt[pos]) else trafo_rt[pos]
        sn = float(t_sn[pos])
        return rate, rep, sn if sn > 0 else math.inf, math.nan

    for k, v, w in tree_edges:
        kind, el, a, b = cand[k]
        if kind == "switch":
            label = f"switch {el}"
            i = int(np.flatnonzero(sw.index.to_numpy() == el)[0])
            e = add_edge(
                v, w, sw_device_code(i), float(sw_time[i]), math.inf, label, bool(sw_reclose[i])
            )
            element_edge[label] = e
            add_event(e, float(sw_fail[i]), float(sw_rep[i]), True, label, "switch")
            continue
        members = el if kind == "parallel" else [(kind, el)]
        up_bus = int(bus.index[v])
        down_bus = int(bus.index[w])
        ups, downs, data = [], [], []
        for mk, me in members:
            et = "l" if mk == "line" else "t"
            if (et, me, up_bus) in dev_at:
                ups.append(dev_at[(et, me, up_bus)])
            if (et, me, down_bus) in dev_at:
                downs.append(dev_at[(et, me, down_bus)])
            data.append(branch_data(mk, me, v))
        up, down = strongest(ups), strongest(downs)
        labels = [f"{mk} {me}" for mk, me in members]
        label = " || ".join(labels)
        if len(members) == 1:
            rate, rep, cap, length = data[0]
        else:
            # all circuits out together (independent overlapping outages):
            # U = 8760 prod(lam_i r_i / 8760), 1/r = sum 1/r_i, lam = U / r; a single
            # circuit is assumed to carry the load (N-1 is the n1 study's question)
            lam_r = np.array([x[0] * x[1] for x in data])
            reps = np.array([x[1] for x in data])
            rep = float(1.0 / np.sum(1.0 / reps)) if np.all(reps > 0) else 0.0
            u_all = HOURS_PER_YEAR * float(np.prod(lam_r / HOURS_PER_YEAR))
            rate = u_all / rep if rep > 0 else 0.0
            cap = float(sum(x[2] for x in data))
            length = math.nan
        child = w
        if down is not None:
            child = n_node
            n_node += 1
        e = add_edge(
            v,
            child,
            sw_device_code(up) if up is not None else DEVICE_NONE,
            float(sw_time[up]) if up is not None else d.switching_time_h,
            cap,
            label,
            bool(sw_reclose[up]) if up is not None else False,
        )
        for lab in labels:
            element_edge[lab] = e
        add_event(e, rate, rep, False, label, kind, length)
        for mk, me in members:
            if mk == "line" and line_tfr[line_pos[me]] > 0 and len(members) == 1:
                tmp_edge.append(e)
                tmp_rate.append(float(line_tfr[line_pos[me]] * l_len[line_pos[me]]))
                tmp_label.append(f"line {me}")
        if len(members) == 1:
            if up is not None:
                add_event(
                    e,
                    float(sw_fail[up]),
                    float(sw_rep[up]),
                    True,
                    f"switch {sw.index[up]}",
                    "switch",
                )
            if down is not None:
                e2 = add_edge(
                    child,
                    w,
                    sw_device_code(down),
                    float(sw_time[down]),
                    cap,
                    f"switch {sw.index[down]}",
                    bool(sw_reclose[down]),
                )
                element_edge[f"switch {sw.index[down]}"] = e2
                add_event(
                    e2,
                    float(sw_fail[down]),
                    float(sw_rep[down]),
                    True,
                    f"switch {sw.index[down]}",
                    "switch",
                )
        else:
            if down is not None:
                e2 = add_edge(
                    child,
                    w,
                    sw_device_code(down),
                    float(sw_time[down]),
                    cap,
                    f"switch {sw.index[down]}",
                )
                element_edge[f"switch {sw.index[down]}"] = e2
            # a device failing on one of several parallel circuits trips the supply above,
            # is isolated, and the load is restored over the other circuits after switching
            for i in ups + downs:
                add_event(
                    e,
                    float(sw_fail[i]),
                    float(sw_rep[i]),
                    True,
                    f"switch {sw.index[i]}",
                    "switch",
                    restore_h=float(sw_time[i]),
                )

    names: dict[str, str] = {}
    for kind, df in (("line", line), ("trafo", trafo), ("switch", sw)):
        if "name" in df:
            for idx, nm in zip(df.index, _str(df, "name", ""), strict=True):
                if nm:
                    names[f"{kind} {idx}"] = nm

    # load points
    lp_bus = load.bus.to_numpy(dtype=np.int64)
    lp_node = np.array([node_of[int(b)] for b in lp_bus], dtype=np.int64)
    p_mw = load.p_mw.to_numpy(dtype=float) * _num(load, "scaling", 1.0)
    q = load.q_mvar.to_numpy(dtype=float) * _num(load, "scaling", 1.0)
    customers = _num(load, "customers", d.customers_per_load)
    p_avg = _num(load, "p_avg_mw", p_mw * d.load_factor)
    lp_class = _str(load, "reliability_class", d.reliability_class)
    bad_cls = sorted({c for c in lp_class if c not in ("urban", "rural")})
    if bad_cls:
        raise CaseError(f"load.reliability_class must be 'urban' or 'rural', got {bad_cls}")

    # feeder names: bus column, else the first tree edge below the supply point
    bus_feeder = _str(bus, "feeder", "")
    node_feeder = np.empty(n_node, dtype=object)
    node_feeder[:n_bus] = bus_feeder
    par_of = np.full(n_node, -1, dtype=np.int64)
    par_of[np.asarray(e_chi, dtype=np.int64)] = np.asarray(e_par, dtype=np.int64)
    edge_of = np.full(n_node, -1, dtype=np.int64)
    edge_of[np.asarray(e_chi, dtype=np.int64)] = np.arange(len(e_chi))
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
                top = f"feeder {e_label[edge_of[x]]}"
            derived[x] = top
        if derived[v] is None:
            derived[v] = top
    lp_feeder = np.array(
        [node_feeder[n] if n < n_bus and node_feeder[n] else derived[n] for n in lp_node],
        dtype=object,
    )

    network = RadialNetwork(
        edge_parent=np.asarray(e_par, dtype=np.int64),
        edge_child=np.asarray(e_chi, dtype=np.int64),
        edge_device=np.asarray(e_dev, dtype=np.int8),
        edge_switch_time_h=np.asarray(e_time, dtype=float),
        edge_capacity_mva=np.asarray(e_cap, dtype=float),
        n_node=n_node,
        lp_node=lp_node,
        lp_customers=customers,
        lp_p_avg_mw=p_avg,
        lp_s_peak_mva=np.hypot(p_mw, q),
        tie_a=np.array([node_of[t[0]] for t in ties], dtype=np.int64),
        tie_b=np.array([node_of[t[1]] for t in ties], dtype=np.int64),
        tie_switch_time_h=np.array([t[2] for t in ties], dtype=float),
        tie_capacity_mva=np.array([t[3] for t in ties], dtype=float),
        edge_recloses=np.asarray(e_recl, dtype=bool),
    )
    events = FailureEvents(
        edge=np.asarray(ev_edge, dtype=np.int64),
        rate_per_year=np.asarray(ev_rate, dtype=float),
        repair_h=np.asarray(ev_rep, dtype=float),
        on_device=np.asarray(ev_on_dev, dtype=bool),
        restore_h=np.asarray(ev_restore, dtype=float),
    )
    return ReliabilityModel(
        network=network,
        events=events,
        lp_load=load.index.to_numpy(dtype=np.int64),
        lp_name=_str(load, "name", ""),
        lp_bus=lp_bus,
        lp_feeder=lp_feeder,
        lp_class=lp_class,
        edge_label=e_label,
        event_label=ev_label,
        event_kind=ev_kind,
        bus_node=node_of,
        element_edge=element_edge,
        event_length_km=np.asarray(ev_len, dtype=float),
        element_name=names,
        temp_edge=np.asarray(tmp_edge, dtype=np.int64),
        temp_rate_per_year=np.asarray(tmp_rate, dtype=float),
        temp_label=tmp_label,
        temp_restore_h=d.switching_time_h,
        tie_label=[t[4] for t in ties],
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
