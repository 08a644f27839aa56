"""Hosting capacity per bus: the largest wind injection with no new or worsened violation.

For every candidate bus: the largest injection ``P`` (MW, at the given power factor) such
that no branch loading and no bus voltage gets a new or worsened violation
(:mod:`gridplan.core.violation_rule`) against the same case without the wind, in the base
case (N-0) and, with ``n1``, after every single outage of the chosen element types. Where the
MW goes is chosen by ``balance``: ``slack`` (the slack of the bus's synchronous area takes it)
or ``gens`` (the area's dispatchable generators give way pro rata to their room down to
``min_p_mw``; beyond that the slack).

Method (:mod:`gridplan.core.hosting` has the formulas):

1. The net is compiled once (:func:`gridplan.model.contingency_model.compile_contingency_model`);
   with ``n1`` every outage is solved once in AC without the wind (the contingency engine),
   which gives each case's base values and effective limits.
2. Screening, all candidates at once: DC transfer factors and LODFs for the flows, the AC
   Jacobian for the voltages, applied to every case's AC state, give a linear estimate of the
   hosting capacity of every (candidate, case) pair. The cases whose estimate lies within
   ``BIND_FACTOR`` of the candidate's smallest are the ones that can bind (at most
   ``MAX_BOUND``, the base case always).
3. Refinement per candidate in AC: a Newton power flow of the base case with the injection,
   then the bound outages on that state with the contingency engine; a safeguarded secant
   search on the smallest margin closes the bracket to 1 MW or 0.5 % (whichever is
   smaller). The reported value is the bracket's feasible end.
4. Confirmation against every outage (``n1``): at the reported value every other outage is
   solved in AC with the contingency engine (one factorization of that state, all outages
   in blocks). An outage found violated joins the bound set and step 3 runs again.
"""

from __future__ import annotations

import copy
import math
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from gridplan.core import hosting as core
from gridplan.core.contingency import TOL_PU, Outage, full_jacobian, newton_pf, sparse_lu
from gridplan.core.violation_rule import (
    WORSEN_LOADING_PERCENT,
    WORSEN_VM_PU,
    effective_limits,
)
from gridplan.errors import CaseError
from gridplan.model.branches import branch_flows_of, branch_loading_of
from gridplan.model.contingency_model import ContingencyModel, compile_contingency_model
from gridplan.model.contingency_outages import DEFAULT_ELEMENTS, default_outages, engine_outages
from gridplan.studies.n1 import outage_voltages

SQRT3 = math.sqrt(3.0)
BALANCES = ("auto", "slack", "gens")
#: generators that do not give way to wind under ``balance="gens"`` (by ``fuel`` or ``type``)
NON_DISPATCHABLE = frozenset({"wind", "wp", "solar", "pv", "nuclear"})
BIND_FACTOR = 1.5
MAX_BOUND = 12
MAX_ROUNDS = 4
DEFAULT_VM_MIN_PU = 0.95
DEFAULT_VM_MAX_PU = 1.05


@dataclass
class HostingResult:
    """Hosting capacity per candidate bus.

    Attributes
    ----------
    table : DataFrame
        Index ``bus`` (pandapower index): ``hosting_mw`` (largest injection found without a
        reported violation), ``upper_mw`` (smallest found with one; NaN when unlimited),
        ``screen_mw`` (linear estimate), ``limit_kind`` (``loading``, ``vm_max``, ``vm_min``,
        ``diverged``, ``unlimited``), ``limit_element`` (``line 4``, ``trafo 2``, ``bus 17``),
        ``limit_outage`` (outage name; empty for the base case), ``limit_value`` (the
        quantity at ``upper_mw``: percent or pu), ``limit_bound`` (its effective limit),
        ``ac_trials`` (AC evaluations of the base case and the bound outages),
        ``bound_outages`` (outages in the refinement), ``confirmed_ac`` (outages solved in AC
        to confirm the final value).
    balance : str
        ``slack`` or ``gens``.
    n1 : bool
    n_outages : int
        Outages considered (converged without the wind).
    skipped_outages : dict
        Outage name -> why it was left out (not solvable without the wind).
    timings_s : dict
    """

    table: pd.DataFrame
    balance: str
    n1: bool
    power_factor: float
    n_outages: int
    skipped_outages: dict[str, str]
    timings_s: dict[str, float] = field(default_factory=dict)
    case_name: str = ""

    def summary(self) -> dict[str, Any]:
        """Key figures for a summary table."""
        t = self.table
        finite = t.hosting_mw[t.limit_kind != "unlimited"]
        return {
            "hosting_buses": len(t),
            "hosting_min_mw": float(finite.min()) if len(finite) else math.nan,
            "hosting_median_mw": float(finite.median()) if len(finite) else math.nan,
            "hosting_max_mw": float(finite.max()) if len(finite) else math.nan,
            "hosting_n1": self.n1,
            "hosting_s": float(sum(self.timings_s.values())),
        }


