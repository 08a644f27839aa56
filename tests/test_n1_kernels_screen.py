"""Compiled N-1 kernels equal their numpy twins; ``screen`` reports exactly ``ac``'s violations."""

from __future__ import annotations

import gridplan._ext.contingency_ac as ac_c
import gridplan._ext.contingency_graph as graph_c
import gridplan._ext.contingency_lu as lu_c
import numpy as np
import pandapower.networks as pn
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

import gridplan.core.contingency_ac as ac_py
import gridplan.core.contingency_graph as graph_py
import gridplan.core.contingency_lu as lu_py
from gridplan.core.contingency import ACOutageSolver, full_jacobian
from gridplan.model.contingency_model import compile_contingency_model
from gridplan.studies.n1 import default_outages, run_n1


@pytest.fixture(scope="module")
def model1354():
    return compile_contingency_model(pn.case1354pegase())


def test_lu_kernels_match_twin_on_large_case(model1354):
    m = model1354
    s = ACOutageSolver(
        m.ybus, m.sbus, m.v0, m.ref, m.pv, m.pq, m.f, m.t, m.yff, m.yft, m.ytf, m.ytt
    )
    rng = np.random.default_rng(1)
    rhs = np.ascontiguousarray(rng.standard_normal((s.m0.shape[0], 7)))
    x_c = lu_c.lu_solve_rows(*s._factors, rhs)
    x_py = lu_py.lu_solve_rows(*s._factors, rhs)
    # both solve M0 x = rhs: compare with each other and with the residual (float64 round-off)
    assert np.max(np.abs(x_c - x_py)) < 1e-8 * max(1.0, np.max(np.abs(x_py)))
    assert np.max(np.abs(s.m0 @ x_c - rhs)) < 1e-9


def _dense_rows(ptr: np.ndarray, idx: np.ndarray, val: np.ndarray, n: int) -> np.ndarray:
    return sp.csr_matrix((val, idx, ptr), shape=(ptr.size - 1, n)).toarray()


@pytest.mark.parametrize("mod", [lu_c, lu_py], ids=["compiled", "twin"])
def test_combine_rows_hand_worked(mod):
    # g = [[1, 0, 2], [0, 3, 0]]; out row 0 = 2 g0 + g1 = [2, 3, 4], row 1 empty,
    # row 2 = -g1 = [0, -3, 0] (entries given out of row order)
    g = (np.array([0, 2, 3]), np.array([0, 2, 1], np.int32), np.array([1.0, 2.0, 3.0]))
    row = np.array([2, 0, 0])
    src = np.array([1, 0, 1])
    coef = np.array([-1.0, 2.0, 1.0])
    out = _dense_rows(*mod.combine_rows(3, 3, row, src, coef, *g), 3)
    assert np.array_equal(out, [[2.0, 3.0, 4.0], [0.0, 0.0, 0.0], [0.0, -3.0, 0.0]])


