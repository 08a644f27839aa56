"""Generation adequacy (HL-I): COPT and loss-of-load indices against references.

- IEEE RTS-79 published LOLE/EENS (tests/validation/ieee_rts79, every folder with units.csv);
- a brute-force enumeration of all unit states for a small system (probabilities, EENS and the
  frequency recursion);
- the adequacy study and CLI on a pandapower case.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridplan.core.adequacy import build_copt, loss_of_load, rts79_load_shape

VALIDATION = Path(__file__).parent / "validation"
ADEQUACY_CASES = sorted(p.parent for p in VALIDATION.glob("*/units.csv"))


def _units(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u = pd.read_csv(folder / "units.csv")
    n = u["count"].to_numpy()
    return (
        np.repeat(u.capacity_mw.to_numpy(float), n),
        np.repeat(u.forced_outage_rate.to_numpy(float), n),
        np.repeat(u.mttr_h.to_numpy(float), n),
    )


def _load(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    lm = json.loads((folder / "load_model.json").read_text())
    h, d = rts79_load_shape(
        np.array(lm["weekly_percent"]) / 100,
        np.array(lm["daily_percent_monday_first"]) / 100,
        {k: np.array(v) / 100 for k, v in lm["hourly_percent"].items()},
    )
    return lm["annual_peak_mw"] * h, lm["annual_peak_mw"] * d


def test_validation_folders_found() -> None:
    assert "ieee_rts79" in [p.name for p in ADEQUACY_CASES]


@pytest.mark.parametrize("folder", ADEQUACY_CASES, ids=lambda p: p.name)
def test_published_hl1_indices(folder: Path) -> None:
    cap, q, r = _units(folder)
    exp = json.loads((folder / "expected.json").read_text())
    hourly, daily = _load(folder)
    copt = build_copt(cap, q, mttr_h=r)
    assert len(daily) == exp["daily_peak"]["periods"]
    assert len(hourly) == exp["hourly"]["periods"]
    d = loss_of_load(copt, daily)
    assert d.lole == pytest.approx(
        exp["daily_peak"]["lole_d_per_year"], rel=exp["daily_peak"]["rtol"]
    )
    h = loss_of_load(copt, hourly)
    assert h.lole == pytest.approx(exp["hourly"]["lole_h_per_year"], rel=exp["hourly"]["rtol"])
    assert h.eens_mwh == pytest.approx(
        exp["hourly"]["eens_mwh_per_year"], rel=exp["hourly"]["rtol"]
    )


def _enumerate(cap: np.ndarray, q: np.ndarray, mu: np.ndarray):
    """All 2^n unit states: (outage MW, probability, repair-rate sum of the down units)."""
    for down in itertools.product([0, 1], repeat=len(cap)):
        d = np.array(down, dtype=bool)
        yield float(cap[d].sum()), float(np.prod(np.where(d, q, 1 - q))), d


def test_copt_matches_state_enumeration() -> None:
    # a 6-unit system small enough to enumerate its 64 states exactly
    cap = np.array([10.0, 20.0, 20.0, 30.0, 50.0, 5.0])
    q = np.array([0.05, 0.02, 0.08, 0.1, 0.03, 0.2])
    mttr = np.array([20.0, 40.0, 10.0, 50.0, 100.0, 5.0])
    mu = 1 / mttr
    lam = q * mu / (1 - q)  # failure rate from FOR = lam / (lam + mu)
    copt = build_copt(cap, q, mttr_h=mttr, step_mw=5.0)
    p_exact = np.zeros_like(copt.p_exact)
    f_ge = np.zeros_like(copt.p_cum)
    for out, p, d in _enumerate(cap, q, mu):
        k = round(out / 5.0)
        p_exact[k] += p
        # frequency of leaving the set {outage >= X} = repairs that drop the outage below X
        for x in range(1, len(f_ge)):
            if k >= x:
                f_ge[x] += p * sum(mu[i] for i in np.flatnonzero(d) if k - cap[i] / 5 < x)
    assert copt.p_exact == pytest.approx(p_exact, abs=1e-15)
    assert copt.f_cum_per_h[1:] == pytest.approx(f_ge[1:], rel=1e-12)
    # the frequency of entering must equal that of leaving (failures raising the outage >= X)
    f_in = np.zeros_like(f_ge)
    for out, p, d in _enumerate(cap, q, mu):
        k = round(out / 5.0)
        for x in range(1, len(f_in)):
            if k < x:
                f_in[x] += p * sum(lam[i] for i in np.flatnonzero(~d) if k + cap[i] / 5 >= x)
    assert f_in[1:] == pytest.approx(f_ge[1:], rel=1e-12)
    # EENS of one load level by enumeration
    load = 112.0
    eens = sum(p * max(0.0, load - (cap.sum() - out)) for out, p, _ in _enumerate(cap, q, mu))
    lolp = sum(p for out, p, _ in _enumerate(cap, q, mu) if cap.sum() - out < load)
    res = loss_of_load(copt, np.array([load]))
    assert res.eens_mwh == pytest.approx(eens, rel=1e-12)
    assert res.lolp[0] == pytest.approx(lolp, rel=1e-12)


def test_multistate_unit_equals_two_units() -> None:
    # a 3-state unit whose states are those of two independent 2-state units must give the
    # same table as the two units convolved separately
    q1, q2 = 0.1, 0.05
    ms = [
        (
            np.array([0.0, 20.0, 30.0, 50.0]),
            np.array([(1 - q1) * (1 - q2), q1 * (1 - q2), (1 - q1) * q2, q1 * q2]),
        )
    ]
    a = build_copt(np.array([40.0]), np.array([0.02]), multistate=ms, step_mw=10.0)
    b = build_copt(np.array([40.0, 20.0, 30.0]), np.array([0.02, q1, q2]), step_mw=10.0)
    assert a.p_cum == pytest.approx(b.p_cum, abs=1e-15)


def test_capacity_off_grid_is_refused() -> None:
    with pytest.raises(ValueError, match="multiples of step_mw"):
        build_copt(np.array([12.5]), np.array([0.1]), step_mw=1.0)
