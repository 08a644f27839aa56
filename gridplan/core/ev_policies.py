"""Charging policies on session arrays (numpy only, vectorized over sessions).

A session is plugged in from ``t0`` to ``t1`` (steps, real; ``t1`` is the departure for AC
points, the release of the point for DC and swap racks), at a point rated ``p`` kW, and asks
for ``e`` kWh from the grid. Times are in steps of ``dt_h`` hours. Every policy returns a
schedule that never exceeds ``p`` and never charges outside ``[t0, t1]``:

``uncontrolled``
    full power from plug-in until the energy is in or the vehicle leaves:
    ``[t0, t0 + min(e / p / dt_h, t1 - t0)]`` at ``p``.
``tou``
    time of use: a timer starts charging at the start of the off-peak window (at once when
    plugged in inside it) plus a delay drawn uniformly from ``[0, delay_h]`` (the randomized
    delay that spreads the timer peak). With ``keep_energy`` the start is moved back to the
    latest start that still delivers the energy before departure, never before ``t0``.
``balanced``
    the energy spread evenly over the whole stay: ``[t0, t1]`` at ``min(p, e / (t1 - t0) / dt_h)``.
``valley``
    valley filling per transformer: see :func:`gridplan.core.ev_kernels.valley_fill`.

Sessions that are not flexible (DC fast charging, swap racks) charge uncontrolled under every
policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POLICIES: tuple[str, ...] = ("uncontrolled", "tou", "balanced", "valley")


@dataclass(frozen=True)
class TouParams:
    """Off-peak window ``[start_h, end_h)`` (hours of the day; wraps past midnight when
    ``end_h <= start_h``), randomized delay ``delay_h`` (h) and whether the start moves back so
    the energy is delivered before departure (``keep_energy``)."""

    start_h: float = 23.0
    end_h: float = 7.0
    delay_h: float = 1.0
    keep_energy: bool = True


def in_window(hour: np.ndarray, start_h: float, end_h: float) -> np.ndarray:
    """True where ``hour`` (0-24) lies in ``[start_h, end_h)``, wrapping past midnight."""
    if start_h < end_h:
        return (hour >= start_h) & (hour < end_h)
    return (hour >= start_h) | (hour < end_h)


def uncontrolled(
    t0: np.ndarray, t1: np.ndarray, p: np.ndarray, e: np.ndarray, dt_h: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full power from plug-in: returns ``(start, end, power_kw)`` of each rectangle."""
    dur = np.minimum(e / (p * dt_h), t1 - t0)
    return t0, t0 + np.maximum(dur, 0.0), p


def tou(
    t0: np.ndarray,
    t1: np.ndarray,
    p: np.ndarray,
    e: np.ndarray,
    dt_h: float,
    params: TouParams,
    u_delay: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Timer start at the off-peak window plus a random delay (``u_delay`` uniform in [0, 1))."""
    steps_per_day = 24.0 / dt_h
    hour = np.mod(t0, steps_per_day) * dt_h
    wait_h = np.where(
        in_window(hour, params.start_h, params.end_h), 0.0, np.mod(params.start_h - hour, 24.0)
    )
    start = t0 + (wait_h + u_delay * params.delay_h) / dt_h
    need = e / (p * dt_h)
    if params.keep_energy:
        start = np.minimum(start, t1 - need)
    start = np.clip(start, t0, t1)
    end = np.minimum(start + need, t1)
    return start, end, p


def balanced(
    t0: np.ndarray, t1: np.ndarray, p: np.ndarray, e: np.ndarray, dt_h: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energy spread over the whole stay, capped at the rating."""
    stay_h = (t1 - t0) * dt_h
    with np.errstate(divide="ignore", invalid="ignore"):
        pw = np.where(stay_h > 0, np.minimum(p, e / stay_h), 0.0)
    return t0, t1, pw
