"""Every outage kind (dcline, sgen, storage, impedance, multi-element sets) against pandapower.

``--mode ac``: post-outage bus voltages and branch loadings equal pandapower ``runpp`` with the
element set out of service: |d vm_pu| <= 1e-6 and |d loading_percent| <= 1e-3 (as in
``test_n1_accuracy``: both solvers stop on a largest mismatch below 1e-8 pu, so the two solutions
agree to ~1e-9 pu; a modelling difference, a wrong injection or a missed PV -> PQ switch, shows
at 1e-3 pu and more). The scan's loading matrix is float32 (7.6e-6 relative), well inside 1e-3 %.

``--mode dc``: the engine adds linear (DC) active-flow changes to the AC base flows. pandapower's
``rundcpp`` gives the same changes as ``post - base``: for an injection loss exactly, for a branch
set once the branches' pre-outage flows are the same. Its DC base flows are not the AC flows the
engine re-routes, so the reference net gets the difference as a transfer along each outaged
branch (an sgen pair, superposition of the linear model). Expected loading: pandapower's AC base
loading at each end scaled by ``|S_new| / |S_base|`` (reactive flow and voltage kept, as the dc
mode does). Same 1e-3 % tolerance: both are one sparse linear solve (~1e-12 relative).

Impedances have no loading in pandapower's results; gridplan rates them at ``sn_mva``:
``100 * max(i_from_ka * vn_from_kv, i_to_ka * vn_to_kv) * sqrt(3) / sn_mva``, computed here from
pandapower's ``res_impedance`` currents.
"""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from gridplan.errors import CaseError
from gridplan.model.cases import load_case
from gridplan.results import read_table
from gridplan.studies.n1 import default_outages, n1_states, run_n1

VM_TOL = 1e-6  # pu
LD_TOL = 1e-3  # percent
KINDS = ("line", "trafo", "impedance")  # monitored element types compared
SQRT3 = np.sqrt(3.0)


@pytest.fixture(scope="module")
def net9() -> pp.pandapowerNet:
    """case9 with a wind farm (sgen), two storages (charging, discharging), a dcline and an
    impedance in parallel to a line."""
    net = pn.case9()
    pp.create_sgen(net, 4, p_mw=30.0, q_mvar=5.0, name="wind farm")
    pp.create_sgen(net, 8, p_mw=12.0, q_mvar=-2.0, scaling=0.5)
    pp.create_storage(net, 6, p_mw=20.0, max_e_mwh=80.0, q_mvar=3.0)  # charging
    pp.create_storage(net, 4, p_mw=-15.0, max_e_mwh=60.0)  # discharging
    pp.create_dcline(
        net, 6, 8, p_mw=40.0, loss_percent=2.0, loss_mw=0.5, vm_from_pu=1.0, vm_to_pu=1.01
    )
    pp.create_impedance(net, 4, 6, rft_pu=0.01, xft_pu=0.08, sn_mva=100.0)
    return net


def _impedance_loading(work: pp.pandapowerNet) -> np.ndarray:
    im, res = work.impedance, work.res_impedance
    vn_f = work.bus.vn_kv.reindex(im.from_bus).to_numpy()
    vn_t = work.bus.vn_kv.reindex(im.to_bus).to_numpy()
    w = np.maximum(res.i_from_ka.to_numpy() * vn_f, res.i_to_ka.to_numpy() * vn_t)
    return 100.0 * SQRT3 * w / im.sn_mva.to_numpy()


def _runpp_out(net: pp.pandapowerNet, elems: list[tuple[str, int]]):
    """pandapower's AC state with ``elems`` out: vm (bus order), loading per type, res copy."""
    work = copy.deepcopy(net)
    for kind, idx in elems:
        work[kind].at[idx, "in_service"] = False
    pp.runpp(work)
    ld = {k: work[f"res_{k}"].loading_percent.to_numpy() for k in ("line", "trafo")}
    if len(work.impedance):
        ld["impedance"] = _impedance_loading(work)
    return work.res_bus.vm_pu.to_numpy(), ld