def test_sparse_compensation_solves_post_outage_matrix(model1354):
    # 9 single-branch outages, 7 columns (two outages twice, some not at all): the compiled
    # and numpy compensation solves equal a direct sparse solve of M0 + E_b D_b, the
    # post-outage matrix written out, to float64 round-off (1e-9 relative)
    m = model1354
    s = ACOutageSolver(
        m.ybus, m.sbus, m.v0, m.ref, m.pv, m.pq, m.f, m.t, m.yff, m.yft, m.ytf, m.ytt
    )
    n2 = s.m0.shape[0]
    br = np.array([3, 17, 40, 41, 100, 250, 600, 901, 1500], dtype=np.int64)
    rowid, own, drow, dcol, dval = s._simple_updates(br)
    has = rowid >= 0
    uniq, inv = np.unique(rowid[has], return_inverse=True)
    comp = s._compensation(br.size, 4, has, uniq, inv, own, drow, dcol, dval)
    lp, li, lv, _, _, _, pr, pc = s._factors
    # sparse unit solves: compiled (solve order) and twin (index order) hold the same rows
    for args in ((lp, li, lv, s._dinv, pr[uniq], True), (*s._ut, s._dinv, pc[dcol[:5]], False)):
        a_c = _dense_rows(*lu_c.unit_reach_solve(*args), n2)
        a_py = _dense_rows(*lu_py.unit_reach_solve(*args), n2)
        assert np.max(np.abs(a_c - a_py)) < 1e-9 * np.max(np.abs(a_py))
    q, h = comp[:3], comp[3:6]
    w_c = lu_c.sparse_row_dots(*q, *h, n2, 4)
    assert np.max(np.abs(w_c - lu_py.sparse_row_dots(*q, *h, n2, 4))) < 1e-12
    rng = np.random.default_rng(3)
    rhs = np.ascontiguousarray(rng.standard_normal((n2, 7)))
    slot = np.array([0, 2, 2, 5, 8, 1, 0], dtype=np.int64)
    x_c = lu_c.lu_solve_comp(*s._factors, rhs, slot, *comp)
    x_py = lu_py.lu_solve_comp(*s._factors, rhs, slot, *comp)
    assert np.max(np.abs(x_c - x_py)) < 1e-9 * np.max(np.abs(x_py))
    for c, b in enumerate(slot):
        sel = own == b
        d = sp.csr_matrix((dval[sel], (rowid[b, drow[sel]], dcol[sel])), shape=(n2, n2))
        ref = spsolve((s.m0 + d).tocsc(), rhs[:, c])
        assert np.max(np.abs(x_c[:, c] - ref)) < 1e-9 * np.max(np.abs(ref))
    # finished (frozen) columns are skipped: exactly 0 there, the same numbers elsewhere
    live = np.array([1, 0, 1, 1, 0, 0, 1], dtype=np.uint8)
    for mod, full in ((lu_c, x_c), (lu_py, x_py)):
        out = np.full_like(rhs, np.nan)
        x_l = mod.lu_solve_comp(*s._factors, rhs, slot, *comp, out=out, live=live)
        assert x_l is out
        assert np.all(x_l[:, live == 0] == 0.0)
        assert np.max(np.abs(x_l[:, live == 1] - full[:, live == 1])) < 1e-12 * np.max(np.abs(full))


def test_bridge_updates_equal_the_per_outage_updates(model1354):
    # every islanding single-branch outage of case1354pegase: the vectorized row changes
    # give exactly (1e-15) the post-outage matrix the outage-by-outage builder gives
    from gridplan.model.contingency_outages import default_outages, engine_outages

    m = model1354
    s = ACOutageSolver(
        m.ybus, m.sbus, m.v0, m.ref, m.pv, m.pq, m.f, m.t, m.yff, m.yft, m.ytf, m.ytt
    )
    net = pn.case1354pegase()
    bridge = graph_c.bridge_tree(m.n_bus, m.f, m.t, m.branch_in_service.astype(np.uint8), m.ref)
    eng, _ = engine_outages(m, default_outages(net, ("line", "trafo")), bridge)
    outs = [o for o in eng if o is not None and o.dead.size and o.branches.size == 1]
    assert len(outs) > 20
    br = np.array([o.branches[0] for o in outs])
    rowid, own, drow, dcol, dval = s._bridge_updates(br, [o.dead for o in outs])
    rows_ref, d_ref = s._updates(outs)
    n2 = s.m0.shape[0]
    for b, (rows, (lr, cc, vv)) in enumerate(zip(rows_ref, d_ref, strict=True)):
        sel = own == b
        got = sp.csr_matrix((dval[sel], (rowid[b, drow[sel]], dcol[sel])), shape=(n2, n2))
        ref = sp.csr_matrix((vv, (rows[lr], cc)), shape=(n2, n2))
        assert set(rowid[b][rowid[b] >= 0]) == set(rows)
        assert abs(got - ref).max() <= 1e-15


@pytest.mark.parametrize("mod", [ac_c, ac_py], ids=["compiled", "twin"])
def test_block_columns_compacted_in_place_and_stored_transposed(mod):
    # exact copies (no arithmetic): columns 0, 2, 3, 6 of a (70, 7) array move to the front
    # of its own memory; columns 1 and 5 land in rows 4 and 0 of a (5, 70) complex result
    rng = np.random.default_rng(5)
    a = rng.standard_normal((70, 7))
    ref = a[:, [0, 2, 3, 6]].copy()
    got = mod.compact_columns(a, np.array([0, 2, 3, 6]))
    assert np.shares_memory(got, a) and got.shape == (70, 4)
    assert np.array_equal(got, ref)
    vr, vi = rng.standard_normal((70, 7)), rng.standard_normal((70, 7))
    out = np.zeros((5, 70), dtype=complex)
    mod.store_columns(vr, vi, np.array([1, 5]), np.array([4, 0]), out)
    assert np.array_equal(out[4], vr[:, 1] + 1j * vi[:, 1])
    assert np.array_equal(out[0], vr[:, 5] + 1j * vi[:, 5])
    assert not out[1:4].any()