# ---------------------------------------------------------------------------------------
def parse_buses(text: str | Sequence[int] | None, net: pp.pandapowerNet) -> list[int]:
    """Bus list from ``"1,4,10-20"`` (pandapower indices) or a sequence; None: all in service."""
    if text is None:
        return [int(b) for b in net.bus.index[net.bus.in_service.to_numpy(dtype=bool)]]
    if not isinstance(text, str):
        return [int(b) for b in text]
    out: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part[1:]:
                a, b = part.split("-", 1) if not part.startswith("-") else (part, "")
                out += list(range(int(a), int(b) + 1))
            else:
                out.append(int(part))
        except ValueError:
            raise CaseError(
                f"--buses must be bus indices and ranges like 1,4,10-20, got {part!r}"
            ) from None
    return out


def _check_buses(
    net: pp.pandapowerNet, model: ContingencyModel, buses: list[int], where: str
) -> np.ndarray:
    missing = [b for b in buses if b not in net.bus.index]
    if missing:
        raise CaseError(
            f"{where}: bus {', '.join(map(str, missing[:10]))}"
            f"{' ...' if len(missing) > 10 else ''} does not exist",
            hint=f"the case has buses {int(net.bus.index.min())}..{int(net.bus.index.max())}",
        )
    rows = model.pp_bus_rows(np.array(buses, dtype=np.int64))
    off = [b for b, r in zip(buses, rows, strict=True) if r < 0]
    if off:
        raise CaseError(
            f"{where}: bus {', '.join(map(str, off[:10]))} is out of service or not energized"
        )
    if len(set(buses)) != len(buses):
        raise CaseError(f"{where}: --buses names a bus twice")
    return rows


def _bus_limits(
    net: pp.pandapowerNet, model: ContingencyModel, vm_min: float, vm_max: float
) -> tuple[np.ndarray, np.ndarray]:
    """Voltage band per ppci bus: the bus columns ``min_vm_pu``/``max_vm_pu`` where given
    (the strictest of buses merged into one), else the defaults."""
    lo = np.full(model.n_bus, -np.inf)
    hi = np.full(model.n_bus, np.inf)
    rows = model.pp_bus_rows(net.bus.index.to_numpy())
    ok = rows >= 0
    b_lo = (
        net.bus["min_vm_pu"].to_numpy(dtype=float)
        if "min_vm_pu" in net.bus
        else np.full(len(net.bus), np.nan)
    )
    b_hi = (
        net.bus["max_vm_pu"].to_numpy(dtype=float)
        if "max_vm_pu" in net.bus
        else np.full(len(net.bus), np.nan)
    )
    b_lo = np.where(np.isnan(b_lo), vm_min, b_lo)
    b_hi = np.where(np.isnan(b_hi), vm_max, b_hi)
    np.maximum.at(lo, rows[ok], b_lo[ok])
    np.minimum.at(hi, rows[ok], b_hi[ok])
    lo[np.isinf(lo)] = vm_min
    hi[np.isinf(hi)] = vm_max
    return lo, hi


@dataclass(frozen=True)
class Dispatchable:
    """Dispatchable generators of a compiled case (MW; ppc gen rows, ppci buses)."""

    rows: np.ndarray
    buses: np.ndarray
    index: np.ndarray  # pandapower gen index
    p_mw: np.ndarray
    min_mw: np.ndarray
    max_mw: np.ndarray
    stable: np.ndarray  # share of its output a committed unit keeps when wind displaces it

    def floor(self, p_mw: np.ndarray) -> np.ndarray:
        """Lowest output wind can push each unit to from ``p_mw`` (MW)."""
        return np.minimum(np.maximum(self.min_mw, self.stable * p_mw), p_mw)

    @property
    def room_down(self) -> np.ndarray:
        """How far wind can push each down from its output in the case, MW."""
        return np.maximum(self.p_mw - self.floor(self.p_mw), 0.0)

    @property
    def room_up(self) -> np.ndarray:
        """How far each can go up, MW."""
        return np.maximum(self.max_mw - self.p_mw, 0.0)


