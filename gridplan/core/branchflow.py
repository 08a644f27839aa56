"""Branch flows, currents, loading and losses from bus voltages (numpy twin of
``ext/branchflow.pyx``).

The branch model is pandapower's/MATPOWER's two-port: ``I_f = yff*V_f + yft*V_t``,
``I_t = ytf*V_f + ytt*V_t`` in per unit (:func:`end_currents`, the one place this formula is
written; the kernels include its compiled twin ``ext/two_port.pxi``), and
``S_f = V_f * conj(I_f) * base_mva``.
"""

from __future__ import annotations

import numpy as np

SQRT3 = np.sqrt(3.0)


def end_currents(
    vf: np.ndarray,
    vt: np.ndarray,
    yff: np.ndarray,
    yft: np.ndarray,
    ytf: np.ndarray,
    ytt: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Currents into the from and to end of branches, pu: ``(yff vf + yft vt, ytf vf + ytt vt)``.

    ``vf``, ``vt`` are the complex voltages (pu) at the branch ends, any shape broadcasting
    with the two-port admittances ``yff, yft, ytf, ytt`` (pu).
    """
    return yff * vf + yft * vt, ytf * vf + ytt * vt


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


def branch_flows(
    v: np.ndarray,
    f: np.ndarray,
    t: np.ndarray,
    yff: np.ndarray,
    yft: np.ndarray,
    ytf: np.ndarray,
    ytt: np.ndarray,
    base_kv: np.ndarray,
    base_mva: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Complex power (MVA) at both ends and current magnitudes (kA) of every branch.

    Parameters
    ----------
    v : complex128 (n_states, n_bus)
        Complex bus voltages in pu, one row per state (outage, time step ...).
    f, t : int64 (n_branch,)
        From/to bus positions (columns of ``v``).
    yff, yft, ytf, ytt : complex128 (n_branch,)
        Branch two-port admittances in pu (zero for an out-of-service branch).
    base_kv : float64 (n_bus,)
        Bus base voltage in kV.
    base_mva : float
        System base power in MVA.

    Returns
    -------
    s_f_mva, s_t_mva : complex128 (n_states, n_branch)
        Apparent power flowing into the branch at its from/to end, MVA.
    i_f_ka, i_t_ka : float64 (n_states, n_branch)
        Current magnitude at the from/to end, kA (pandapower's ``|S| / (sqrt(3) |V|)``).
    """
    vf = v[:, f]
    vt = v[:, t]
    cur_f, cur_t = end_currents(vf, vt, yff, yft, ytf, ytt)
    s_f = vf * np.conj(cur_f) * base_mva
    s_t = vt * np.conj(cur_t) * base_mva
    with np.errstate(divide="ignore", invalid="ignore"):
        i_f = np.abs(s_f) / (np.abs(vf) * base_kv[f]) / SQRT3
        i_t = np.abs(s_t) / (np.abs(vt) * base_kv[t]) / SQRT3
    i_f = np.where(np.isfinite(i_f), i_f, 0.0)
    i_t = np.where(np.isfinite(i_t), i_t, 0.0)
    return s_f, s_t, i_f, i_t


def branch_loading(
    v: np.ndarray,
    f: np.ndarray,
    t: np.ndarray,
    yff: np.ndarray,
    yft: np.ndarray,
    ytf: np.ndarray,
    ytt: np.ndarray,
    k_f: np.ndarray,
    k_t: np.ndarray,
    col_row: np.ndarray,
    col_f: np.ndarray,
    col_t: np.ndarray,
    base_mva: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Branch loading per output column and total branch losses, per state.

    Parameters
    ----------
    v : complex128 (n_states, n_bus)
        Bus voltages, pu.
    f, t : int64 (n_branch,)
        From and to bus of every branch.
    yff, yft, ytf, ytt : complex128 (n_branch,)
        Branch two-port admittances, pu.
    k_f, k_t : float64 (n_branch,)
        kA per pu of current at the from and to end (``base_mva / (sqrt(3) base_kv)``).
    col_row : int64 (n_col,)
        Branch of every output column; negative for a column that stays 0 (out of service).
    col_f, col_t : float64 (n_col,)
        Loading (%) per kA at the from and to end of the column's branch.
    base_mva : float
        System base power, MVA.

    Returns
    -------
    loading : float64 (n_states, n_col)
        ``max(i_f * col_f, i_t * col_t)`` with the end currents ``i = |I| k`` (kA), %.
    p_loss_mw : float64 (n_states,)
        ``Re(Vf conj(If) + Vt conj(It))`` summed over every branch, MW.
    """
    vf, vt = v[:, f], v[:, t]
    i_f, i_t = end_currents(vf, vt, yff, yft, ytf, ytt)
    p_loss = (vf * np.conj(i_f) + vt * np.conj(i_t)).real.sum(axis=1) * base_mva
    on = col_row >= 0
    r = col_row[on]
    loading = np.zeros((v.shape[0], col_row.shape[0]))
    # squares first, one square root per column (as the compiled kernel)
    a2 = (k_f[r] * col_f[on]) ** 2
    b2 = (k_t[r] * col_t[on]) ** 2
    f2 = i_f[:, r].real ** 2 + i_f[:, r].imag ** 2
    t2 = i_t[:, r].real ** 2 + i_t[:, r].imag ** 2
    loading[:, on] = np.sqrt(np.fmax(f2 * a2, t2 * b2))
    return loading, p_loss
