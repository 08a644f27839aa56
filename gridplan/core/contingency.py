"""AC outage engine: one factorization of the base case, Woodbury updates for every outage.

Formulation. The Newton power-flow Jacobian is written over *all* bus variables
``x = (va_rad[0..n), vm_pu[0..n))`` and *all* equations ``(P[0..n), Q[0..n))``; the rows of
variables that are held (slack angle and magnitude, PV magnitudes, and every variable of a
bus cut off by an outage) are identity rows ``dx_j = 0``. The base-case matrix ``M0`` (at the
solved base voltages) is LU-factorized once. An outage changes only a few rows of it: the P/Q
rows of the outaged branches' end buses and the rows of cut-off buses. With ``M = M0 + E_R D``
(``E_R`` the unit columns of the changed rows ``R``, ``D`` their sparse row changes) the
Sherman-Morrison-Woodbury identity gives

    M^-1 r = y - Z W^-1 D y,   y = M0^-1 r,   Z = M0^-1 E_R,   W = I + D Z    (|R| x |R|)

so each outage costs ``|R|`` (usually 4) solves for ``Z`` plus one solve per iteration, all
done for a block of outages at once (multi-column triangular sweeps). The iteration is a
chord (simplified Newton) method with the post-outage Jacobian at the base voltages:
``x <- x - M^-1 F(x)``; its first step needs no solve (``F(x0)`` lives on the rows ``R``,
``M^-1 E_R = Z W^-1``). It converges linearly; outages where it stalls are re-solved by a full
Newton-Raphson (:func:`newton_pf`) before being declared diverged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from gridplan.kernels import contingency_lu

STATUS_CONVERGED = 0
STATUS_DIVERGED = 1


def dsbus_dv(ybus: sp.csr_matrix, v: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Derivatives of bus injections ``S = V conj(Ybus V)`` (pu) w.r.t. angle and magnitude."""
    ibus = ybus @ v
    vnorm = v / np.abs(v)
    dv = sp.diags(v)
    dvn = sp.diags(vnorm)
    di = sp.diags(ibus)
    ds_dvm = dv @ np.conj(ybus @ dvn) + np.conj(di) @ dvn
    ds_dva = 1j * dv @ np.conj(di - ybus @ dv)
    return sp.csr_matrix(ds_dva), sp.csr_matrix(ds_dvm)


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
    n = v.shape[0]
    ds_dva, ds_dvm = dsbus_dv(ybus, v)
    jac = sp.bmat([[ds_dva.real, ds_dvm.real], [ds_dva.imag, ds_dvm.imag]], format="csr")
    held = np.concatenate([held_p, held_q])
    keep = sp.diags((~held).astype(float))
    ident = sp.diags(held.astype(float))
    out = (keep @ jac + ident).tocsc()
    out.eliminate_zeros()
    out.sort_indices()
    del n
    return out


