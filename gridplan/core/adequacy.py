"""Generation adequacy (HL-I): capacity outage probability table and loss-of-load indices.

Numpy only. Capacities live on a grid of ``step_mw``; the table is built by exact recursive
convolution, one unit at a time:

- two-state unit (capacity ``C``, forced outage rate ``U``, repair rate ``mu`` 1/h)::

      P(X) = (1-U) P'(X) + U P'(X-C)
      F(X) = (1-U) F'(X) + U F'(X-C) + U mu [P'(X-C) - P'(X)]

  with ``P(X)`` the probability and ``F(X)`` the frequency (1/h) of a capacity outage >= X
  (Billinton & Allan, *Reliability Evaluation of Power Systems*, 2nd ed., ch. 2-3);
- multi-state (derated) unit: ``P(X) = sum_s p_s P'(X - x_s)`` (frequency not tracked).

Loss of load occurs when the available capacity is below the load.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Copt:
    """Capacity outage probability table on a grid.

    Attributes
    ----------
    step_mw : float
        Grid step, MW; outage level ``k`` is ``k * step_mw``.
    installed_mw : float
        Total installed capacity (on the grid), MW.
    p_exact : ndarray (K+1,)
        Probability of an outage of exactly ``k * step_mw``.
    p_cum : ndarray (K+1,)
        Probability of an outage >= ``k * step_mw``.
    f_cum_per_h : ndarray (K+1,) or None
        Frequency of outages >= ``k * step_mw``, 1/h (None with multi-state units).
    """

    step_mw: float
    installed_mw: float
    p_exact: np.ndarray
    p_cum: np.ndarray
    f_cum_per_h: np.ndarray | None


def _grid(values: np.ndarray, step: float, what: str) -> np.ndarray:
    k = np.rint(np.asarray(values, dtype=float) / step)
    if np.any(np.abs(k * step - values) > 1e-6 * max(step, 1.0)):
        raise ValueError(f"{what} must be multiples of step_mw={step}, got {values}")
    return k.astype(np.int64)


def build_copt(
    capacity_mw: np.ndarray,
    forced_outage_rate: np.ndarray,
    *,
    mttr_h: np.ndarray | None = None,
    step_mw: float = 1.0,
    multistate: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> Copt:
    """Build the COPT of independent units by recursive convolution.

    Parameters
    ----------
    capacity_mw : ndarray (n,)
        Capacity of each two-state unit, MW (multiples of ``step_mw``).
    forced_outage_rate : ndarray (n,)
        Forced outage rate (unavailability) of each unit.
    mttr_h : ndarray (n,), optional
        Mean time to repair, h; with it the cumulative frequencies are computed.
    step_mw : float
        Capacity grid step, MW.
    multistate : list of (outage_mw, probability), optional
        Extra units with several states: the capacity outage of each state (MW, multiples of
        ``step_mw``, 0 = fully available) and its probability (summing to 1).

    Returns
    -------
    Copt
    """
    cap = _grid(capacity_mw, step_mw, "unit capacities")
    q = np.asarray(forced_outage_rate, dtype=float)
    ms = [
        (_grid(o, step_mw, "derated outage levels"), np.asarray(p, dtype=float))
        for o, p in (multistate or [])
    ]
    k_tot = int(cap.sum()) + sum(int(o.max()) for o, _ in ms)
    p_cum = np.zeros(k_tot + 2)  # one extra zero so index K+1 is valid
    p_cum[0] = 1.0
    track_f = mttr_h is not None and not ms
    f_cum = np.zeros(k_tot + 2) if track_f else None
    mu = 1.0 / np.asarray(mttr_h, dtype=float) if mttr_h is not None else None
    top = 0  # largest non-trivial index so far
    # the largest units first keeps the working length short for longer
    for i in np.argsort(-cap, kind="stable"):
        c, u = int(cap[i]), float(q[i])
        if c == 0:
            continue
        new_top = top + c
        old = p_cum[: new_top + 1].copy()
        shifted = np.ones(new_top + 1)  # P'(X - C) = 1 for X <= C
        shifted[c:] = old[: new_top + 1 - c]
        p_cum[: new_top + 1] = (1 - u) * old + u * shifted
        if f_cum is not None:
            fold = f_cum[: new_top + 1].copy()
            fshift = np.zeros(new_top + 1)
            fshift[c:] = fold[: new_top + 1 - c]
            f_cum[: new_top + 1] = (1 - u) * fold + u * fshift + u * mu[i] * (shifted - old)
        top = new_top
    for outs, probs in ms:
        new_top = top + int(outs.max())
        old = p_cum[: new_top + 1].copy()
        acc = np.zeros(new_top + 1)
        for o, p in zip(outs, probs, strict=True):
            sh = np.ones(new_top + 1)
            sh[o:] = old[: new_top + 1 - o]
            acc += p * sh
        p_cum[: new_top + 1] = acc
        top = new_top
    p_cum = p_cum[: k_tot + 1]
    p_cum[p_cum < 0] = 0.0
    p_exact = p_cum - np.r_[p_cum[1:], 0.0]
    return Copt(
        step_mw=step_mw,
        installed_mw=k_tot * step_mw,
        p_exact=p_exact,
        p_cum=p_cum,
        f_cum_per_h=None if f_cum is None else f_cum[: k_tot + 1],
    )


@dataclass(frozen=True)
class LoleResult:
    """Loss-of-load indices of a load series on a COPT.

    ``lolp`` per period; ``lole`` in periods per year (hours or days, by the series);
    ``eens_mwh`` with the period duration given; ``lolf_per_year`` (None without frequencies).
    """

    lolp: np.ndarray
    lole: float
    eens_mwh: float
    lolf_per_year: float | None
    eens_per_period_mwh: np.ndarray


def loss_of_load(copt: Copt, load_mw: np.ndarray, period_h: float = 1.0) -> LoleResult:
    """LOLP per period, LOLE, EENS and LOLF of a load series.

    Parameters
    ----------
    copt : Copt
        Capacity outage table.
    load_mw : ndarray (T,)
        Load of each period, MW (hourly loads, or daily peaks).
    period_h : float
        Duration of a period, h (1 for hourly loads; for daily peaks EENS then is the energy
        of a load at the daily peak for ``period_h`` hours - usually not meaningful).

    Returns
    -------
    LoleResult
        ``lole`` = sum of LOLP over the periods (h/yr for 8736/8760 hourly loads, d/yr for
        daily peaks). LOLF (occurrences/yr, hourly series only) adds the capacity-driven
        entries ``F(reserve) * period_h`` and the load-driven entries
        ``max(0, LOLP[t+1] - LOLP[t])`` (the series is taken as cyclic).
    """
    load = np.asarray(load_mw, dtype=float)
    step = copt.step_mw
    k_max = len(copt.p_cum) - 1
    # loss of load <=> outage > installed - load <=> outage index >= floor(reserve/step) + 1
    reserve = copt.installed_mw - load
    kstar = np.floor(reserve / step + 1e-9).astype(np.int64) + 1
    kstar = np.clip(kstar, 0, k_max + 1)
    p_cum = np.r_[copt.p_cum, 0.0]
    x = np.arange(k_max + 1) * step
    xp_tail = np.r_[np.cumsum((x * copt.p_exact)[::-1])[::-1], 0.0]
    lolp = p_cum[kstar]
    eens_t = period_h * ((load - copt.installed_mw) * lolp + xp_tail[kstar])
    eens_t = np.maximum(eens_t, 0.0)
    lolf = None
    if copt.f_cum_per_h is not None:
        f_cum = np.r_[copt.f_cum_per_h, 0.0]
        lolf = float(
            np.sum(f_cum[kstar]) * period_h + np.sum(np.maximum(0.0, np.roll(lolp, -1) - lolp))
        )
    return LoleResult(
        lolp=lolp,
        lole=float(lolp.sum()),
        eens_mwh=float(eens_t.sum()),
        lolf_per_year=lolf,
        eens_per_period_mwh=eens_t,
    )


def rts79_load_shape(
    weekly: np.ndarray, daily: np.ndarray, hourly: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Hourly and daily-peak load in per unit of the annual peak from RTS-79 style tables.

    Parameters
    ----------
    weekly : ndarray (52,)
        Weekly peak, fraction of the annual peak (week 1 = first week of January).
    daily : ndarray (7,)
        Daily peak, fraction of the weekly peak, Monday first.
    hourly : dict
        Keys ``winter_weekday``, ``winter_weekend``, ``summer_weekday``, ``summer_weekend``,
        ``spring_fall_weekday``, ``spring_fall_weekend``: 24 fractions of the daily peak.
        Winter = weeks 1-8 and 44-52, summer = weeks 18-30, spring/fall = the rest.

    Returns
    -------
    hourly_pu : ndarray (52*7*24,)
    daily_peak_pu : ndarray (52*7,)
    """
    weeks = np.arange(1, 53)
    season = np.where(
        (weeks <= 8) | (weeks >= 44),
        "winter",
        np.where((weeks >= 18) & (weeks <= 30), "summer", "spring_fall"),
    )
    day_peak = (np.asarray(weekly)[:, None] * np.asarray(daily)[None, :]).ravel()
    prof = np.empty((52, 7, 24))
    for w in range(52):
        for dow in range(7):
            kind = "weekend" if dow >= 5 else "weekday"
            prof[w, dow] = hourly[f"{season[w]}_{kind}"]
    hourly_pu = (day_peak.reshape(52, 7)[:, :, None] * prof).ravel()
    return hourly_pu, day_peak
