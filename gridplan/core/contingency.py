"""AC outage engine: one factorization of the base case, Woodbury updates for every outage.

Formulation. The Newton power-flow Jacobian is written over *all* bus variables
``x = (va_rad[0..n), vm_pu[0..n))`` and *all* equations ``(P[0..n), Q[0..n))``; the rows of
variables that are held (slack angle and magnitude, PV magnitudes, and every variable of a
bus cut off by an outage) are identity rows ``dx_j = 0``. The base-case matrix ``M0`` (at the
solved base voltages) is LU-factorized once. An outage changes only a few rows of it: the P/Q
rows of the outaged branches' end buses and the rows of cut-off buses. With ``M = M0 + E_R D``
(``E_R`` the unit columns of the changed rows ``R``, ``D`` their sparse row changes) the
Sherman-Morrison-Woodbury identity gives

    M^-1 r = y - Z W^-1 D y,   y = M0^-1 r,   Z = M0^-1 E_R,   W = I + D Z    (|R| x |R|).

``Z`` is never formed. With ``Pr M0 Pc = L U`` the correction acts between the two
triangular sweeps (sparse compensation): ``D y = Q (L^-1 Pr r)`` with ``Q = D Pc U^-1``, and
``Z c = Pc U^-1 (H c)`` with ``H = L^-1 Pr E_R``. The rows of ``Q`` and the columns of ``H``
are sparse (about 150 of 18,000 entries on case9241pegase: the paths from the changed rows
to the root of the elimination tree), found by depth-first reach and solved once per
outage; ``W = I + Q H``. Each iteration then costs one multi-column sweep pair plus those
few hundred entries per outage (``contingency_lu.lu_solve_comp``). The iteration is a
chord (simplified Newton) method with the post-outage Jacobian at the base voltages:
``x <- x - M^-1 F(x)``, starting from the base-case voltages. It converges linearly; outages
where it stalls are re-solved by a full Newton-Raphson (:func:`newton_pf`) before being
declared diverged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from gridplan.core.branchflow import branch_row_change
from gridplan.kernels import contingency_ac, contingency_lu

NEWTON_NEAR_ITER = 3  # Newton steps from where the chord method stopped
STATUS_CONVERGED = 0
STATUS_DIVERGED = 1


# convergence tolerance on the largest P/Q mismatch, pu: pandapower runpp's tolerance_mva
TOL_PU = 1e-8


def sparse_lu(mat: sp.spmatrix, rtol: float = 1e-10) -> Any:
    """SuperLU factors of ``mat``, with the least fill that still solves accurately.

    Symmetric mode first (minimum degree on ``A + A^T``, diagonal pivots): power-flow
    Jacobians are structurally symmetric and pivot well on their diagonal, and this halves
    the factors (case9241pegase: 260k instead of 509k entries), so every solve costs half.
    If a diagonal pivot fails or a test solve leaves a residual above ``rtol`` (relative),
    the factors are recomputed with partial pivoting.
    """
    a = sp.csc_matrix(mat)
    b = np.random.default_rng(0).standard_normal(a.shape[0])
    try:
        lu = splu(
            a,
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
        with np.errstate(all="ignore"):
            x = lu.solve(b)
            res = np.max(np.abs(a @ x - b))
        if np.isfinite(res) and res <= rtol * max(1.0, float(np.max(np.abs(b)))):
            return lu
    except RuntimeError:
        pass
    return splu(a, permc_spec="MMD_ATA")


def factor_arrays(lu: Any) -> tuple[np.ndarray, ...]:
    """SuperLU factors as the arrays the ``contingency_lu`` kernels take.

    ``(l_ptr, l_idx, l_val, u_ptr, u_idx, u_val, perm_r, perm_c)``: CSC with int64 pointers
    and int32 row indices.
    """
    # (SuperLU builds a new matrix on every .L / .U access: once each)
    lmat, umat = lu.L.tocsc(), lu.U.tocsc()
    return (
        lmat.indptr.astype(np.int64),
        lmat.indices.astype(np.int32),
        lmat.data.astype(np.float64),
        umat.indptr.astype(np.int64),
        umat.indices.astype(np.int32),
        umat.data.astype(np.float64),
        lu.perm_r.astype(np.int64),
        lu.perm_c.astype(np.int64),
    )


def full_jacobian(
    ybus: sp.csr_matrix, v: np.ndarray, held_p: np.ndarray, held_q: np.ndarray
) -> sp.csc_matrix:
    """Jacobian over all ``(va, vm)`` and all ``(P, Q)`` with identity rows for held variables.

    Parameters
    ----------
    ybus : complex csr (n, n)
        Bus admittance matrix, pu.
    v : complex128 (n,)
        Bus voltages, pu.
    held_p, held_q : bool (n,)
        True where the P (angle) or Q (magnitude) row is replaced by ``dx = 0``.
    """
    # entries straight from Ybus's pattern (no sparse products): off-diagonal terms
    # dS_i/dva_j = -1j V_i conj(y_ij V_j), dS_i/dvm_j = V_i conj(y_ij V_j / |V_j|), plus the
    # diagonal terms 1j V_i conj(I_i) and conj(I_i) V_i / |V_i|
    n = v.shape[0]
    y = ybus if sp.isspmatrix_csr(ybus) else sp.csr_matrix(ybus)
    rows = np.repeat(np.arange(n), np.diff(y.indptr))
    cols = y.indices.astype(np.int64)
    ibus = y @ v
    vn = v / np.abs(v)
    dva = -1j * v[rows] * np.conj(y.data * v[cols])
    dvm = v[rows] * np.conj(y.data * vn[cols])
    dva_d = 1j * v * np.conj(ibus)
    dvm_d = np.conj(ibus) * vn
    ar = np.arange(n)
    r = np.concatenate([rows, rows, rows + n, rows + n, ar, ar, ar + n, ar + n])
    c = np.concatenate([cols, cols + n, cols, cols + n, ar, ar + n, ar, ar + n])
    val = np.concatenate(
        [dva.real, dvm.real, dva.imag, dvm.imag, dva_d.real, dvm_d.real, dva_d.imag, dvm_d.imag]
    )
    held = np.concatenate([held_p, held_q])
    keep = ~held[r]
    hr = np.flatnonzero(held)
    r = np.concatenate([r[keep], hr])
    c = np.concatenate([c[keep], hr])
    val = np.concatenate([val[keep], np.ones(hr.size)])
    out = sp.csc_matrix((val, (r, c)), shape=(2 * n, 2 * n))  # duplicates summed
    out.eliminate_zeros()
    out.sort_indices()
    return out


def _solve_in_order(jac: sp.csc_matrix, rhs: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    """``jac^-1 rhs``: diagonal pivots in ``order`` if they solve accurately, else SuperLU's own."""
    if order is not None:
        try:
            perm = sp.csc_matrix(jac[order][:, order])
            lu = splu(
                perm, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
            )
            x = np.empty_like(rhs)
            with np.errstate(all="ignore"):
                x[order] = lu.solve(rhs[order])
                res = np.max(np.abs(jac @ x - rhs), initial=0.0)
            if np.isfinite(res) and res <= 1e-10 * max(
                1.0, float(np.max(np.abs(rhs), initial=0.0))
            ):
                return x
        except RuntimeError:
            pass
    return splu(jac).solve(rhs)


