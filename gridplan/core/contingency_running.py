"""Running N-1 statistics over blocks of outages (the ``contingency_stats`` kernel).

Per outage: the most loaded element and the lowest / highest voltage; per monitored element:
the ``top`` worst post-outage loadings and the outages causing them; per bus: the lowest and
highest voltage and their outages; and the violation rows of every block, handed on as they
come. Failed outages (NaN rows) contribute nothing. A block is reduced on its own
(:meth:`RunningStats.reduce`, any thread) and merged in block order (:meth:`RunningStats.merge`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridplan.kernels import contingency_stats


class RunningStats:
    """Running per-outage, per-element and per-bus worst values and violations, by block.

    Parameters
    ----------
    mon_branch : int64 (n_mon, 3)
        Branch rows of every monitored element (-1 padded; a three-winding transformer has
        three); an element's loading is the largest of its branches'.
    mon_order, bus_order : int64
        Order of the elements and buses in an outage's violation rows.
    n_bus, n_out : int
        Numbers of buses and outages.
    own_cols : list of list of int
        Per outage, the monitored elements it takes out (their loading is blanked).
    top : int
        Worst outages kept per element.
    limits : dict
        ``max_loading_percent``, ``vm_min_pu``, ``vm_max_pu``.
    on_violations : callable
        Called in block order, with ``prepare_violations([(outage pos, kind 0/1/2,
        element/bus row, value)])`` for every block that has violation rows (kind 0:
        loading, 1: below ``vm_min_pu``, 2: above ``vm_max_pu``).
    prepare_violations : callable, optional
        Order-free work on a block's violation rows, run by :meth:`reduce` (on any thread;
        default: the rows as they are).
    """

    def __init__(
        self,
        mon_branch: np.ndarray,
        mon_order: np.ndarray,
        bus_order: np.ndarray,
        n_bus: int,
        n_out: int,
        own_cols: list[list[int]],
        top: int,
        limits: dict[str, float],
        on_violations: Callable[[Any], None],
        prepare_violations: Callable[[list[tuple[np.ndarray, ...]]], Any] | None = None,
    ) -> None:
        self.own_cols = own_cols
        self.on_violations = on_violations
        self.prepare_violations = prepare_violations or (lambda parts: parts)
        self.limits = limits
        n_mon = mon_branch.shape[0]
        self.top_val = np.full((n_mon, top), -np.inf)
        self.top_idx = np.full((n_mon, top), -1, dtype=np.int64)
        self.vmin = np.full(n_bus, np.inf)
        self.vmin_idx = np.full(n_bus, -1, dtype=np.int64)
        self.vmax = np.full(n_bus, -np.inf)
        self.vmax_idx = np.full(n_bus, -1, dtype=np.int64)
        self.o_ld = np.full(n_out, np.nan)
        self.o_el = np.full(n_out, -1, dtype=np.int64)
        self.o_vmin = np.full(n_out, np.nan)
        self.o_vmin_bus = np.full(n_out, -1, dtype=np.int64)
        self.o_vmax = np.full(n_out, np.nan)
        self.o_vmax_bus = np.full(n_out, -1, dtype=np.int64)
        self.mon_order = np.ascontiguousarray(mon_order, dtype=np.int64)
        self.bus_order = np.ascontiguousarray(bus_order, dtype=np.int64)
        self.mon_branch = np.ascontiguousarray(mon_branch, dtype=np.int64)

    def reduce(
        self, pos: np.ndarray, ok: np.ndarray, ld: np.ndarray, vm: np.ndarray
    ) -> BlockReduction:
        """The order-free work of one block (any thread, several at once): element loading,
        per-outage worst values, the block's top-N per element and extremes per bus, the
        violation rows (passed through ``prepare_violations``). Reads only settings fixed at
        construction; ``ld`` branch loading (B, n_br) %, ``vm`` |V| (B, n) pu, NaN = n/a."""
        nb = pos.size
        n_mon = self.mon_branch.shape[0]
        n_bus = vm.shape[1]
        own = [self.own_cols[p] for p in pos]
        own_ptr = np.zeros(nb + 1, dtype=np.int64)
        own_ptr[1:] = np.cumsum([len(c) for c in own])
        own_idx = np.array([c for cs in own for c in cs], dtype=np.int64)
        red = BlockReduction(
            pos=np.ascontiguousarray(pos, dtype=np.int64),
            eld=np.empty((nb, n_mon)),
            cand_val=np.empty((n_mon, self.top_val.shape[1])),
            cand_pos=np.empty((n_mon, self.top_val.shape[1]), dtype=np.int64),
            o_val=np.empty((nb, 3)),
            o_arg=np.empty((nb, 3), dtype=np.int64),
            b_val=np.empty((2, n_bus)),
            b_pos=np.empty((2, n_bus), dtype=np.int64),
        )
        lim = self.limits
        parts = contingency_stats.block_reduce(
            np.ascontiguousarray(ld, dtype=np.float64),
            self.mon_branch,
            np.ascontiguousarray(vm, dtype=np.float64),
            red.pos,
            np.ascontiguousarray(ok, dtype=np.uint8),
            own_ptr,
            own_idx,
            self.mon_order,
            self.bus_order,
            lim["max_loading_percent"],
            lim["vm_min_pu"],
            lim["vm_max_pu"],
            red.eld,
            red.cand_val,
            red.cand_pos,
            red.o_val,
            red.o_arg,
            red.b_val,
            red.b_pos,
        )
        if parts[0].size:
            red.violations = self.prepare_violations([parts])
        return red

    def merge(self, red: BlockReduction) -> np.ndarray:
        """Fold in a reduced block (blocks in scan order: ties go to the earlier block, as
        :meth:`add` would have them); hands its violations to ``on_violations``.

        Returns the block's element loading (B, n_mon), the outaged elements blanked.
        """
        contingency_stats.merge_block(
            red.pos,
            red.o_val,
            red.o_arg,
            red.cand_val,
            red.cand_pos,
            red.b_val,
            red.b_pos,
            self.top_val,
            self.top_idx,
            self.vmin,
            self.vmin_idx,
            self.vmax,
            self.vmax_idx,
            self.o_ld,
            self.o_el,
            self.o_vmin,
            self.o_vmin_bus,
            self.o_vmax,
            self.o_vmax_bus,
        )
        if red.violations is not None:
            self.on_violations(red.violations)
        return red.eld

    def add(self, pos: np.ndarray, ok: np.ndarray, ld: np.ndarray, vm: np.ndarray) -> np.ndarray:
        """Fold in one block: :meth:`reduce` then :meth:`merge`; returns the element loading
        (B, n_mon) %, the outaged elements blanked."""
        return self.merge(self.reduce(pos, ok, ld, vm))


@dataclass
class BlockReduction:
    """What :meth:`RunningStats.reduce` keeps of one block for :meth:`RunningStats.merge`
    (arrays as in :func:`gridplan.core.contingency_stats.block_reduce`)."""

    pos: np.ndarray  # int64 (B,), outage positions
    eld: np.ndarray  # float64 (B, n_mon), element loading, %
    cand_val: np.ndarray  # float64 (n_mon, top), the block's worst loadings per element, %
    cand_pos: np.ndarray  # int64 (n_mon, top), their outages
    o_val: np.ndarray  # float64 (B, 3), worst loading %, lowest and highest |V| pu
    o_arg: np.ndarray  # int64 (B, 3), their element / bus rows
    b_val: np.ndarray  # float64 (2, n_bus), lowest and highest |V| per bus, pu
    b_pos: np.ndarray  # int64 (2, n_bus), their outages
    violations: Any = None  # prepare_violations of the violation rows (None: no rows)