def dispatchable(
    net: pp.pandapowerNet,
    model: ContingencyModel,
    min_stable_percent: float | Mapping[str, float] | None = None,
) -> Dispatchable:
    """Generators that give way to (or make room for) wind.

    In-service ``gen`` elements not at a slack bus, not ``controllable = False`` and whose
    ``fuel``/``type`` is not one of :data:`NON_DISPATCHABLE`. Their range is ``min_p_mw``
    (0 if missing) to ``max_p_mw`` (their output if missing). ``min_stable_percent`` (a
    number for all, or per fuel, e.g. ``{"coal": 50}``) is the share of its output a unit
    committed for the load keeps when wind displaces it (a proxy of the minimum stable
    generation of committed thermal units, without a unit commitment): wind pushes a unit
    at ``p`` down to ``max(min_p_mw, share * p)`` at most.
    """
    rows, buses, idxs, ps, mins, maxs, stab = [], [], [], [], [], [], []
    ref = set(model.ref.tolist())
    g = net.gen
    for idx, r in model.gen_rows.items():
        fuel = str(g.at[idx, "fuel"]).strip().lower() if "fuel" in g else ""
        kind = " ".join(
            str(g.at[idx, c]).strip().lower()
            for c in ("fuel", "type")
            if c in g and isinstance(g.at[idx, c], str)
        )
        if any(word in NON_DISPATCHABLE for word in kind.split()):
            continue
        if "controllable" in g and g.at[idx, "controllable"] is False:
            continue
        bus = int(model.gen_bus[r])
        if bus < 0 or bus in ref:
            continue
        p = float(g.at[idx, "p_mw"]) * float(g.at[idx, "scaling"] if "scaling" in g else 1.0)
        pmin = g.at[idx, "min_p_mw"] if "min_p_mw" in g else np.nan
        pmin = 0.0 if pmin is None or pmin != pmin else float(pmin)
        pmax = g.at[idx, "max_p_mw"] if "max_p_mw" in g else np.nan
        pmax = p if pmax is None or pmax != pmax else max(float(pmax), p)
        if isinstance(min_stable_percent, Mapping):
            share = float(min_stable_percent.get(fuel, 0.0))
        else:
            share = float(min_stable_percent or 0.0)
        pmin = min(pmin, p)
        rows.append(r)
        buses.append(bus)
        idxs.append(int(idx))
        ps.append(p)
        mins.append(pmin)
        maxs.append(pmax)
        stab.append(min(max(share / 100.0, 0.0), 1.0))
    return Dispatchable(
        np.array(rows, dtype=np.int64),
        np.array(buses, dtype=np.int64),
        np.array(idxs, dtype=np.int64),
        np.array(ps, dtype=float),
        np.array(mins, dtype=float),
        np.array(maxs, dtype=float),
        np.array(stab, dtype=float),
    )


@dataclass
class _Injection:
    """How an injection at one bus is balanced: unit pattern and its saturation."""

    row: int  # ppci bus of the wind
    q_per_mw: float  # reactive injection per MW (negative: absorbing)
    gen_rows: np.ndarray  # ppc gen rows that give way
    gen_buses: np.ndarray
    gen_share: np.ndarray  # fraction of each MW they take (sums to 1), until room_mw
    room_mw: float

    def unit(self, n_bus: int) -> np.ndarray:
        """Active injection per MW (n_bus,) in the linear range."""
        u = np.zeros(n_bus)
        u[self.row] += 1.0
        np.add.at(u, self.gen_buses, -self.gen_share)
        return u

    def apply(self, model: ContingencyModel, p_mw: float) -> tuple[np.ndarray, np.ndarray]:
        """``(sbus, gen_s_pu)`` of the base case with ``p_mw`` injected, pu."""
        sb = model.sbus.copy()
        sb[self.row] += (p_mw + 1j * self.q_per_mw * p_mw) / model.base_mva
        gs = model.gen_s_pu.copy()
        if self.gen_rows.size:
            dg = self.gen_share * min(p_mw, self.room_mw) / model.base_mva
            np.add.at(sb, self.gen_buses, -dg)
            np.add.at(gs, self.gen_rows, -dg)
        return sb, gs


@dataclass
class _Cases:
    """Base values of the cases (state 0 = N-0, then the usable outages), ppci numbering."""

    names: list[str]
    outs: list[Outage | None]
    single: np.ndarray  # outaged branch of single-branch outages (-1: none / several)
    ld: np.ndarray  # (S, n_mon) element loading, percent (NaN: out or cut off)
    vm: np.ndarray  # (S, n_bus)
    eff_ld: np.ndarray
    eff_lo: np.ndarray
    eff_hi: np.ndarray
    lp: np.ndarray  # (S, n_br) float32: active part of the loading along from->to, percent
    lq: np.ndarray  # (S, n_br) float32: reactive part, percent
    kk: np.ndarray  # (S, n_br) float32: loading per MVA at the loaded end, percent/MW