def branch_row_change(
    vf: np.ndarray,
    vt: np.ndarray,
    yff: np.ndarray,
    yft: np.ndarray,
    ytf: np.ndarray,
    ytt: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Derivatives of a branch's end injections w.r.t. ``(va_f, va_t, vm_f, vm_t)``.

    Returns ``(dsf, dst)``, complex (m, 4): removing the branch subtracts these from the
    P (real part) and Q (imaginary part) rows of its from / to bus.
    """
    af = np.abs(vf)
    at = np.abs(vt)
    cf = np.conj(yft) * vf * np.conj(vt)  # S_f = conj(yff)|vf|^2 + cf
    ct = np.conj(ytf) * vt * np.conj(vf)  # S_t = conj(ytt)|vt|^2 + ct
    dsf = np.stack([1j * cf, -1j * cf, 2 * np.conj(yff) * af + cf / af, cf / at], axis=1)
    dst = np.stack([-1j * ct, 1j * ct, ct / af, 2 * np.conj(ytt) * at + ct / at], axis=1)
    return dsf, dst


def newton_pf(
    ybus: sp.csr_matrix,
    sbus: np.ndarray,
    v0: np.ndarray,
    ref: np.ndarray,
    pv: np.ndarray,
    pq: np.ndarray,
    tol: float = 1e-8,
    max_iter: int = 10,
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

    Returns
    -------
    v, converged, iterations, max_mismatch_pu
    """
    v = v0.astype(np.complex128).copy()
    va = np.angle(v)
    vm = np.abs(v)
    pvpq = np.concatenate([pv, pq])
    npvpq = pvpq.shape[0]

    def _mis(v: np.ndarray) -> np.ndarray:
        mis = v * np.conj(ybus @ v) - sbus
        return np.concatenate([mis[pvpq].real, mis[pq].imag])

    fvec = _mis(v)
    norm = float(np.max(np.abs(fvec))) if fvec.size else 0.0
    it = 0
    while norm >= tol and it < max_iter:
        it += 1
        ds_dva, ds_dvm = dsbus_dv(ybus, v)
        j11 = ds_dva[pvpq][:, pvpq].real
        j12 = ds_dvm[pvpq][:, pq].real
        j21 = ds_dva[pq][:, pvpq].imag
        j22 = ds_dvm[pq][:, pq].imag
        jac = sp.bmat([[j11, j12], [j21, j22]], format="csc")
        try:
            dx = splu(jac).solve(-fvec)
        except RuntimeError:  # singular Jacobian
            return v, False, it, norm
        va[pvpq] += dx[:npvpq]
        vm[pq] += dx[npvpq:]
        v = vm * np.exp(1j * va)
        fvec = _mis(v)
        norm = float(np.max(np.abs(fvec))) if fvec.size else 0.0
        if not np.isfinite(norm):
            return v, False, it, norm
    return v, bool(norm < tol), it, norm


@dataclass
class Outage:
    """One outage as the engine sees it (ppc numbering).

    ``branches``: in-service ppc branch rows taken out; ``dead``: buses cut off from every
    slack (their equations are dropped); ``gen_rows``: ppc gen rows taken out.
    """

    branches: np.ndarray
    dead: np.ndarray
    gens: np.ndarray


@dataclass
class BlockResult:
    """Results of one block of outages; rows follow the outages passed in."""

    v: np.ndarray  # complex128 (B, n), NaN at dead buses / failed outages
    status: np.ndarray  # int8 (B,), STATUS_*
    iterations: np.ndarray  # int32 (B,)
    mismatch: np.ndarray  # float64 (B,), final largest mismatch, pu


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
        tol: float = 1e-10,
        max_iter: int = 25,
        newton_max_iter: int = 10,
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
        self.held_p = np.zeros(n, dtype=bool)
        self.held_p[self.ref] = True
        self.held_q = np.ones(n, dtype=bool)
        self.held_q[self.pq] = False
        self.m0 = full_jacobian(self.ybus, self.v0, self.held_p, self.held_q)
        nothing = np.zeros(n, dtype=bool)
        self.jac_true = full_jacobian(self.ybus, self.v0, nothing, nothing).tocsr()
        self.gen_count = np.bincount(self.gen_bus[self.gen_bus >= 0], minlength=n)
        self.m0_csr = self.m0.tocsr()
        self.lu = splu(self.m0, permc_spec="MMD_ATA")
        lmat, umat = self.lu.L.tocsc(), self.lu.U.tocsc()
        self._factors = (
            lmat.indptr.astype(np.int64),
            lmat.indices.astype(np.int32),
            lmat.data.astype(np.float64),
            umat.indptr.astype(np.int64),
            umat.indices.astype(np.int32),
            umat.data.astype(np.float64),
            self.lu.perm_r.astype(np.int64),
            self.lu.perm_c.astype(np.int64),
        )
        self.free_rows = np.concatenate([~self.held_p, ~self.held_q])

    # -- linear algebra helpers ------------------------------------------------------
    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``M0^-1 rhs`` for a (2n, k) right-hand side."""
        return contingency_lu.lu_solve_rows(
            *self._factors, np.ascontiguousarray(rhs, dtype=np.float64)
        )

    def unit_solves(self, rows: np.ndarray) -> np.ndarray:
        """``M0^-1 E_rows`` (2n, len(rows))."""
        rhs = np.zeros((2 * self.n, rows.shape[0]))
        rhs[rows, np.arange(rows.shape[0])] = 1.0
        return self.solve(rhs)

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
            rows_out.append(np.fromiter(rows.keys(), dtype=np.int64, count=len(rows)))
            if lr:
                d_out.append((np.concatenate(lr), np.concatenate(cc), np.concatenate(vv)))
            else:
                d_out.append((np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)))
        return rows_out, d_out

    # -- the block solve -----------------------------------------------------------------
    def first_step(self, outages: list[Outage]) -> np.ndarray:
        """Linear estimate (first chord step, no iteration) of the post-outage voltages (B, n)."""
        return self.solve_block(outages, first_only=True).v

    def solve_block(self, outages: list[Outage], first_only: bool = False) -> BlockResult:
        """Solve every outage of ``outages`` (a block of a few hundred at most)."""
        n = self.n
        nb = len(outages)
        rows, dchg = self._updates(outages)
        kmax = max((r.size for r in rows), default=0)
        kmax = max(kmax, 1)
        uniq, inv = np.unique(np.concatenate([*rows, np.zeros(0, np.int64)]), return_inverse=True)
        zall = np.zeros((2 * n, uniq.size + 1))
        if uniq.size:
            zall[:, :-1] = self.unit_solves(uniq)
        zall = np.ascontiguousarray(zall)
        pad = uniq.size  # zero column for padding
        zpos = np.full((nb, kmax), pad, dtype=np.int64)
        rowid = np.full((nb, kmax), -1, dtype=np.int64)
        p = 0
        for b, r in enumerate(rows):
            zpos[b, : r.size] = inv[p : p + r.size]
            rowid[b, : r.size] = r
            p += r.size
        # D of the block as COO with owner outage; W = I + D Z
        own = np.concatenate(
            [np.full(d[0].size, b) for b, d in enumerate(dchg)] + [np.zeros(0, np.int64)]
        )
        drow = np.concatenate([d[0] for d in dchg] + [np.zeros(0, np.int64)]).astype(np.int64)
        dcol = np.concatenate([d[1] for d in dchg] + [np.zeros(0, np.int64)]).astype(np.int64)
        dval = np.concatenate([d[2] for d in dchg] + [np.zeros(0)])
        flat = own * kmax + drow
        w = np.zeros((nb * kmax, kmax))
        if dval.size:
            contrib = dval[:, None] * zall[dcol[:, None], zpos[own]]
            np.add.at(w, flat, contrib)
        w = w.reshape(nb, kmax, kmax) + np.eye(kmax)
        winv = np.linalg.inv(w)

        # per-outage injections and masks
        sb = np.repeat(self.sbus[:, None], nb, axis=1)
        rowmask = np.repeat(self.free_rows[:, None], nb, axis=1)
        dead_mask = np.zeros((n, nb), dtype=bool)
        br_b = []
        br_k = []
        for b, o in enumerate(outages):
            if o.dead.size:
                dead_mask[o.dead, b] = True
                rowmask[o.dead, b] = False
                rowmask[n + o.dead, b] = False
            for g in o.gens:
                bus = self.gen_bus[g]
                if bus >= 0:
                    sb[bus, b] -= self.gen_s[g]
            rowmask[n + self.lost_voltage_control(o), b] = True
            br_b.append(np.full(o.branches.size, b))
            br_k.append(o.branches)
        br_b_a = np.concatenate([*br_b, np.zeros(0, np.int64)]).astype(np.int64)
        br_k_a = np.concatenate([*br_k, np.zeros(0, np.int64)]).astype(np.int64)

        def mismatch(v: np.ndarray, cols: np.ndarray) -> np.ndarray:
            ib = self.ybus @ v
            sel = np.isin(br_b_a, cols)
            if sel.any():
                loc = np.searchsorted(cols, br_b_a[sel])
                k = br_k_a[sel]
                fb, tb = self.f[k], self.t[k]
                vf, vt = v[fb, loc], v[tb, loc]
                np.subtract.at(ib, (fb, loc), self.yff[k] * vf + self.yft[k] * vt)
                np.subtract.at(ib, (tb, loc), self.ytf[k] * vf + self.ytt[k] * vt)
            mis = v * np.conj(ib) - sb[:, cols]
            out = np.concatenate([mis.real, mis.imag])
            out[~rowmask[:, cols]] = 0.0
            return out

        def woodbury(y: np.ndarray, cols: np.ndarray, x_r: np.ndarray | None = None) -> np.ndarray:
            """``M^-1 r`` from ``y = M0^-1 r`` (or from ``r`` on rows R only, ``x_r``)."""
            if x_r is None:
                sel = np.isin(own, cols)
                loc = np.searchsorted(cols, own[sel])
                dy = np.zeros((cols.size, kmax))
                np.add.at(dy, (loc, drow[sel]), dval[sel] * y[dcol[sel], loc])
                c = np.einsum("bij,bj->bi", winv[cols], dy)
                contingency_lu.woodbury_apply(y, zall, np.ascontiguousarray(zpos[cols]), c, -1.0)
                return y
            c = np.einsum("bij,bj->bi", winv[cols], x_r)
            out = np.zeros((2 * n, cols.size))
            contingency_lu.woodbury_apply(out, zall, np.ascontiguousarray(zpos[cols]), c, 1.0)
            return out

        va = np.repeat(np.angle(self.v0)[:, None], nb, axis=1)
        vm = np.repeat(np.abs(self.v0)[:, None], nb, axis=1)
        v = vm * np.exp(1j * va)
        status = np.full(nb, STATUS_DIVERGED, dtype=np.int8)
        iters = np.zeros(nb, dtype=np.int32)
        allc = np.arange(nb)
        fx = mismatch(v, allc)
        norm = np.max(np.abs(fx), axis=0) if fx.size else np.zeros(nb)
        active = allc[norm >= self.tol]
        status[norm < self.tol] = STATUS_CONVERGED
        first = True
        prev = norm.copy()
        while active.size:
            if first:
                # F(x0) is zero outside the changed rows: M^-1 F = Z W^-1 F_R, no solve needed
                xr = np.zeros((active.size, kmax))
                ok = rowid[active] >= 0
                rr = np.where(ok, rowid[active], 0)
                xr[ok] = fx[rr, np.arange(active.size)[:, None].repeat(kmax, 1)][ok]
                dx = woodbury(None, active, xr)  # type: ignore[arg-type]
                first = False
            else:
                dx = woodbury(self.solve(fx), active)
            va[:, active] -= dx[:n]
            vm[:, active] -= dx[n:]
            a_act = va[:, active]
            v[:, active] = vm[:, active] * (np.cos(a_act) + 1j * np.sin(a_act))
            iters[active] += 1
            if first_only:
                status[:] = STATUS_CONVERGED
                break
            fx = mismatch(v[:, active], active)
            nrm = np.max(np.abs(fx), axis=0)
            norm[active] = nrm
            done = nrm < self.tol
            status[active[done]] = STATUS_CONVERGED
            bad = ~done & (
                ~np.isfinite(nrm)
                | (nrm > 1e3)
                | (iters[active] >= self.max_iter)
                | ((iters[active] > 4) & (nrm > 0.9 * prev[active]))
            )
            prev[active] = nrm
            keep = ~done & ~bad
            active = active[keep]
            fx = fx[:, keep]
        # outages the chord method could not finish: full Newton on the post-outage grid
        for b in np.flatnonzero(status != STATUS_CONVERGED):
            vb, ok, it, nrm = self.newton_outage(outages[b])
            v[:, b] = vb
            iters[b] += it
            norm[b] = nrm
            status[b] = STATUS_CONVERGED if ok else STATUS_DIVERGED
        v = v.T.copy()
        v[dead_mask.T] = np.nan
        return BlockResult(v=v, status=status, iterations=iters, mismatch=norm)

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

    def newton_outage(self, outage: Outage) -> tuple[np.ndarray, bool, int, float]:
        """Full Newton-Raphson of one outage from the base voltages (cut-off buses dropped)."""
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
        live = np.ones(n, dtype=bool)
        live[outage.dead] = False
        idx = np.flatnonzero(live)
        newpos = np.full(n, -1)
        newpos[idx] = np.arange(idx.size)
        pv = self.pv[live[self.pv] & (gen_left[self.pv] > 0)]
        pq = np.concatenate([self.pq, self.pv[live[self.pv] & (gen_left[self.pv] <= 0)]])
        pq = np.sort(pq[live[pq]])
        ref = self.ref[live[self.ref]]
        vb, ok, it, nrm = newton_pf(
            ybus[idx][:, idx].tocsr(),
            sbus[idx],
            self.v0[idx],
            newpos[ref],
            newpos[pv],
            newpos[pq],
            tol=self.tol,
            max_iter=self.newton_max_iter,
        )
        out = np.full(n, np.nan + 0j)
        out[idx] = vb
        return out, ok, it, nrm
