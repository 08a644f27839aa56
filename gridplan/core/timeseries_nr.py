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


def chord(
    l_indptr: np.ndarray,
    l_indices: np.ndarray,
    l_data: np.ndarray,
    u_indptr: np.ndarray,
    u_indices: np.ndarray,
    u_data: np.ndarray,
    perm_r: np.ndarray,
    perm_c: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    pvpq: np.ndarray,
    pq: np.ndarray,
    v: np.ndarray,
    va: np.ndarray,
    vm: np.ndarray,
    sbus: np.ndarray,
    iters: np.ndarray,
    conv: np.ndarray,
    norm_out: np.ndarray,
    n_iter: int,
    tol: float,
    rows: np.ndarray,
) -> None:
    """Chord iterations with one factorized Jacobian on the states ``rows``, in place.

    Each iteration: mismatch, chord step ``g = -J0^-1 f`` with the LU factors (as for
    :func:`lu_solve`), Anderson mixing with depth 1 (one scalar per state: the chord
    iteration converges linearly, the secant information of the previous step removes most
    of its slowest mode), voltage update (as :func:`update_voltage`). A state leaves when its
    mismatch is below ``tol`` (``conv`` set), not finite, or shrinks by less than half in one
    step (it needs a better Jacobian), or after ``n_iter`` steps.

    Parameters
    ----------
    l_indptr, l_indices, l_data, u_indptr, u_indices, u_data, perm_r, perm_c
        LU factors of the Jacobian, as for :func:`lu_solve`.
    indptr, indices, data, pvpq, pq
        Admittance matrix and unknowns, as for :func:`mismatch`.
    v : complex128 (n_states, n_bus)
        Voltages, pu; updated in place.
    va, vm : float64 (n_states, n_bus)
        Voltage angles (rad) and magnitudes (pu) of ``v``; updated in place.
    sbus : complex128 (n_states, n_bus)
        Specified bus injections, pu.
    iters : int32 (n_states,)
        Incremented by the steps taken.
    conv : bool (n_states,)
        Set for the states that converged.
    norm_out : float64 (n_states,)
        Last infinity norm of each state's mismatch, pu.
    n_iter : int
        Most steps per state.
    tol : float
        Convergence tolerance on the infinity norm of the mismatch, pu.
    rows : int64
        The state rows to iterate (the other rows are left alone).
    """
    lu = (l_indptr, l_indices, l_data, u_indptr, u_indices, u_data, perm_r, perm_c)
    idx = np.asarray(rows, dtype=np.int64)
    lv, lva, lvm, ls = v[idx], va[idx], vm[idx], sbus[idx]
    prev = g_prev = dx_prev = None
    for it in range(n_iter + 1):
        f, norm = mismatch(lv, indptr, indices, data, ls, pvpq, pq)
        norm_out[idx] = norm
        done = norm < tol
        conv[idx[done]] = True
        keep = ~done & np.isfinite(norm)
        if prev is not None:
            keep &= norm <= 0.5 * prev
        if it == n_iter or not keep.any():
            break
        if not keep.all():
            gone = ~keep
            v[idx[gone]], va[idx[gone]], vm[idx[gone]] = lv[gone], lva[gone], lvm[gone]
            idx, f, norm = idx[keep], f[keep], norm[keep]
            lv, lva, lvm, ls = lv[keep], lva[keep], lvm[keep], ls[keep]
            if g_prev is not None:
                g_prev, dx_prev = g_prev[keep], dx_prev[keep]
        g = -lu_solve(*lu, np.ascontiguousarray(f))
        if g_prev is None:
            dx = g
        else:
            dg = g - g_prev
            den = np.einsum("ij,ij->i", dg, dg)
            gam = np.einsum("ij,ij->i", dg, g) / np.where(den > 0.0, den, 1.0)
            dx = g - gam[:, None] * (dx_prev + dg)
        update_voltage(lv, lva, lvm, dx, pvpq, pq)
        g_prev, dx_prev = g, dx
        iters[idx] += 1
        prev = norm
    v[idx], va[idx], vm[idx] = lv, lva, lvm


def add_injections(
    s: np.ndarray,
    values_t: np.ndarray,
    start: int,
    el_bus: np.ndarray,
    fac_re: np.ndarray,
    fac_im: np.ndarray,
    base: np.ndarray,
) -> None:
    """Add profiled injection changes of many elements to a block of bus injections, in place.

    Parameters
    ----------
    s : complex128 (n_steps, n_bus)
        Bus injections of the block, pu; ``s[k, el_bus[e]]`` gets
        ``(fac_re[e] + 1j fac_im[e]) * (values_t[e, start + k] - base[e])`` added.
    values_t : float64 (n_elements, n_all_steps)
        Profile values per element (row) and step (column), MW or Mvar.
    start : int
        Column of ``values_t`` of the block's first step.
    el_bus : int64 (n_elements,)
        Internal bus of every element; -1 for elements that feed no bus.
    fac_re, fac_im : float64 (n_elements,)
        Real and imaginary pu injection per MW (or Mvar) of every element.
    base : float64 (n_elements,)
        Base-case value of every element (already in ``s``), MW or Mvar.
    """
    m = s.shape[0]
    on = el_bus >= 0
    d = values_t[on, start : start + m] - base[on, None]
    n_bus = s.shape[1]
    fac = (fac_re[on] + 1j * fac_im[on])[:, None]
    a = sp.csr_matrix(
        (np.ones(int(on.sum())), (el_bus[on], np.arange(int(on.sum())))),
        shape=(n_bus, int(on.sum())),
    )
    s += (a @ (fac * d)).T


def project(x: np.ndarray, proj: np.ndarray) -> np.ndarray:
    """Project points on a few directions: ``z = x @ proj``, summed over the columns of ``x``
    in order (so that the compiled twin gives the same bits; a BLAS product may split sums).

    Parameters
    ----------
    x : float64 (n, m)
        Points, one per row.
    proj : float64 (m, d)
        Directions, one per column.

    Returns
    -------
    z : float64 (n, d)
    """
    z = np.zeros((x.shape[0], proj.shape[1]))
    for j in range(x.shape[1]):
        z += x[:, j, None] * proj[j]
    return z


def kmeans(z: np.ndarray, c: np.ndarray, n_iter: int) -> np.ndarray:
    """Lloyd's k-means: ``n_iter`` rounds of assignment and center update, ``c`` in place.

    Each round assigns every point to its nearest center (squared distance summed over the
    dimensions in order; the first center on a tie), then moves every center that has points
    to their mean (sums in point order).

    Parameters
    ----------
    z : float64 (n, d)
        Finite points, one per row.
    c : float64 (g, d)
        Initial centers; updated in place.
    n_iter : int
        Rounds.

    Returns
    -------
    labels : int64 (n,)
        Center of every point in the last assignment (zeros when ``n_iter`` is 0).
    """
    n, d = z.shape
    g = c.shape[0]
    lab = np.zeros(n, dtype=np.int64)
    if g == 0:
        return lab
    for _ in range(n_iter):
        dist = np.zeros((n, g))
        for q in range(d):
            t = z[:, q, None] - c[None, :, q]
            dist += t * t
        lab = dist.argmin(axis=1).astype(np.int64)
        cnt = np.bincount(lab, minlength=g)
        used = cnt > 0
        for q in range(d):
            sums = np.bincount(lab, weights=z[:, q], minlength=g)
            c[used, q] = sums[used] / cnt[used]
    return lab