class _Evaluator:
    """AC state of the base case and bound outages with an injection; margins."""

    def __init__(self, model: ContingencyModel, limits: dict[str, Any], tol: float) -> None:
        self.m = model
        self.limits = limits
        self.tol = tol
        mb = model.mon_branch
        # loading is computed for the monitored branches only, by the fused kernel
        self.cols = np.unique(mb[mb >= 0]).astype(np.int64)
        pos = np.full(model.n_branch, -1, dtype=np.int64)
        pos[self.cols] = np.arange(self.cols.size)
        self.col_of = pos
        self.mon_col = np.where(mb >= 0, pos[np.maximum(mb, 0)], -1)
        self.col_f = 100.0 * model.scale_f[self.cols]
        self.col_t = 100.0 * model.scale_t[self.cols]
        self.col_row = np.where(model.branch_in_service[self.cols], self.cols, -1)

    def element_loading(self, v: np.ndarray, outs: Sequence[Outage | None]) -> np.ndarray:
        """(B, n_mon) element loading, percent; outaged and cut-off branches NaN."""
        m = self.m
        v = np.ascontiguousarray(np.atleast_2d(v), dtype=np.complex128)
        ld, _ = branch_loading_of(m, v, self.col_row, self.col_f, self.col_t)
        ld[:, self.col_row < 0] = np.nan
        for j, o in enumerate(outs):
            if o is None:
                continue
            c = self.col_of[o.branches]
            ld[j, c[c >= 0]] = np.nan
        mc = self.mon_col
        out = ld[:, mc[:, 0]]
        for c in (1, 2):
            has = mc[:, c] >= 0
            if has.any():
                out[:, has] = np.fmax(out[:, has], ld[:, mc[has, c]])
        return out

    def evaluate(
        self, inj: _Injection, p_mw: float, cases: _Cases, states: np.ndarray, v_start: np.ndarray
    ) -> tuple[float, tuple, np.ndarray | None]:
        """Margin, its place ``(kind, state, index, value, bound)`` and the base-case voltages."""
        m = self.m
        sb, gs = inj.apply(m, p_mw)
        v, ok, _, _ = newton_pf(m.ybus, sb, v_start, m.ref, m.pv, m.pq, tol=self.tol)
        if not ok:
            return -np.inf, ("diverged", 0, -1, math.nan, math.nan), None
        ld = self.element_loading(v[None, :], [None])
        vm = np.abs(v)[None, :]
        marg, (kind, s, j) = core.margins(
            ld, cases.eff_ld[:1], vm, cases.eff_lo[:1], cases.eff_hi[:1]
        )
        worst = (marg, (kind, 0, j, *self._value(kind, 0, j, ld, vm, cases)))
        outs_idx = states[states > 0]
        if outs_idx.size and marg >= 0.0:  # (infeasible already: the outages add nothing)
            mp = replace(m, sbus=sb, v0=v, gen_s_pu=gs)
            outs = [cases.outs[s] for s in outs_idx]
            vo, oko = outage_voltages(mp, outs, tol=self.tol)  # type: ignore[arg-type]
            if not oko.all():
                bad = int(outs_idx[np.flatnonzero(~oko)[0]])
                return -np.inf, ("diverged", bad, -1, math.nan, math.nan), v
            ld_o = self.element_loading(vo, outs)
            vm_o = np.abs(vo)
            mo, (kind, si, j) = core.margins(
                ld_o, cases.eff_ld[outs_idx], vm_o, cases.eff_lo[outs_idx], cases.eff_hi[outs_idx]
            )
            if mo < worst[0]:
                s = int(outs_idx[si])
                worst = (mo, (kind, s, j, *self._value(kind, si, j, ld_o, vm_o, cases, s)))
        return worst[0], worst[1], v

    @staticmethod
    def _value(kind, row, j, ld, vm, cases, state=None):  # type: ignore[no-untyped-def]
        s = row if state is None else state
        if kind == "loading":
            return float(ld[row, j]), float(cases.eff_ld[s, j])
        if kind == "vm_max":
            return float(vm[row, j]), float(cases.eff_hi[s, j])
        if kind == "vm_min":
            return float(vm[row, j]), float(cases.eff_lo[s, j])
        return math.nan, math.nan


def _loading_parts(model: ContingencyModel, v: np.ndarray) -> tuple[np.ndarray, ...]:
    """Active (signed from->to) and reactive parts of the loading at each branch's more
    loaded end, and loading per MVA there (all percent), for voltages ``v`` (S, n)."""
    s_f, s_t, _, _ = branch_flows_of(model, v)
    af = np.abs(v[:, model.f])
    at = np.abs(v[:, model.t])
    with np.errstate(divide="ignore", invalid="ignore"):
        k_f = 100.0 * model.scale_f / (SQRT3 * af * model.base_kv[model.f])
        k_t = 100.0 * model.scale_t / (SQRT3 * at * model.base_kv[model.t])
        ld_f = k_f * np.abs(s_f)
        ld_t = k_t * np.abs(s_t)
    to_end = ld_t > ld_f
    k = np.where(to_end, k_t, k_f)
    p = np.where(to_end, -s_t.real, s_f.real)
    q = np.abs(np.where(to_end, s_t.imag, s_f.imag))
    return (k * p).astype(np.float32), (k * q).astype(np.float32), k.astype(np.float32)


