"""Where EV charging lands in a case: supplying transformer, downstream loads and feeder of a bus.

Buses joined by in-service lines and closed bus-bus switches form islands of one voltage
level (an LV network behind a distribution transformer, a 10 kV feeder group behind a
substation transformer). The transformers whose LV bus lies in a bus's island supply it; a
transformer's downstream is its LV island plus, recursively, the islands fed by transformers
whose HV bus lies in it. Feeders come from ``bus.feeder`` when the case has it, else each line
leaving a transformer's LV bus starts one (named after the line).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandapower as pp
import pandapower.topology as top


@dataclass(frozen=True)
class Topology:
    """Transformer groups (one per LV island with a supply) and feeders of a net.

    Attributes
    ----------
    group_of_bus : dict
        Bus -> transformer group row (the group supplying its island), for supplied buses.
    groups : list of tuple
        Each group's pandapower trafo indices (parallel units feeding one island).
    group_rating_mva : ndarray
        Sum of ``sn_mva`` of each group's transformers.
    downstream : list of ndarray
        Buses each group supplies (its island and everything below).
    feeder_of_bus : dict
        Bus -> feeder name (buses outside feeders are absent).
    """

    group_of_bus: dict[int, int]
    groups: list[tuple[int, ...]]
    group_rating_mva: np.ndarray
    downstream: list[np.ndarray]
    feeder_of_bus: dict[int, str]

    def group_name(self, g: int, net: pp.pandapowerNet) -> str:
        """Name of group ``g``: its transformers' names."""
        names = [str(net.trafo.at[t, "name"] or f"trafo {t}") for t in self.groups[g]]
        return " + ".join(names)


def topology(net: pp.pandapowerNet) -> Topology:
    """Transformer groups, downstream buses and feeders of ``net``."""
    g = top.create_nxgraph(net, respect_switches=True, include_trafos=False, include_trafo3ws=False)
    island = {}
    islands: list[set[int]] = []
    for comp in nx.connected_components(g):
        for b in comp:
            island[int(b)] = len(islands)
        islands.append({int(b) for b in comp})
    tr = net.trafo[net.trafo.in_service.astype(bool)] if len(net.trafo) else net.trafo
    feeding: dict[int, list[int]] = {}  # LV island -> trafos
    below: dict[int, set[int]] = {}  # island -> LV islands of trafos whose HV bus is in it
    for t, row in tr.iterrows():
        lv, hv = island.get(int(row.lv_bus)), island.get(int(row.hv_bus))
        if lv is None or hv is None or lv == hv:
            continue
        feeding.setdefault(lv, []).append(int(t))
        below.setdefault(hv, set()).add(lv)
    groups = [tuple(sorted(feeding[i])) for i in sorted(feeding)]
    group_island = sorted(feeding)
    group_of_bus = {}
    for gi, i in enumerate(group_island):
        for b in islands[i]:
            group_of_bus[b] = gi
    downstream = []
    for i in group_island:
        seen, stack = set(), [i]
        while stack:
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            stack.extend(below.get(k, ()))
        downstream.append(np.array(sorted(b for k in seen for b in islands[k]), dtype=np.int64))
    rating = np.array([float(net.trafo.loc[list(gr), "sn_mva"].sum()) for gr in groups])
    return Topology(group_of_bus, groups, rating, downstream, _feeders(net, g))


def _feeders(net: pp.pandapowerNet, g: nx.MultiGraph) -> dict[int, str]:
    if "feeder" in net.bus:
        return {
            int(b): str(f)
            for b, f in net.bus["feeder"].items()
            if isinstance(f, str) and f and f.upper() not in ("HV", "SS")
        }
    # a feeder per line leaving a transformer's LV bus, through everything beyond it
    out: dict[int, str] = {}
    heads = set(int(b) for b in net.trafo.lv_bus) if len(net.trafo) else set()
    for b0 in sorted(heads):
        for _, nb, key in g.edges(b0, keys=True):
            if key[0] != "line" or int(nb) in heads:
                continue
            name = str(net.line.at[key[1], "name"] or f"line {key[1]}")
            seen, stack = {b0}, [int(nb)]
            while stack:
                b = stack.pop()
                if b in seen or b in heads:
                    continue
                seen.add(b)
                out.setdefault(b, name)
                stack.extend(int(x) for x in g.neighbors(b))
    # buses behind distribution transformers belong to the feeder of their HV bus
    changed = True
    while changed:
        changed = False
        for _, row in net.trafo.iterrows():
            hv, lv = int(row.hv_bus), int(row.lv_bus)
            if hv in out and lv not in out:
                for b in nx.node_connected_component(g, lv):
                    out.setdefault(int(b), out[hv])
                changed = True
    return out
