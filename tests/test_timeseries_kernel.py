"""The compiled time-series Newton kernels and their numpy twins give the same numbers."""

from __future__ import annotations

import numpy as np
import pandapower.networks as pn
import pytest
import tolerances as tol

from gridplan.core import timeseries_nr as twin
from gridplan.core.timeseries_solver import BatchNewton
from gridplan.model.timeseries_model import TimeSeriesModel


def _compiled():
    # no fallback: the equivalence test must run the compiled module for real
    from gridplan._ext import timeseries_nr

    return timeseries_nr


@pytest.fixture(scope="module")
def model():
    return TimeSeriesModel.compile(pn.case1354pegase())


def _states(model, n=5):
    rng = np.random.default_rng(11)
    v = model.v0[None, :] * (1 + 0.01 * rng.standard_normal((n, model.n_bus)))
    v = v * np.exp(1j * 0.02 * rng.standard_normal((n, model.n_bus)))
    s = model.sbus0[None, :] * (0.8 + 0.4 * rng.random((n, model.n_bus)))
    return np.ascontiguousarray(v), np.ascontiguousarray(s)


@pytest.mark.slow
def test_mismatch_and_update_equal_twin_on_case1354pegase(model):
    bn = BatchNewton(model.ybus, model.pv, model.pq)
    v, s = _states(model)
    args = (v, bn.indptr, bn.indices, bn.data, s, bn.pvpq, bn.pq)
    f_c, n_c = _compiled().mismatch(*args)
    f_t, n_t = twin.mismatch(*args)
    np.testing.assert_allclose(f_c, f_t, rtol=0, atol=tol.KERNEL_TWIN_ABS)
    np.testing.assert_allclose(n_c, n_t, rtol=0, atol=tol.KERNEL_TWIN_ABS)
    # independent check of the norm: pandapower-style mismatch with scipy
    mis = v * np.conj((model.ybus @ v.T).T) - s
    ref = np.maximum(np.abs(mis[:, bn.pvpq].real).max(1), np.abs(mis[:, bn.pq].imag).max(1))
    np.testing.assert_allclose(n_c, ref, rtol=1e-12, atol=tol.KERNEL_TWIN_ABS)

    dx = np.ascontiguousarray(f_t * 1e-3)
    dx[0] *= 100.0  # angle steps above 0.01 rad take the cos/sin branch of the kernel
    va, vm = np.angle(v), np.abs(v)
    va_c, vm_c, va_t, vm_t = va.copy(), vm.copy(), va.copy(), vm.copy()
    v_c, v_t = v.copy(), v.copy()
    _compiled().update_voltage(v_c, va_c, vm_c, dx, bn.pvpq, bn.pq)
    twin.update_voltage(v_t, va_t, vm_t, dx, bn.pvpq, bn.pq)
    np.testing.assert_allclose(va_c, va_t, rtol=0, atol=1e-15)
    np.testing.assert_allclose(vm_c, vm_t, rtol=0, atol=1e-15)
    # the kernel rotates/scales v (rounding grows with the size of the step), the twin
    # rebuilds vm*exp(1j*va): equal to a few hundred ulps of 1 pu
    np.testing.assert_allclose(v_c, v_t, rtol=0, atol=1e-13)


@pytest.mark.slow
def test_multi_rhs_lu_solve_equals_twin_and_superlu(model):
    bn = BatchNewton(model.ybus, model.pv, model.pq)
    lu = bn.factor(model.v0)
    rng = np.random.default_rng(2)
    b = rng.standard_normal((7, bn.pvpq.size + bn.pq.size))
    x_c = _compiled().lu_solve(*lu, b)
    x_t = twin.lu_solve(*lu, b)
    np.testing.assert_allclose(x_c, x_t, rtol=0, atol=1e-9)
    # independent: the Jacobian times the solution gives back the right-hand sides
    jac = bn.jacobian(model.v0)
    np.testing.assert_allclose((jac @ x_c.T).T, b, rtol=0, atol=1e-8)


