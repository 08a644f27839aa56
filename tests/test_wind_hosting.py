"""Hosting capacity: closed-form cases, and pandapower runpp at the reported MW and 2 % more."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandapower as pp
import pytest

import gridplan
from gridplan.core.violation_rule import reported_violations
from gridplan.model.contingency_model import compile_contingency_model
from gridplan.studies.wind.hosting import hosting, wind_case

# The search closes to min(1 MW, 0.5 %): a closed-form answer lies within 1 % of the result.
CLOSED_FORM_RTOL = 0.01


def _radial(r_ohm: float, x_ohm: float, vmax: float) -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b0 = pp.create_bus(net, 20.0, max_vm_pu=1.1, min_vm_pu=0.9)
    b1 = pp.create_bus(net, 20.0, max_vm_pu=vmax, min_vm_pu=0.9)
    pp.create_ext_grid(net, b0, vm_pu=1.0)
    pp.create_line_from_parameters(net, b0, b1, 1.0, r_ohm, x_ohm, 0.0, 10.0)
    return net


def _two_bus_export_mw(r_ohm: float, x_ohm: float, a: float, u_kv: float = 20.0) -> float:
    """Exact active power a bus exports at |V| = a pu (Q = 0) into a 1 pu slack through Z.

    S = V2 conj((V2 - V1) / Z); Q = 0 gives R sin(d) + X cos(d) = a X, so
    d = asin(a X / |Z|) - atan2(X, R); first order: P = dU U^2 / R.
    """
    z = complex(r_ohm, x_ohm)
    d = math.asin(a * x_ohm / abs(z)) - math.atan2(x_ohm, r_ohm)
    s = (a * a - a * complex(math.cos(d), math.sin(d))) * u_kv**2 / z.conjugate()
    return s.real


@pytest.mark.parametrize(("r_ohm", "x_ohm", "du"), [(2.0, 0.02, 0.03), (4.0, 1.0, 0.02)])
def test_radial_voltage_rise(r_ohm: float, x_ohm: float, du: float) -> None:
    net = _radial(r_ohm, x_ohm, 1.0 + du)
    res = hosting(net, [1])
    row = res.table.loc[1]
    ref = _two_bus_export_mw(r_ohm, x_ohm, 1.0 + du)
    assert row.limit_kind == "vm_max" and row.limit_element == "bus 1"
    assert row.hosting_mw == pytest.approx(ref, rel=CLOSED_FORM_RTOL)
    assert row.hosting_mw <= ref <= row.upper_mw  # the exact value lies in the bracket
    # the textbook first-order figure dU U^2 / R (20 kV, 2 ohm, 3 % -> 6 MW) is within 3 %
    if x_ohm < 0.1:
        assert row.hosting_mw == pytest.approx(du * 400.0 / r_ohm, rel=0.03)


def _parallel(s_mva: float, load_mw: float) -> pp.pandapowerNet:
    # two identical short 110 kV lines of rating S from the wind bus to the slack; local load
    net = pp.create_empty_network()
    b0 = pp.create_bus(net, 110.0, min_vm_pu=0.9, max_vm_pu=1.1)
    b1 = pp.create_bus(net, 110.0, min_vm_pu=0.9, max_vm_pu=1.1)
    pp.create_ext_grid(net, b0, vm_pu=1.0)
    i_ka = s_mva / (math.sqrt(3) * 110.0)
    for _ in range(2):
        pp.create_line_from_parameters(net, b0, b1, 5.0, 0.02, 0.05, 0.0, i_ka)
    pp.create_load(net, b1, p_mw=load_mw)
    return net


@pytest.mark.parametrize("load_mw", [0.0, 20.0])
def test_two_parallel_lines(load_mw: float) -> None:
    s = 100.0
    net = _parallel(s, load_mw)
    n0 = hosting(net, [1]).table.loc[1]
    n1 = hosting(net, [1], n1=True).table.loc[1]
    # lines carry P - L: N-0 limit 2 S, N-1 (one line out) S; |V| ~ 1 pu and Q ~ 0 so the
    # current limit is the MVA rating within a fraction of a percent
    assert n0.limit_kind == "loading" and n1.limit_kind == "loading"
    assert n0.hosting_mw == pytest.approx(2 * s + load_mw, rel=CLOSED_FORM_RTOL)
    assert n1.hosting_mw == pytest.approx(s + load_mw, rel=CLOSED_FORM_RTOL)
    assert n1.limit_outage in ("line 0", "line 1")


def _vm_limits(net: pp.pandapowerNet) -> tuple[np.ndarray, np.ndarray]:
    lo = net.bus.min_vm_pu.fillna(0.95).to_numpy() if "min_vm_pu" in net.bus else 0.95
    hi = net.bus.max_vm_pu.fillna(1.05).to_numpy() if "max_vm_pu" in net.bus else 1.05
    return lo, hi


def _runpp_violations(base: pp.pandapowerNet, case: pp.pandapowerNet, outage: str) -> bool:
    """runpp on both nets with ``outage`` switched out; any new or worsened violation?"""
    nets = []
    for n in (base, case):
        n = copy.deepcopy(n)
        if outage:
            kind, idx = outage.split()
            n[kind].loc[int(idx), "in_service"] = False
        pp.runpp(n)
        nets.append(n)
    b, c = nets
    lo, hi = _vm_limits(b)
    found = False
    for kind in ("line", "trafo"):
        v = reported_violations(
            b[f"res_{kind}"].loading_percent.to_numpy(),
            c[f"res_{kind}"].loading_percent.to_numpy(),
            100.0,
            np.ones(1),
            np.ones(1),
            0.0,
            2.0,
        )
        found |= bool(v.loading.any())
    v = reported_violations(
        np.zeros(1),
        np.zeros(1),
        100.0,
        b.res_bus.vm_pu.to_numpy(),
        c.res_bus.vm_pu.to_numpy(),
        lo,
        hi,
    )
    return found or bool(v.vm_high.any() or v.vm_low.any())


def _check_with_runpp(net: pp.pandapowerNet, row, balance: str, bus: int) -> None:
    p = float(row.hosting_mw)
    assert p > 0
    at = wind_case(net, bus, p, balance=balance)
    more = wind_case(net, bus, 1.02 * p, balance=balance)
    assert not _runpp_violations(net, at, row.limit_outage), f"bus {bus}: violation at {p} MW"
    assert _runpp_violations(net, more, row.limit_outage), f"bus {bus}: none at 2 % more"


@pytest.fixture(scope="module")
def uhv():
    net = gridplan.load_case("uhv-backbone")
    return net, compile_contingency_model(net)


def test_uhv_backbone_n1_matches_runpp(uhv) -> None:
    net, model = uhv
    # a Sichuan and a Ningxia 500 kV bus: dispatchable generation gives way (gens)
    res = hosting(net, [180, 327], n1=True, balance="gens", model=model)
    assert res.balance == "gens" and res.n_outages > 800
    for bus, row in res.table.iterrows():
        assert row.limit_outage != ""  # N-1 binds before N-0 here
        assert row.confirmed_ac > 0
        _check_with_runpp(net, row, "gens", int(bus))


def test_uhv_backbone_n0_slack(uhv) -> None:
    net, model = uhv
    res = hosting(net, [7], balance="slack", model=model)
    row = res.table.loc[7]
    assert row.limit_outage == ""
    _check_with_runpp(net, row, "slack", 7)


@pytest.mark.slow
def test_case1354pegase_n1_matches_runpp() -> None:
    net = gridplan.load_case("case1354pegase")
    res = hosting(net, [200], n1=True, balance="gens")
    row = res.table.loc[200]
    _check_with_runpp(net, row, "gens", 200)


def test_bad_bus_cli(cli) -> None:
    res = cli("wind", "hosting", "uhv-backbone", "--buses", "5,99999")
    assert res.code == 2
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert lines[0] == "error: uhv-backbone: bus 99999 does not exist"
    assert "Traceback" not in res.err
