"""Newton-Raphson inner loop for many power-flow states at once (numpy twin of
``ext/timeseries_nr.pyx``).

Every state shares one bus admittance matrix (CSR arrays ``indptr``, ``indices``, ``data``) and
differs only in its bus injections ``sbus``. Unknowns follow pandapower's ``newtonpf``:
voltage angles of the pv and pq buses (``pvpq``) then voltage magnitudes of the pq buses.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def mismatch(
    v: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    sbus: np.ndarray,
    pvpq: np.ndarray,
    pq: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Power mismatch vector and its infinity norm for every state.

    Parameters
    ----------
    v : complex128 (n_states, n_bus)
        Bus voltages, pu.
    indptr, indices : int64
        CSR structure of the bus admittance matrix (n_bus + 1 and nnz entries).
    data : complex128 (nnz,)
        CSR values of the bus admittance matrix, pu.
    sbus : complex128 (n_states, n_bus)
        Specified bus injections (generation minus load), pu.
    pvpq, pq : int64
        Bus positions of the pv+pq buses (angle unknowns) and of the pq buses (magnitude
        unknowns).

    Returns
    -------
    f : float64 (n_states, len(pvpq) + len(pq))
        ``[Re(mis[pvpq]), Im(mis[pq])]`` with ``mis = V conj(Ybus V) - Sbus``, pu.
    norm : float64 (n_states,)
        Infinity norm of each row of ``f``, pu.
    """
    n_bus = v.shape[1]
    ybus = sp.csr_matrix((data, indices, indptr), shape=(n_bus, n_bus))
    i_bus = (ybus @ v.T).T
    mis = v * np.conj(i_bus) - sbus
    f = np.concatenate([mis[:, pvpq].real, mis[:, pq].imag], axis=1)
    norm = np.abs(f).max(axis=1) if f.shape[1] else np.zeros(v.shape[0])
    return np.ascontiguousarray(f), norm


def update_voltage(
    v: np.ndarray,
    va: np.ndarray,
    vm: np.ndarray,
    dx: np.ndarray,
    pvpq: np.ndarray,
    pq: np.ndarray,
) -> None:
    """Apply a Newton step in place to the angles, magnitudes and complex voltages.

    Parameters
    ----------
    v : complex128 (n_states, n_bus)
        Complex voltages, pu; set to ``vm * exp(1j * va)`` after the step.
    va, vm : float64 (n_states, n_bus)
        Voltage angles (rad) and magnitudes (pu); updated in place.
    dx : float64 (n_states, len(pvpq) + len(pq))
        Step to add: angle changes of ``pvpq`` then magnitude changes of ``pq``.
    pvpq, pq : int64
        Bus positions of the unknowns, as for :func:`mismatch`.
    """
    n = len(pvpq)
    va[:, pvpq] += dx[:, :n]
    vm[:, pq] += dx[:, n:]
    v[:] = vm * np.exp(1j * va)


def lu_solve(
    l_indptr: np.ndarray,
    l_indices: np.ndarray,
    l_data: np.ndarray,
    u_indptr: np.ndarray,
    u_indices: np.ndarray,
    u_data: np.ndarray,
    perm_r: np.ndarray,
    perm_c: np.ndarray,
    b: np.ndarray,
) -> np.ndarray:
    """Solve ``A x = b`` for many right-hand sides with SuperLU's factors of ``A``.

    ``Pr A Pc = L U`` as returned by ``scipy.sparse.linalg.splu`` (``lu.L``, ``lu.U`` in CSC,
    ``lu.perm_r``, ``lu.perm_c``).

    Parameters
    ----------
    l_indptr, l_indices, l_data : int64, int64, float64
        CSC arrays of the unit lower-triangular factor ``L`` (n x n).
    u_indptr, u_indices, u_data : int64, int64, float64
        CSC arrays of the upper-triangular factor ``U`` (n x n).
    perm_r, perm_c : int64 (n,)
        Row and column permutations.
    b : float64 (n_rhs, n)
        One right-hand side per row.

    Returns
    -------
    x : float64 (n_rhs, n)
        One solution per row.
    """
    from scipy.sparse.linalg import spsolve_triangular

    n = b.shape[1]
    lo = sp.csr_matrix(sp.csc_matrix((l_data, l_indices, l_indptr), shape=(n, n)))
    up = sp.csr_matrix(sp.csc_matrix((u_data, u_indices, u_indptr), shape=(n, n)))
    y = np.empty((n, b.shape[0]))
    y[perm_r] = b.T
    y = spsolve_triangular(lo, y, lower=True, unit_diagonal=True)
    y = spsolve_triangular(up, y, lower=False)
    return np.ascontiguousarray(y[perm_c].T)