@dataclass
class _Job:
    """Everything the refinement of one candidate needs (shared with forked workers)."""

    model: ContingencyModel
    ev: _Evaluator
    cases: _Cases
    cand: list[int]
    injections: list[_Injection]
    p_sc: np.ndarray
    caps: np.ndarray
    n1: bool
    tol_mw: float
    rtol: float

    def refine(self, c: int) -> dict[str, Any]:
        """AC search for candidate ``c`` on its bound cases, confirmed against every outage."""
        model, ev, cases, inj = self.model, self.ev, self.cases, self.injections[c]
        p_sc = self.p_sc
        screen = float(p_sc[:, c].min())
        order = np.argsort(p_sc[:, c], kind="stable")
        near = [
            int(s)
            for s in order[: MAX_BOUND + 1]
            if s == 0 or p_sc[s, c] <= BIND_FACTOR * max(screen, 1e-9)
        ]
        bound = np.array(sorted(set(near) | {0}), dtype=np.int64)
        trials = 0
        confirmed = 0
        for _round in range(MAX_ROUNDS):
            v_cache: dict[float, np.ndarray] = {0.0: model.v0}

            def evaluate(p: float, _bound=bound, _cache=v_cache) -> tuple[float, Any]:
                near_p = min(_cache, key=lambda x: abs(x - p))
                marg, info, v = ev.evaluate(inj, p, cases, _bound, _cache[near_p])
                if v is not None:
                    _cache[p] = v
                return marg, info

            m0 = core.margins(
                cases.ld[bound],
                cases.eff_ld[bound],
                cases.vm[bound],
                cases.eff_lo[bound],
                cases.eff_hi[bound],
            )[0]
            max_mw_c = float(self.caps[c])
            start = screen if np.isfinite(screen) and screen > 0 else max_mw_c / 64
            srch = core.search_limit(
                evaluate,
                start_mw=min(max(1.02 * start, 1e-2), max_mw_c),
                max_mw=max_mw_c,
                margin_at_zero=max(m0, 0.0),
                tol_mw=self.tol_mw,
                rtol=self.rtol,
            )
            trials += len(srch.trials)
            if not self.n1 or srch.lo <= 0:
                break
            # confirmation against every outage at the found value
            violated, n_ac = _confirm(ev, cases, inj, srch.lo, bound, v_cache)
            confirmed += n_ac
            if not violated.size:
                break
            bound = np.array(sorted(set(bound.tolist()) | set(violated.tolist())), dtype=np.int64)
        kind, s, j, value, limit = (
            srch.info_hi if not srch.unlimited else ("unlimited", 0, -1, math.nan, math.nan)
        )
        if kind == "loading":
            element = f"{model.mon_kind[j]} {model.mon_index[j]}"
        elif kind in ("vm_max", "vm_min"):
            element = f"bus {model.bus_index[j]}"
        else:
            element = ""
        return {
            "bus": self.cand[c],
            "hosting_mw": srch.lo,
            "upper_mw": srch.hi if np.isfinite(srch.hi) else math.nan,
            "screen_mw": screen,
            "limit_kind": kind,
            "limit_element": element,
            "limit_outage": "" if s == 0 else cases.names[s],
            "limit_value": value,
            "limit_bound": limit,
            "ac_trials": trials,
            "bound_outages": int((bound > 0).sum()),
            "confirmed_ac": confirmed,
        }


_JOB: _Job | None = None


def _refine_in_worker(c: int) -> dict[str, Any]:
    assert _JOB is not None
    return _JOB.refine(c)


