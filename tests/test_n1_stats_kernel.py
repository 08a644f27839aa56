"""The compiled per-block N-1 statistics kernel equals its numpy twin and a hand-worked block."""

from __future__ import annotations

import gridplan._ext.contingency_stats as st_c
import numpy as np

import gridplan.core.contingency_stats as st_py


def _state(n_out: int, n_mon: int, n_bus: int, top: int) -> list[np.ndarray]:
    return [
        np.full((n_mon, top), -np.inf),
        np.full((n_mon, top), -1, dtype=np.int64),
        np.full(n_bus, np.inf),
        np.full(n_bus, -1, dtype=np.int64),
        np.full(n_bus, -np.inf),
        np.full(n_bus, -1, dtype=np.int64),
        np.full(n_out, np.nan),
        np.full(n_out, -1, dtype=np.int64),
        np.full(n_out, np.nan),
        np.full(n_out, -1, dtype=np.int64),
        np.full(n_out, np.nan),
        np.full(n_out, -1, dtype=np.int64),
    ]


def _run(mod, blocks, mon_branch, n_out, n_bus, top, limits):
    state = _state(n_out, mon_branch.shape[0], n_bus, top)
    mon_order = np.argsort(-np.arange(mon_branch.shape[0])).astype(np.int64)
    bus_order = np.arange(n_bus, dtype=np.int64)
    viol, elds = [], []
    for ld, vm, pos, ok, own_ptr, own_idx in blocks:
        eld = np.empty((pos.size, mon_branch.shape[0]))
        viol.append(
            mod.block_stats(
                ld,
                mon_branch,
                vm,
                pos,
                ok,
                own_ptr,
                own_idx,
                mon_order,
                bus_order,
                *limits,
                eld,
                *state,
            )
        )
        elds.append(eld)
    return state, viol, elds


