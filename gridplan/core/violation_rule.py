"""The new-or-worsened violation rule, in one place (numpy only).

A change to a grid (added wind, a reinforcement, another case) is judged against a base:
only the violations it *causes* are reported. For every monitored quantity with a base value
``b`` and a value after the change ``x``:

- branch loading (percent) against its limit ``L``: reported when ``x > L`` and either the base
  was within the limit (``b <= L``, a **new** violation) or the loading grew by more than
  ``worsen_loading_percent`` (``x > b + m``, a **worsened** one);
- bus voltage above ``vm_max``: reported when ``x > vm_max`` and (``b <= vm_max`` or
  ``x > b + worsen_vm_pu``);
- bus voltage below ``vm_min``: reported when ``x < vm_min`` and (``b >= vm_min`` or
  ``x < b - worsen_vm_pu``).

Equivalently each quantity has an **effective limit**: the limit itself where the base
respects it, else the base value plus (minus) the margin; a value beyond its effective limit
is a reported violation (:func:`effective_limits`). A quantity without a base value (NaN:
not present or not solved in the base) is judged against the plain limit; a NaN value after
the change is never a violation here (the caller reports why it is missing).

The margins tolerate the small drift of an already violated quantity that solver tolerances
and unrelated changes cause (defaults: 1 percentage point of loading, 0.005 pu of voltage).
All arguments broadcast, so one call judges a whole outage x element matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WORSEN_LOADING_PERCENT = 1.0
WORSEN_VM_PU = 0.005


@dataclass(frozen=True)
class Violations:
    """Masks of reported violations (shapes as broadcast from the inputs)."""

    loading: np.ndarray  # bool
    vm_high: np.ndarray  # bool
    vm_low: np.ndarray  # bool

    def any(self) -> bool:
        """Whether any violation is reported."""
        return bool(self.loading.any() or self.vm_high.any() or self.vm_low.any())


def effective_limits(
    base_loading_percent: np.ndarray,
    max_loading_percent: np.ndarray | float,
    base_vm_pu: np.ndarray,
    vm_min_pu: np.ndarray | float,
    vm_max_pu: np.ndarray | float,
    *,
    worsen_loading_percent: float = WORSEN_LOADING_PERCENT,
    worsen_vm_pu: float = WORSEN_VM_PU,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Effective limits ``(loading_percent, vm_min_pu, vm_max_pu)`` given the base values.

    Parameters
    ----------
    base_loading_percent : array
        Base-case branch loading, percent (NaN: no base value).
    max_loading_percent : array or float
        Loading limit per branch, percent.
    base_vm_pu : array
        Base-case bus voltage magnitude, pu (NaN: no base value).
    vm_min_pu, vm_max_pu : array or float
        Voltage band per bus, pu.
    worsen_loading_percent, worsen_vm_pu : float
        Growth of an already violated quantity that counts as worsened.
    """
    b_ld = np.asarray(base_loading_percent, dtype=float)
    b_vm = np.asarray(base_vm_pu, dtype=float)
    lim = np.asarray(max_loading_percent, dtype=float)
    lo = np.asarray(vm_min_pu, dtype=float)
    hi = np.asarray(vm_max_pu, dtype=float)
    with np.errstate(invalid="ignore"):
        eff_ld = np.where(b_ld > lim, b_ld + worsen_loading_percent, lim)
        eff_hi = np.where(b_vm > hi, b_vm + worsen_vm_pu, hi)
        eff_lo = np.where(b_vm < lo, b_vm - worsen_vm_pu, lo)
    return eff_ld, eff_lo, eff_hi


def reported_violations(
    base_loading_percent: np.ndarray,
    loading_percent: np.ndarray,
    max_loading_percent: np.ndarray | float,
    base_vm_pu: np.ndarray,
    vm_pu: np.ndarray,
    vm_min_pu: np.ndarray | float,
    vm_max_pu: np.ndarray | float,
    *,
    worsen_loading_percent: float = WORSEN_LOADING_PERCENT,
    worsen_vm_pu: float = WORSEN_VM_PU,
) -> Violations:
    """Masks of the new or worsened violations of ``loading_percent`` and ``vm_pu`` against
    their base values (see the module docstring for the rule)."""
    eff_ld, eff_lo, eff_hi = effective_limits(
        base_loading_percent,
        max_loading_percent,
        base_vm_pu,
        vm_min_pu,
        vm_max_pu,
        worsen_loading_percent=worsen_loading_percent,
        worsen_vm_pu=worsen_vm_pu,
    )
    ld = np.asarray(loading_percent, dtype=float)
    vm = np.asarray(vm_pu, dtype=float)
    with np.errstate(invalid="ignore"):
        return Violations(loading=ld > eff_ld, vm_high=vm > eff_hi, vm_low=vm < eff_lo)