def newton_pf(
    ybus: sp.csr_matrix,
    sbus: np.ndarray,
    v0: np.ndarray,
    ref: np.ndarray,
    pv: np.ndarray,
    pq: np.ndarray,
    tol: float = 1e-8,
    max_iter: int = 10,
    order: np.ndarray | None = None,
) -> tuple[np.ndarray, bool, int, float]:
    """Plain Newton-Raphson power flow (pandapower's formulation and stopping rule).

    Parameters
    ----------
    ybus : complex csr (n, n)
        Bus admittance matrix, pu.
    sbus : complex128 (n,)
        Specified injections, pu.
    v0 : complex128 (n,)
        Start voltages, pu (magnitudes of ``ref``/``pv`` buses are held).
    ref, pv, pq : int64
        Bus type index arrays.
    tol : float
        Stop when the largest P/Q mismatch (pu) is below this.
    max_iter : int
        Most Newton iterations.
    order : int64 (2n,), optional
        Elimination order of the (va, vm) unknowns, e.g. the base case's: factorizing in a
        known order skips SuperLU's ordering step (case9241pegase: 17 ms instead of 41 ms).

    Returns
    -------
    v, converged, iterations, max_mismatch_pu
    """
    v = v0.astype(np.complex128).copy()
    n = v.shape[0]
    va = np.angle(v)
    vm = np.abs(v)
    # all (va, vm) unknowns with identity rows for the held ones: same steps as the
    # reduced pvpq / pq system, assembled without sparse slicing
    held_p = np.zeros(n, dtype=bool)
    held_p[ref] = True
    held_q = np.ones(n, dtype=bool)
    held_q[pq] = False
    free = ~np.concatenate([held_p, held_q])
    ybus = sp.csr_matrix(ybus)

    def _mis(v: np.ndarray) -> np.ndarray:
        mis = v * np.conj(ybus @ v) - sbus
        return np.where(free, np.concatenate([mis.real, mis.imag]), 0.0)

    fvec = _mis(v)
    norm = float(np.max(np.abs(fvec))) if fvec.size else 0.0
    it = 0
    while norm >= tol and it < max_iter:
        it += 1
        jac = full_jacobian(ybus, v, held_p, held_q)
        try:
            dx = _solve_in_order(jac, -fvec, order)
        except RuntimeError:  # singular Jacobian
            return v, False, it, norm
        va += dx[:n]
        vm += dx[n:]
        v = vm * np.exp(1j * va)
        fvec = _mis(v)
        norm = float(np.max(np.abs(fvec))) if fvec.size else 0.0
        if not np.isfinite(norm):
            return v, False, it, norm
    return v, bool(norm < tol), it, norm


def _columns(x: np.ndarray, k: int) -> np.ndarray:
    """float64 (n, k) array whose every column is ``x`` (n,)."""
    out = np.empty((x.shape[0], k))
    out[...] = x[:, None]  # a broadcast copy releases the GIL; np.repeat holds it
    return out


def _no_rows() -> np.ndarray:
    return np.zeros(0, np.int64)


def _no_injections() -> np.ndarray:
    return np.zeros(0, np.complex128)


@dataclass
class Outage:
    """One outage as the engine sees it (ppc numbering).

    ``branches``: in-service ppc branch rows taken out; ``dead``: buses cut off from every
    slack (their equations are dropped); ``gens``: ppc gen rows taken out (their P leaves the
    bus injection; a PV bus left without a generator turns PQ); ``inj_bus`` / ``inj_s``: other
    changes of the bus injection ``Sbus`` (pu, added; e.g. ``-(p + jq)`` of a static generator
    that trips). The slack buses take up the active power lost.
    """

    branches: np.ndarray
    dead: np.ndarray
    gens: np.ndarray
    inj_bus: np.ndarray = field(default_factory=_no_rows)  # int64 (k,)
    inj_s: np.ndarray = field(default_factory=_no_injections)  # complex128 (k,), pu