def _check_ac(net, specs) -> tuple[float, float]:
    """Largest vm and loading error over ``specs`` (n1_states and the scan's loading matrix)."""
    status, vm, ld = n1_states(net, specs, monitored=KINDS)
    rows: dict[int, np.ndarray] = {}
    res = run_n1(
        net,
        outages=specs,
        matrix_sink=lambda pos, m: rows.update(zip(pos.tolist(), m.copy(), strict=True)),
    )
    el = res.elements
    worst_vm = worst_ld = 0.0
    for j, (name, elems) in enumerate(specs):
        assert status[j] in ("converged", "islanded"), name
        assert res.outages.status.iloc[j] == status[j], name
        vm_ref, ld_ref = _runpp_out(net, elems)
        ok = np.isfinite(vm_ref)
        assert np.array_equal(ok, np.isfinite(vm[j])), name
        worst_vm = max(worst_vm, float(np.max(np.abs(vm[j][ok] - vm_ref[ok]))))
        out = set(elems)
        for kind in KINDS:
            if not len(net[kind]):
                continue
            idx = net[kind].index.to_numpy()
            own = np.array([(kind, int(i)) in out for i in idx])
            ref = ld_ref[kind]
            mine = ld[kind][j]
            scan = np.array(
                [
                    rows[j][(el.element_type == kind).to_numpy() & (el.element == i).to_numpy()][0]
                    for i in idx
                ]
            )
            both = ~own & np.isfinite(ref) & np.isfinite(mine)
            assert np.all(np.isnan(mine[own])) and np.all(np.isnan(scan[own])), name
            worst_ld = max(
                worst_ld,
                float(np.max(np.abs(mine[both] - ref[both]), initial=0.0)),
                float(np.max(np.abs(scan[both] - ref[both]), initial=0.0)),
            )
        assert res.outages.min_vm_pu.iloc[j] == pytest.approx(np.nanmin(vm_ref), abs=VM_TOL)
    return worst_vm, worst_ld


@pytest.mark.parametrize("kind", ["sgen", "storage", "dcline", "impedance"])
def test_each_kind_ac_matches_runpp(net9, kind):
    specs = default_outages(net9, [kind])
    assert len(specs) == len(net9[kind])
    worst_vm, worst_ld = _check_ac(net9, specs)
    assert worst_vm <= VM_TOL
    assert worst_ld <= LD_TOL


def test_multi_element_set_ac_matches_runpp(net9):
    # a branch, an impedance, a dcline block, a wind farm and a storage at once, and a
    # corridor that cuts bus 4 off (islanded: its wind farm and storage go with it)
    specs = [
        ("mixed", [("line", 4), ("impedance", 0), ("dcline", 0), ("sgen", 0), ("storage", 0)]),
        ("corridor", [("line", 1), ("line", 2), ("impedance", 0)]),
    ]
    worst_vm, worst_ld = _check_ac(net9, specs)
    assert worst_vm <= VM_TOL
    assert worst_ld <= LD_TOL
    res = run_n1(net9, outages=specs)
    assert list(res.outages.status) == ["converged", "islanded"]


def test_lost_p_mw_per_kind(net9):
    specs = default_outages(net9, ["gen", "dcline", "sgen", "storage", "impedance", "line"])
    res = run_n1(net9, outages=specs)
    lost = dict(zip(res.outages.name, res.outages.lost_p_mw, strict=True))
    for i, g in net9.gen.iterrows():
        assert lost[f"gen {i}"] == pytest.approx(g.p_mw)
    assert lost["dcline 0"] == pytest.approx(40.0)
    assert lost["sgen 0"] == pytest.approx(30.0)
    assert lost["sgen 1"] == pytest.approx(6.0)  # scaling 0.5
    assert lost["storage 0"] == pytest.approx(-20.0)  # it was charging: a demand is lost
    assert lost["storage 1"] == pytest.approx(15.0)
    assert lost["impedance 0"] == 0.0 and lost["line 0"] == 0.0


