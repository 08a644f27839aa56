"""Outages of a contingency model: the default single-element sets, and their translation
into the engine's outages (:class:`gridplan.core.contingency.Outage`: ppc branch rows taken out,
buses cut off from every slack, generator rows taken out, bus injection changes).

An outage is named and lists pandapower elements, ``("line 7", [("line", 7)])``
(:data:`OutageSpec`); :func:`gridplan.model.outages.read_outages` reads named N-k sets from files.

What each element type takes out:

- ``line``, ``trafo``, ``trafo3w``, ``impedance``: its ppc branch rows.
- ``gen``: its generator row (its P leaves the bus; a PV bus left without a generator turns PQ).
- ``dcline``: both generator rows pandapower makes of it (a bipole block: the sending end stops
  drawing ``p_mw``, the receiving end loses ``p_mw`` less the losses, and both converter buses
  lose their voltage control unless another generator holds them).
- ``sgen``, ``storage``: a change of the bus injection, ``-(p_mw + j q_mvar) * scaling``
  (storage: ``+(p_mw + j q_mvar) * scaling``, positive ``p_mw`` being charging).

The slack buses take up the active power lost (each synchronous area its own slack's); there
is no pro-rata redispatch over generators.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandapower as pp
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from gridplan.core.contingency import Outage
from gridplan.errors import CaseError
from gridplan.model.contingency_model import ContingencyModel
from gridplan.model.outages import TYPES, OutageSpec

ELEMENT_TYPES = TYPES
DEFAULT_ELEMENTS = ("line", "trafo")

#: the bridge tree of a model's branch graph, :meth:`ContingencyModel.bridge_tree`
BridgeTree = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def default_outages(
    net: pp.pandapowerNet, elements: Sequence[str] = DEFAULT_ELEMENTS
) -> list[OutageSpec]:
    """One outage per in-service element of the given types, named ``"<type> <index>"``."""
    bad = [e for e in elements if e not in ELEMENT_TYPES]
    if bad:
        raise CaseError(
            f"--elements must be among {', '.join(ELEMENT_TYPES)}, got {', '.join(bad)} instead"
        )
    out: list[OutageSpec] = []
    for kind in elements:
        df = net.get(kind)
        if df is None or not len(df):
            continue
        for idx in df.index[df.in_service.to_numpy(dtype=bool)]:
            out.append((f"{kind} {idx}", [(kind, int(idx))]))
    return out


_NONE = np.zeros(0, np.int64)
_NONE.flags.writeable = False
_NO_ROWS: dict[int, np.ndarray] = {}


def engine_outage(
    model: ContingencyModel, elems: list[tuple[str, int]], bridge: BridgeTree
) -> tuple[Outage | None, str]:
    """Translate pandapower elements into an engine outage; ``(None, reason)`` if impossible."""
    is_bridge, child, tin, tout, order = bridge
    if len(elems) == 1:
        # the common case, one in-service branch: no sets, no graph search, and the
        # model's (read-only) row array itself as the outage's branches
        rows = model.element_branches.get(elems[0][0], _NO_ROWS).get(elems[0][1])
        if rows is not None and rows.size == 1 and model.branch_in_service[rows[0]]:
            k = rows[0]
            dead = _NONE
            if is_bridge[k]:
                dead = order[tin[child[k]] : tout[child[k]]].astype(np.int64)
                if np.isin(model.ref, dead).any():
                    dead = _NONE
            return Outage(rows, dead, _NONE), ""
    br: list[int] = []
    gens: list[int] = []
    inj_bus: list[int] = []
    inj_s: list[complex] = []
    refs = set(model.ref.tolist())
    for kind, idx in elems:
        if kind in ("gen", "dcline"):
            if kind == "gen":
                rows = [model.gen_rows[idx]] if idx in model.gen_rows else []
            else:
                rows = model.dcline_rows.get(idx, np.zeros(0, np.int64)).tolist()
            if not rows:
                what = "" if kind == "gen" else " (or its converter generators were not found)"
                return None, f"{kind} {idx} is not in service{what}"
            if any(int(model.gen_bus[r]) in refs for r in rows):
                return None, f"{kind} {idx} is at a slack bus"
            gens.extend(int(r) for r in rows)
            continue
        if kind in model.injections:
            if idx not in model.injections[kind]:
                return None, f"{kind} {idx} is not in service"
            bus, s = model.injections[kind][idx]
            inj_bus.append(bus)
            inj_s.append(-s)  # the injection leaves the bus
            continue
        rows = model.element_branches.get(kind, {}).get(idx)
        if rows is None:
            return None, f"{kind} {idx} does not exist"
        rows = rows[model.branch_in_service[rows]]
        if rows.size == 0:
            return None, f"{kind} {idx} is already out of service"
        br.extend(int(r) for r in rows)
    bra = np.unique(np.array(br, dtype=np.int64))
    if bra.size == 1:
        k = bra[0]
        dead = order[tin[child[k]] : tout[child[k]]] if is_bridge[k] else np.zeros(0, np.int64)
        if dead.size and np.isin(model.ref, dead).any():
            dead = np.zeros(0, np.int64)
    elif bra.size == 0:
        dead = np.zeros(0, np.int64)
    else:
        act = model.branch_in_service.copy()
        act[bra] = False
        g = sp.coo_matrix(
            (np.ones(int(act.sum())), (model.f[act], model.t[act])),
            shape=(model.n_bus, model.n_bus),
        )
        _, lab = connected_components(g, directed=False)
        alive = np.isin(lab, lab[model.ref])
        dead = np.flatnonzero(~alive)
    return Outage(
        bra,
        dead.astype(np.int64),
        np.unique(np.array(gens, dtype=np.int64)),
        np.array(inj_bus, dtype=np.int64),
        np.array(inj_s, dtype=np.complex128),
    ), ""


def lost_p_mw(model: ContingencyModel, elems: list[tuple[str, int]]) -> float:
    """Active power an outage's elements stop supplying, MW (NaN if one is not in service).

    ``gen``: its P; ``dcline``: the P its sending end was drawing (``|p_mw|``); ``sgen``:
    ``p_mw * scaling``; ``storage``: ``-p_mw * scaling`` (negative while charging); branches: 0.
    What islanding cuts off is reported apart (``cut_load_mw``, ``cut_gen_mw``).
    """
    total = 0.0
    for kind, idx in elems:
        if kind == "gen":
            if idx not in model.gen_rows:
                return float("nan")
            total += float(model.gen_s_pu[model.gen_rows[idx]].real) * model.base_mva
        elif kind == "dcline":
            rows = model.dcline_rows.get(idx)
            if rows is None:
                return float("nan")
            total += float(-model.gen_s_pu[rows].real.min()) * model.base_mva
        elif kind in model.injections:
            if idx not in model.injections[kind]:
                return float("nan")
            total += float(model.injections[kind][idx][1].real) * model.base_mva
    return total


def engine_outages(
    model: ContingencyModel, specs: list[tuple[str, list[tuple[str, int]]]], bridge: BridgeTree
) -> tuple[list[Outage | None], np.ndarray]:
    """Engine outages of every spec and, where impossible, the reason (object array)."""
    eng: list[Outage | None] = []
    reason = np.full(len(specs), "", dtype=object)
    for j, (_, elems) in enumerate(specs):
        o, why = engine_outage(model, elems, bridge)
        eng.append(o)
        reason[j] = why
    return eng, reason
