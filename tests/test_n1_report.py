"""N-1 reported as planners report it: new or worsened violations (``report="changed"``).

A hand-built 110 kV net: line A (rated 0.23 kA) carries a 50 MW load at about 111.6 % in the
base case; two long parallel paths (B1-C1, B2-C2) carry the rest. Taking out B1 moves about
0.55 percentage points onto A, taking out B2 about 2.2 (pandapower ``runpp``). With the default
margin of 1 point, the B2 outage reports A as *worsened* and the B1 outage does not report it;
``report="all"`` lists A under both. The expected rows are the rule applied by hand to
pandapower's own post-outage power flows.
"""

from __future__ import annotations

import h5py
import numpy as np
import pandapower as pp
import pytest

from gridplan.studies.n1 import run_n1

LIMIT = 100.0


def _net() -> pp.pandapowerNet:
    net = pp.create_empty_network(name="report-rule")
    b = [pp.create_bus(net, 110.0) for _ in range(4)]
    pp.create_ext_grid(net, b[0])
    pp.create_load(net, b[1], p_mw=50.0, q_mvar=0.0)
    for name, fb, tb, km, ka in (
        ("A", 0, 1, 10, 0.23),
        ("B1", 0, 2, 1000, 1.0),
        ("C1", 2, 1, 1000, 1.0),
        ("B2", 0, 3, 250, 1.0),
        ("C2", 3, 1, 250, 1.0),
    ):
        pp.create_line_from_parameters(net, b[fb], b[tb], km, 0.05, 0.4, 0.0, ka, name=name)
    return net


def _runpp_outages(net: pp.pandapowerNet) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Base and post-outage line loading (percent) of every single-line outage (pandapower;
    NaN where it does not converge)."""
    pp.runpp(net)
    base = net.res_line.loading_percent.to_numpy()
    post = {}
    for k in net.line.index:
        net.line.loc[k, "in_service"] = False
        try:
            pp.runpp(net)
            post[k] = net.res_line.loading_percent.to_numpy().copy()
            post[k][k] = np.nan
        except pp.LoadflowNotConverged:  # line A out: 50 MW over the long paths collapses
            post[k] = np.full(len(net.line), np.nan)
        net.line.loc[k, "in_service"] = True
    return base, post


def _loading_rows(result) -> set[tuple[str, int]]:
    v = result.violations
    v = v[v.quantity == "loading_percent"]
    return set(zip(v.outage_name.astype(str), v.element.astype(int), strict=True))


def test_base_overload_reported_only_when_it_worsens_by_more_than_the_margin():
    net = _net()
    base, post = _runpp_outages(net)
    # the construction: A overloaded in the base, +0.5 and +2 points under B1 and B2 outages
    assert 110 < base[0] < 113
    assert 0.3 < post[1][0] - base[0] < 0.8 and 1.5 < post[3][0] - base[0] < 3.0
    expected = {
        (f"line {k}", j)
        for k, ld in post.items()
        for j in range(ld.size)
        if ld[j] > LIMIT and (base[j] <= LIMIT or ld[j] > base[j] + 1.0)
    }
    assert ("line 3", 0) in expected and ("line 1", 0) not in expected

    for mode in ("ac", "screen"):
        res = run_n1(net, mode=mode, elements=["line"])
        assert res.rule["report"] == "changed"
        assert _loading_rows(res) == expected, mode
        row = res.violations[
            (res.violations.outage_name == "line 3") & (res.violations.element == 0)
        ]
        assert row.violation.astype(str).tolist() == ["worsened"]
        # values as pandapower's (AC to its 1e-8 pu mismatch tolerance: 1e-4 % is ample)
        np.testing.assert_allclose(row.value, post[3][0], atol=1e-4)
        np.testing.assert_allclose(row.base_value, base[0], atol=1e-4)
        # the base-case overload is listed once, on its own
        bv = res.base_violations
        assert bv[["element_type", "element"]].values.tolist() == [["line", 0]]
        np.testing.assert_allclose(bv.value, base[0], atol=1e-4)

    every = run_n1(net, elements=["line"], report="all")
    rows = _loading_rows(every)
    assert ("line 1", 0) in rows and ("line 3", 0) in rows
    kinds = dict(
        zip(
            zip(every.violations.outage_name.astype(str), every.violations.element, strict=True),
            every.violations.violation.astype(str),
            strict=True,
        )
    )
    assert kinds[("line 1", 0)] == "existing" and kinds[("line 3", 0)] == "worsened"

    # a margin of 3 points: the B2 outage no longer worsens A enough
    wide = run_n1(net, elements=["line"], worsen_loading_percent=3.0)
    assert ("line 3", 0) not in _loading_rows(wide)


@pytest.mark.parametrize("mode", ["ac", "dc", "screen"])
def test_changed_is_all_filtered_by_the_rule_in_every_mode(mode):
    # the same rule in every mode: the changed rows are exactly the rows of report all that
    # the rule keeps, recomputed here from their value and base_value
    import pandapower.networks as pn

    net = pn.case300()
    every = run_n1(net, mode=mode, report="all")
    changed = run_n1(net, mode=mode)
    v = every.violations
    m_ld, m_vm = 1.0, 0.005
    lim = v["limit"].to_numpy()
    val, base = v["value"].to_numpy(), v["base_value"].to_numpy()
    is_ld = (v.quantity == "loading_percent").to_numpy()
    low = (~is_ld) & (val < lim)
    with np.errstate(invalid="ignore"):
        keep = np.where(
            is_ld,
            (base <= lim) | (val > base + m_ld),
            np.where(low, (base >= lim) | (val < base - m_vm), (base <= lim) | (val > base + m_vm)),
        )
    cols = ["outage", "element_type", "element", "quantity", "value"]
    want = v.loc[keep, cols].reset_index(drop=True)
    got = changed.violations[cols].reset_index(drop=True)
    assert len(got) == changed.n_violations < every.n_violations or mode == "dc"
    assert want.astype(str).values.tolist() == got.astype(str).values.tolist()


def test_cli_writes_the_rule_and_the_base_violations(tmp_path, cli):
    case = tmp_path / "net.json"
    pp.to_json(_net(), str(case))
    out = tmp_path / "n1.h5"
    res = cli("n1", str(case), "--elements", "line", "--out", str(out))
    assert res.code == 0, res.err
    assert "the base case already has 1 violations" in res.out
    with h5py.File(out, "r") as h5:
        g = h5["contingency"]
        assert g.attrs["report"] == "changed"
        assert g.attrs["worsen_loading_percent"] == 1.0 and g.attrs["worsen_vm_pu"] == 0.005
        assert g["base_violations/element"][:].tolist() == [0]
        kinds = g["violations/violation"].asstr()[:].tolist()
        assert "existing" not in kinds and "worsened" in kinds
    res = cli("n1", str(case), "--elements", "line", "--report", "all", "--out", str(out))
    assert res.code == 0, res.err
    with h5py.File(out, "r") as h5:
        assert h5["contingency"].attrs["report"] == "all"
        assert "existing" in h5["contingency/violations/violation"].asstr()[:].tolist()