def _dc_reference(net, elems, base_ac):
    """Expected dc-mode loading per type: AC base flows plus rundcpp's change (see module doc)."""
    base_dc = copy.deepcopy(net)
    pp.rundcpp(base_dc)
    work = copy.deepcopy(net)
    for kind, idx in elems:
        work[kind].at[idx, "in_service"] = False
        if kind in ("line", "impedance"):
            br = net[kind].loc[idx]
            d = base_ac[f"res_{kind}"].p_from_mw.at[idx] - base_dc[f"res_{kind}"].p_from_mw.at[idx]
            pp.create_sgen(work, int(br.from_bus), p_mw=d)
            pp.create_sgen(work, int(br.to_bus), p_mw=-d)
    pp.rundcpp(work)
    out = {}
    for kind in KINDS:
        if not len(net[kind]):
            continue
        dp = (
            work[f"res_{kind}"][f"p_{'hv' if kind == 'trafo' else 'from'}_mw"].to_numpy()
            - base_dc[f"res_{kind}"][f"p_{'hv' if kind == 'trafo' else 'from'}_mw"].to_numpy()
        )
        r = base_ac[f"res_{kind}"]
        a, b = ("hv", "lv") if kind == "trafo" else ("from", "to")
        p_a, q_a = r[f"p_{a}_mw"].to_numpy(), r[f"q_{a}_mvar"].to_numpy()
        p_b, q_b = r[f"p_{b}_mw"].to_numpy(), r[f"q_{b}_mvar"].to_numpy()
        # each end's loading scales with |S| at the base-case voltage
        if kind == "line":
            w_a, w_b = r.i_from_ka.to_numpy(), r.i_to_ka.to_numpy()
            ld0 = r.loading_percent.to_numpy()
        elif kind == "trafo":
            w_a = r.i_hv_ka.to_numpy() * net.trafo.vn_hv_kv.to_numpy()
            w_b = r.i_lv_ka.to_numpy() * net.trafo.vn_lv_kv.to_numpy()
            ld0 = r.loading_percent.to_numpy()
        else:
            im = net.impedance
            w_a = r.i_from_ka.to_numpy() * net.bus.vn_kv.reindex(im.from_bus).to_numpy()
            w_b = r.i_to_ka.to_numpy() * net.bus.vn_kv.reindex(im.to_bus).to_numpy()
            ld0 = _impedance_loading(base_ac)
        per = ld0 / np.maximum(w_a, w_b)
        s_a = np.hypot(p_a + dp, q_a) / np.hypot(p_a, q_a)
        s_b = np.hypot(p_b - dp, q_b) / np.hypot(p_b, q_b)
        exp = per * np.maximum(w_a * s_a, w_b * s_b)
        own = np.array([(kind, int(i)) in set(elems) for i in net[kind].index])
        exp[own] = np.nan
        out[kind] = exp
    return out


@pytest.mark.parametrize(
    "elems",
    [
        [("sgen", 0)],
        [("sgen", 1)],
        [("storage", 0)],
        [("storage", 1)],
        [("dcline", 0)],
        [("gen", 0)],
        [("impedance", 0)],
        [("line", 4), ("impedance", 0)],
        [("line", 4), ("impedance", 0), ("dcline", 0), ("sgen", 0), ("storage", 0)],
    ],
    ids=lambda e: "+".join(f"{k}{i}" for k, i in e),
)
def test_dc_mode_every_kind_matches_rundcpp(net9, elems):
    base_ac = copy.deepcopy(net9)
    pp.runpp(base_ac)
    rows: dict[int, np.ndarray] = {}
    res = run_n1(
        net9,
        mode="dc",
        outages=[("o", elems)],
        matrix_sink=lambda pos, m: rows.update(zip(pos.tolist(), m.copy(), strict=True)),
    )
    assert res.outages.status.iloc[0] == "converged", res.outages.reason.iloc[0]
    exp = _dc_reference(net9, elems, base_ac)
    el = res.elements
    worst = 0.0
    for kind, e in exp.items():
        mine = rows[0][(el.element_type == kind).to_numpy()]
        assert np.array_equal(np.isnan(mine), np.isnan(e)), kind
        ok = np.isfinite(e)
        worst = max(worst, float(np.max(np.abs(mine[ok] - e[ok]), initial=0.0)))
    assert worst <= LD_TOL


