"""The compiled branch-flow kernel and its numpy twin give the same numbers."""

from __future__ import annotations

import numpy as np
import pytest
import tolerances as tol

from gridplan.core import branchflow as twin
from gridplan.model.branches import BranchModel


def _compiled():
    # no fallback here: the equivalence test must run the compiled module for real
    from gridplan._ext import branchflow

    return branchflow


@pytest.mark.slow
def test_cython_equals_numpy_on_case9241pegase(case9241_solved):
    model = BranchModel.from_solved_net(case9241_solved)
    v = model.solved_voltages(case9241_solved)
    rng = np.random.default_rng(7)
    states = np.vstack([v, v * 1.02, v * np.exp(1j * rng.normal(0, 0.05, v.size))])
    args = (
        np.ascontiguousarray(states),
        model.f,
        model.t,
        model.yff,
        model.yft,
        model.ytf,
        model.ytt,
        model.base_kv,
        model.base_mva,
    )
    compiled = _compiled().branch_flows(*args)
    numpy_ = twin.branch_flows(*args)
    for got, ref, scale in zip(
        compiled, numpy_, (model.base_mva, model.base_mva, 1.0, 1.0), strict=True
    ):
        assert got.shape == (3, model.f.size)
        np.testing.assert_allclose(got / scale, ref / scale, rtol=0, atol=tol.KERNEL_TWIN_ABS)


def test_hand_worked_two_bus_line():
    """One line, r=0.01 x=0.1 pu, no shunt: V1=1, V2=0.99/-5.7 deg -> S and I by hand."""
    y = 1 / (0.01 + 0.1j)
    v1, v2 = 1.0 + 0j, 0.99 * np.exp(-1j * np.deg2rad(5.7))
    i12 = y * (v1 - v2)
    s_f_ref = v1 * np.conj(i12) * 100.0
    s_t_ref = v2 * np.conj(-i12) * 100.0
    i_ka_ref = abs(i12) * 100.0 / (np.sqrt(3) * 110.0)  # base current of 100 MVA at 110 kV
    args = (
        np.array([[v1, v2]]),
        np.array([0]),
        np.array([1]),
        np.array([y]),
        np.array([-y]),
        np.array([-y]),
        np.array([y]),
        np.array([110.0, 110.0]),
        100.0,
    )
    for module in (twin, _compiled()):
        s_f, s_t, i_f, i_t = module.branch_flows(*args)
        assert s_f[0, 0] == pytest.approx(s_f_ref, rel=1e-12)
        assert s_t[0, 0] == pytest.approx(s_t_ref, rel=1e-12)
        assert i_f[0, 0] == pytest.approx(i_ka_ref, rel=1e-12)
        # no shunt branch: the same current flows at both ends
        assert i_t[0, 0] == pytest.approx(i_ka_ref, rel=1e-12)


def test_zero_voltage_gives_zero_current_not_nan():
    args = (
        np.zeros((1, 2), complex),
        np.array([0]),
        np.array([1]),
        np.array([1 + 0j]),
        np.array([-1 + 0j]),
        np.array([-1 + 0j]),
        np.array([1 + 0j]),
        np.array([10.0, 10.0]),
        1.0,
    )
    for module in (twin, _compiled()):
        _, _, i_f, i_t = module.branch_flows(*args)
        assert i_f[0, 0] == 0.0 and i_t[0, 0] == 0.0


def test_pure_python_switch(monkeypatch):
    from gridplan._backend import load_kernel

    monkeypatch.setenv("GRIDPLAN_PURE_PYTHON", "1")
    assert load_kernel("branchflow", "gridplan.core.branchflow") is twin
    monkeypatch.delenv("GRIDPLAN_PURE_PYTHON")
    monkeypatch.setenv("GRIDPLAN_REQUIRE_EXT", "1")
    with pytest.raises(ImportError, match="GRIDPLAN_REQUIRE_EXT"):
        load_kernel("no_such_kernel", "gridplan.core.branchflow")
