"""Running N-1 statistics over blocks of outages (the ``contingency_stats`` kernel).

Per outage: the most loaded element and the lowest / highest voltage; per monitored element:
the ``top`` worst post-outage loadings and the outages causing them; per bus: the lowest and
highest voltage and their outages; and the violation rows of every block, handed on as they
come. Failed outages (NaN rows) contribute nothing.
"""

from __future__ import annotations

from collections.abc import Callable

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
        Called with ``[(outage pos, kind 0/1/2, element/bus row, value)]`` for every block that
        has violation rows (kind 0: loading, 1: below ``vm_min_pu``, 2: above ``vm_max_pu``).
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
        on_violations: Callable[[list[tuple[np.ndarray, ...]]], None],
    ) -> None:
        self.own_cols = own_cols
        self.on_violations = on_violations
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
        self._eld_buf = np.empty((0, self.mon_branch.shape[0]))

    def add(self, pos: np.ndarray, ok: np.ndarray, ld: np.ndarray, vm: np.ndarray) -> np.ndarray:
        """Fold in one block; ``ld`` branch loading (B, n_br), ``vm`` |V| (B, n), NaN = n/a.

        Returns the element loading (B, n_mon), the outaged elements blanked.
        """
        own = [self.own_cols[p] for p in pos]
        own_ptr = np.zeros(pos.size + 1, dtype=np.int64)
        own_ptr[1:] = np.cumsum([len(c) for c in own])
        own_idx = np.array([c for cs in own for c in cs], dtype=np.int64)
        if self._eld_buf.shape[0] < pos.size:
            self._eld_buf = np.empty((pos.size, self.mon_branch.shape[0]))
        eld = self._eld_buf[: pos.size]  # reused: callers copy what they keep
        lim = self.limits
        parts = contingency_stats.block_stats(
            np.ascontiguousarray(ld, dtype=np.float64),
            self.mon_branch,
            np.ascontiguousarray(vm, dtype=np.float64),
            np.ascontiguousarray(pos, dtype=np.int64),
            np.ascontiguousarray(ok, dtype=np.uint8),
            own_ptr,
            own_idx,
            self.mon_order,
            self.bus_order,
            lim["max_loading_percent"],
            lim["vm_min_pu"],
            lim["vm_max_pu"],
            eld,
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
        if parts[0].size:
            self.on_violations([parts])
        return eld
