"""Hosting capacity numerics: linear screening bounds and the AC limit search (numpy/scipy).

Screening (all candidate buses at once). An injection of ``P`` MW at bus ``c``, withdrawn by
a balancing pattern (the slack, or dispatchable generators pro rata), changes

- the active flow of branch ``l`` by ``d_l P`` with ``d = PTDF u_c`` (DC power-flow transfer
  factors of the injection vector ``u_c``), and after the outage of branch ``k`` by
  ``(d_l + LODF_lk d_k) P`` with ``LODF_lk = PTDF_l,(k) / (1 - PTDF_k,(k))`` (the flow on
  ``l`` per MW sent from ``k``'s from-bus to its to-bus, over one minus ``k``'s own share);
- the voltage magnitudes by ``dv P``, ``dv`` solved from the AC Jacobian of the base case
  with the injection (and the reactive power of its power factor) as right-hand side.

With the AC state of each base or post-outage case written as loading parts ``Lp`` (active,
signed along ``d``) and ``Lq`` (reactive) of the branch loading in percent, the loading after
the injection is ``sqrt((Lp + k d P)^2 + Lq^2)`` (``k`` percent per MW at that branch end),
so the injection that brings it to its (effective) limit ``E`` is

    ``P* = (sign(k d) sqrt(E^2 - Lq^2) - Lp) / (k d)``,

and for voltages ``P* = (E - vm) / dv``. The smallest ``P*`` over the monitored quantities
is the linear hosting estimate of that case; the outages whose estimate lies near the
smallest are the ones that can bind.

AC search (:func:`search_limit`): the largest ``P`` with a non-negative margin (the smallest
normalized distance of any monitored quantity to its effective limit), by a safeguarded
secant on the margin that aims just past the root on alternating sides, so that the bracket
``[lo, hi]`` (``lo`` feasible, ``hi`` not) closes to the tolerance in a few power flows;
bisection where a margin is undefined (a power flow that did not converge).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lu_factor, lu_solve
from scipy.sparse.linalg import splu

LOADING_SCALE_PERCENT = 100.0  # a margin of 1.0 = one rating of loading ...
VM_SCALE_PU = 0.05  # ... or 0.05 pu of voltage
DENSE_MAX_BUS = 4000  # DC factorization dense up to this many buses


class DcSensitivity:
    """One LU of the DC susceptance matrix (slack rows held): flows and LODFs.

    Parameters
    ----------
    n_bus : int
    f, t : int (n_br,)
        Branch end buses.
    b : float (n_br,)
        DC series susceptance per branch, pu (0 when out of service).
    held : int
        Slack buses (angle held at 0: they take up every imbalance of their area).
    """

    def __init__(
        self, n_bus: int, f: np.ndarray, t: np.ndarray, b: np.ndarray, held: np.ndarray
    ) -> None:
        self.f, self.t, self.b = f, t, b
        bbus = sp.coo_matrix(
            (np.r_[b, b, -b, -b], (np.r_[f, t, f, t], np.r_[f, t, t, f])), shape=(n_bus, n_bus)
        ).tocsr()
        h = np.zeros(n_bus, dtype=bool)
        h[held] = True
        keep = sp.diags((~h).astype(float))
        self.held = h
        mat = (keep @ bbus @ keep + sp.diags(h.astype(float))).tocsc()
        # a dense LU (LAPACK) solves thousands of right-hand sides far faster than SuperLU's
        # column loop, while the matrix is small enough to hold densely
        self.dense = n_bus <= DENSE_MAX_BUS
        self.lu = lu_factor(mat.toarray()) if self.dense else splu(mat)

    def flows(self, inj: np.ndarray) -> np.ndarray:
        """Active branch flow change (n_br, m) per unit injections ``inj`` (n_bus, m)."""
        rhs = np.array(inj, dtype=float, copy=True, ndmin=2)
        if rhs.shape[0] != self.held.size:
            rhs = rhs.T
        rhs[self.held] = 0.0
        theta = lu_solve(self.lu, rhs) if self.dense else self.lu.solve(rhs)
        return self.b[:, None] * (theta[self.f] - theta[self.t])

    def lodf_columns(self, branches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """LODF columns of single-branch outages: ``(lodf (n_br, k), bridge (k,))``.

        A bridge (its removal splits the network: ``1 - PTDF_kk = 0``) gets a zero column:
        an injection and its balance on the same side never crossed it.
        """
        k = np.asarray(branches, dtype=np.int64)
        n = self.held.size
        inj = np.zeros((n, k.size))
        inj[self.f[k], np.arange(k.size)] += 1.0
        inj[self.t[k], np.arange(k.size)] -= 1.0
        ptdf = self.flows(inj)
        own = ptdf[k, np.arange(k.size)]
        bridge = np.abs(1.0 - own) < 1e-8
        with np.errstate(divide="ignore", invalid="ignore"):
            lodf = np.where(bridge[None, :], 0.0, ptdf / (1.0 - own)[None, :])
        lodf[k, np.arange(k.size)] = np.where(bridge, 0.0, -1.0)  # the outaged branch itself
        return lodf, bridge


def loading_limit_mw(lp: np.ndarray, lq: np.ndarray, kd: np.ndarray, eff: np.ndarray) -> np.ndarray:
    """Injection (MW) that brings ``sqrt((lp + kd P)^2 + lq^2)`` to ``eff`` (inf if never).

    ``lp``, ``lq``: active (signed) and reactive parts of the loading, percent; ``kd``:
    loading change per MW, percent/MW; ``eff``: effective limit, percent. NaN inputs give inf.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.sqrt(np.maximum(eff * eff - lq * lq, 0.0))
        p = np.where(kd > 0, (r - lp) / kd, np.where(kd < 0, (-r - lp) / kd, np.inf))
    p = np.where(np.isnan(p), np.inf, p)
    return np.maximum(p, 0.0)


