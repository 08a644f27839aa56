"""The new-or-worsened rule, by hand cases."""

from __future__ import annotations

import numpy as np

from gridplan.core.violation_rule import effective_limits, reported_violations


def test_loading_new_worsened_and_tolerated() -> None:
    base = np.array([80.0, 80.0, 105.0, 105.0, np.nan, 120.0])
    post = np.array([99.0, 101.0, 105.9, 106.5, 101.0, np.nan])
    v = reported_violations(base, post, 100.0, np.ones(1), np.ones(1), 0.9, 1.1)
    # within; new; worsened by < 1 point (tolerated); worsened by 1.5 points; no base -> new;
    # no value after -> never a violation here
    np.testing.assert_array_equal(v.loading, [False, True, False, True, True, False])


def test_voltage_both_sides() -> None:
    base = np.array([1.00, 1.12, 1.12, 0.95, 0.88, 0.88])
    post = np.array([1.11, 1.124, 1.126, 0.89, 0.876, 0.874])
    v = reported_violations(np.zeros(1), np.zeros(1), 100.0, base, post, 0.9, 1.1)
    np.testing.assert_array_equal(v.vm_high, [True, False, True, False, False, False])
    np.testing.assert_array_equal(v.vm_low, [False, False, False, True, False, True])


def test_effective_limits_and_broadcasting() -> None:
    base_ld = np.array([[50.0, 130.0], [101.0, 20.0]])  # (outages, elements)
    lim = np.array([100.0, 100.0])
    eff_ld, eff_lo, eff_hi = effective_limits(
        base_ld, lim, np.array([0.85, 1.0]), 0.9, np.array([1.1, 1.05]), worsen_vm_pu=0.01
    )
    np.testing.assert_allclose(eff_ld, [[100.0, 131.0], [102.0, 100.0]])
    np.testing.assert_allclose(eff_lo, [0.84, 0.9])
    np.testing.assert_allclose(eff_hi, [1.1, 1.05])
