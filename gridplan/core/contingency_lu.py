"""Multi-right-hand-side solves on SuperLU factors (numpy twin of ``ext/contingency_lu.pyx``).

SuperLU factors ``Pr A Pc = L U``; :func:`lu_solve_rows` solves ``A X = rhs`` for a row-major
block of right-hand sides. The compiled kernel sweeps the factors once for all columns
(SuperLU's own multi-column solve slows down badly past a few dozen columns).
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
    n = rhs.shape[0]
    lmat = sp.csc_matrix((l_val, l_idx, l_ptr), shape=(n, n)).tocsr()
    umat = sp.csc_matrix((u_val, u_idx, u_ptr), shape=(n, n)).tocsr()
    z = np.empty_like(rhs)
    z[perm_r] = rhs
    z = spsolve_triangular(lmat, z, lower=True, unit_diagonal=True)
    z = spsolve_triangular(umat, z, lower=False)
    return np.ascontiguousarray(z[perm_c])


def woodbury_apply(
    y: np.ndarray, zz: np.ndarray, cols: np.ndarray, c: np.ndarray, sign: float
) -> None:
    """In place: ``y[:, i] += sign * sum_k zz[:, cols[i], k] * c[i, k]`` for every column i.

    Parameters
    ----------
    y : float64 (n, nb), C-contiguous
        Block of vectors updated in place.
    zz : float64 (n, nb_all, kmax), C-contiguous
        Solved unit columns ``M0^-1 e_r`` of each outage's changed rows (zero-padded).
    cols : int64 (nb,)
        Outage (second index of ``zz``) of each column of ``y``.
    c : float64 (nb, kmax)
        Coefficients.
    sign : float
        +1 or -1.
    """
    acc = np.zeros_like(y)
    for k in range(zz.shape[2]):
        acc += zz[:, cols, k] * c[:, k]
    y += sign * acc


def gather_columns(zall: np.ndarray, zpos: np.ndarray) -> np.ndarray:
    """``zall[:, zpos]``: float64 (n, nb, kmax), C-contiguous, from (n, u) and int64 (nb, kmax)."""
    return np.ascontiguousarray(zall[:, zpos])