def test_dc_single_branch_path_unchanged(net9):
    # one branch alone still goes by LODF: same numbers whether alone or in a mixed block
    specs = [("l3", [("line", 3)]), ("s0", [("sgen", 0)]), ("l5", [("line", 5)])]
    rows_mixed: dict[int, np.ndarray] = {}
    run_n1(
        net9,
        mode="dc",
        outages=specs,
        matrix_sink=lambda p, m: rows_mixed.update(zip(p.tolist(), m.copy(), strict=True)),
    )
    rows_alone: dict[int, np.ndarray] = {}
    run_n1(
        net9,
        mode="dc",
        outages=[specs[0], specs[2]],
        matrix_sink=lambda p, m: rows_alone.update(zip(p.tolist(), m.copy(), strict=True)),
    )
    np.testing.assert_array_equal(rows_mixed[0], rows_alone[0])
    np.testing.assert_array_equal(rows_mixed[2], rows_alone[1])


@pytest.fixture(scope="module")
def uhv() -> pp.pandapowerNet:
    return load_case("uhv-backbone")


def test_uhv_bipole_blocks_lose_p_mw_and_match_runpp(uhv):
    res = run_n1(uhv, elements=["dcline"])
    assert list(res.outages.name) == [f"dcline {i}" for i in uhv.dcline.index]
    assert (res.outages.status == "converged").all()
    np.testing.assert_allclose(res.outages.lost_p_mw.to_numpy(), uhv.dcline.p_mw.to_numpy())
    worst_vm, worst_ld = _check_ac(uhv, default_outages(uhv, ["dcline"]))
    assert worst_vm <= VM_TOL
    assert worst_ld <= LD_TOL


def test_uhv_series_capacitors_outaged_and_monitored(uhv):
    specs = default_outages(uhv, ["impedance"])
    assert [s[0] for s in specs] == ["impedance 0", "impedance 1"]
    worst_vm, worst_ld = _check_ac(uhv, specs)
    assert worst_vm <= VM_TOL
    assert worst_ld <= LD_TOL


def test_cli_elements_dcline_writes_lost_p_mw(cli, tmp_path, uhv):
    out = tmp_path / "n1.h5"
    r = cli("n1", "uhv-backbone", "--elements", "dcline,impedance", "--out", str(out))
    assert r.code == 0, r.err
    o = read_table(out, "contingency/outages")
    lost = dict(zip(o.name, o.lost_p_mw, strict=True))
    assert lost["dcline 0"] == pytest.approx(uhv.dcline.p_mw.at[0])
    assert lost["dcline 1"] == pytest.approx(uhv.dcline.p_mw.at[1])
    assert lost["impedance 0"] == 0.0
    el = read_table(out, "contingency/elements")
    assert (el.element_type == "impedance").sum() == 2


def test_bad_element_type_is_one_line_case_error(cli, net9):
    with pytest.raises(CaseError, match="dclne") as exc:
        default_outages(net9, ["line", "dclne"])
    assert "\n" not in str(exc.value)
    r = cli("n1", "uhv-backbone", "--elements", "line,svc")
    assert r.code != 0 and "svc" in r.err
