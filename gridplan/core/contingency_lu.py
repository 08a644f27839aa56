"""Multi-right-hand-side solves on SuperLU factors (numpy twin of ``ext/contingency_lu.pyx``).

SuperLU factors ``Pr A Pc = L U``; :func:`lu_solve_rows` solves ``A X = rhs`` for a row-major
block of right-hand sides. The compiled kernel sweeps the factors once for all columns
(SuperLU's own multi-column solve slows down badly past a few dozen columns).
:func:`lu_solve_comp` solves each column with its own low-rank change of ``A`` (sparse
compensation, from the sparse rows :func:`unit_reach_solve` and :func:`sparse_row_dots` give).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve_triangular


def lu_solve_rows(
    l_ptr: np.ndarray,
    l_idx: np.ndarray,
    l_val: np.ndarray,
    u_ptr: np.ndarray,
    u_idx: np.ndarray,
    u_val: np.ndarray,
    perm_r: np.ndarray,
    perm_c: np.ndarray,
    rhs: np.ndarray,
) -> np.ndarray:
    """Solve ``A X = rhs`` with ``Pr A Pc = L U``; returns X, float64 (n, k).

    Parameters
    ----------
    l_ptr, l_idx, l_val : int64, int32, float64
        ``L`` (unit lower triangular, diagonal stored) in CSC.
    u_ptr, u_idx, u_val : int64, int32, float64
        ``U`` (upper triangular) in CSC.
    perm_r, perm_c : int64 (n,)
        SuperLU's row and column permutations (``scipy`` ``SuperLU.perm_r`` / ``perm_c``).
    rhs : float64 (n, k), C-contiguous
        Right-hand sides, one per column.
    """
    no_ptr = np.zeros(1, dtype=np.int64)
    no_idx = np.zeros(0, dtype=np.int32)
    no_val = np.zeros(0)
    return lu_solve_comp(
        *(l_ptr, l_idx, l_val, u_ptr, u_idx, u_val, perm_r, perm_c, rhs),
        np.zeros(rhs.shape[1], dtype=np.int64),
        *(no_ptr, no_idx, no_val, no_ptr, no_idx, no_val),
        np.zeros((1, 0, 0)),
    )


def unit_reach_solve(
    t_ptr: np.ndarray,
    t_idx: np.ndarray,
    t_val: np.ndarray,
    dinv: np.ndarray,
    start: np.ndarray,
    unit: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse ``x_s = T^-1 e_s`` for every ``s`` in ``start``, T lower triangular CSC.

    ``unit``: T has a unit diagonal; otherwise its diagonal is ``1 / dinv``. Returns
    CSR-like ``(ptr int64 (m+1), idx int32, val float64)``, one row per start. The compiled
    kernel lists the reach in solve order; this twin lists it in increasing index order.
    """
    n = t_ptr.shape[0] - 1
    tmat = sp.csc_matrix((t_val, t_idx, t_ptr), shape=(n, n)).tocsr()
    if unit:
        tmat = tmat - sp.diags(tmat.diagonal()) + sp.identity(n)
    else:
        tmat = tmat - sp.diags(tmat.diagonal()) + sp.diags(1.0 / dinv)
    ptr = [0]
    idx: list[np.ndarray] = []
    val: list[np.ndarray] = []
    for s in start:
        e = np.zeros(n)
        e[s] = 1.0
        x = spsolve_triangular(tmat.tocsr(), e, lower=True, unit_diagonal=unit)
        nzr = np.flatnonzero(x)
        idx.append(nzr.astype(np.int32))
        val.append(x[nzr])
        ptr.append(ptr[-1] + nzr.size)
    return (
        np.array(ptr, dtype=np.int64),
        np.concatenate([*idx, np.zeros(0, np.int32)]),
        np.concatenate([*val, np.zeros(0)]),
    )