def test_stats_kernel_matches_twin_on_random_blocks():
    rng = np.random.default_rng(7)
    n_br, n_bus, n_out, top = 40, 25, 60, 3
    mon_branch = np.full((30, 3), -1, dtype=np.int64)
    mon_branch[:, 0] = rng.permutation(n_br)[:30]
    mon_branch[27:, 1:] = rng.integers(0, n_br, size=(3, 2))  # three trafo3w-like elements
    perm = rng.permutation(n_out)
    blocks = []
    for s in range(0, n_out, 16):
        pos = np.ascontiguousarray(perm[s : s + 16], dtype=np.int64)
        b = pos.size
        ld = rng.uniform(0, 130, size=(b, n_br))
        ld[rng.random((b, n_br)) < 0.1] = np.nan
        ld[0, :5] = 120.0  # exact ties inside a block
        vm = rng.uniform(0.85, 1.15, size=(b, n_bus))
        vm[rng.random((b, n_bus)) < 0.05] = np.nan
        ok = (rng.random(b) < 0.9).astype(np.uint8)
        own = [rng.integers(0, 30, size=rng.integers(0, 3)) for _ in range(b)]
        own_ptr = np.concatenate([[0], np.cumsum([o.size for o in own])]).astype(np.int64)
        own_idx = np.concatenate(own).astype(np.int64)
        blocks.append((ld, vm, pos, ok, own_ptr, own_idx))
    limits = (100.0, 0.9, 1.1)
    sc, vc, ec = _run(st_c, blocks, mon_branch, n_out, n_bus, top, limits)
    sp_, vp, ep = _run(st_py, blocks, mon_branch, n_out, n_bus, top, limits)
    # same arithmetic (comparisons and copies only): identical, NaN where NaN
    for a, b in zip(sc, sp_, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(ec, ep, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(vc, vp, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    assert sum(v[0].size for v in vc) > 100
    # no voltage columns (dc): loading statistics only, voltage outputs untouched
    blocks0 = [(ld, np.empty((ld.shape[0], 0)), *rest) for ld, _, *rest in blocks]
    sc0, vc0, _ = _run(st_c, blocks0, mon_branch, n_out, n_bus, top, limits)
    sp0, vp0, _ = _run(st_py, blocks0, mon_branch, n_out, n_bus, top, limits)
    for a, b in zip(sc0, sp0, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(vc0, vp0, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(sc0[0], sc[0])  # same top-N loadings as with voltages
    assert np.isinf(sc0[2]).all() and np.isnan(sc0[8]).all()  # no bus / outage voltages
    assert all((v[1] == 0).all() for v in vc0)  # loading rows only


def test_stats_kernel_hand_worked_block():
    # 2 elements (element 1 = max of branches 1 and 2), 3 buses, 3 outages in one block
    mon_branch = np.array([[0, -1, -1], [1, 2, -1]], dtype=np.int64)
    ld = np.array([[50.0, 90.0, 110.0], [120.0, 10.0, np.nan], [80.0, 95.0, 20.0]])
    vm = np.array([[1.0, 0.95, 1.12], [1.0, 0.85, 1.0], [np.nan, 1.0, 1.0]])
    pos = np.array([2, 0, 1], dtype=np.int64)
    ok = np.array([1, 1, 1], dtype=np.uint8)
    own_ptr = np.array([0, 0, 1, 1], dtype=np.int64)  # outage 0 (row 1) blanks element 0
    own_idx = np.array([0], dtype=np.int64)
    for mod in (st_c, st_py):
        state = _state(3, 2, 3, 2)
        eld = np.empty((3, 2))
        v = mod.block_stats(
            ld,
            mon_branch,
            vm,
            pos,
            ok,
            own_ptr,
            own_idx,
            np.array([0, 1], dtype=np.int64),
            np.arange(3, dtype=np.int64),
            100.0,
            0.9,
            1.1,
            eld,
            *state,
        )
        np.testing.assert_array_equal(eld, [[50.0, 110.0], [np.nan, 10.0], [80.0, 95.0]])
        top_val, top_idx, vmin, vmin_idx, vmax, vmax_idx, o_ld, o_el = state[:8]
        np.testing.assert_array_equal(top_val, [[80.0, 50.0], [110.0, 95.0]])
        np.testing.assert_array_equal(top_idx, [[1, 2], [2, 1]])
        np.testing.assert_array_equal(vmin, [1.0, 0.85, 1.0])
        np.testing.assert_array_equal(vmin_idx, [0, 0, 0])  # ties: the lower outage
        np.testing.assert_array_equal(vmax, [1.0, 1.0, 1.12])
        np.testing.assert_array_equal(vmax_idx, [0, 1, 2])
        np.testing.assert_array_equal(o_ld, [10.0, 95.0, 110.0])
        np.testing.assert_array_equal(o_el, [1, 1, 1])
        # violations: outage 0 bus 1 low; outage 2 element 1 loading, then bus 2 high
        np.testing.assert_array_equal(v[0], [0, 2, 2])
        np.testing.assert_array_equal(v[1], [1, 0, 2])
        np.testing.assert_array_equal(v[2], [1, 1, 2])
        np.testing.assert_array_equal(v[3], [0.85, 110.0, 1.12])


def _reduce_merge(mod, blocks, mon_branch, n_out, n_bus, top, limits, mon_order, bus_order):
    """block_reduce every block first (as the solver threads do), then merge_block in order."""
    state = _state(n_out, mon_branch.shape[0], n_bus, top)
    reduced = []
    for ld, vm, pos, ok, own_ptr, own_idx in blocks:
        b, n_mon = pos.size, mon_branch.shape[0]
        out = [
            np.empty((b, n_mon)),
            np.empty((n_mon, top)),
            np.empty((n_mon, top), dtype=np.int64),
            np.empty((b, 3)),
            np.empty((b, 3), dtype=np.int64),
            np.empty((2, vm.shape[1])),
            np.empty((2, vm.shape[1]), dtype=np.int64),
        ]
        viol = mod.block_reduce(
            ld, mon_branch, vm, pos, ok, own_ptr, own_idx, mon_order, bus_order, *limits, *out
        )
        reduced.append((pos, out, viol))
    for pos, out, _ in reduced:
        mod.merge_block(pos, *out[3:5], *out[1:3], *out[5:7], *state)
    return state, [v for _, _, v in reduced], [o[0] for _, o, _ in reduced], reduced


def _tied_blocks(rng, n_br, n_bus, n_out, size):
    """Random blocks with many exact ties, NaN and inf loadings, NaN voltages."""
    perm = rng.permutation(n_out)
    blocks = []
    for s in range(0, n_out, size):
        pos = np.ascontiguousarray(perm[s : s + size], dtype=np.int64)
        b = pos.size
        ld = np.round(rng.uniform(0, 130, size=(b, n_br)), 0)
        ld[rng.random((b, n_br)) < 0.1] = np.nan
        ld[rng.random((b, n_br)) < 0.02] = np.inf
        vm = np.round(rng.uniform(0.85, 1.15, size=(b, n_bus)), 2)
        vm[rng.random((b, n_bus)) < 0.05] = np.nan
        ok = (rng.random(b) < 0.9).astype(np.uint8)
        own = [rng.integers(0, 30, size=rng.integers(0, 3)) for _ in range(b)]
        own_ptr = np.concatenate([[0], np.cumsum([o.size for o in own])]).astype(np.int64)
        blocks.append((ld, vm, pos, ok, own_ptr, np.concatenate(own).astype(np.int64)))
    return blocks


def _block_stats_run(blocks, mon_branch, n_out, n_bus, top, limits, orders):
    """The reference: compiled block_stats over the blocks in order."""
    state = _state(n_out, mon_branch.shape[0], n_bus, top)
    viol, elds = [], []
    for ld, vm, pos, ok, own_ptr, own_idx in blocks:
        eld = np.empty((pos.size, mon_branch.shape[0]))
        args = (ld, mon_branch, vm, pos, ok, own_ptr, own_idx, *orders, *limits, eld)
        viol.append(st_c.block_stats(*args, *state))
        elds.append(eld)
    return state, viol, elds


def _assert_same(got, ref):
    for a, b in zip(got, ref, strict=True):
        if isinstance(a, (list, tuple)):
            _assert_same(a, b)
        else:
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype


def test_reduce_then_merge_equals_block_stats_and_twin():
    # the threaded scan's split (block_reduce on any thread, merge_block in block order)
    # gives block_stats's results bit for bit, compiled and twin alike, with exact ties
    # inside and across blocks, voltages and none (dc), rows listed out of order
    rng = np.random.default_rng(11)
    n_br, n_bus, n_out = 40, 25, 90
    mon_branch = np.full((30, 3), -1, dtype=np.int64)
    mon_branch[:, 0] = rng.permutation(n_br)[:30]
    mon_branch[27:, 1:] = rng.integers(0, n_br, size=(3, 2))
    blocks = _tied_blocks(rng, n_br, n_bus, n_out, 13)
    limits = (100.0, 0.9, 1.1)
    for top in (1, 3, 20):  # 20: more than a block's rows
        for nb_ in (n_bus, 0):
            blk = [(ld, vm[:, :nb_], *r) for ld, vm, *r in blocks]
            orders = (
                np.argsort(-np.arange(30)).astype(np.int64),
                np.arange(nb_, dtype=np.int64)[::-1].copy(),
            )
            # (no voltage columns: the running bus arrays, n_bus long, stay untouched)
            ref = _block_stats_run(blk, mon_branch, n_out, n_bus, top, limits, orders)
            got = {}
            for mod in (st_c, st_py):
                *res, got[mod] = _reduce_merge(
                    mod, blk, mon_branch, n_out, n_bus, top, limits, *orders
                )
                _assert_same(res, ref)
            # the block-own outputs themselves: compiled == twin
            _assert_same([o for _, o, _ in got[st_c]], [o for _, o, _ in got[st_py]])