@pytest.mark.slow
def test_fused_chord_equals_twin_and_converges_to_pandapower_tolerance(model):
    bn = BatchNewton(model.ybus, model.pv, model.pq)
    rng = np.random.default_rng(5)
    n = 40  # more than one 32-state panel of right-hand sides
    s = model.sbus0[None, :] * (0.97 + 0.06 * rng.random((n, model.n_bus)))
    s[0] *= 3.0  # far from the Jacobian's state: leaves the chord loop unconverged
    s = np.ascontiguousarray(s)
    # Jacobian of the solved base state, every state starts from that solution
    v0 = np.ascontiguousarray(model.v0[None, :])
    va0, vm0 = np.angle(v0), np.abs(v0)
    it0, cv0, nm0 = np.zeros(1, np.int32), np.zeros(1, bool), np.zeros(1)
    bn._newton(0, v0, va0, vm0, np.ascontiguousarray(model.sbus0[None, :]), it0, cv0, nm0, v0[0])
    assert cv0[0]
    lu = bn.factor(v0[0])
    out = []
    for mod in (_compiled(), twin):
        v = np.ascontiguousarray(np.repeat(v0, n, axis=0))
        va, vm = np.angle(v), np.abs(v)
        iters, conv, norm = np.zeros(n, np.int32), np.zeros(n, bool), np.full(n, np.inf)
        args = (bn.indptr, bn.indices, bn.data, bn.pvpq, bn.pq)
        # every state but the last, in reverse order: the rows left out stay as they were
        rows = np.arange(n - 1)[::-1].copy()
        mod.chord(*lu, *args, v, va, vm, s, iters, conv, norm, 8, bn.tol, rows)
        assert iters[-1] == 0 and not conv[-1] and np.isinf(norm[-1])
        np.testing.assert_array_equal(v[-1], v0[0])
        out.append((v[:-1], va[:-1], vm[:-1], iters[:-1], conv[:-1], norm[:-1]))
    (v_c, va_c, vm_c, it_c, cv_c, nm_c), (v_t, va_t, vm_t, it_t, cv_t, nm_t) = out
    # same decisions per state; voltages equal to rounding (the kernel rotates/scales v,
    # the twin rebuilds vm*exp(1j*va), a few hundred ulps per step)
    np.testing.assert_array_equal(cv_c, cv_t)
    np.testing.assert_array_equal(it_c, it_t)
    np.testing.assert_allclose(v_c, v_t, rtol=0, atol=1e-11)
    np.testing.assert_allclose(va_c, va_t, rtol=0, atol=1e-11)
    np.testing.assert_allclose(vm_c, vm_t, rtol=0, atol=1e-11)
    np.testing.assert_allclose(nm_c, nm_t, rtol=1e-6, atol=tol.KERNEL_TWIN_ABS)
    np.testing.assert_allclose(vm_c[1:], np.abs(v_c[1:]), rtol=0, atol=1e-13)
    assert cv_c[1:].all() and not cv_c[0]
    # independent check: pandapower's criterion on the converged voltages, with scipy
    mis = v_c * np.conj((model.ybus @ v_c.T).T) - s[:-1]
    ref = np.maximum(np.abs(mis[:, bn.pvpq].real).max(1), np.abs(mis[:, bn.pq].imag).max(1))
    np.testing.assert_allclose(nm_c, ref, rtol=1e-9, atol=tol.KERNEL_TWIN_ABS)
    assert (ref[1:] < bn.tol).all()


@pytest.mark.slow
def test_branch_loading_equals_twin_and_pandapower(model):
    import copy

    import pandapower as pp

    names = [b for b in ("line", "trafo") if b in model.branches]
    *head, cols = model.loading_columns(names)
    v, _ = _states(model, 4)
    v[1] = model.v0  # pandapower's own solution of the base case (see below)
    v[2] = 0.0  # a state without voltages (the engine zeroes unconverged steps): no flow
    v = np.ascontiguousarray(v)
    args = (v, model.f, model.t, model.yff, model.yft, model.ytf, model.ytt, *head)
    from gridplan._ext import branchflow as compiled_bf
    from gridplan.core import branchflow as twin_bf

    ld_c, loss_c = compiled_bf.branch_loading(*args, model.base_mva)
    ld_t, loss_t = twin_bf.branch_loading(*args, model.base_mva)
    np.testing.assert_allclose(ld_c, ld_t, rtol=1e-12, atol=tol.KERNEL_TWIN_ABS)
    np.testing.assert_allclose(loss_c, loss_t, rtol=1e-12, atol=tol.KERNEL_TWIN_ABS)
    assert np.all(ld_c[2] == 0.0) and loss_c[2] == 0.0
    # independent: pandapower's result tables for the base case, whose voltages are v0
    net = copy.deepcopy(pn.case1354pegase())
    pp.runpp(net)
    ref_loss = net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()
    np.testing.assert_allclose(loss_c[1], ref_loss, rtol=1e-9)
    for name in names:
        ref = net[f"res_{name}"].loading_percent.to_numpy()
        np.testing.assert_allclose(
            ld_c[1, cols[name]], ref, rtol=0, atol=tol.SAME_SOLUTION_LOADING_PERCENT
        )