# ---------------------------------------------------------------------------------------
def hosting(
    net: pp.pandapowerNet,
    buses: str | Sequence[int] | None = None,
    *,
    n1: bool = False,
    balance: str = "auto",
    power_factor: float = 1.0,
    absorb_reactive: bool = True,
    min_stable_percent: float | Mapping[str, float] | None = None,
    elements: Sequence[str] = DEFAULT_ELEMENTS,
    max_loading_percent: float = 100.0,
    vm_min_pu: float = DEFAULT_VM_MIN_PU,
    vm_max_pu: float = DEFAULT_VM_MAX_PU,
    worsen_loading_percent: float = WORSEN_LOADING_PERCENT,
    worsen_vm_pu: float = WORSEN_VM_PU,
    tol_mw: float = 1.0,
    rtol: float = 0.005,
    max_mw: float | None = None,
    case_name: str = "",
    model: ContingencyModel | None = None,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> HostingResult:
    """Hosting capacity of wind at each candidate bus of ``net`` (see the module docstring).

    Parameters
    ----------
    net : pandapowerNet
        The case (not modified).
    buses : str or sequence of int, optional
        Candidate buses (pandapower indices, ``"1,4,10-20"``); default: every bus in service.
    n1 : bool
        Also under every single outage of ``elements``.
    balance : {"auto", "slack", "gens"}
        Who gives way to the wind; ``auto``: ``gens`` when the case has dispatchable
        generators, else ``slack``.
    power_factor : float
        Power factor of the wind injection (1 = unity).
    absorb_reactive : bool
        With ``power_factor < 1``, absorb (True: under-excited, lowers the voltage rise) or
        produce reactive power.
    min_stable_percent : float or dict, optional
        Minimum stable output of dispatchable units, percent of ``max_p_mw`` (per fuel with a
        dict), see :func:`dispatchable`.
    elements : sequence of str
        Outaged element types with ``n1`` (``line``, ``trafo``, ``trafo3w``, ``gen``).
    max_loading_percent : float
        Branch loading limit, percent.
    vm_min_pu, vm_max_pu : float
        Voltage band for buses without ``min_vm_pu`` / ``max_vm_pu``.
    worsen_loading_percent, worsen_vm_pu : float
        Margins of the new-or-worsened rule.
    tol_mw, rtol : float
        The search stops at ``min(tol_mw, rtol * P)``.
    max_mw : float, optional
        Largest injection tried (default: the case's load plus generation capacity, or twice
        the ratings of the branches at the bus if that is more).
    model : ContingencyModel, optional
        The compiled case, if compiled before.
    jobs : int
        Candidate buses refined in parallel processes (forked; 1: in this process).
    progress : callable, optional
        Called with the number of candidate buses finished.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    where = case_name or str(getattr(net, "name", "")) or "net"
    if balance not in BALANCES:
        raise CaseError(f"--balance must be one of {', '.join(BALANCES)}, got {balance!r} instead")
    if not 0 < power_factor <= 1:
        raise CaseError(f"--pf must be in (0, 1], got {power_factor}")
    if model is None:
        model = compile_contingency_model(net)
    cand = parse_buses(buses, net)
    if not cand:
        raise CaseError(f"{where}: no candidate buses")
    rows = _check_buses(net, model, cand, where)
    disp = dispatchable(net, model, min_stable_percent)
    down = disp.room_down > 0
    gen_rows, gen_buses, gen_room = disp.rows[down], disp.buses[down], disp.room_down[down]
    if balance == "auto":
        balance = "gens" if gen_rows.size else "slack"
    if max_mw is None:
        load = float(np.sum(np.abs(model.load_mw)))
        cap = float(
            np.nansum(net.gen.max_p_mw.to_numpy(dtype=float))
            if "max_p_mw" in net.gen
            else net.gen.p_mw.abs().sum()
        )
        # the case's own size, or twice what the branches at the bus could carry away
        size = load + cap + float(np.sum(np.abs(model.gen_mw)))
        rating = np.where(
            np.isfinite(model.rating_mva) & model.branch_in_service, model.rating_mva, 0.0
        )
        at_bus = np.bincount(model.f, rating, model.n_bus) + np.bincount(
            model.t, rating, model.n_bus
        )
        caps = np.maximum(np.maximum(size, 2.0 * at_bus[rows]), 1.0)
    else:
        caps = np.full(len(rows), float(max_mw))
    tan_phi = math.tan(math.acos(power_factor)) * (-1.0 if absorb_reactive else 1.0)
    timings["compile_s"] = time.perf_counter() - t0

    # --- the injection of each candidate and how it is balanced --------------------------
    area = model.areas()
    injections = []
    for r in rows:
        if balance == "gens":
            here = area[gen_buses] == area[r]
            room = float(gen_room[here].sum())
            share = gen_room[here] / room if room > 0 else np.zeros(int(here.sum()))
            injections.append(
                _Injection(int(r), tan_phi, gen_rows[here], gen_buses[here], share, room)
            )
        else:
            injections.append(
                _Injection(
                    int(r), tan_phi, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), 0.0
                )
            )

    # --- base cases: N-0 and every outage without the wind -------------------------------
    t1 = time.perf_counter()
    v_lo, v_hi = _bus_limits(net, model, vm_min_pu, vm_max_pu)
    names: list[str] = ["base"]
    outs: list[Outage | None] = [None]
    skipped: dict[str, str] = {}
    v_states = model.v0[None, :]
    if n1:
        specs = default_outages(net, elements)
        eng, why = engine_outages(model, specs, model.bridge_tree())
        usable = [j for j, o in enumerate(eng) if o is not None]
        for j, o in enumerate(eng):
            if o is None:
                skipped[specs[j][0]] = str(why[j]) or "not translatable"
        v_out, ok = outage_voltages(model, [eng[j] for j in usable], tol=TOL_PU)  # type: ignore[misc]
        for j, good in zip(usable, ok, strict=True):
            if not good:
                skipped[specs[j][0]] = "no convergence without the wind"
        keep = [u for u, good in zip(usable, ok, strict=True) if good]
        names += [specs[j][0] for j in keep]
        outs += [eng[j] for j in keep]
        v_states = np.vstack([v_states, v_out[ok]])
    ev = _Evaluator(model, {}, TOL_PU)
    ld = ev.element_loading(v_states, outs)
    vm = np.abs(v_states)
    eff_ld, eff_lo, eff_hi = effective_limits(
        ld,
        max_loading_percent,
        vm,
        v_lo[None, :],
        v_hi[None, :],
        worsen_loading_percent=worsen_loading_percent,
        worsen_vm_pu=worsen_vm_pu,
    )
    lp, lq, kk = _loading_parts(model, v_states)
    single = np.array(
        [
            o.branches[0] if o is not None and o.branches.size == 1 and o.gens.size == 0 else -1
            for o in outs
        ],
        dtype=np.int64,
    )
    cases = _Cases(names, outs, single, ld, vm, eff_ld, eff_lo, eff_hi, lp, lq, kk)
    timings["base_cases_s"] = time.perf_counter() - t1

    # --- screening -------------------------------------------------------------------------
    t2 = time.perf_counter()
    n = model.n_bus
    U = np.column_stack([inj.unit(n) for inj in injections])
    dc = core.DcSensitivity(n, model.f, model.t, model.dc_b, model.ref)
    df = dc.flows(U)  # (n_br, C), MW per MW
    held_p = np.zeros(n, dtype=bool)
    held_p[model.ref] = True
    held_q = np.ones(n, dtype=bool)
    held_q[model.pq] = False
    jac = full_jacobian(model.ybus, model.v0, held_p, held_q)
    rhs = np.zeros((2 * n, len(injections)))
    rhs[:n] = U / model.base_mva
    for c, inj in enumerate(injections):
        rhs[n + inj.row, c] = inj.q_per_mw / model.base_mva
    rhs[np.concatenate([held_p, held_q])] = 0.0
    dv = sparse_lu(jac).solve(rhs)[n:]  # (n, C) pu per MW
    sing = np.flatnonzero(single >= 0)
    lodf, bridge = (
        dc.lodf_columns(single[sing])
        if sing.size
        else (np.zeros((model.n_branch, 0)), np.zeros(0, bool))
    )
    lodf_col = np.full(len(names), -1, dtype=np.int64)
    lodf_col[sing] = np.where(bridge, -1, np.arange(sing.size))
    mb = model.mon_branch
    br_el = np.full(model.n_branch, -1, dtype=np.int64)
    for c in range(3):
        has = mb[:, c] >= 0
        br_el[mb[has, c]] = np.flatnonzero(has)
    mon_ok = br_el >= 0
    p_sc = np.full((len(names), len(injections)), np.inf)
    cand_rows = np.array([inj.row for inj in injections])
    # only monitored branches and buses whose voltage the injection moves, in float32
    br = np.flatnonzero(mon_ok)
    df_m = df[br].astype(np.float32)
    lodf_m = lodf[br].astype(np.float32)
    el_m = br_el[br]
    vrows = np.flatnonzero(np.abs(dv).max(axis=1) > 1e-12)
    dv_m = dv[vrows].astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for s in range(len(names)):
            d = df_m
            col = lodf_col[s]
            if col >= 0:
                d = df_m + lodf_m[:, col : col + 1] * df[single[s], :].astype(np.float32)[None, :]
            eff = eff_ld[s, el_m].astype(np.float32)[:, None]
            lq_s = lq[s, br][:, None]
            r = np.sqrt(np.maximum(eff * eff - lq_s * lq_s, 0.0))
            kd = kk[s, br][:, None] * d
            # (as core.loading_limit_mw / voltage_limit_mw, fused: a crossing a rounding below
            # zero binds at 0; no base value (NaN) or no change never binds)
            p_ld = np.maximum((np.copysign(r, kd) - lp[s, br][:, None]) / kd, 0.0)
            p_ld[np.isnan(p_ld) | (kd == 0)] = np.inf
            v0 = vm[s, vrows].astype(np.float32)[:, None]
            p_up = np.maximum((eff_hi[s, vrows].astype(np.float32)[:, None] - v0) / dv_m, 0.0)
            p_dn = np.maximum((eff_lo[s, vrows].astype(np.float32)[:, None] - v0) / dv_m, 0.0)
            p_up[~(dv_m > 0) | np.isnan(p_up)] = np.inf
            p_dn[~(dv_m < 0) | np.isnan(p_dn)] = np.inf
            best = np.minimum(
                p_ld.min(axis=0, initial=np.inf), np.minimum(p_up, p_dn).min(axis=0, initial=np.inf)
            )
            p_sc[s] = np.where(np.isnan(vm[s, cand_rows]), np.inf, best)
    timings["screen_s"] = time.perf_counter() - t2

    # --- refinement and confirmation per candidate -----------------------------------------
    t3 = time.perf_counter()
    job = _Job(model, ev, cases, cand, injections, p_sc, caps, n1, tol_mw, rtol)
    rows_out: list[dict[str, Any]] = []
    if jobs > 1 and len(cand) > 1:
        # forked workers share the compiled arrays (copy on write); each refines whole buses
        global _JOB
        _JOB = job
        try:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(min(jobs, len(cand))) as pool:
                for c, row in enumerate(pool.imap(_refine_in_worker, range(len(cand)))):
                    rows_out.append(row)
                    if progress is not None:
                        progress(c + 1)
        finally:
            _JOB = None
    else:
        for c in range(len(cand)):
            rows_out.append(job.refine(c))
            if progress is not None:
                progress(c + 1)
    timings["refine_s"] = time.perf_counter() - t3
    table = pd.DataFrame(rows_out).set_index("bus")
    return HostingResult(
        table=table,
        balance=balance,
        n1=n1,
        power_factor=power_factor,
        n_outages=len(names) - 1,
        skipped_outages=skipped,
        timings_s=timings,
        case_name=where,
    )


def _confirm(
    ev: _Evaluator,
    cases: _Cases,
    inj: _Injection,
    p: float,
    bound: np.ndarray,
    v_cache: dict[float, np.ndarray],
) -> tuple[np.ndarray, int]:
    """Solve every outage not in ``bound`` in AC at ``p``; returns the violated ones (states)
    and how many were solved.

    (A linear estimate cannot clear outages safely: on uhv-backbone its post-outage errors
    reach 0.09 pu and 11 percentage points next to the outaged branch, and on
    case1354pegase quantities already beyond their limits leave 1 point of room in every
    outage case; see docs/wind.md.)
    """
    m = ev.m
    todo = np.setdiff1d(np.arange(1, len(cases.names)), bound)
    if not todo.size:
        return np.zeros(0, np.int64), 0
    sb, gs = inj.apply(m, p)
    v_base = v_cache.get(p)
    if v_base is None:
        v_base, _ok, _, _ = newton_pf(m.ybus, sb, m.v0, m.ref, m.pv, m.pq, tol=ev.tol)
    mp = replace(m, sbus=sb, v0=v_base, gen_s_pu=gs)
    outs = [cases.outs[s] for s in todo]
    vo, ok = outage_voltages(mp, outs, tol=ev.tol)  # type: ignore[arg-type]
    ld = ev.element_loading(vo, outs)
    vm = np.abs(vo)
    with np.errstate(invalid="ignore"):
        viol = (
            ~ok
            | np.any(ld > cases.eff_ld[todo], axis=1)
            | np.any(vm > cases.eff_hi[todo], axis=1)
            | np.any(vm < cases.eff_lo[todo], axis=1)
        )
    return todo[viol], int(todo.size)


# ---------------------------------------------------------------------------------------
def wind_case(
    net: pp.pandapowerNet,
    bus: int,
    p_mw: float,
    *,
    balance: str = "slack",
    power_factor: float = 1.0,
    absorb_reactive: bool = True,
    min_stable_percent: float | Mapping[str, float] | None = None,
) -> pp.pandapowerNet:
    """A copy of ``net`` with ``p_mw`` of wind at ``bus`` (an sgen named ``wind``) and the
    balance applied as :func:`hosting` applies it (for checks with pandapower's ``runpp``)."""
    out = copy.deepcopy(net)
    q = p_mw * math.tan(math.acos(power_factor)) * (-1.0 if absorb_reactive else 1.0)
    pp.create_sgen(out, bus, p_mw=p_mw, q_mvar=q, name="wind")
    if balance == "gens":
        model = compile_contingency_model(net)
        disp = dispatchable(net, model, min_stable_percent)
        gen_rows, gen_buses, room = disp.rows, disp.buses, disp.room_down
        area = model.areas()
        r = int(model.pp_bus_rows(np.array([bus]))[0])
        here = area[gen_buses] == area[r]
        total = float(room[here].sum())
        if total > 0:
            take = min(p_mw, total)
            row_to_gen = {v: k for k, v in model.gen_rows.items()}
            for gr, rm in zip(gen_rows[here], room[here], strict=True):
                g = row_to_gen[int(gr)]
                scale = float(out.gen.at[g, "scaling"]) if "scaling" in out.gen else 1.0
                out.gen.at[g, "p_mw"] -= take * rm / total / scale
    return out


def write_hosting(writer: Any, result: HostingResult, group: str = "wind/hosting") -> None:
    """Write ``/wind/hosting``: one row per candidate bus (see :class:`HostingResult`)."""
    writer.write_table(
        group,
        result.table,
        n1=result.n1,
        balance=result.balance,
        power_factor=result.power_factor,
        n_outages=result.n_outages,
        n_skipped_outages=len(result.skipped_outages),
    )
