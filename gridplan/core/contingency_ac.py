"""Post-outage power mismatch of a block of outages (numpy twin of ``ext/contingency_ac.pyx``)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from gridplan.core.branchflow import end_currents


def mismatch_block(
    indptr: np.ndarray,
    indices: np.ndarray,
    y_re: np.ndarray,
    y_im: np.ndarray,
    vr: np.ndarray,
    vi: np.ndarray,
    p_spec: np.ndarray,
    q_spec: np.ndarray,
    free: np.ndarray,
    sp_bus: np.ndarray,
    sp_col: np.ndarray,
    sp_p: np.ndarray,
    sp_q: np.ndarray,
    sp_fp: np.ndarray,
    sp_fq: np.ndarray,
    br_col: np.ndarray,
    br_f: np.ndarray,
    br_t: np.ndarray,
    br_yff: np.ndarray,
    br_yft: np.ndarray,
    br_ytf: np.ndarray,
    br_ytt: np.ndarray,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """P/Q mismatch ``V conj(Y V) - S_spec`` (pu) of each column (outage) of a block.

    Parameters
    ----------
    indptr, indices : int32
        CSR structure of the base-case bus admittance matrix (n, n).
    y_re, y_im : float64
        Its real and imaginary entries, pu.
    vr, vi : float64 (n, nb), C-contiguous
        Real and imaginary part of the bus voltages (pu), one column per outage.
    p_spec, q_spec : float64 (n,)
        Specified injections, pu, of every column but the pairs below.
    free : uint8 (2n,)
        1 where the P (rows 0..n) or Q (rows n..2n) equation is solved (0 rows get 0), in
        every column but the pairs below.
    sp_bus, sp_col : int64 (k,)
        (bus, column) pairs with their own values (each pair at most once): an outaged
        generator's bus, a cut-off bus, a PV bus that lost its generators.
    sp_p, sp_q : float64 (k,)
        Their specified injections, pu.
    sp_fp, sp_fq : uint8 (k,)
        Their P and Q equations solved (1) or not (0).
    br_col, br_f, br_t : int64 (m,)
        Removed branches: outage column, from bus, to bus.
    br_yff, br_yft, br_ytf, br_ytt : complex128 (m,)
        Their two-port admittances, pu (subtracted from the base-case currents).
    out : float64 (2n, nb), C-contiguous, optional
        Written with ``f`` and returned (a buffer reused between iterations).

    Returns
    -------
    f : float64 (2n, nb)
        Mismatch, P rows then Q rows.
    norm : float64 (nb,)
        Largest absolute mismatch per column (inf when not finite).
    """
    n = vr.shape[0]
    ybus = sp.csr_matrix((y_re + 1j * y_im, indices, indptr), shape=(n, n))
    v = vr + 1j * vi
    cur = ybus @ v
    if br_col.size:
        cur_f, cur_t = end_currents(
            v[br_f, br_col], v[br_t, br_col], br_yff, br_yft, br_ytf, br_ytt
        )
        np.subtract.at(cur, (br_f, br_col), cur_f)
        np.subtract.at(cur, (br_t, br_col), cur_t)
    s = v * np.conj(cur)
    nb = vr.shape[1]
    p = np.repeat(p_spec[:, None], nb, axis=1)
    q = np.repeat(q_spec[:, None], nb, axis=1)
    fr = np.repeat(free[:, None], nb, axis=1)
    p[sp_bus, sp_col] = sp_p
    q[sp_bus, sp_col] = sp_q
    fr[sp_bus, sp_col] = sp_fp
    fr[n + sp_bus, sp_col] = sp_fq
    f = np.concatenate([s.real - p, s.imag - q])
    f[fr == 0] = 0.0
    with np.errstate(invalid="ignore"):
        norm = np.max(np.abs(f), axis=0) if f.size else np.zeros(vr.shape[1])
    norm = np.where(np.isfinite(norm), norm, np.inf)
    if out is not None:
        out[...] = f
        f = out
    return f, norm


def apply_step(
    va: np.ndarray,
    vm: np.ndarray,
    vr: np.ndarray,
    vi: np.ndarray,
    step: np.ndarray,
    live: np.ndarray | None = None,
) -> None:
    """In place: ``va -= step[:n]``, ``vm -= step[n:]`` and ``vr + j vi = vm exp(j va)``.

    Parameters
    ----------
    va, vm, vr, vi : float64 (n, nb), C-contiguous
        Angle (rad), magnitude (pu) and rectangular parts (pu) of the bus voltages.
    step : float64 (2n, nb)
        Newton-type step: angle rows first, then magnitude rows.
    live : uint8 (nb,), optional
        Columns with 0 are left untouched (finished outages kept in the block).
    """
    n = va.shape[0]
    c = slice(None) if live is None else np.flatnonzero(live)
    va[:, c] -= step[:n, c]
    vm[:, c] -= step[n:, c]
    vr[:, c] = vm[:, c] * np.cos(va[:, c])
    vi[:, c] = vm[:, c] * np.sin(va[:, c])


def dc_loading_block(
    theta: np.ndarray,
    f: np.ndarray,
    t: np.ndarray,
    order: np.ndarray,
    b: np.ndarray,
    coef: np.ndarray,
    p_f0: np.ndarray,
    p_t0: np.ndarray,
    q_f0: np.ndarray,
    q_t0: np.ndarray,
    a_f: np.ndarray,
    a_t: np.ndarray,
    out: np.ndarray,
) -> np.ndarray:
    """Branch loading (percent, (nb, n_branch)) after linear (PTDF/LODF) active-flow changes.

    Parameters
    ----------
    theta : float64 (n_bus, nb), C-contiguous
        Bus angles (rad) for a unit transfer, one column per outage.
    f, t : int64 (n_branch,)
        Branch end buses (rows of ``theta``).
    order : int64 (n_branch,)
        Order in which the compiled kernel reads the branches' angles (cache locality
        only; the result does not depend on it).
    b : float64 (n_branch,)
        DC series susceptance, pu.
    coef : float64 (nb,)
        Transfer of each outage (MW): the flow change is ``b (theta_f - theta_t) coef``.
    p_f0, p_t0, q_f0, q_t0 : float64 (n_branch,)
        Base-case flows at both ends, MW / Mvar (reactive flows are kept).
    a_f, a_t : float64 (n_branch,)
        Loading per MVA at each end (1 / (sqrt(3) |V| kV) times the current rating factor).
    out : float64 (nb, n_branch), C-contiguous
        Written with the result, which is also returned.
    """
    dp = b[None, :] * (theta[f, :] - theta[t, :]).T * coef[:, None]
    lf = ((p_f0 + dp) ** 2 + q_f0**2) * (a_f * a_f)
    lt = ((p_t0 - dp) ** 2 + q_t0**2) * (a_t * a_t)
    out[...] = 100.0 * np.sqrt(np.where(lf > lt, lf, lt))
    return out


def anderson_step(g: np.ndarray, g_prev: np.ndarray, s_prev: np.ndarray, gamma_max: float) -> None:
    """Anderson (depth 1) step of a fixed-point iteration, written into ``s_prev`` in place.

    ``step = g - gamma (s_prev + g - g_prev)``, per column ``gamma = <dg, g> / <dg, dg>``
    with ``dg = g - g_prev`` (0 when undefined or ``|gamma| >= gamma_max``).

    Parameters
    ----------
    g, g_prev : float64 (m, nb), C-contiguous
        This and the previous plain step (one column per outage).
    s_prev : float64 (m, nb), C-contiguous
        The previous step taken; overwritten with the new step (may be ``g_prev`` itself).
    gamma_max : float
        Largest accepted mixing coefficient magnitude.
    """
    dg = g - g_prev
    den = np.einsum("ij,ij->j", dg, dg)
    num = np.einsum("ij,ij->j", dg, g)
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = np.where(den > 0, num / den, 0.0)
    gamma = np.where(np.abs(gamma) < gamma_max, gamma, 0.0)
    s_prev[...] = g - gamma * (s_prev + dg)


def compact_columns(a: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Keep columns ``keep`` (increasing) of the C-contiguous float64 (n, k) array ``a``, in
    place: returns an (n, keep.size) view of the front of ``a``'s memory (no new array).
    """
    if not a.flags.c_contiguous or a.dtype != np.float64:
        raise ValueError("compact_columns needs a C-contiguous float64 array")
    n = a.shape[0]
    kept = a[:, keep].copy()
    front = a.reshape(-1)[: n * keep.size].reshape(n, keep.size)
    front[...] = kept
    return front


