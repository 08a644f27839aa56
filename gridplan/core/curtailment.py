"""Least-curtailment DC dispatch, hour by hour, with constraint generation (numpy + HiGHS).

Per hour, given the DC branch flows ``f0`` of a reference dispatch in which every farm
produces what the wind offers (``A_f``), the LP

    minimize    sum_f c_f + eps * sum_i (u_i + d_i)
    subject to  |f_l(x)| <= E_l                               for the rows in the model
                |f_l(x) + LODF_lk f_k(x)| <= E_lk             (N-1 rows, ``lodf`` given)
                0 <= c_f <= A_f,  0 <= u_i <= up_i,  0 <= d_i <= down_i

with ``f(x) = f0 - P_farm c + P_gen (u - d)`` chooses the curtailment ``c`` of each farm and
the redispatch ``u``/``d`` of each dispatchable generator (``P_*``: DC transfer factors of an
injection at the element's bus withdrawn by its area's slack; the slack takes up the
balance). ``eps`` (1e-3 per MW) makes curtailment the last resort: wind is only curtailed when
no redispatch can relieve the branch.

Constraint generation: the LP starts with the rows violated by the reference (plus rows
that bound the previous hour), is solved, and every branch (and, with ``lodf``, every
branch after every single outage) is checked at its solution; violated rows are added and
the LP solved again until none is. The hours whose reference violates nothing need no LP.

Effective limits: a branch already above its limit without any wind keeps that flow as its
limit (the wind may not worsen it); the caller passes ``E`` per hour.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

import numpy as np

REDISPATCH_COST = 1e-3  # per MW, against 1 per MW of curtailment
VIOLATION_TOL_MW = 1e-6


@contextlib.contextmanager
def _quiet_stdout():  # type: ignore[no-untyped-def]
    """HiGHS prints a banner on its first construction in a process (C-level stdout)."""
    try:
        fd = os.dup(1)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(fd, 1)
        os.close(fd)


def _highs():  # type: ignore[no-untyped-def]
    import highspy

    with _quiet_stdout():
        h = highspy.Highs()
    h.silent()
    h.setOptionValue("output_flag", False)
    return h


@dataclass
class HourResult:
    """Dispatch of one hour: curtailment per farm and redispatch per generator (MW)."""

    curtail_mw: np.ndarray
    redispatch_mw: np.ndarray  # u - d
    rows: list[tuple[int, int]]  # (branch, outage position or -1) in the final LP
    binding: list[tuple[int, int]]  # rows at their limit
    rounds: int
    status: str  # "optimal" or HiGHS's model status


@dataclass
class DispatchModel:
    """The hour-independent data of the dispatch (DC transfer factors, outages).

    ``p_farm`` (n_br, F) and ``p_gen`` (n_br, G): flow change per MW injected at the farm's /
    generator's bus; ``lodf`` (n_br, K): LODF columns of the single-branch outages
    ``out_branch`` (K,) (None: N-0 only); ``monitored`` (n_br,) bool: branches with a limit.
    """

    p_farm: np.ndarray
    p_gen: np.ndarray
    monitored: np.ndarray
    lodf: np.ndarray | None = None
    out_branch: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    eps: float = REDISPATCH_COST

    def __post_init__(self) -> None:
        self.n_farm = self.p_farm.shape[1]
        self.n_gen = self.p_gen.shape[1]
        # f(x) = f0 + M x with x = (c, u, d)
        self.m = np.hstack([-self.p_farm, self.p_gen, -self.p_gen])
        self._h = _highs()
        n = self.n_farm + 2 * self.n_gen
        self._h.addVars(n, np.zeros(n), np.ones(n))
        cost = np.r_[np.ones(self.n_farm), np.full(2 * self.n_gen, self.eps)]
        self._h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        self._rows: list[tuple[int, int]] = []

    # ---------------------------------------------------------------------------------
    def post_flows(self, f: np.ndarray) -> np.ndarray:
        """Post-outage flows (n_br, K) for base flows ``f`` (n_br,)."""
        assert self.lodf is not None
        return f[:, None] + self.lodf * f[self.out_branch][None, :]

    def violations(
        self, f: np.ndarray, e0: np.ndarray, e1: np.ndarray | None, tol: float = VIOLATION_TOL_MW
    ) -> list[tuple[int, int]]:
        """Rows violated by flows ``f``: ``(branch, -1)`` and ``(branch, outage position)``.

        ``e0`` (n_br,): N-0 limits; ``e1`` (n_br, K): post-outage limits (None: N-0 only).
        """
        out = [(int(b), -1) for b in np.flatnonzero(self.monitored & (np.abs(f) > e0 + tol))]
        if e1 is not None and self.lodf is not None and self.lodf.shape[1]:
            # the worst outage of every branch is enough per round
            excess = np.abs(self.post_flows(f)) - e1
            excess[~self.monitored] = -np.inf
            excess[self.out_branch, np.arange(self.out_branch.size)] = -np.inf
            k = np.argmax(excess, axis=1)
            worst = excess[np.arange(k.size), k]
            b = np.flatnonzero(worst > tol)
            out += [(int(bb), int(kk)) for bb, kk in zip(b, k[b], strict=True)]
        return out

    def _row(self, f0: np.ndarray, row: tuple[int, int], e0: np.ndarray, e1: np.ndarray | None):  # type: ignore[no-untyped-def]
        b, k = row
        if k < 0:
            a = self.m[b]
            c0 = f0[b]
            e = e0[b]
        else:
            assert self.lodf is not None and e1 is not None
            kb = self.out_branch[k]
            a = self.m[b] + self.lodf[b, k] * self.m[kb]
            c0 = f0[b] + self.lodf[b, k] * f0[kb]
            e = e1[b, k]
        return a, -e - c0, e - c0

    def solve(
        self,
        f0: np.ndarray,
        avail_mw: np.ndarray,
        up_mw: np.ndarray,
        down_mw: np.ndarray,
        e0: np.ndarray,
        e1: np.ndarray | None = None,
        seed: list[tuple[int, int]] | None = None,
        max_rounds: int = 50,
    ) -> HourResult:
        """Least-curtailment dispatch of one hour (see the module docstring).

        ``f0`` (n_br,): flows of the reference dispatch, MW; ``avail_mw`` (F,): wind on offer;
        ``up_mw`` / ``down_mw`` (G,): room of each generator; ``e0`` / ``e1``: limits;
        ``seed``: rows to start with (e.g. the previous hour's binding rows).
        """
        import highspy

        h = self._h
        nf, ng = self.n_farm, self.n_gen
        n = nf + 2 * ng
        h.changeColsBounds(
            n,
            np.arange(n, dtype=np.int32),
            np.zeros(n),
            np.r_[np.maximum(avail_mw, 0.0), np.maximum(up_mw, 0.0), np.maximum(down_mw, 0.0)],
        )
        if self._rows:
            h.deleteRows(len(self._rows), np.arange(len(self._rows), dtype=np.int32))
        self._rows = []
        rows = list(dict.fromkeys((seed or []) + self.violations(f0, e0, e1)))
        x = np.zeros(n)
        rounds = 0
        status = "optimal"
        while rows and rounds < max_rounds:
            rounds += 1
            for r in rows:
                a, lo, hi = self._row(f0, r, e0, e1)
                nz = np.flatnonzero(a)
                h.addRow(lo, hi, nz.size, nz.astype(np.int32), a[nz])
                self._rows.append(r)
            h.run()
            st = h.getModelStatus()
            if st != highspy.HighsModelStatus.kOptimal:
                status = h.modelStatusToString(st)
                break
            x = np.asarray(h.getSolution().col_value)
            f = f0 + self.m @ x
            new = [r for r in self.violations(f, e0, e1) if r not in set(self._rows)]
            rows = new
        f = f0 + self.m @ x
        binding = []
        for r in self._rows:
            a, lo, hi = self._row(f0, r, e0, e1)
            val = float(a @ x)
            if min(abs(val - lo), abs(val - hi)) <= 1e-6 * max(1.0, abs(hi - lo)):
                binding.append(r)
        return HourResult(
            curtail_mw=x[:nf].copy(),
            redispatch_mw=x[nf : nf + ng] - x[nf + ng :],
            rows=list(self._rows),
            binding=binding,
            rounds=rounds,
            status=status,
        )
