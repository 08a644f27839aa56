"""Batched Newton-Raphson for many states of one grid (numpy/scipy only).

All states share the admittance matrix and the bus types; they differ in their injections.
A block of states is iterated together with one factorized Jacobian (the chord / "dishonest"
Newton method: one sparse LU, one multi-right-hand-side solve per iteration for the whole
block). States that still converge slowly after a few chord steps get a Jacobian of their own
(exact Newton, one LU per iteration and state). Convergence test and tolerance are pandapower's:
infinity norm of the pu power mismatch below ``tol``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from gridplan.kernels import timeseries_nr


@dataclass
class BlockSolution:
    """Per-state solution of a block."""

    v: np.ndarray  # complex128 (n_states, n_bus), pu
    iterations: np.ndarray  # int32 (n_states,), Newton/chord iterations spent
    converged: np.ndarray  # bool (n_states,)
    max_mismatch_pu: np.ndarray  # float64 (n_states,), final infinity norm of the mismatch
    factorizations: int  # Jacobian LU factorizations spent on the block


class BatchNewton:
    """Solve blocks of power-flow states with a shared admittance matrix.

    Parameters
    ----------
    ybus : complex (n_bus, n_bus) sparse
        Bus admittance matrix, pu.
    pv, pq : int64
        Internal positions of the pv and pq buses (every other bus is a reference bus).
    tol : float
        Convergence tolerance on the infinity norm of the power mismatch, pu (pandapower's
        ``tolerance_mva`` applied to the pu mismatch).
    max_iter : int
        Newton iterations allowed per state after the chord phase.
    chord_iter : int
        Chord iterations with the shared Jacobian before slow states get their own.
    """

    def __init__(
        self,
        ybus: sp.spmatrix,
        pv: np.ndarray,
        pq: np.ndarray,
        *,
        tol: float = 1e-8,
        max_iter: int = 10,
        chord_iter: int = 8,
    ) -> None:
        y = sp.csr_matrix(ybus, dtype=np.complex128)
        y.sum_duplicates()
        y.sort_indices()
        self.ybus = y
        self.indptr = np.ascontiguousarray(y.indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(y.indices, dtype=np.int64)
        self.data = np.ascontiguousarray(y.data, dtype=np.complex128)
        self.pv = np.ascontiguousarray(pv, dtype=np.int64)
        self.pq = np.ascontiguousarray(pq, dtype=np.int64)
        self.pvpq = np.ascontiguousarray(np.r_[self.pv, self.pq], dtype=np.int64)
        self.tol = float(tol)
        self.max_iter = int(max_iter)
        self.chord_iter = int(chord_iter)

    # -- Jacobian ---------------------------------------------------------------------
    def jacobian(self, v: np.ndarray) -> sp.csc_matrix:
        """Newton Jacobian at one state ``v`` (complex (n_bus,)), pandapower's layout."""
        y = self.ybus
        i_bus = y @ v
        diag_v = sp.diags(v)
        diag_i = sp.diags(i_bus)
        diag_vn = sp.diags(v / np.abs(v))
        ds_dvm = diag_v @ (y @ diag_vn).conj() + diag_i.conj() @ diag_vn
        ds_dva = 1j * diag_v @ (diag_i - y @ diag_v).conj()
        pvpq, pq = self.pvpq, self.pq
        j11 = ds_dva[pvpq][:, pvpq].real
        j12 = ds_dvm[pvpq][:, pq].real
        j21 = ds_dva[pq][:, pvpq].imag
        j22 = ds_dvm[pq][:, pq].imag
        return sp.block_array([[j11, j12], [j21, j22]], format="csc")

    def _factor(self, v: np.ndarray) -> tuple[np.ndarray, ...]:
        """LU factors of the Jacobian at ``v`` as the arrays ``timeseries_nr.lu_solve`` takes."""
        lu = splu(self.jacobian(v), permc_spec="COLAMD")
        lo, up = lu.L, lu.U

        def i64(a: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(a, dtype=np.int64)

        return (
            i64(lo.indptr),
            i64(lo.indices),
            np.ascontiguousarray(lo.data),
            i64(up.indptr),
            i64(up.indices),
            np.ascontiguousarray(up.data),
            i64(lu.perm_r),
            i64(lu.perm_c),
        )

    def _step(
        self, lu: tuple[np.ndarray, ...], f: np.ndarray, va: np.ndarray, vm: np.ndarray
    ) -> np.ndarray:
        dx = timeseries_nr.lu_solve(*lu, np.ascontiguousarray(f))
        np.negative(dx, out=dx)
        return timeseries_nr.update_voltage(va, vm, dx, self.pvpq, self.pq)

    def _mismatch(self, v: np.ndarray, sbus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return timeseries_nr.mismatch(
            v, self.indptr, self.indices, self.data, sbus, self.pvpq, self.pq
        )

    def _chord(
        self,
        lu: tuple[np.ndarray, ...],
        rows: np.ndarray,
        v: np.ndarray,
        va: np.ndarray,
        vm: np.ndarray,
        sbus: np.ndarray,
        iters: np.ndarray,
        conv: np.ndarray,
        norm_out: np.ndarray,
        n_iter: int,
    ) -> None:
        """Chord iterations on states ``rows`` with one factorized Jacobian (arrays in place).

        A state leaves when converged, when its mismatch shrinks by less than half in one
        step (it needs a better Jacobian), or after ``n_iter`` steps.
        """
        active = rows
        prev = None
        for it in range(n_iter + 1):
            f, norm = self._mismatch(v[active], sbus[active])
            norm_out[active] = norm
            done = norm < self.tol
            conv[active[done]] = True
            keep = ~done & np.isfinite(norm)
            if prev is not None:
                keep &= norm <= 0.5 * prev
            active, f, norm = active[keep], f[keep], norm[keep]
            if active.size == 0 or it == n_iter:
                return
            va_a, vm_a = va[active], vm[active]
            v[active] = self._step(lu, f, va_a, vm_a)
            va[active], vm[active] = va_a, vm_a
            iters[active] += 1
            prev = norm

    def _newton(
        self,
        k: int,
        v: np.ndarray,
        va: np.ndarray,
        vm: np.ndarray,
        sbus: np.ndarray,
        iters: np.ndarray,
        conv: np.ndarray,
        norm_out: np.ndarray,
    ) -> tuple[tuple[np.ndarray, ...] | None, int]:
        """Exact Newton on state ``k`` (arrays in place); returns its last LU and the count."""
        rows = np.array([k])
        lu = None
        n_fact = 0
        for _ in range(self.max_iter):
            f, norm = self._mismatch(v[k : k + 1], sbus[k : k + 1])
            norm_out[k] = norm[0]
            if norm[0] < self.tol:
                conv[k] = True
                return lu, n_fact
            if not np.isfinite(norm[0]):
                return None, n_fact
            lu = self._factor(v[k])
            n_fact += 1
            va_k, vm_k = va[rows], vm[rows]
            v[rows] = self._step(lu, f, va_k, vm_k)
            va[rows], vm[rows] = va_k, vm_k
            iters[k] += 1
        _, norm = self._mismatch(v[k : k + 1], sbus[k : k + 1])
        norm_out[k] = norm[0]
        conv[k] = bool(norm[0] < self.tol)
        return lu, n_fact

    # -- solve ------------------------------------------------------------------------
    def solve(
        self, sbus: np.ndarray, v_start: np.ndarray, *, group_size: int = 256
    ) -> BlockSolution:
        """Solve every state of a block.

        States are sorted by total injection and cut into groups of ``group_size``; after one
        chord step from ``v_start`` for all, each group is iterated with the Jacobian of its
        middle state, so one LU serves states of similar loading.

        Parameters
        ----------
        sbus : complex128 (n_states, n_bus)
            Specified bus injections per state, pu.
        v_start : complex128 (n_bus,)
            Initial voltages (a converged neighbouring state for a warm start), pu; fixes the
            magnitudes of pv/reference buses and the angle of the reference buses.
        group_size : int
            States sharing one Jacobian factorization.

        Returns
        -------
        BlockSolution
        """
        sbus = np.ascontiguousarray(sbus, dtype=np.complex128)
        n, n_bus = sbus.shape
        v_start = np.asarray(v_start, dtype=np.complex128)
        v = np.ascontiguousarray(np.broadcast_to(v_start, (n, n_bus)), dtype=np.complex128)
        va = np.ascontiguousarray(np.angle(v))
        vm = np.ascontiguousarray(np.abs(v))
        iters = np.zeros(n, dtype=np.int32)
        conv = np.zeros(n, dtype=bool)
        norm_out = np.full(n, np.inf)
        if n == 0:
            return BlockSolution(v, iters, conv, norm_out, 0)
        if self.pvpq.size == 0:  # only reference buses: nothing to solve
            conv[:] = True
            norm_out[:] = 0.0
            return BlockSolution(v, iters, conv, norm_out, 0)

        level = sbus.real.sum(axis=1)
        order = np.argsort(level, kind="stable")
        n_groups = max(1, -(-n // max(1, group_size)))
        n_fact = 0
        v_seed = v_start
        for group in np.array_split(order, n_groups):
            # solve the group's middle state exactly, then start every state of the group
            # from it and iterate with the Jacobian of (nearly) that solution
            mid = group[group.size // 2]
            v[mid] = v_seed
            va[mid], vm[mid] = np.angle(v_seed), np.abs(v_seed)
            lu, k = self._newton(mid, v, va, vm, sbus, iters, conv, norm_out)
            n_fact += k
            if conv[mid]:
                v_seed = v[mid].copy()
            rows = group[group != mid]
            v[rows] = v_seed
            va[rows], vm[rows] = np.angle(v_seed), np.abs(v_seed)
            if lu is None:
                lu = self._factor(v_seed)
                n_fact += 1
            self._chord(lu, rows, v, va, vm, sbus, iters, conv, norm_out, self.chord_iter)
        # second pass for slow states, again grouped, then exact Newton per straggler
        rows = order[~conv[order]]
        for group in np.array_split(rows, max(1, -(-rows.size // max(1, group_size)))):
            group = group[~conv[group]]
            if group.size < 2:
                continue
            mid = group[group.size // 2]
            if np.all(np.isfinite(v[mid])):
                lu = self._factor(v[mid])
                n_fact += 1
                self._chord(lu, group, v, va, vm, sbus, iters, conv, norm_out, self.chord_iter)
        for k in np.flatnonzero(~conv):
            if not np.all(np.isfinite(v[k])):
                v[k] = v_seed
                va[k], vm[k] = np.angle(v[k]), np.abs(v[k])
            n_fact += self._newton(k, v, va, vm, sbus, iters, conv, norm_out)[1]
        return BlockSolution(v, iters, conv, norm_out, n_fact)