@dataclass
class BlockResult:
    """Results of one block of outages; rows follow the outages passed in."""

    v: np.ndarray  # complex128 (B, n), NaN at dead buses / failed outages
    status: np.ndarray  # int8 (B,), STATUS_*
    iterations: np.ndarray  # int32 (B,)
    mismatch: np.ndarray  # float64 (B,), final largest mismatch, pu
    v_first: np.ndarray | None = None  # screen: voltages after the first step (B, n)
    step_norms: np.ndarray | None = None  # screen: largest |dx| of steps 1 and 2 (B, 2)


class ACOutageSolver:
    """Solve many outages of one base case with a single LU of the base Jacobian.

    Parameters
    ----------
    ybus : complex csr (n, n)
        Base-case bus admittance matrix, pu.
    sbus : complex128 (n,)
        Specified injections, pu.
    v0 : complex128 (n,)
        Solved base-case voltages, pu.
    ref, pv, pq : int64
        Bus types.
    f, t : int64 (n_branch,)
        Branch end buses.
    yff, yft, ytf, ytt : complex128 (n_branch,)
        Branch two-port admittances, pu.
    gen_bus : int64 (n_gen,)
        Bus of each generator row (-1: out of service).
    gen_s : complex128 (n_gen,)
        Injection of each generator row, pu.
    tol : float
        Largest P/Q mismatch (pu) accepted as converged (pandapower uses 1e-8).
    max_iter : int
        Most chord iterations before an outage is handed to full Newton.
    """

    def __init__(
        self,
        ybus: sp.csr_matrix,
        sbus: np.ndarray,
        v0: np.ndarray,
        ref: np.ndarray,
        pv: np.ndarray,
        pq: np.ndarray,
        f: np.ndarray,
        t: np.ndarray,
        yff: np.ndarray,
        yft: np.ndarray,
        ytf: np.ndarray,
        ytt: np.ndarray,
        gen_bus: np.ndarray | None = None,
        gen_s: np.ndarray | None = None,
        *,
        tol: float = TOL_PU,
        max_iter: int = 25,
        newton_max_iter: int = 10,
        anderson: bool = True,
    ) -> None:
        self.ybus = sp.csr_matrix(ybus)
        self.n = n = int(v0.shape[0])
        self.sbus = np.asarray(sbus, dtype=np.complex128)
        self.v0 = np.asarray(v0, dtype=np.complex128)
        self.ref = np.asarray(ref, dtype=np.int64)
        self.pv = np.asarray(pv, dtype=np.int64)
        self.pq = np.asarray(pq, dtype=np.int64)
        self.f, self.t = np.asarray(f, dtype=np.int64), np.asarray(t, dtype=np.int64)
        self.yff, self.yft, self.ytf, self.ytt = yff, yft, ytf, ytt
        self.gen_bus = np.zeros(0, np.int64) if gen_bus is None else np.asarray(gen_bus, np.int64)
        self.gen_s = (
            np.zeros(0, np.complex128) if gen_s is None else np.asarray(gen_s, np.complex128)
        )
        self.tol = tol
        self.max_iter = max_iter
        self.newton_max_iter = newton_max_iter
        self.anderson = anderson
        self.held_p = np.zeros(n, dtype=bool)
        self.held_p[self.ref] = True
        self.held_q = np.ones(n, dtype=bool)
        self.held_q[self.pq] = False
        self.m0 = full_jacobian(self.ybus, self.v0, self.held_p, self.held_q)
        self.gen_count = np.bincount(self.gen_bus[self.gen_bus >= 0], minlength=n)
        self.lu = sparse_lu(self.m0)
        self._factors = factor_arrays(self.lu)
        up, ui, uv = self._factors[3:6]
        umat = sp.csc_matrix((uv, ui, up), shape=(2 * n, 2 * n))
        self.free_rows = np.concatenate([~self.held_p, ~self.held_q])
        self._order = np.argsort(self.lu.perm_c)  # unknowns in elimination order
        # U^T in CSC (U's rows) and 1/diag(U): for the sparse rows of U^-T
        ut = umat.tocsr()
        ut.sort_indices()
        self._ut = (ut.indptr.astype(np.int64), ut.indices.astype(np.int32), ut.data.copy())
        self._dinv = 1.0 / umat.diagonal()

    @cached_property
    def jac_true(self) -> sp.csr_matrix:
        """Base-case Jacobian without held rows (for PV buses that lose their generator)."""
        nothing = np.zeros(self.n, dtype=bool)
        return full_jacobian(self.ybus, self.v0, nothing, nothing).tocsr()

    @cached_property
    def m0_csr(self) -> sp.csr_matrix:
        """The base matrix by rows (for buses cut off by an outage)."""
        return self.m0.tocsr()

    def lost_voltage_control(self, o: Outage) -> np.ndarray:
        """PV buses (alive, not slack) left without an in-service generator by outage ``o``."""
        if not o.gens.size:
            return np.zeros(0, dtype=np.int64)
        gb = self.gen_bus[o.gens]
        gb = gb[gb >= 0]
        left = self.gen_count.copy()
        np.subtract.at(left, gb, 1)
        cand = np.unique(gb)
        dead = np.zeros(self.n, dtype=bool)
        dead[o.dead] = True
        keep = (left[cand] <= 0) & self.held_q[cand] & ~self.held_p[cand] & ~dead[cand]
        return cand[keep]

    # -- outage description -> row updates -------------------------------------------
    def _updates(
        self, outages: list[Outage]
    ) -> tuple[list[np.ndarray], list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
        """Changed rows and their sparse row changes ``(local_row, col, value)`` per outage."""
        n = self.n
        rows_out = []
        d_out = []
        v0 = self.v0
        for o in outages:
            dead = np.zeros(n, dtype=bool)
            dead[o.dead] = True
            rows: dict[int, int] = {}
            lr: list[np.ndarray] = []
            cc: list[np.ndarray] = []
            vv: list[np.ndarray] = []

            def _row(r: int, rows: dict[int, int] = rows) -> int:
                if r not in rows:
                    rows[r] = len(rows)
                return rows[r]

            br = o.branches
            if br.size:
                fb, tb = self.f[br], self.t[br]
                dsf, dst = branch_row_change(
                    v0[fb], v0[tb], self.yff[br], self.yft[br], self.ytf[br], self.ytt[br]
                )
                for k in range(br.size):
                    cols = np.array([fb[k], tb[k], n + fb[k], n + tb[k]])
                    for bus, ds in ((fb[k], dsf[k]), (tb[k], dst[k])):
                        if dead[bus]:
                            continue
                        if not self.held_p[bus]:
                            lr.append(np.full(4, _row(int(bus))))
                            cc.append(cols)
                            vv.append(-ds.real)
                        if not self.held_q[bus]:
                            lr.append(np.full(4, _row(int(n + bus))))
                            cc.append(cols)
                            vv.append(-ds.imag)
            m0 = self.m0_csr
            for bus in o.dead:
                for r, held in ((int(bus), self.held_p[bus]), (int(n + bus), self.held_q[bus])):
                    if held:
                        continue
                    a, b = m0.indptr[r], m0.indptr[r + 1]
                    loc = _row(r)
                    lr.append(np.full(b - a + 1, loc))
                    cc.append(np.concatenate([m0.indices[a:b], [r]]))
                    vv.append(np.concatenate([-m0.data[a:b], [1.0]]))
            for bus in self.lost_voltage_control(o):
                # a PV bus without generator becomes PQ: its Q row turns from dx=0 to Q
                r = int(n + bus)
                jt = self.jac_true
                a, b = jt.indptr[r], jt.indptr[r + 1]
                loc = _row(r)
                lr.append(np.full(b - a + 1, loc))
                cc.append(np.concatenate([jt.indices[a:b], [r]]))
                vv.append(np.concatenate([jt.data[a:b], [-1.0]]))
            for g in o.gens:
                bus = int(self.gen_bus[g])
                if bus >= 0 and not dead[bus] and not self.held_p[bus]:
                    _row(bus)
            for bus in o.inj_bus:
                if not dead[bus] and not self.held_p[bus]:
                    _row(int(bus))
            rows_out.append(np.fromiter(rows.keys(), dtype=np.int64, count=len(rows)))
            if lr:
                d_out.append((np.concatenate(lr), np.concatenate(cc), np.concatenate(vv)))
            else:
                d_out.append((np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)))
        return rows_out, d_out

    # -- the block solve -----------------------------------------------------------------
    def screen_steps(self, outages: list[Outage]) -> BlockResult:
        """Two chord steps per outage: ``v_first`` (linear estimate), ``v`` and the step sizes."""
        return self.solve_block(outages, first_only=True)

    def _simple_updates(
        self, br: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Vectorized row updates of single-branch outages without islanding.

        Returns ``rowid`` (m, 4) changed global rows (-1 padded, left-aligned) and the COO
        entries ``own, drow, dcol, dval`` of ``D``.
        """
        n = self.n
        m = br.size
        fb, tb = self.f[br], self.t[br]
        dsf, dst = branch_row_change(
            self.v0[fb], self.v0[tb], self.yff[br], self.yft[br], self.ytf[br], self.ytt[br]
        )
        cand = np.stack([fb, n + fb, tb, n + tb], axis=1)
        valid = np.stack(
            [~self.held_p[fb], ~self.held_q[fb], ~self.held_p[tb], ~self.held_q[tb]], axis=1
        )
        vals = np.stack([-dsf.real, -dsf.imag, -dst.real, -dst.imag], axis=1)  # (m, 4 rows, 4 cols)
        cols = np.stack([fb, tb, n + fb, n + tb], axis=1)  # (m, 4)
        local = np.cumsum(valid, axis=1) - 1
        rowid = np.full((m, 4), -1, dtype=np.int64)
        ob, oj = np.nonzero(valid)
        rowid[ob, local[ob, oj]] = cand[ob, oj]
        own = np.repeat(ob, 4)
        drow = np.repeat(local[ob, oj], 4)
        dcol = cols[ob].reshape(-1)
        dval = vals[ob, oj].reshape(-1)
        return rowid, own, drow, dcol, dval

    def _bridge_updates(
        self, br: np.ndarray, dead: list[np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Vectorized row updates of single-branch outages that cut off buses ``dead[j]``.

        Same rows and entries as :meth:`_updates` (the live end's branch rows, then every
        cut-off bus's rows replaced by ``dx = 0``), returned like :meth:`_simple_updates`:
        ``rowid`` (m, kmax) -1 padded and the COO entries ``own, drow, dcol, dval``.
        """
        n = self.n
        m = br.size
        fb, tb = self.f[br], self.t[br]
        sizes = np.array([d.size for d in dead], dtype=np.int64)
        dead_bus = np.concatenate(dead).astype(np.int64)
        dead_own = np.repeat(np.arange(m), sizes)
        key = np.sort(dead_own * n + dead_bus)

        def _is_dead(bus: np.ndarray) -> np.ndarray:
            q = np.arange(m) * n + bus
            pos = np.minimum(np.searchsorted(key, q), key.size - 1)
            return key[pos] == q

        f_live, t_live = ~_is_dead(fb), ~_is_dead(tb)
        dsf, dst = branch_row_change(
            self.v0[fb], self.v0[tb], self.yff[br], self.yft[br], self.ytf[br], self.ytt[br]
        )
        cand = np.stack([fb, n + fb, tb, n + tb], axis=1)
        valid = np.stack(
            [
                f_live & ~self.held_p[fb],
                f_live & ~self.held_q[fb],
                t_live & ~self.held_p[tb],
                t_live & ~self.held_q[tb],
            ],
            axis=1,
        )
        vals = np.stack([-dsf.real, -dsf.imag, -dst.real, -dst.imag], axis=1)
        cols = np.stack([fb, tb, n + fb, n + tb], axis=1)
        ob, oj = np.nonzero(valid)
        dvalid = np.stack([~self.held_p[dead_bus], ~self.held_q[dead_bus]], axis=1).reshape(-1)
        d_own = np.repeat(dead_own, 2)[dvalid]
        d_row = np.stack([dead_bus, n + dead_bus], axis=1).reshape(-1)[dvalid]
        # each outage's rows: branch rows first, then the cut-off buses' rows
        row_own = np.concatenate([ob, d_own])
        order = np.argsort(row_own, kind="stable")
        counts = np.bincount(row_own, minlength=m)
        local = np.empty(row_own.size, dtype=np.int64)
        local[order] = np.arange(row_own.size) - (np.cumsum(counts) - counts)[row_own[order]]
        rowid = np.full((m, max(int(counts.max(initial=0)), 1)), -1, dtype=np.int64)
        rowid[row_own, local] = np.concatenate([cand[ob, oj], d_row])
        loc_b, loc_d = local[: ob.size], local[ob.size :]
        m0 = self.m0_csr
        start = m0.indptr[d_row]
        length = m0.indptr[d_row + 1] - start
        ent = np.repeat(start - (np.cumsum(length) - length), length) + np.arange(length.sum())
        own = np.concatenate([np.repeat(ob, 4), np.repeat(d_own, length), d_own])
        drow = np.concatenate([np.repeat(loc_b, 4), np.repeat(loc_d, length), loc_d])
        dcol = np.concatenate([cols[ob].reshape(-1), m0.indices[ent].astype(np.int64), d_row])
        dval = np.concatenate([vals[ob, oj].reshape(-1), -m0.data[ent], np.ones(d_row.size)])
        return rowid, own, drow, dcol, dval

    def _compensation(
        self,
        nb: int,
        kmax: int,
        has: np.ndarray,
        uniq: np.ndarray,
        inv: np.ndarray,
        own: np.ndarray,
        drow: np.ndarray,
        dcol: np.ndarray,
        dval: np.ndarray,
    ) -> tuple[np.ndarray, ...]:
        """Sparse rows ``Q`` (D through U^-T), ``H`` (L^-1 Pr E) and ``W^-1`` of a block.

        Outage b changes rows ``E_b`` (``uniq[inv]`` where ``has``) by ``D_b`` (COO ``own,
        drow, dcol, dval``); see :func:`contingency_lu.lu_solve_comp`.
        """
        n2 = 2 * self.n
        m = nb * kmax
        lp, li, lv, _, _, _, pr, pc = self._factors
        hp, hi, hv = contingency_lu.unit_reach_solve(lp, li, lv, self._dinv, pr[uniq], True)
        hrow = np.flatnonzero(has.reshape(-1))
        h = contingency_lu.combine_rows(
            m, n2, hrow, inv.astype(np.int64), np.ones(hrow.size), hp, hi, hv
        )
        ucol, cinv = np.unique(dcol, return_inverse=True)
        gp, gi, gv = contingency_lu.unit_reach_solve(*self._ut, self._dinv, pc[ucol], False)
        q = contingency_lu.combine_rows(
            m, n2, own * kmax + drow, cinv.astype(np.int64), dval, gp, gi, gv
        )
        w = contingency_lu.sparse_row_dots(*q, *h, n2, kmax)
        winv = np.ascontiguousarray(np.linalg.inv(w + np.eye(kmax)))
        return (*q, *h, winv)

    def solve_block(
        self,
        outages: list[Outage],
        first_only: bool = False,
        v_start: np.ndarray | None = None,
    ) -> BlockResult:
        """Solve every outage of ``outages`` (a block of a few hundred at most).

        ``v_start`` (complex128 (B, n), pu; NaN at cut-off buses allowed): the voltages each
        outage's iterations start from, e.g. the screen's two-step estimate; default the base
        case. ``iterations`` counts the steps taken in this call.
        """
        n = self.n
        nb = len(outages)
        # single-branch outages, without and with cut-off buses, are vectorized; the rest
        # (several branches, generators, injections) go outage by outage
        kind = np.array(
            [
                (0 if not o.dead.size else 1)
                if o.branches.size == 1 and not o.gens.size and not o.inj_bus.size
                else 2
                for o in outages
            ],
            dtype=np.int8,
        )
        si = np.flatnonzero(kind == 0)
        bi = np.flatnonzero(kind == 1)
        ci = np.flatnonzero(kind == 2)
        parts_own, parts_row, parts_col, parts_val = [], [], [], []
        rowlists: list[np.ndarray] = [np.zeros(0, np.int64)] * nb
        kmax = 1
        grouped = []
        br_col, br_k = [], []
        for idx in (si, bi):
            if not idx.size:
                continue
            br = np.array([outages[j].branches[0] for j in idx], dtype=np.int64)
            if idx is si:
                rid, own, drow, dcol, dval = self._simple_updates(br)
            else:
                rid, own, drow, dcol, dval = self._bridge_updates(
                    br, [outages[j].dead for j in idx]
                )
            grouped.append((idx, rid))
            kmax = max(kmax, rid.shape[1])
            parts_own.append(idx[own])
            parts_row.append(drow)
            parts_col.append(dcol)
            parts_val.append(dval)
            br_col.append(idx)
            br_k.append(br)
        if ci.size:
            rows_c, d_c = self._updates([outages[j] for j in ci])
            kmax = max(kmax, max(r.size for r in rows_c))
            for j, r, d in zip(ci, rows_c, d_c, strict=True):
                rowlists[j] = r
                parts_own.append(np.full(d[0].size, j, dtype=np.int64))
                parts_row.append(d[0].astype(np.int64))
                parts_col.append(d[1].astype(np.int64))
                parts_val.append(d[2].astype(np.float64))
        rowid = np.full((nb, kmax), -1, dtype=np.int64)
        for idx, rid in grouped:
            rowid[idx, : rid.shape[1]] = rid
        for j in ci:
            rowid[j, : rowlists[j].size] = rowlists[j]
        own = np.concatenate([*parts_own, np.zeros(0, np.int64)])
        drow = np.concatenate([*parts_row, np.zeros(0, np.int64)])
        dcol = np.concatenate([*parts_col, np.zeros(0, np.int64)])
        dval = np.concatenate([*parts_val, np.zeros(0)])

        has = rowid >= 0
        uniq, inv = np.unique(rowid[has], return_inverse=True)
        comp = self._compensation(nb, kmax, has, uniq, inv, own, drow, dcol, dval)

        # per-outage injections and solved equations: the base case's, except at the
        # (bus, column) pairs an outage changes (cut-off buses, outaged generators' buses,
        # PV buses left without a generator)
        p0, q0 = np.ascontiguousarray(self.sbus.real), np.ascontiguousarray(self.sbus.imag)
        free0 = self.free_rows.astype(np.uint8)
        dead_b = [int(b) for b in np.concatenate([bi, ci]) if outages[b].dead.size]
        dead_i = [outages[b].dead for b in dead_b]
        sp_bus: list[np.ndarray] = []
        sp_col: list[np.ndarray] = []
        sp_p: list[np.ndarray] = []
        sp_q: list[np.ndarray] = []
        sp_fp: list[np.ndarray] = []
        sp_fq: list[np.ndarray] = []
        dead_bi = [b for b in dead_b if kind[b] == 1]
        if dead_bi:
            d = np.concatenate([outages[b].dead for b in dead_bi]).astype(np.int64)
            sp_bus.append(d)
            sp_col.append(np.repeat(np.array(dead_bi), [outages[b].dead.size for b in dead_bi]))
            sp_p.append(p0[d])
            sp_q.append(q0[d])
            sp_fp.append(np.zeros(d.size, dtype=np.uint8))
            sp_fq.append(np.zeros(d.size, dtype=np.uint8))
        for b in ci:
            o = outages[b]
            rec: dict[int, list[float]] = {}
            for bus in o.dead:
                rec[int(bus)] = [p0[bus], q0[bus], 0, 0]
            for g in o.gens:
                bus = int(self.gen_bus[g])
                if bus >= 0:
                    r = rec.setdefault(bus, [p0[bus], q0[bus], free0[bus], free0[n + bus]])
                    r[0] -= self.gen_s[g].real
                    r[1] -= self.gen_s[g].imag
            for bus, ds in zip(o.inj_bus, o.inj_s, strict=True):
                bus = int(bus)
                r = rec.setdefault(bus, [p0[bus], q0[bus], free0[bus], free0[n + bus]])
                r[0] += ds.real
                r[1] += ds.imag
            for bus in self.lost_voltage_control(o):
                r = rec.setdefault(int(bus), [p0[bus], q0[bus], free0[bus], free0[n + bus]])
                r[3] = 1
            if rec:
                vals = np.array(list(rec.values()))
                sp_bus.append(np.fromiter(rec.keys(), dtype=np.int64, count=len(rec)))
                sp_col.append(np.full(len(rec), b, dtype=np.int64))
                sp_p.append(vals[:, 0])
                sp_q.append(vals[:, 1])
                sp_fp.append(vals[:, 2].astype(np.uint8))
                sp_fq.append(vals[:, 3].astype(np.uint8))
            br_col.append(np.full(o.branches.size, b, dtype=np.int64))
            br_k.append(o.branches)
        spb = np.concatenate([*sp_bus, np.zeros(0, np.int64)])
        spc = np.concatenate([*sp_col, np.zeros(0, np.int64)])
        spv = (
            np.concatenate([*sp_p, np.zeros(0)]),
            np.concatenate([*sp_q, np.zeros(0)]),
            np.concatenate([*sp_fp, np.zeros(0, np.uint8)]),
            np.concatenate([*sp_fq, np.zeros(0, np.uint8)]),
        )
        bcol = np.concatenate([*br_col, np.zeros(0, np.int64)]).astype(np.int64)
        bk = np.concatenate([*br_k, np.zeros(0, np.int64)]).astype(np.int64)

        y = self.ybus
        yp = (
            y.indptr.astype(np.int32),
            y.indices.astype(np.int32),
            np.ascontiguousarray(y.data.real),
            np.ascontiguousarray(y.data.imag),
        )

        # every column starts at the base case (or at v_start; its cut-off buses, whose
        # equations are dropped, at their base voltages: NaN would spread through Ybus V)
        if v_start is None:
            va = _columns(np.angle(self.v0), nb)
            vm = _columns(np.abs(self.v0), nb)
            vr = _columns(self.v0.real, nb)
            vi = _columns(self.v0.imag, nb)
        else:
            vs = np.asarray(v_start, dtype=np.complex128)
            vs = np.where(np.isfinite(vs), vs, self.v0[None, :]).T
            va, vm = np.ascontiguousarray(np.angle(vs)), np.ascontiguousarray(np.abs(vs))
            vr, vi = np.ascontiguousarray(vs.real), np.ascontiguousarray(vs.imag)
        v = np.empty((nb, n), dtype=np.complex128)  # one row per outage, filled as they finish
        status = np.full(nb, STATUS_DIVERGED, dtype=np.int8)
        iters = np.zeros(nb, dtype=np.int32)
        norm = np.zeros(nb)

        def views(act: np.ndarray) -> dict:
            colpos = np.full(nb, -1, dtype=np.int64)
            colpos[act] = np.arange(act.size)
            bsel = colpos[bcol] >= 0
            kk = bk[bsel]
            ssel = colpos[spc] >= 0
            return {
                "sp": (spb[ssel], colpos[spc[ssel]], *(a[ssel] for a in spv)),
                "bc": colpos[bcol[bsel]],
                "bf": self.f[kk],
                "bt": self.t[kk],
                "yff": self.yff[kk],
                "yft": self.yft[kk],
                "ytf": self.ytf[kk],
                "ytt": self.ytt[kk],
                "cols": np.ascontiguousarray(act, dtype=np.int64),
            }

        def mismatch(vr: np.ndarray, vi: np.ndarray, vw: dict) -> tuple[np.ndarray, np.ndarray]:
            return contingency_ac.mismatch_block(
                *yp,
                vr,
                vi,
                p0,
                q0,
                free0,
                *vw["sp"],
                vw["bc"],
                vw["bf"],
                vw["bt"],
                vw["yff"],
                vw["yft"],
                vw["ytf"],
                vw["ytt"],
                out=fx_buf[: 2 * n * vr.shape[1]].reshape(2 * n, vr.shape[1]),
            )

        # (2n, nb) buffers reused by every iteration: fresh ones this size cost a page fault
        # per 4 KB each time. Steps take any of three not held by Anderson's g_prev, s_prev.
        fx_buf = np.empty(2 * n * nb)
        step_bufs = [np.empty(2 * n * nb) for _ in range(3)]

        def step_out(k: int) -> np.ndarray:
            held = [a for a in (g_prev, s_prev) if a is not None]
            buf = next(b for b in step_bufs if not any(np.may_share_memory(b, a) for a in held))
            return buf[: 2 * n * k].reshape(2 * n, k)

        act = np.arange(nb)
        vw = views(act)
        fx, nrm = mismatch(vr, vi, vw)
        norm[:] = nrm
        prev = nrm.copy()
        first = True
        # finished columns stay in the block (frozen) until half have finished: compacting
        # the (2n, nb) arrays costs as much as an iteration
        alive = np.ones(act.size, dtype=bool)
        step_norms = np.zeros((nb, 2))
        g_prev: np.ndarray | None = None
        s_prev: np.ndarray | None = None
        if first_only:  # the screen also keeps the first step's (linear) estimate
            vr1, vi1 = vr.copy(), vi.copy()
        while act.size:
            done = alive & (nrm < self.tol)
            if not first:
                bad = (
                    alive
                    & ~done
                    & (
                        ~np.isfinite(nrm)
                        | (nrm > 1e3)
                        | (iters[act] >= self.max_iter)
                        | ((iters[act] > 6) & (nrm > 1e3 * prev))  # blowing up
                    )
                )
            else:
                bad = np.zeros(act.size, dtype=bool)
            status[act[done]] = STATUS_CONVERGED
            leave = done | bad
            if first_only and np.all(iters[act[alive]] >= 2):
                status[act[alive]] = STATUS_CONVERGED
                leave = alive.copy()
            if leave.any():
                # finished columns are frozen (apply_step skips them) and copied out only
                # when the block is compacted or done: one strided copy, not one per iteration
                norm[act[leave]] = nrm[leave]
                alive &= ~leave
                if not alive.any():
                    break
                if np.count_nonzero(~alive) >= 0.5 * act.size:
                    # finished columns out, the others moved to the front in place
                    gone, keep = np.flatnonzero(~alive), np.flatnonzero(alive)
                    contingency_ac.store_columns(vr, vi, gone, act[gone], v)
                    act = act[keep]
                    va, vm, vr, vi, fx = (
                        contingency_ac.compact_columns(a, keep) for a in (va, vm, vr, vi, fx)
                    )
                    nrm = nrm[keep]
                    if g_prev is not None:
                        same = s_prev is g_prev
                        g_prev = contingency_ac.compact_columns(g_prev, keep)
                        s_prev = g_prev if same else contingency_ac.compact_columns(s_prev, keep)
                    vw = views(act)
                    alive = np.ones(act.size, dtype=bool)
            # frozen columns are not solved (their step is 0)
            dx = contingency_lu.lu_solve_comp(
                *self._factors,
                np.ascontiguousarray(fx),
                vw["cols"],
                *comp,
                out=step_out(act.size),
                live=None if alive.all() else alive.view(np.uint8),
            )
            first = False
            # Anderson acceleration (depth 1) of the chord fixed-point map x -> x - M^-1 F(x):
            # the step is g - gamma (s_prev + g - g_prev) with gamma minimizing the
            # linearized residual; it turns the linear rate rho into roughly rho^2
            g = dx
            if self.anderson and g_prev is not None and not first_only:
                contingency_ac.anderson_step(g, g_prev, s_prev, 10.0)
                step = s_prev
            else:
                step = g  # the kernel may overwrite it later: it reads g_prev first
            g_prev = g
            s_prev = step
            contingency_ac.apply_step(va, vm, vr, vi, step, alive.view(np.uint8))
            if first_only:
                sn = np.max(np.abs(dx), axis=0)
                step = np.minimum(iters[act], 1)
                step_norms[act[alive], step[alive]] = sn[alive]
                if iters[act].max() == 0:
                    vr1[:, act] = vr
                    vi1[:, act] = vi
            iters[act[alive]] += 1
            prev = nrm
            fx, nrm = mismatch(vr, vi, vw)
        if act.size:
            contingency_ac.store_columns(vr, vi, np.arange(act.size), act, v)
        if not first_only:
            # outages the chord method could not finish: full Newton on the post-outage grid
            for b in np.flatnonzero(status != STATUS_CONVERGED):
                # from where the chord stopped (a few steps: if it is near the solution,
                # Newton needs one or two), then from the base case, as runpp would start
                vlast = v[b] if np.isfinite(norm[b]) and norm[b] < 1.0 else None
                ok, it = False, 0
                if vlast is not None:
                    vb, ok, it, nb_norm = self.newton_outage(outages[b], vlast, NEWTON_NEAR_ITER)
                if not ok:
                    vb, ok, it2, nb_norm = self.newton_outage(outages[b])
                    it += it2
                v[b] = vb
                iters[b] += it
                norm[b] = nb_norm
                status[b] = STATUS_CONVERGED if ok else STATUS_DIVERGED
        v1 = None
        if first_only:
            v1 = (vr1 + 1j * vi1).T.copy()  # apply_step keeps vr, vi = vm cos va, vm sin va
        for b, d in zip(dead_b, dead_i, strict=True):
            v[b, d] = np.nan
            if v1 is not None:
                v1[b, d] = np.nan
        return BlockResult(
            v=v,
            status=status,
            iterations=iters,
            mismatch=norm,
            v_first=v1,
            step_norms=step_norms if first_only else None,
        )

    def post_outage_ybus(self, outage: Outage) -> sp.csr_matrix:
        """Bus admittance matrix with the outage's branches removed."""
        n = self.n
        br = outage.branches
        fb, tb = self.f[br], self.t[br]
        d = sp.coo_matrix(
            (
                np.concatenate([self.yff[br], self.yft[br], self.ytf[br], self.ytt[br]]),
                (np.concatenate([fb, fb, tb, tb]), np.concatenate([fb, tb, fb, tb])),
            ),
            shape=(n, n),
        )
        return sp.csr_matrix(self.ybus - d)

    def newton_outage(
        self, outage: Outage, v_start: np.ndarray | None = None, max_iter: int | None = None
    ) -> tuple[np.ndarray, bool, int, float]:
        """Full Newton-Raphson of one outage from ``v_start`` or the base voltages."""
        n = self.n
        ybus = self.post_outage_ybus(outage)
        sbus = self.sbus.copy()
        gen_left = np.zeros(n, dtype=int)
        gb = self.gen_bus[self.gen_bus >= 0]
        np.add.at(gen_left, gb, 1)
        for g in outage.gens:
            bus = self.gen_bus[g]
            if bus >= 0:
                sbus[bus] -= self.gen_s[g]
                gen_left[bus] -= 1
        np.add.at(sbus, outage.inj_bus, outage.inj_s)
        live = np.ones(n, dtype=bool)
        live[outage.dead] = False
        idx = np.flatnonzero(live)
        newpos = np.full(n, -1)
        newpos[idx] = np.arange(idx.size)
        # the base factorization's elimination order, restricted to the live unknowns
        pos2 = np.concatenate([newpos, np.where(newpos >= 0, newpos + idx.size, -1)])
        order = pos2[self._order]
        order = order[order >= 0]
        pv = self.pv[live[self.pv] & (gen_left[self.pv] > 0)]
        pq = np.concatenate([self.pq, self.pv[live[self.pv] & (gen_left[self.pv] <= 0)]])
        pq = np.sort(pq[live[pq]])
        ref = self.ref[live[self.ref]]
        vb, ok, it, nrm = newton_pf(
            ybus[idx][:, idx].tocsr(),
            sbus[idx],
            (self.v0 if v_start is None else v_start)[idx],
            newpos[ref],
            newpos[pv],
            newpos[pq],
            tol=self.tol,
            max_iter=self.newton_max_iter if max_iter is None else max_iter,
            order=order,
        )
        out = np.full(n, np.nan + 0j)
        out[idx] = vb
        return out, ok, it, nrm
