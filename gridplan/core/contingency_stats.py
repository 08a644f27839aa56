"""Per-block N-1 statistics (numpy twin of ``ext/contingency_stats.pyx``).

:func:`block_stats` folds a block into the running arrays in one call; :func:`block_reduce`
(the block on its own, any thread) and :func:`merge_block` (in block order) split it.
"""

from __future__ import annotations

import numpy as np


def block_stats(
    ld: np.ndarray,
    mon_branch: np.ndarray,
    vm: np.ndarray,
    pos: np.ndarray,
    ok: np.ndarray,
    own_ptr: np.ndarray,
    own_idx: np.ndarray,
    mon_order: np.ndarray,
    bus_order: np.ndarray,
    max_ld: float,
    vm_lo: float,
    vm_hi: float,
    eld: np.ndarray,
    top_val: np.ndarray,
    top_idx: np.ndarray,
    vmin: np.ndarray,
    vmin_idx: np.ndarray,
    vmax: np.ndarray,
    vmax_idx: np.ndarray,
    o_ld: np.ndarray,
    o_el: np.ndarray,
    o_vmin: np.ndarray,
    o_vmin_bus: np.ndarray,
    o_vmax: np.ndarray,
    o_vmax_bus: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Statistics of one block of solved outages, updating the running arrays in place.

    Parameters
    ----------
    ld : float64 (B, n_br)
        Branch loading, percent (NaN: not available, e.g. out of service or cut off).
    mon_branch : int64 (n_mon, 3)
        Branch rows of each monitored element (-1 padded); its loading is the largest.
    vm : float64 (B, n_bus) or (B, 0)
        Voltage magnitudes, pu (NaN: not available); no columns: no voltage statistics.
    pos : int64 (B,)
        Outage position of each row (index into the ``o_*`` arrays).
    ok : uint8 (B,)
        1 for rows that enter the statistics (solved), 0 for rows that do not.
    own_ptr, own_idx : int64
        CSR over the rows: element rows blanked (NaN) in ``eld`` (the outaged elements).
    mon_order, bus_order : int64
        Order in which violation rows of one outage are listed.
    max_ld, vm_lo, vm_hi : float
        Loading limit (percent) and voltage band (pu).
    eld : float64 (B, n_mon)
        Output: element loading, percent.
    top_val, top_idx : float64 / int64 (n_mon, top)
        Running worst loadings per element (descending, -inf empty) and their outages.
    vmin, vmin_idx, vmax, vmax_idx : (n_bus,)
        Running lowest / highest voltage per bus and the outage causing it.
    o_ld, o_el, o_vmin, o_vmin_bus, o_vmax, o_vmax_bus : (n_out,)
        Output per outage: worst element loading and its row, lowest and highest voltage
        and their bus rows (left unchanged where nothing is available).

    Returns
    -------
    (pos int64, kind int8, row int64, value float64)
        Violation rows: kind 0 loading (element row), 1 low and 2 high voltage (bus row);
        grouped by outage in ascending ``pos``, loading before voltage.
    """
    nb = ld.shape[0]
    out = ld[:, mon_branch[:, 0]]
    for c in (1, 2):
        has = mon_branch[:, c] >= 0
        if has.any():
            out[:, has] = np.fmax(out[:, has], ld[:, mon_branch[has, c]])
    eld[...] = out
    for j in range(nb):
        eld[j, own_idx[own_ptr[j] : own_ptr[j + 1]]] = np.nan
    rows = np.argsort(pos, kind="stable")
    rows = rows[ok[rows].astype(bool)]
    empty = (
        np.zeros(0, np.int64),
        np.zeros(0, np.int8),
        np.zeros(0, np.int64),
        np.zeros(0, np.float64),
    )
    if rows.size == 0:
        return empty
    e = eld[rows]
    v = vm[rows]
    p = pos[rows]
    top = top_val.shape[1]

    fin = np.isfinite(e)
    has = fin.any(axis=1)
    am = np.argmax(np.where(fin, e, -np.inf), axis=1)
    o_ld[p[has]] = e[has, am[has]]
    o_el[p[has]] = am[has]
    finv = np.isfinite(v)
    hasv = finv.any(axis=1)
    if v.shape[1]:
        lo = np.argmin(np.where(finv, v, np.inf), axis=1)
        hi = np.argmax(np.where(finv, v, -np.inf), axis=1)
        o_vmin[p[hasv]] = v[hasv, lo[hasv]]
        o_vmin_bus[p[hasv]] = lo[hasv]
        o_vmax[p[hasv]] = v[hasv, hi[hasv]]
        o_vmax_bus[p[hasv]] = hi[hasv]

    # top-N: existing entries first, then this block's rows in ascending pos, stable
    blk = np.where(fin, e, -np.inf)
    sub = np.flatnonzero(blk.max(axis=0) > top_val[:, -1])
    if sub.size:
        cols = blk[:, sub].T
        k = min(top, cols.shape[1])
        pick = np.argsort(-cols, axis=1, kind="stable")[:, :k]
        cand_v = np.concatenate([top_val[sub], np.take_along_axis(cols, pick, 1)], axis=1)
        cand_i = np.concatenate([top_idx[sub], p[pick]], axis=1)
        sel = np.argsort(-cand_v, axis=1, kind="stable")[:, :top]
        new_v = np.take_along_axis(cand_v, sel, 1)
        new_i = np.take_along_axis(cand_i, sel, 1)
        top_val[sub] = new_v
        top_idx[sub] = np.where(np.isneginf(new_v), top_idx[sub], new_i)

    if v.shape[1] == 0:  # no voltages (dc): only the loading part
        bus_order = bus_order[:0]
    else:
        vlo = np.where(finv, v, np.inf)
        j = np.argmin(vlo, axis=0)
        val = vlo[j, np.arange(v.shape[1])]
        better = val < vmin
        vmin[better] = val[better]
        vmin_idx[better] = p[j[better]]
        vhi = np.where(finv, v, -np.inf)
        j = np.argmax(vhi, axis=0)
        val = vhi[j, np.arange(v.shape[1])]
        better = val > vmax
        vmax[better] = val[better]
        vmax_idx[better] = p[j[better]]

    with np.errstate(invalid="ignore"):
        eo = e[:, mon_order]
        r0, c0 = np.nonzero(eo > max_ld)
        vo = v[:, bus_order]
        r1, c1 = np.nonzero((vo < vm_lo) | (vo > vm_hi))
    val1 = vo[r1, c1]
    row_all = np.concatenate([r0, r1])
    kind = np.concatenate(
        [np.zeros(r0.size, np.int8), np.where(val1 < vm_lo, 1, 2).astype(np.int8)]
    )
    idx = np.concatenate([mon_order[c0], bus_order[c1]])
    value = np.concatenate([eo[r0, c0], val1])
    order = np.argsort(row_all, kind="stable")  # loading rows precede voltage rows per outage
    return (
        p[row_all[order]].astype(np.int64),
        kind[order],
        idx[order].astype(np.int64),
        value[order],
    )


def block_reduce(
    ld: np.ndarray,
    mon_branch: np.ndarray,
    vm: np.ndarray,
    pos: np.ndarray,
    ok: np.ndarray,
    own_ptr: np.ndarray,
    own_idx: np.ndarray,
    mon_order: np.ndarray,
    bus_order: np.ndarray,
    max_ld: float,
    vm_lo: float,
    vm_hi: float,
    eld: np.ndarray,
    cand_val: np.ndarray,
    cand_pos: np.ndarray,
    o_val: np.ndarray,
    o_arg: np.ndarray,
    b_val: np.ndarray,
    b_pos: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The order-free part of :func:`block_stats`: one block against an empty history.

    Reads only its arguments and writes only the outputs below, so blocks can be reduced on
    several threads at once; :func:`merge_block` then folds them in block order into the
    running arrays, with exactly the results of :func:`block_stats` on the same blocks.

    Parameters
    ----------
    ld, mon_branch, vm, pos, ok, own_ptr, own_idx, mon_order, bus_order, max_ld, vm_lo, vm_hi
        As in :func:`block_stats`.
    eld : float64 (B, n_mon)
        Output: element loading, percent.
    cand_val, cand_pos : float64 / int64 (n_mon, top)
        Output: the block's ``top`` worst loadings per element (descending, ties to the lower
        outage, -inf padded) and their outage positions (-1 padded).
    o_val, o_arg : float64 / int64 (B, 3)
        Output per row: worst element loading (%), lowest and highest voltage (pu) and
        their element / bus rows (NaN and -1 where nothing is available or not ``ok``).
    b_val, b_pos : float64 / int64 (2, n_bus)
        Output per bus: lowest (row 0, +inf when none) and highest (row 1, -inf when none)
        voltage of the block, pu, and the outage position causing it (-1 when none).

    Returns
    -------
    (pos int64, kind int8, row int64, value float64)
        The violation rows, as :func:`block_stats` returns them.
    """
    nb = pos.size
    top = cand_val.shape[1]
    n_mon, n_bus = mon_branch.shape[0], vm.shape[1]
    # block_stats on the ranks of pos (same row order) with a fresh history, mapped back
    sorted_pos = np.sort(pos)
    rank = np.searchsorted(sorted_pos, pos).astype(np.int64)
    top_val = np.full((n_mon, top), -np.inf)
    top_idx = np.full((n_mon, top), -1, dtype=np.int64)
    vmin, vmax = np.full(n_bus, np.inf), np.full(n_bus, -np.inf)
    vmin_idx, vmax_idx = np.full(n_bus, -1, dtype=np.int64), np.full(n_bus, -1, dtype=np.int64)
    o = [np.full(nb, np.nan) if c % 2 == 0 else np.full(nb, -1, dtype=np.int64) for c in range(6)]
    vp, vk, vr, vv = block_stats(
        ld,
        mon_branch,
        vm,
        rank,
        ok,
        own_ptr,
        own_idx,
        mon_order,
        bus_order,
        max_ld,
        vm_lo,
        vm_hi,
        eld,
        top_val,
        top_idx,
        vmin,
        vmin_idx,
        vmax,
        vmax_idx,
        *o,
    )

    def back(idx: np.ndarray) -> np.ndarray:
        return np.where(idx >= 0, sorted_pos[np.maximum(idx, 0)], -1)

    cand_val[...] = top_val
    cand_pos[...] = back(top_idx)
    for c in range(3):
        o_val[:, c] = o[2 * c][rank]
        o_arg[:, c] = o[2 * c + 1][rank]
    b_val[0], b_val[1] = vmin, vmax
    b_pos[0], b_pos[1] = back(vmin_idx), back(vmax_idx)
    return sorted_pos[vp].astype(np.int64), vk, vr, vv


def merge_block(
    pos: np.ndarray,
    o_val: np.ndarray,
    o_arg: np.ndarray,
    cand_val: np.ndarray,
    cand_pos: np.ndarray,
    b_val: np.ndarray,
    b_pos: np.ndarray,
    top_val: np.ndarray,
    top_idx: np.ndarray,
    vmin: np.ndarray,
    vmin_idx: np.ndarray,
    vmax: np.ndarray,
    vmax_idx: np.ndarray,
    o_ld: np.ndarray,
    o_el: np.ndarray,
    o_vmin: np.ndarray,
    o_vmin_bus: np.ndarray,
    o_vmax: np.ndarray,
    o_vmax_bus: np.ndarray,
) -> None:
    """Fold one :func:`block_reduce` output into the running arrays (see :func:`block_stats`)."""
    for c, (val, arg) in enumerate(((o_ld, o_el), (o_vmin, o_vmin_bus), (o_vmax, o_vmax_bus))):
        has = o_arg[:, c] >= 0
        val[pos[has]] = o_val[has, c]
        arg[pos[has]] = o_arg[has, c]
    top = top_val.shape[1]
    # existing entries first, then the block's (already in order), stable
    sub = np.flatnonzero(cand_val[:, 0] > top_val[:, -1]) if cand_val.shape[1] else []
    if len(sub):
        cand_v = np.concatenate([top_val[sub], cand_val[sub]], axis=1)
        cand_i = np.concatenate([top_idx[sub], cand_pos[sub]], axis=1)
        sel = np.argsort(-cand_v, axis=1, kind="stable")[:, :top]
        new_v = np.take_along_axis(cand_v, sel, 1)
        new_i = np.take_along_axis(cand_i, sel, 1)
        top_val[sub] = new_v
        top_idx[sub] = np.where(np.isneginf(new_v), top_idx[sub], new_i)
    if b_val.shape[1] == 0:  # no voltages (dc): the voltage arrays stay as they are
        return
    better = b_val[0] < vmin
    vmin[better] = b_val[0, better]
    vmin_idx[better] = b_pos[0, better]
    better = b_val[1] > vmax
    vmax[better] = b_val[1, better]
    vmax_idx[better] = b_pos[1, better]