def store_columns(
    vr: np.ndarray, vi: np.ndarray, src: np.ndarray, dst: np.ndarray, out: np.ndarray
) -> None:
    """``out[dst[c], :] = vr[:, src[c]] + 1j vi[:, src[c]]``: block columns into the rows of
    the (outages, buses) result.
    """
    out[dst, :] = (vr[:, src] + 1j * vi[:, src]).T


def screen_near(
    x: np.ndarray,
    x1: np.ndarray,
    th: np.ndarray,
    factor: float,
    floor: float,
    out: np.ndarray,
) -> np.ndarray:
    """Mark (``out[b] = 1``) the outages with an estimate within its margin of a threshold.

    Parameters
    ----------
    x, x1 : float64 (nb, m), C-contiguous
        Estimates of ``m`` quantities per outage after the screen's second and first step
        (loading in percent or voltage in pu; NaN: no value, never near).
    th : float64 (k, m)
        ``k`` thresholds per quantity (plain and effective limits), same unit.
    factor, floor : float
        Margin of a quantity: ``factor * |x - x1| + floor``, the floor only where
        ``x != x1`` (a quantity the steps left exactly unchanged is exact).
    out : uint8 (nb,)
        Marks so far (an outage already marked is skipped); updated and returned.
    """
    d = np.abs(x - x1)
    with np.errstate(invalid="ignore"):
        margin = factor * d + np.where(d > 0, floor, 0.0)
        near = np.zeros(x.shape, dtype=bool)
        for q in range(th.shape[0]):
            near |= np.abs(x - th[q][None, :]) < margin
    out |= near.any(axis=1).astype(np.uint8)
    return out
