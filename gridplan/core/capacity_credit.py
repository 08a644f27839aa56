"""Capacity credit of a variable resource: ELCC and EFC by bisection (numpy only).

Definitions (as PRAS and the capacity-credit literature use them), with ``L_t`` the hourly
load, ``W_t`` the resource's hourly output, ``R(.)`` a risk metric of a load series on the
capacity outage probability table (COPT) of the system's conventional units:

- **ELCC** (effective load-carrying capability): the constant load ``x`` that the system
  *with* the resource carries at the risk of the system *without* it,
  ``R(L - W + x) = R(L)``. ``R`` grows with ``x``; bounds ``[0, max W]``.
- **EFC** (equivalent firm capacity): the perfectly reliable capacity ``x`` that gives the
  system *without* the resource the risk of the system *with* it,
  ``R(L - x) = R(L - W)``. ``R`` falls with ``x``; bounds ``[0, max W]``.

The resource enters as a load modifier (``L - W``): its output in each hour is what it
delivers; its own outages are in its output series. A firm unit adds to every hour's
available capacity, i.e. it lowers the load by its capacity.

Risk metrics: EENS (MWh) and LOLE (h per series). LOLE on a COPT is a step function of the
load (it changes only where the reserve crosses a multiple of the COPT step), which would
leave a bisection a plateau as wide as the step to land on. Here ``P(outage > reserve)`` is
interpolated linearly between the COPT's grid points (where it equals the adequacy module's
value exactly), so LOLE is continuous and the bisection converges to the crossing. EENS is
piecewise linear in the load already (``E[(O - r)^+]``), computed exactly.

Bisection: keeps ``lo`` with ``R`` on the target's near side and ``hi`` on its far side and
halves until ``hi - lo <= tol_mw``; the credit is ``(lo + hi) / 2`` and its bounds are
reported. A zero-width result (the risk does not move, or the endpoints already meet the
target) is reported as the exact endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gridplan.core.adequacy import Copt, loss_of_load

METRICS = ("lole", "eens")


def risk(copt: Copt, load_mw: np.ndarray, metric: str = "lole", period_h: float = 1.0) -> float:
    """Risk of a load series on a COPT: LOLE (periods, interpolated) or EENS (MWh).

    Parameters
    ----------
    copt : Copt
        Capacity outage probability table of the conventional units.
    load_mw : (T,)
        Load to be served by them in each period, MW (may be negative: no risk).
    metric : {"lole", "eens"}
    period_h : float
        Length of a period, h (EENS only).
    """
    load = np.asarray(load_mw, dtype=float)
    if metric == "eens":
        return loss_of_load(copt, load, period_h).eens_mwh
    if metric != "lole":
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r} instead")
    k_max = len(copt.p_cum) - 1
    # P(outage > j step) at j = -1 .. K: p_cum[j + 1] (p_cum[0] = 1), and 0 beyond K
    g = np.r_[copt.p_cum, 0.0]
    reserve = (copt.installed_mw - load) / copt.step_mw
    return float(np.sum(np.interp(reserve, np.arange(-1, k_max + 1, dtype=float), g)))


@dataclass
class Bisection:
    """Result of a bisection: value (midpoint), bounds, the trials made."""

    value_mw: float
    lo_mw: float
    hi_mw: float
    target: float
    iterations: int
    trials: list[tuple[float, float]] = field(default_factory=list)  # (x_mw, risk)


def bisect(
    fn: Callable[[float], float],
    target: float,
    lo: float,
    hi: float,
    *,
    increasing: bool,
    tol_mw: float,
    rtol: float = 1e-12,
    max_iter: int = 200,
) -> Bisection:
    """Find ``x`` in ``[lo, hi]`` with ``fn(x) = target`` for a monotone ``fn``.

    ``increasing``: ``fn`` grows with ``x``. ``x`` values are kept on the side where
    ``fn(x) <= target`` (increasing) or ``fn(x) >= target`` (decreasing) as ``lo``, so the
    answer is the largest ``x`` whose risk does not exceed the target (ELCC) or the smallest
    ``x`` that reaches it (EFC); risks within ``rtol`` of the target count as equal.
    """
    if not hi >= lo:
        raise ValueError(f"bisection bounds must satisfy lo <= hi, got {lo}, {hi}")
    trials: list[tuple[float, float]] = []
    scale = max(abs(target), 1e-300)

    def side(x: float) -> bool:
        """True when x is on lo's side of the target."""
        r = fn(x)
        trials.append((x, r))
        if abs(r - target) <= rtol * scale:
            return increasing  # equal: ELCC keeps growing, EFC keeps shrinking
        return (r < target) == increasing

    if not side(lo):
        return Bisection(lo, lo, lo, target, 0, trials)  # the target is met at lo already
    if side(hi):
        return Bisection(hi, hi, hi, target, 0, trials)  # the target is not passed below hi
    it = 0
    while hi - lo > tol_mw and it < max_iter:
        it += 1
        mid = 0.5 * (lo + hi)
        if side(mid):
            lo = mid
        else:
            hi = mid
    return Bisection(0.5 * (lo + hi), lo, hi, target, it, trials)


def elcc(
    copt: Copt,
    load_mw: np.ndarray,
    resource_mw: np.ndarray,
    *,
    metric: str = "lole",
    tol_mw: float = 1.0,
    period_h: float = 1.0,
) -> Bisection:
    """ELCC: constant load ``x`` with ``R(L - W + x) = R(L)``, MW (see module docstring)."""
    load = np.asarray(load_mw, dtype=float)
    w = np.asarray(resource_mw, dtype=float)
    target = risk(copt, load, metric, period_h)
    hi = max(float(w.max(initial=0.0)), 0.0)
    return bisect(
        lambda x: risk(copt, load - w + x, metric, period_h),
        target,
        0.0,
        hi,
        increasing=True,
        tol_mw=tol_mw,
    )


def efc(
    copt: Copt,
    load_mw: np.ndarray,
    resource_mw: np.ndarray,
    *,
    metric: str = "lole",
    tol_mw: float = 1.0,
    period_h: float = 1.0,
) -> Bisection:
    """EFC: firm capacity ``x`` with ``R(L - x) = R(L - W)``, MW (see module docstring)."""
    load = np.asarray(load_mw, dtype=float)
    w = np.asarray(resource_mw, dtype=float)
    target = risk(copt, load - w, metric, period_h)
    hi = max(float(w.max(initial=0.0)), 0.0)
    return bisect(
        lambda x: risk(copt, load - x, metric, period_h),
        target,
        0.0,
        hi,
        increasing=False,
        tol_mw=tol_mw,
    )