def test_add_injections_equals_twin_and_sparse_product():
    rng = np.random.default_rng(4)
    n_bus, n_el, n_all, start, m = 7, 9, 150, 13, 130  # more than two 64-step tiles
    el_bus = rng.integers(-1, n_bus, n_el)  # some elements on no bus, some sharing one
    fac_re, fac_im = rng.standard_normal(n_el), rng.standard_normal(n_el)
    fac_im[:3] = 0.0  # active-power-only elements
    base = rng.standard_normal(n_el)
    values_t = np.ascontiguousarray(rng.standard_normal((n_el, n_all)))
    s0 = rng.standard_normal((m, n_bus)) + 1j * rng.standard_normal((m, n_bus))
    s_c, s_t = s0.copy(), s0.copy()
    _compiled().add_injections(s_c, values_t, start, el_bus, fac_re, fac_im, base)
    twin.add_injections(s_t, values_t, start, el_bus, fac_re, fac_im, base)
    np.testing.assert_allclose(s_c, s_t, rtol=0, atol=tol.KERNEL_TWIN_ABS)
    # independent: element by element with plain loops
    ref = s0.copy()
    for e in range(n_el):
        if el_bus[e] >= 0:
            d = values_t[e, start : start + m] - base[e]
            ref[:, el_bus[e]] += (fac_re[e] + 1j * fac_im[e]) * d
    np.testing.assert_allclose(s_c, ref, rtol=0, atol=1e-12)


def test_projection_and_kmeans_equal_twin_bit_for_bit_and_find_planted_groups():
    rng = np.random.default_rng(8)
    # three well separated groups of injections (complex, viewed as floats as the solver does)
    centers = rng.standard_normal((3, 40)) * 10.0
    truth = rng.integers(0, 3, 600)
    x = np.ascontiguousarray(centers[truth] + 0.1 * rng.standard_normal((600, 40)))
    proj = rng.standard_normal((40, 8))
    z_c = _compiled().project(x, proj)
    z_t = twin.project(x, proj)
    # same sums in the same order: the same bits, so the groups cannot differ between them
    np.testing.assert_array_equal(z_c, z_t)
    # independent: BLAS's product (other summation order: rounding only)
    np.testing.assert_allclose(z_c, x @ proj, rtol=1e-12, atol=1e-10)
    start = np.ascontiguousarray(z_c[[0, 1, 2, 3, 4]])  # 5 centers for 3 groups
    c_c, c_t = start.copy(), start.copy()
    lab_c = _compiled().kmeans(z_c, c_c, 10)
    lab_t = twin.kmeans(z_t, c_t, 10)
    np.testing.assert_array_equal(lab_c, lab_t)
    np.testing.assert_array_equal(c_c, c_t)
    # independent: no label mixes two planted groups, and every center is its points' mean
    for g in np.unique(lab_c):
        assert np.unique(truth[lab_c == g]).size == 1
    used = np.unique(lab_c)
    np.testing.assert_allclose(
        c_c[used], [z_c[lab_c == g].mean(axis=0) for g in used], rtol=1e-12, atol=1e-9
    )


@pytest.mark.slow
def test_solver_groups_the_states_of_a_block_the_same_with_either_kernel(model):
    from gridplan.core import timeseries_solver as ts_solver

    bn = BatchNewton(model.ybus, model.pv, model.pq)
    rng = np.random.default_rng(1)
    s = model.sbus0[None, :] * (
        0.7 + 0.6 * rng.random((700, 1)) + 0.02 * rng.random((700, model.n_bus))
    )
    s = np.ascontiguousarray(s)
    order_c, bounds_c = bn._groups(s, 256)
    compiled = ts_solver.timeseries_nr
    try:
        ts_solver.timeseries_nr = twin
        order_t, bounds_t = bn._groups(s, 256)
    finally:
        ts_solver.timeseries_nr = compiled
    np.testing.assert_array_equal(order_c, order_t)
    np.testing.assert_array_equal(bounds_c, bounds_t)
    assert bounds_c[-1] == 700 and np.array_equal(np.sort(order_c), np.arange(700))