def sparse_row_dots(
    q_ptr: np.ndarray,
    q_idx: np.ndarray,
    q_val: np.ndarray,
    h_ptr: np.ndarray,
    h_idx: np.ndarray,
    h_val: np.ndarray,
    n: int,
    kmax: int,
) -> np.ndarray:
    """``out[b, a, j] = q_(b kmax + a) . h_(b kmax + j)``: float64 (nb, kmax, kmax)."""
    m = q_ptr.shape[0] - 1
    qm = sp.csr_matrix((q_val, q_idx, q_ptr), shape=(m, n)).toarray().reshape(-1, kmax, n)
    hm = sp.csr_matrix((h_val, h_idx, h_ptr), shape=(m, n)).toarray().reshape(-1, kmax, n)
    return np.einsum("ban,bjn->baj", qm, hm)


def combine_rows(
    m: int,
    ncol: int,
    row: np.ndarray,
    src: np.ndarray,
    coef: np.ndarray,
    g_ptr: np.ndarray,
    g_idx: np.ndarray,
    g_val: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse rows ``out_r = sum over entries e with row[e] == r of coef[e] g_(src[e])``.

    ``g`` and the result are CSR-like ``(ptr int64, idx int32, val float64)`` with ``m`` rows.
    """
    g = sp.csr_matrix((g_val, g_idx, g_ptr), shape=(g_ptr.size - 1, ncol))
    pick = sp.csr_matrix((coef, (row, src)), shape=(m, g.shape[0]))
    out = (pick @ g).tocsr()
    return out.indptr.astype(np.int64), out.indices.astype(np.int32), out.data


def lu_solve_comp(
    l_ptr: np.ndarray,
    l_idx: np.ndarray,
    l_val: np.ndarray,
    u_ptr: np.ndarray,
    u_idx: np.ndarray,
    u_val: np.ndarray,
    perm_r: np.ndarray,
    perm_c: np.ndarray,
    rhs: np.ndarray,
    slot: np.ndarray,
    q_ptr: np.ndarray,
    q_idx: np.ndarray,
    q_val: np.ndarray,
    h_ptr: np.ndarray,
    h_idx: np.ndarray,
    h_val: np.ndarray,
    winv: np.ndarray,
    out: np.ndarray | None = None,
    live: np.ndarray | None = None,
) -> np.ndarray:
    """Solve ``(A + E_b D_b) x = rhs[:, c]`` per column, ``b = slot[c]`` (sparse compensation).

    Between the forward and backward sweeps of ``Pr A Pc = L U`` each column is corrected by
    ``z -= H_b^T winv[b] Q_b z``; ``Q_b`` rows (``q_(b kmax + a)``) are ``D_b`` mapped
    through ``U^-T``, ``H_b`` rows are ``L^-1 Pr E_b``. Returns float64 (n, k), written
    into ``out`` when given (a buffer reused between iterations). Columns with
    ``live[c] == 0`` (optional uint8 mask) are not solved: their x is 0.
    """
    if live is not None:
        keep = np.flatnonzero(np.asarray(live, dtype=bool))
        res = np.zeros(rhs.shape) if out is None else out
        res[...] = 0.0
        res[:, keep] = lu_solve_comp(
            l_ptr, l_idx, l_val, u_ptr, u_idx, u_val, perm_r, perm_c,
            np.ascontiguousarray(rhs[:, keep]), slot[keep],
            q_ptr, q_idx, q_val, h_ptr, h_idx, h_val, winv,
        )  # fmt: skip
        return res
    n = rhs.shape[0]
    kmax = winv.shape[1]
    m = q_ptr.shape[0] - 1
    lmat = sp.csc_matrix((l_val, l_idx, l_ptr), shape=(n, n)).tocsr()
    umat = sp.csc_matrix((u_val, u_idx, u_ptr), shape=(n, n)).tocsr()
    qm = sp.csr_matrix((q_val, q_idx, q_ptr), shape=(m, n))
    hm = sp.csr_matrix((h_val, h_idx, h_ptr), shape=(m, n))
    z = np.empty_like(rhs)
    z[perm_r] = rhs
    z = spsolve_triangular(lmat, z, lower=True, unit_diagonal=True)
    for c in range(rhs.shape[1] if kmax else 0):
        rows = slot[c] * kmax + np.arange(kmax)
        cc = winv[slot[c]] @ (qm[rows] @ z[:, c])
        z[:, c] -= hm[rows].T @ cc
    z = spsolve_triangular(umat, z, lower=False)
    if out is not None:
        out[...] = z[perm_c]
        return out
    return np.ascontiguousarray(z[perm_c])
