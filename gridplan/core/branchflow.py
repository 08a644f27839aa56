"""Branch flows and currents from bus voltages (numpy twin of ``ext/branchflow.pyx``).

The branch model is pandapower's/MATPOWER's: ``I_f = yff*V_f + yft*V_t``,
``I_t = ytf*V_f + ytt*V_t`` in per unit, ``S_f = V_f * conj(I_f) * base_mva``.
"""

from __future__ import annotations

import numpy as np

SQRT3 = np.sqrt(3.0)


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
    s_f = vf * np.conj(yff * vf + yft * vt) * base_mva
    s_t = vt * np.conj(ytf * vf + ytt * vt) * base_mva
    with np.errstate(divide="ignore", invalid="ignore"):
        i_f = np.abs(s_f) / (np.abs(vf) * base_kv[f]) / SQRT3
        i_t = np.abs(s_t) / (np.abs(vt) * base_kv[t]) / SQRT3
    i_f = np.where(np.isfinite(i_f), i_f, 0.0)
    i_t = np.where(np.isfinite(i_t), i_t, 0.0)
    return s_f, s_t, i_f, i_t
