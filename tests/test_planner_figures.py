"""Numbers a planner can trust at a glance (issue 21).

- ``pf``'s active-power balance has every term and closes on every bundled case and on
  case89pegase; each term equals the sum of pandapower's own result table (runpp);
- one storage sign convention (p_mw > 0 = charging, a demand) in pf's balance and n1's
  cut-off MW, checked on a hand-worked two-bus case;
- ``adequacy case24_ieee_rts`` counts the unit modelled as an ext_grid (published LOLE);
- placeholder ratings are said by ``cases show`` and warned by pf and n1;
- HL-II stopping at its sample limit says so; ``results show`` prints group attributes;
  ``results export`` names ``--csv`` in its usage and writes the units beside the CSV.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pandas as pd
import pytest

import gridplan
from gridplan.model.cases import bundled_cases
from gridplan.results import read_group_attrs
from gridplan.studies.adequacy import run_adequacy
from gridplan.studies.n1 import run_n1
from gridplan.studies.powerflow import run_powerflow

RTS = Path(__file__).parent / "validation" / "ieee_rts79"

# (term of the balance, pandapower result table, column, sign: +1 supply, -1 demand)
_REFERENCE_TERMS = (
    ("ext_grid", "res_ext_grid", "p_mw"),
    ("gen", "res_gen", "p_mw"),
    ("sgen", "res_sgen", "p_mw"),
    ("load", "res_load", "p_mw"),
    ("storage", "res_storage", "p_mw"),
    ("shunt", "res_shunt", "p_mw"),
    ("line_losses", "res_line", "pl_mw"),
    ("trafo_losses", "res_trafo", "pl_mw"),
    ("trafo3w_losses", "res_trafo3w", "pl_mw"),
    ("impedance_losses", "res_impedance", "pl_mw"),
    ("dcline_losses", "res_dcline", "pl_mw"),
)


@pytest.mark.parametrize("spec", [*bundled_cases(), "case89pegase"])
def test_power_balance_closes_with_every_term(spec):
    net = gridplan.load_case(spec)
    bal = run_powerflow(net).tables["balance"]
    # closes to the solver tolerance: runpp stops when every bus mismatch is below 1e-8 pu
    # (of sn_mva), so the sum over all buses is below n_bus * 1e-8 * sn_mva MW
    tol_mw = len(net.bus) * 1e-8 * float(net.sn_mva)
    assert abs(bal.p_mw["mismatch"]) <= tol_mw
    supply = bal.p_mw[bal.side == "supply"].sum()
    demand = bal.p_mw[bal.side == "demand"].sum()
    assert supply - demand == pytest.approx(bal.p_mw["mismatch"], abs=1e-9)
    # every term is pandapower's own figure (independent runpp on the same case)
    ref = gridplan.load_case(spec)
    pp.runpp(ref)
    for term, table, col in _REFERENCE_TERMS:
        df = ref[table] if table in ref else pd.DataFrame()
        if len(df) and col in df:
            assert term in bal.index, term
            assert bal.p_mw[term] == pytest.approx(df[col].sum(), abs=1e-6), term


def test_dc_links_and_shunts_are_in_the_balance(cli):
    # uhv-backbone: the DC links' losses by pandapower's dcline model, p_from * loss_percent
    # / 100 + loss_mw per link (the 660 MW that issue 21 found missing)
    net = gridplan.load_case("uhv-backbone")
    dcl = net.dcline[net.dcline.in_service]
    by_hand = float((dcl.p_mw * dcl.loss_percent / 100 + dcl.loss_mw).sum())
    bal = run_powerflow(net).tables["balance"]
    assert bal.p_mw["dcline_losses"] == pytest.approx(by_hand, abs=1e-6)
    assert by_hand == pytest.approx(660.0, abs=0.5)
    assert bal.attrs["dcline_transfer_mw"] == pytest.approx(float(dcl.p_mw.abs().sum()))
    res = cli("pf", "uhv-backbone")
    assert res.code == 0
    assert "dcline losses 660.00" in res.out and "DC links carry 10000.0 MW" in res.out
    # case89pegase: shunt active power (5.6 MW, pandapower's res_shunt) is a demand term
    res = cli("pf", "case89pegase")
    assert "shunt 5.59" in res.out


def _storage_case(storage_mw: float) -> pp.pandapowerNet:
    net = pp.create_empty_network()
    b0, b1 = pp.create_bus(net, 20.0), pp.create_bus(net, 20.0)
    pp.create_ext_grid(net, b0)
    pp.create_line_from_parameters(net, b0, b1, 1.0, 0.1, 0.3, 10.0, 1.0)
    pp.create_load(net, b1, p_mw=10.0)
    pp.create_storage(net, b1, p_mw=storage_mw, max_e_mwh=10.0)
    return net


@pytest.mark.parametrize("storage_mw", [3.0, -3.0], ids=["charging", "discharging"])
def test_one_storage_sign_convention(storage_mw):
    # storage p_mw > 0 is charging, a demand, in pf's balance and in n1's cut-off load alike:
    # the line outage cuts off bus 1 with 10 MW of load and the storage (by hand: 10 + p)
    net = _storage_case(storage_mw)
    bal = run_powerflow(net).tables["balance"]
    assert bal.side["storage"] == "demand"
    assert bal.p_mw["storage"] == pytest.approx(storage_mw)
    assert bal.p_mw["ext_grid"] == pytest.approx(
        10.0 + storage_mw + bal.p_mw["line_losses"], abs=1e-6
    )
    res = run_n1(net, elements=["line"])
    row = res.outages.iloc[0]
    assert row.status == "islanded"
    assert row.cut_load_mw == pytest.approx(10.0 + storage_mw)
    assert row.cut_gen_mw == pytest.approx(0.0)


def test_adequacy_counts_the_unit_modelled_as_an_ext_grid(cli):
    # case24_ieee_rts models one of the 32 RTS units (197 MW) as its ext_grid with max_p_mw
    exp = json.loads((RTS / "expected.json").read_text())["hourly"]
    res = run_adequacy(pn.case24_ieee_rts())
    i = res.indices.iloc[0]
    assert len(res.units) == 32 and i.installed_mw == 3405
    assert i.lole_h_per_year == pytest.approx(exp["lole_h_per_year"], rel=exp["rtol"])
    assert any("ext_grid 0 (197 MW max_p_mw) counted" in n for n in res.notes)
    out = cli("adequacy", "case24_ieee_rts")
    assert out.code == 0 and "note: ext_grid 0 (197 MW max_p_mw) counted" in out.out
    # left out on request, and said so
    left = run_adequacy(pn.case24_ieee_rts(), include_ext_grid=False)
    assert len(left.units) == 31 and left.indices.installed_mw.iloc[0] == 3208
    assert left.indices.lole_h_per_year.iloc[0] > 3 * i.lole_h_per_year
    assert any("left out (--exclude-ext-grid)" in n for n in left.notes)


def test_ext_grid_without_capacity_is_left_out_loudly():
    net = pp.create_empty_network()
    b = pp.create_bus(net, 110.0)
    pp.create_ext_grid(net, b)  # no max_p_mw: an unlimited infeed
    pp.create_gen(net, b, p_mw=0.0, max_p_mw=100.0)
    pp.create_load(net, b, p_mw=60.0)
    res = run_adequacy(net, load_model="flat")
    assert len(res.units) == 1
    assert any("ext_grid 0 (no max_p_mw) left out" in n for n in res.notes)


def _unrated(tmp_path: Path) -> str:
    net = pn.case9()
    net.line["max_i_ka"] = 99999.0  # what converters write for a branch without a limit
    path = tmp_path / "unrated.json"
    pp.to_json(net, str(path))
    return str(path)


def test_placeholder_ratings_are_said_and_warned(cli, tmp_path):
    path = _unrated(tmp_path)
    show = cli("cases", "show", path)
    assert "remarks: none" not in show.out
    assert "every in-service line has its rating (max_i_ka) at a placeholder" in show.out
    for argv in (["pf", path], ["n1", path]):
        res = cli(*argv)
        assert res.code == 0
        assert "warning: every in-service line has its rating (max_i_ka) at a placeholder" in (
            res.err
        )
    # MATPOWER's 9900 MVA "no limit" (case118) is a placeholder too; real ratings are not
    assert any("at a placeholder" in r for r in gridplan.model.validate.remarks(pn.case118()))
    assert not gridplan.model.validate.remarks(gridplan.load_case("uhv-backbone"))


def test_hl2_at_its_sample_limit_says_so(cli, tmp_path):
    out = tmp_path / "a.h5"
    res = cli(
        "adequacy", "case24_ieee_rts", "--composite", "--max-samples", "1000", "--out", str(out)
    )
    assert res.code == 0
    assert "note: HL-II stopped at its sample limit (1000 states)" in res.out
    attrs = read_group_attrs(out)["adequacy"]
    assert not attrs["cov_reached"] and attrs["max_samples"] == 1000
    # the file's group attributes are printed by results show
    show = cli("results", "show", str(out))
    assert "@cov_reached = False" in show.out and "@target_cov = 0.05" in show.out


def test_results_export_usage_and_units(cli, tmp_path):
    helptext = cli("results", "export", "--help").out
    assert "Usage: gridplan results export --csv OUT.csv [OPTIONS] FILE TABLE" in helptext
    out = tmp_path / "pf.h5"
    assert cli("pf", "case9", "--out", str(out)).code == 0
    csv = tmp_path / "bus.csv"
    res = cli("results", "export", str(out), "powerflow/bus", "--csv", str(csv))
    assert res.code == 0 and "units in" in res.out
    units = pd.read_csv(tmp_path / "bus.units.csv", keep_default_na=False).set_index("column")
    from gridplan.results import schema

    decl = schema.table("powerflow/bus")
    for col in pd.read_csv(csv, index_col=0).columns:
        assert units.unit[col] == decl.column(col).unit, col
    assert units.unit["vm_pu"] == "pu" and units.unit["p_mw"] == "MW"
