"""The N-1 screen's decision: which outages have an estimate within its margin of a limit.

A quantity estimated ``x`` after the screen's second chord step and ``x1`` after its first has
the margin ``factor * |x - x1| + floor``, the floor only where ``x != x1`` (a quantity the
steps leave exactly unchanged, such as a PV bus's held voltage, is exact and near no limit).
An outage is ambiguous when any of its quantities lies strictly within its margin of any of
its thresholds (the plain limit and the report rule's effective limit).
"""

from __future__ import annotations

import numpy as np

from gridplan.kernels import contingency_ac


def mark_near(
    out: np.ndarray,
    x: np.ndarray,
    x1: np.ndarray,
    thresholds: np.ndarray,
    factor: float,
    floor: float,
) -> np.ndarray:
    """Set ``out[b] = 1`` (uint8 (B,), updated and returned) for the outages ``b`` with a
    quantity of ``x`` (B, m) within its margin of one of ``thresholds`` (k, m), same unit
    (loading in percent or voltage in pu; NaN: no value, never near)."""
    c = np.ascontiguousarray
    return contingency_ac.screen_near(
        c(x, dtype=np.float64),
        c(x1, dtype=np.float64),
        c(thresholds, dtype=np.float64),
        float(factor),
        float(floor),
        out,
    )
