"""DC outage engine: post-outage active flows by PTDF/LODF columns from one LU, block by block.

pandapower's DC model (``makeBdc``): branch ``k`` carries ``b_k (theta_f - theta_t)`` with the
series susceptance ``b_k = 1 / (x_k tap_k)``. The susceptance matrix, with the slack rows and
columns held as identity (``theta = 0``), is LU-factorized once. For a single-branch outage of
branch ``k`` the angles of a unit transfer between its ends (one column per outage, never a
whole bus-by-branch matrix) give the PTDF column; the post-outage flow change of every branch
is its PTDF entry times ``p_k / (1 - ptdf_kk)`` (LODF). An outage that cuts off buses (a bridge)
stops the live end's export: the slack takes it up (transfer ``p_k`` from the live end). Reactive
flows keep their base-case values; loading uses the base-case voltage magnitudes.

Every other outage (several branches, generators, DC-line terminals, injections) is solved in
the same linear model by compensation: the outaged branches' base-case flows ``p_k`` reappear
as transfers from their from to their to end (only from the live end when the other is cut
off), the lost injections as injection changes ``dP``, and the angle change solves
``B' dtheta = dP + sum_k p_k (e_f - e_t)`` with ``B'`` the post-outage susceptance matrix
(slack and cut-off buses held at ``dtheta = 0``, so each area's slack balances it). For one
branch this is the LODF above (Sherman-Morrison); ``B'`` is refactorized per outage when the
outage takes out branches, and the base LU is used (PTDF times the injection change) when it
does not.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee

from gridplan.core.contingency import Outage, factor_arrays, sparse_lu
from gridplan.kernels import contingency_ac, contingency_lu

SQRT3 = np.sqrt(3.0)
DC_BLOCK = 64  # the angle block of 64 outages stays in cache for the flow gathers


class DCOutageSolver:
    """Linear post-outage loading of single-branch outages of one base case.

    Parameters
    ----------
    n_bus : int
        Number of buses.
    f, t : int64 (n_branch,)
        Branch end buses.
    b : float64 (n_branch,)
        DC series susceptance ``1 / (x tap)``, pu (0 for out-of-service branches).
    ref : int64
        Slack buses (angle held at 0).
    v0 : complex128 (n_bus,)
        Base-case voltages, pu (their magnitudes turn MVA into kA).
    s_f0, s_t0 : complex128 (n_branch,)
        Base-case flows into each branch at its from / to end, MVA.
    scale_f, scale_t : float64 (n_branch,)
        Loading (fraction of rating) per kA at each end.
    base_kv : float64 (n_bus,)
        Bus base voltage, kV.
    gen_bus : int64 (n_gen,), optional
        Bus of each generator row (-1: out of service).
    gen_p_mw : float64 (n_gen,), optional
        Active power of each generator row, MW.
    base_mva : float
        System base, MVA (turns injection changes in pu into MW).

    Attributes
    ----------
    held : bool (n_bus,)
        Buses whose angle is held (the slack buses).
    factors : tuple of arrays
        The LU factors as ``contingency_lu.lu_solve_rows`` takes them; its solutions come out
        in reverse Cuthill-McKee order.
    f_rcm, t_rcm : int64 (n_branch,)
        Rows of the branch ends in that order.
    """

    def __init__(
        self,
        n_bus: int,
        f: np.ndarray,
        t: np.ndarray,
        b: np.ndarray,
        ref: np.ndarray,
        v0: np.ndarray,
        s_f0: np.ndarray,
        s_t0: np.ndarray,
        scale_f: np.ndarray,
        scale_t: np.ndarray,
        base_kv: np.ndarray,
        gen_bus: np.ndarray | None = None,
        gen_p_mw: np.ndarray | None = None,
        base_mva: float = 1.0,
    ) -> None:
        self.n = n = int(n_bus)
        self.f, self.t, self.b = f, t, b
        self.gen_bus = np.zeros(0, np.int64) if gen_bus is None else np.asarray(gen_bus, np.int64)
        self.gen_p_mw = np.zeros(0) if gen_p_mw is None else np.asarray(gen_p_mw, np.float64)
        self.base_mva = float(base_mva)
        bbus = sp.coo_matrix(
            (
                np.concatenate([b, b, -b, -b]),
                (np.concatenate([f, t, f, t]), np.concatenate([f, t, t, f])),
            ),
            shape=(n, n),
        ).tocsr()
        held = np.zeros(n, dtype=bool)
        held[ref] = True
        keep = sp.diags((~held).astype(float))
        mat = (keep @ bbus @ keep + sp.diags(held.astype(float))).tocsc()
        lu = sparse_lu(mat)
        rcm = reverse_cuthill_mckee(bbus.tocsr(), symmetric_mode=True).astype(np.int64)
        inv = np.empty(n, dtype=np.int64)
        inv[rcm] = np.arange(n)
        self.held = held
        self.bbus = bbus
        self.lu = lu
        self.rcm = rcm
        # angles come out in Cuthill-McKee order: the two ends of a branch are close in
        # memory, and branches taken in that order sweep the angle block almost sequentially
        self.factors = (*factor_arrays(lu)[:7], lu.perm_c[rcm].astype(np.int64))
        self.f_rcm = inv[f]
        self.t_rcm = inv[t]
        self.order = np.lexsort((inv[t], inv[f])).astype(np.int64)
        self.p_f0 = np.ascontiguousarray(s_f0.real)
        with np.errstate(divide="ignore", invalid="ignore"):
            a_f = scale_f / (SQRT3 * np.abs(v0[f]) * base_kv[f])
            a_t = scale_t / (SQRT3 * np.abs(v0[t]) * base_kv[t])
        self.a_f = np.where(np.isfinite(a_f) | np.isinf(scale_f), a_f, 0.0)
        self.a_t = np.where(np.isfinite(a_t) | np.isinf(scale_t), a_t, 0.0)
        self.flows0 = tuple(
            np.ascontiguousarray(x) for x in (s_f0.real, s_t0.real, s_f0.imag, s_t0.imag)
        )

    def unit_transfer_angles(self, rhs: np.ndarray) -> np.ndarray:
        """Angles (rows in Cuthill-McKee order, see ``f_rcm``) for injections ``rhs`` (n, k)."""
        return contingency_lu.lu_solve_rows(*self.factors, rhs)

    @staticmethod
    def is_single_branch(o: Outage) -> bool:
        """True for an outage of one branch and nothing else (the LODF path)."""
        return o.branches.size == 1 and not o.gens.size and not o.inj_bus.size

    def solve_block(self, outs: list[Outage]) -> tuple[np.ndarray, np.ndarray]:
        """Post-outage loading (B, n_br) of any outages (islands included).

        Single-branch outages go by LODF (:meth:`solve_single`), the others by compensation
        (:meth:`solve_general`). Returns ``(loading, vm)`` with ``vm`` of shape (B, 0): dc
        computes no voltages.
        """
        single = np.array([self.is_single_branch(o) for o in outs], dtype=bool)
        if single.all():
            return self.solve_single(outs)
        nb = len(outs)
        ld = np.empty((nb, self.f.size))
        si, gi = np.flatnonzero(single), np.flatnonzero(~single)
        if si.size:
            ld[si] = self.solve_single([outs[j] for j in si])[0]
        ld[gi] = self.solve_general([outs[j] for j in gi])
        return ld, np.empty((nb, 0))

    def injection_change_mw(self, o: Outage) -> np.ndarray:
        """Change of every bus's active injection by outage ``o``, MW (n_bus,)."""
        dp = np.zeros(self.n)
        gb = self.gen_bus[o.gens]
        ok = gb >= 0
        np.add.at(dp, gb[ok], -self.gen_p_mw[o.gens][ok])
        np.add.at(dp, o.inj_bus, o.inj_s.real * self.base_mva)
        return dp

    def solve_general(self, outs: list[Outage]) -> np.ndarray:
        """Post-outage loading (B, n_br) of outages of several elements, by compensation.

        Outages without branches share the base LU (one multi-column solve); each outage
        with branches gets its post-outage matrix factorized.
        """
        n = self.n
        nb = len(outs)
        dtheta = np.zeros((n, nb))
        inj_only = []
        for j, o in enumerate(outs):
            rhs = self.injection_change_mw(o)
            held = self.held.copy()
            held[o.dead] = True
            k = o.branches
            f, t, pk = self.f[k], self.t[k], self.p_f0[k]
            if k.size:
                # the outaged branches' base flows, re-injected as transfers f -> t (a cut-off
                # end's share is dropped below with the rest of its rows)
                np.add.at(rhs, f, pk)
                np.add.at(rhs, t, -pk)
            rhs[held] = 0.0
            if not k.size and not o.dead.size:
                dtheta[:, j] = rhs
                inj_only.append(j)
                continue
            bk = self.b[k]
            cut = sp.coo_matrix(
                (
                    np.concatenate([bk, bk, -bk, -bk]),
                    (np.concatenate([f, t, f, t]), np.concatenate([f, t, t, f])),
                ),
                shape=(n, n),
            )
            keep = sp.diags((~held).astype(float))
            mat = (keep @ (self.bbus - cut) @ keep + sp.diags(held.astype(float))).tocsc()
            dtheta[:, j] = sparse_lu(mat).solve(rhs)
        if inj_only:
            cols = np.array(inj_only)
            dtheta[:, cols] = self.lu.solve(np.ascontiguousarray(dtheta[:, cols]))
        # angle rows in Cuthill-McKee order, as the loading kernel reads them
        theta = np.ascontiguousarray(dtheta[self.rcm])
        ld = contingency_ac.dc_loading_block(
            theta,
            self.f_rcm,
            self.t_rcm,
            self.order,
            np.ascontiguousarray(self.b),
            np.ones(nb),
            *self.flows0,
            self.a_f,
            self.a_t,
            np.empty((nb, self.f.size)),
        )
        for j, o in enumerate(outs):
            ld[j, o.branches] = np.nan
            if o.dead.size:
                dead = np.zeros(n, dtype=bool)
                dead[o.dead] = True
                ld[j, dead[self.f] | dead[self.t]] = np.nan
        return ld

    def solve_single(self, outs: list[Outage]) -> tuple[np.ndarray, np.ndarray]:
        """Post-outage loading (B, n_br) by LODF for single-branch outages (islands included).

        Returns ``(loading, vm)`` with ``vm`` of shape (B, 0): dc computes no voltages.
        """
        n = self.n
        nb = len(outs)
        b = self.b
        rhs = np.zeros((n, nb))
        k = np.array([o.branches[0] for o in outs], dtype=np.int64)
        f, t = self.f[k], self.t[k]
        isl = np.array([o.dead.size > 0 for o in outs])
        cols = np.arange(nb)
        # islanded: the live end stops exporting, the slack (held, theta=0) takes it up
        live_f = np.ones(nb, dtype=bool)
        for j, o in enumerate(outs):
            if o.dead.size and np.isin(f[j], o.dead):
                live_f[j] = False
        inj_bus = np.where(live_f, f, t)
        rhs[inj_bus, cols] += 1.0
        rhs[t[~isl], cols[~isl]] -= 1.0
        rhs[self.held, :] = 0.0
        theta = self.unit_transfer_angles(rhs)
        fp, tp = self.f_rcm[k], self.t_rcm[k]  # rows of theta (Cuthill-McKee order)
        own = b[k] * (theta[fp, cols] - theta[tp, cols])  # outaged branch's own transfer share
        pk = self.p_f0[k]  # MW
        denom = np.where(isl, 1.0, 1.0 - own)
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.where(isl, np.where(live_f, pk, -pk), pk / denom)
        ld = contingency_ac.dc_loading_block(
            theta,
            self.f_rcm,
            self.t_rcm,
            self.order,
            np.ascontiguousarray(b),
            np.ascontiguousarray(coef),
            *self.flows0,
            self.a_f,
            self.a_t,
            np.empty((nb, self.f.size)),  # per block: blocks may run on several threads
        )
        ld[cols, k] = np.nan
        for j, o in enumerate(outs):
            if o.dead.size:
                dead = np.zeros(n, dtype=bool)
                dead[o.dead] = True
                ld[j, dead[self.f] | dead[self.t]] = np.nan
        # no voltages in dc: an empty block (no voltage statistics, no voltage violations)
        return ld, np.empty((nb, 0))