def test_ac_kernels_match_twin_on_large_case(model1354):
    # mismatch of 5 perturbed states with 3 removed branches, the trig-free voltage update and
    # the dc loading kernel: compiled vs numpy twin, float64 round-off (1e-9 relative)
    m = model1354
    rng = np.random.default_rng(2)
    n, nb = m.n_bus, 11
    va = np.ascontiguousarray(np.angle(m.v0)[:, None] + 0.01 * rng.standard_normal((n, nb)))
    vm = np.ascontiguousarray(np.abs(m.v0)[:, None] + 0.01 * rng.standard_normal((n, nb)))
    vr, vi = vm * np.cos(va), vm * np.sin(va)
    y = m.ybus
    yp = (
        y.indptr.astype(np.int32),
        y.indices.astype(np.int32),
        np.ascontiguousarray(y.data.real),
        np.ascontiguousarray(y.data.imag),
    )
    p0 = np.ascontiguousarray(m.sbus.real)
    q0 = np.ascontiguousarray(m.sbus.imag)
    free0 = (rng.random(2 * n) > 0.1).astype(np.uint8)
    # 40 (bus, column) pairs with their own injections and solved equations
    pair = rng.choice(n * nb, 40, replace=False)
    sp_bus, sp_col = pair // nb, pair % nb
    sp = (
        sp_bus,
        sp_col,
        p0[sp_bus] - rng.random(40),
        q0[sp_bus] + rng.random(40),
        (rng.random(40) > 0.5).astype(np.uint8),
        (rng.random(40) > 0.5).astype(np.uint8),
    )
    k = np.flatnonzero(m.branch_in_service)[:3]
    col = np.array([0, 2, 4], dtype=np.int64)
    br = (col, m.f[k], m.t[k], m.yff[k], m.yft[k], m.ytf[k], m.ytt[k])
    args = (*yp, vr, vi, p0, q0, free0, *sp, *br)
    f_c, n_c = ac_c.mismatch_block(*args)
    f_p, n_p = ac_py.mismatch_block(*args)
    assert np.max(np.abs(f_c - f_p)) < 1e-9 * np.max(np.abs(f_p))
    assert np.allclose(n_c, n_p, rtol=1e-9)
    # reference written out column by column: V conj(Y_b V) - S_b on the solved rows
    for c in range(nb):
        yb = m.ybus.tolil()
        for j in np.flatnonzero(col == c):
            f_, t_ = m.f[k[j]], m.t[k[j]]
            yb[f_, f_] -= m.yff[k[j]]
            yb[f_, t_] -= m.yft[k[j]]
            yb[t_, f_] -= m.ytf[k[j]]
            yb[t_, t_] -= m.ytt[k[j]]
        v = vr[:, c] + 1j * vi[:, c]
        s_ = v * np.conj(yb.tocsr() @ v)
        p_, q_, fr = p0.copy(), q0.copy(), free0.copy()
        here = sp_col == c
        p_[sp_bus[here]] = sp[2][here]
        q_[sp_bus[here]] = sp[3][here]
        fr[sp_bus[here]] = sp[4][here]
        fr[n + sp_bus[here]] = sp[5][here]
        ref = np.where(fr == 1, np.concatenate([s_.real - p_, s_.imag - q_]), 0.0)
        assert np.max(np.abs(f_c[:, c] - ref)) < 1e-9 * np.max(np.abs(ref))
        assert abs(n_c[c] - np.max(np.abs(ref))) < 1e-9 * np.max(np.abs(ref))
    step = np.ascontiguousarray(
        np.concatenate([0.02 * rng.standard_normal((n, nb)), 0.01 * rng.standard_normal((n, nb))])
    )
    st_c = [a.copy() for a in (va, vm, vr, vi)]
    st_p = [a.copy() for a in (va, vm, vr, vi)]
    ac_c.apply_step(*st_c, step)
    ac_py.apply_step(*st_p, step)
    for a, b in zip(st_c, st_p, strict=True):
        assert np.max(np.abs(a - b)) < 1e-14
    # frozen columns (live 0) stay exactly as they were
    live = (np.arange(nb) % 3 != 1).astype(np.uint8)
    fr_c = [a.copy() for a in (va, vm, vr, vi)]
    fr_p = [a.copy() for a in (va, vm, vr, vi)]
    ac_c.apply_step(*fr_c, step, live)
    ac_py.apply_step(*fr_p, step, live)
    for a, b, full, orig in zip(fr_c, fr_p, st_c, (va, vm, vr, vi), strict=True):
        assert np.max(np.abs(a - b)) < 1e-14
        assert np.array_equal(a[:, live == 1], full[:, live == 1])
        assert np.array_equal(a[:, live == 0], orig[:, live == 0])
    g = np.ascontiguousarray(rng.standard_normal((2 * n, nb)))
    g_prev = np.ascontiguousarray(g + 0.1 * rng.standard_normal((2 * n, nb)))
    g_prev[:, 0] = g[:, 0]  # no change: gamma 0
    for alias in (False, True):
        s_c = g_prev.copy() if alias else rng.standard_normal((2 * n, nb))
        s_p = s_c.copy()
        gp_c = s_c if alias else g_prev.copy()
        gp_p = s_p if alias else g_prev.copy()
        ac_c.anderson_step(g, gp_c, s_c, 10.0)
        ac_py.anderson_step(g, gp_p, s_p, 10.0)
        assert np.max(np.abs(s_c - s_p)) < 1e-12 * np.max(np.abs(s_p))
        assert np.array_equal(s_c[:, 0], g[:, 0])
    th = np.ascontiguousarray(rng.standard_normal((n, nb)))
    vec = [np.ascontiguousarray(rng.standard_normal(m.n_branch)) for _ in range(7)]
    coef = np.ascontiguousarray(rng.standard_normal(nb))
    order = rng.permutation(m.n_branch).astype(np.int64)
    d_c = ac_c.dc_loading_block(
        th, m.f, m.t, order, vec[0], coef, *vec[1:], np.empty((nb, m.n_branch))
    )
    d_p = ac_py.dc_loading_block(
        th, m.f, m.t, order, vec[0], coef, *vec[1:], np.empty((nb, m.n_branch))
    )
    assert np.allclose(d_c, d_p, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", ["case118", "case2869pegase"])
def test_bridge_kernel_matches_twin(case):
    m = compile_contingency_model(getattr(pn, case)())
    args = (m.n_bus, m.f, m.t, m.branch_in_service.astype(np.uint8), m.ref)
    for a, b in zip(graph_c.bridge_tree(*args), graph_py.bridge_tree(*args), strict=True):
        assert np.array_equal(a, b)
    # a bridge really disconnects: check a few against scipy connected components
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    isb = graph_c.bridge_tree(*args)[0]
    act = m.branch_in_service
    for k in list(np.flatnonzero(isb)[:5]) + list(np.flatnonzero(act & (isb == 0))[:5]):
        keep = act.copy()
        keep[k] = False
        g = sp.coo_matrix((np.ones(keep.sum()), (m.f[keep], m.t[keep])), shape=(m.n_bus,) * 2)
        n_comp = connected_components(g, directed=False)[0]
        assert (n_comp > 1) == bool(isb[k])


def _violation_keys(res):
    v = res.violations
    return set(zip(v.outage, v.element_type, v.element, v.quantity, strict=True))


@pytest.mark.parametrize(
    ("case", "sample"),
    [
        ("case118", None),
        pytest.param("case1354pegase", None, marks=[pytest.mark.slow, pytest.mark.pure_slow]),
        pytest.param("case2869pegase", None, marks=[pytest.mark.slow, pytest.mark.pure_slow]),
        pytest.param("case9241pegase", 2000, marks=[pytest.mark.slow, pytest.mark.pure_slow]),
    ],
)
def test_screen_reports_exactly_the_ac_violations(case, sample):
    # the screen may only clear outages whose every estimate is unambiguous, so the violation
    # set must equal the AC scan's (every outage, or a fixed random sample of case9241pegase)
    net = getattr(pn, case)()
    m = compile_contingency_model(net)
    outages = None
    if sample:
        every = default_outages(net, ("line", "trafo"))
        pick = np.sort(np.random.default_rng(0).choice(len(every), sample, replace=False))
        outages = [every[i] for i in pick]
    base = run_n1(net, model=m, outages=[], mode="ac")
    # pegase cases: the default limits (100 %, 0.9..1.1 pu; many elements are overloaded
    # already in the base case); case118 (lightly loaded): limits just above its base extremes
    lim = dict(max_loading_percent=100.0, vm_min_pu=0.9, vm_max_pu=1.1)
    if case == "case118":
        lim = dict(
            max_loading_percent=float(np.nanmax(base.elements.base_loading_percent)) + 1.5,
            vm_min_pu=float(np.nanmin(base.buses.base_vm_pu)) - 0.01,
            vm_max_pu=float(np.nanmax(base.buses.base_vm_pu)) + 0.01,
        )
    ac = run_n1(net, model=m, mode="ac", outages=outages, **lim)
    sc = run_n1(net, model=m, mode="screen", outages=outages, **lim)
    assert len(ac.violations) > 0
    cleared_out = sc.outages.screened_out.to_numpy()
    # the screen clears most outages (measured 81-86 % on the pegase cases)
    assert cleared_out.mean() > (0.5 if case == "case118" else 0.75)
    assert _violation_keys(ac) == _violation_keys(sc)
    assert list(ac.outages.status) == list(sc.outages.status)
    # values: AC-solved outages agree to the solver tolerance; outages the screen cleared keep
    # their two-step estimate, which lies within the screening margin of the AC value
    key = ["outage", "element_type", "element", "quantity"]
    both = ac.violations.merge(sc.violations, on=key)
    assert len(both) == len(ac.violations)
    cleared = cleared_out[both.outage.to_numpy()]
    # every row of a cleared outage, and only those, is marked as an estimate
    assert np.array_equal(both.estimate_y.to_numpy(), cleared)
    assert not both.estimate_x.any()
    diff = np.abs(both.value_x - both.value_y).to_numpy()
    assert np.all(diff[~cleared] < 1e-5)
    is_ld = (both.quantity == "loading_percent").to_numpy()
    # (each within its own margin; overall: almost all within a tenth of a percent point)
    if (cleared & is_ld).any():
        assert np.quantile(diff[cleared & is_ld], 0.99) < 0.5
    if (cleared & ~is_ld).any():
        assert np.quantile(diff[cleared & ~is_ld], 0.99) < 0.005
    # element and bus tables mark the worst values that come from cleared outages
    el, bus = sc.elements, sc.buses
    cause = el.cause_index.to_numpy()
    assert np.array_equal(el.cause_estimate, (cause >= 0) & cleared_out[np.maximum(cause, 0)])
    assert el.cause_estimate.any()
    vmin = bus.min_vm_cause.to_numpy()
    assert np.array_equal(bus.min_vm_estimate, (vmin >= 0) & cleared_out[np.maximum(vmin, 0)])
    # an AC-solved outage's iterations count the screen's two steps it went on from
    solved = ~cleared_out & (sc.outages.status == "converged").to_numpy()
    assert np.all(sc.outages.iterations.to_numpy()[solved] >= 2)


def test_screen_does_not_clear_a_false_convergence():
    # GBnetwork, trafo 346 / 347: voltage collapse. ac (and pandapower) diverge; two chord
    # steps land near 0.62 pu with a P/Q mismatch of 0.30-0.31 pu left, which the screen
    # must not take for a converged estimate
    net = pn.GBnetwork()
    outages = [(f"trafo {i}", [("trafo", i)]) for i in (346, 347)] + [("line 0", [("line", 0)])]
    ac = run_n1(net, mode="ac", outages=outages)
    sc = run_n1(net, mode="screen", outages=outages)
    assert list(ac.outages.status[:2]) == ["diverged", "diverged"]
    assert list(sc.outages.status) == list(ac.outages.status)
    assert not sc.outages.screened_out.iloc[:2].any()
    assert _violation_keys(ac) == _violation_keys(sc)


def test_full_jacobian_equals_finite_differences(model118):
    # every column of the assembled Jacobian against central differences of the injections
    # S = V conj(Ybus V) at a perturbed state; held rows are identity rows. Central
    # differences with step 1e-6 are exact to about 1e-9 here (second-order error)
    m = model118
    n = m.v0.size
    rng = np.random.default_rng(4)
    va = np.angle(m.v0) + 0.05 * rng.standard_normal(n)
    vm = np.abs(m.v0) * (1 + 0.02 * rng.standard_normal(n))
    held_p = np.zeros(n, dtype=bool)
    held_p[m.ref] = True
    held_q = np.ones(n, dtype=bool)
    held_q[m.pq] = False
    jac = full_jacobian(m.ybus, vm * np.exp(1j * va), held_p, held_q).toarray()

    def inj(x: np.ndarray) -> np.ndarray:
        v = x[n:] * np.exp(1j * x[:n])
        s = v * np.conj(m.ybus @ v)
        return np.concatenate([s.real, s.imag])

    x0 = np.concatenate([va, vm])
    fd = np.empty((2 * n, 2 * n))
    for j in range(2 * n):
        e = np.zeros(2 * n)
        e[j] = 1e-6
        fd[:, j] = (inj(x0 + e) - inj(x0 - e)) / 2e-6
    held = np.concatenate([held_p, held_q])
    fd[held] = np.eye(2 * n)[held]
    assert np.max(np.abs(jac - fd)) < 1e-6 * max(1.0, np.max(np.abs(fd)))


def test_screen_in_chunks_merges_to_the_single_scan_with_its_estimate_marks():
    # a split scan (batch) in screen mode: chunks solve their blocks as the whole scan does,
    # and the merged tables, estimate flags included, equal the single scan's
    from gridplan.studies.batch.n1split import ChunkPart, merge_chunks

    net = pn.case118()
    m = compile_contingency_model(net)
    lim = dict(max_loading_percent=60.0, vm_min_pu=0.95, vm_max_pu=1.05)
    whole = run_n1(net, model=m, mode="screen", block=16, **lim)
    parts = []
    for i in range(3):
        r = run_n1(net, model=m, mode="screen", block=16, chunk=(i, 3), **lim)
        parts.append(ChunkPart(i, r, r.violations, len(r.violations)))
    merged = merge_chunks(parts)
    assert whole.outages.screened_out.any() and not whole.outages.screened_out.all()
    assert whole.elements.cause_estimate.any()
    for name in ("outages", "elements", "buses"):
        a, b = getattr(whole, name), getattr(merged, name)
        assert list(a.columns) == list(b.columns)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    # the same rows (the merged table lists them chunk by chunk)
    cols = ["outage", "element_type", "element", "quantity", "value", "estimate"]
    assert len(whole.violations) > 0 and whole.violations.estimate.any()
    assert sorted(whole.violations[cols].astype(str).values.tolist()) == sorted(
        merged.violations[cols].astype(str).values.tolist()
    )


def test_screen_near_kernel_matches_twin():
    # quantities at, near and far from their thresholds, unchanged ones (margin 0: exact,
    # never near, even sitting on a threshold), NaN (never near) and pre-marked outages
    rng = np.random.default_rng(7)
    nb, m = 40, 300
    th = np.stack([np.full(m, 100.0), 100.0 + rng.uniform(0, 3, m)])
    x = 100.0 + rng.normal(0, 2, (nb, m))
    x1 = x + rng.normal(0, 1e-3, (nb, m)) * (rng.random((nb, m)) < 0.3)
    x[:, :5] = th[0, :5]  # sitting on the limit, unchanged
    x1[:, :5] = x[:, :5]
    x[rng.random((nb, m)) < 0.05] = np.nan
    out0 = (rng.random(nb) < 0.2).astype(np.uint8)
    got_c = ac_c.screen_near(x, x1, th, 2.0, 1e-4, out0.copy())
    got_py = ac_py.screen_near(x, x1, th, 2.0, 1e-4, out0.copy())
    assert np.array_equal(got_c, got_py)
    assert 0 < got_py.sum() < nb
    # an outage whose only quantities sit exactly on a limit, unchanged, is not near
    flat = np.tile(th[0], (2, 1))
    assert not ac_py.screen_near(flat, flat, th, 2.0, 1e-4, np.zeros(2, np.uint8)).any()
    assert not ac_c.screen_near(flat, flat, th, 2.0, 1e-4, np.zeros(2, np.uint8)).any()