def voltage_limit_mw(
    vm: np.ndarray, dv: np.ndarray, eff_lo: np.ndarray, eff_hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Injections (MW) that bring ``vm + dv P`` to the upper and the lower effective limit."""
    with np.errstate(invalid="ignore", divide="ignore"):
        up = np.where(dv > 0, (eff_hi - vm) / dv, np.inf)
        down = np.where(dv < 0, (eff_lo - vm) / dv, np.inf)
    up = np.maximum(np.where(np.isnan(up), np.inf, up), 0.0)
    down = np.maximum(np.where(np.isnan(down), np.inf, down), 0.0)
    return up, down


def margins(
    loading: np.ndarray,
    eff_loading: np.ndarray,
    vm: np.ndarray,
    eff_lo: np.ndarray,
    eff_hi: np.ndarray,
) -> tuple[float, tuple[str, int, int]]:
    """Smallest normalized margin of one or more states and where it lies.

    Arrays are (states, elements) and (states, buses); NaN entries are ignored. Returns
    ``(margin, (kind, state, index))`` with kind ``loading``, ``vm_max`` or ``vm_min``.
    """
    parts = (
        ("loading", (eff_loading - loading) / LOADING_SCALE_PERCENT),
        ("vm_max", (eff_hi - vm) / VM_SCALE_PU),
        ("vm_min", (vm - eff_lo) / VM_SCALE_PU),
    )
    best = (np.inf, ("none", -1, -1))
    for kind, m in parts:
        if m.size == 0:
            continue
        mm = np.where(np.isnan(m), np.inf, m)
        i = int(np.argmin(mm))
        val = float(mm.flat[i])
        if val < best[0]:
            s, j = np.unravel_index(i, mm.shape)
            best = (val, (kind, int(s), int(j)))
    return best


@dataclass
class Search:
    """Outcome of :func:`search_limit`: feasible ``lo``, infeasible ``hi`` (inf: none found)."""

    lo: float
    hi: float
    info_hi: Any
    trials: list[tuple[float, float]] = field(default_factory=list)  # (p_mw, margin)
    unlimited: bool = False


def search_limit(
    evaluate: Callable[[float], tuple[float, Any]],
    *,
    start_mw: float,
    max_mw: float,
    margin_at_zero: float,
    tol_mw: float = 1.0,
    rtol: float = 0.005,
    floor_mw: float = 1e-3,
    max_trials: int = 60,
) -> Search:
    """Largest ``P`` in ``[0, max_mw]`` with ``evaluate(P)[0] >= 0`` (``P = 0`` is feasible).

    ``evaluate`` returns ``(margin, info)``; ``-inf`` margin = infeasible without a value
    (e.g. no convergence). The bracket closes when ``hi - lo <= max(floor, min(tol_mw,
    rtol * lo))``: 1 MW or 0.5 % of the hosting capacity, whichever is smaller.
    """
    trials: list[tuple[float, float]] = []

    def ev(p: float) -> tuple[float, Any]:
        m, info = evaluate(p)
        trials.append((p, m))
        return m, info

    lo, m_lo = 0.0, float(margin_at_zero)
    hi = float(min(max(start_mw, floor_mw), max_mw))
    m_hi, info_hi = ev(hi)
    while m_hi >= 0.0:
        lo, m_lo = hi, m_hi
        if hi >= max_mw:
            return Search(lo, np.inf, info_hi, trials, unlimited=True)
        hi = min(2.0 * hi, max_mw)
        m_hi, info_hi = ev(hi)
    side = 0  # which end the last step moved: +1 lo, -1 hi
    stalls = 0
    while len(trials) < max_trials:
        w = hi - lo
        tol = max(floor_mw, min(tol_mw, rtol * lo))
        if w <= tol:
            break
        if np.isfinite(m_hi) and np.isfinite(m_lo) and m_lo > m_hi and stalls < 2:
            root = lo + w * m_lo / (m_lo - m_hi)
            # aim just past the estimated root, alternating sides, so both ends close in
            x = root + 0.45 * tol if side >= 0 else root - 0.45 * tol
            x = float(np.clip(x, lo + 0.02 * w, hi - 0.02 * w))
        else:
            x = lo + 0.5 * w
            stalls = 0
        m, info = ev(x)
        if m >= 0.0:
            stalls = stalls + 1 if side == 1 else 0
            lo, m_lo, side = x, m, 1
        else:
            stalls = stalls + 1 if side == -1 else 0
            hi, m_hi, info_hi, side = x, m, info, -1
    return Search(lo, hi, info_hi, trials)
