"""`gridplan pf` results read back with plain h5py equal pandapower's own runpp."""

from __future__ import annotations

import h5py
import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
import tolerances as tol

from gridplan.results import SCHEMA_VERSION, read_table


def _col(h5: h5py.File, table: str, col: str) -> np.ndarray:
    return h5[f"powerflow/{table}/{col}"][()]


@pytest.mark.slow
def test_pf_case9241pegase_file_equals_runpp(cli, tmp_path, case9241_solved):
    out = tmp_path / "r.h5"
    res = cli("pf", "case9241pegase", "--out", str(out))
    assert res.code == 0, res.err
    assert "converged" in res.out
    ref = case9241_solved
    with h5py.File(out, "r") as h5:
        assert h5.attrs["schema_version"] == SCHEMA_VERSION
        assert h5.attrs["case_name"] == "case9241pegase"
        assert len(h5.attrs["case_sha256"]) == 64
        np.testing.assert_array_equal(_col(h5, "bus", "index"), ref.bus.index.to_numpy())
        np.testing.assert_allclose(
            _col(h5, "bus", "vm_pu"), ref.res_bus.vm_pu, rtol=0, atol=tol.SAME_SOLUTION_VM_PU
        )
        np.testing.assert_allclose(
            _col(h5, "bus", "va_degree"),
            ref.res_bus.va_degree,
            rtol=0,
            atol=tol.SAME_SOLUTION_VA_DEGREE,
        )
        np.testing.assert_allclose(
            _col(h5, "line", "loading_percent"),
            ref.res_line.loading_percent,
            rtol=0,
            atol=tol.SAME_SOLUTION_LOADING_PERCENT,
        )
        np.testing.assert_allclose(
            _col(h5, "trafo", "loading_percent"),
            ref.res_trafo.loading_percent,
            rtol=0,
            atol=tol.SAME_SOLUTION_LOADING_PERCENT,
        )
        assert h5["powerflow/line/loading_percent"].attrs["units"] == "%"
        assert h5["powerflow/bus/vm_pu"].attrs["units"] == "pu"
        # tables over 4,096 rows are chunked and compressed
        assert h5["powerflow/line/p_from_mw"].compression == "gzip"
    line = read_table(out, "powerflow/line")
    assert line.attrs["units"]["p_from_mw"] == "MW"
    np.testing.assert_allclose(line.p_from_mw, ref.res_line.p_from_mw, rtol=1e-12, atol=1e-8)


def test_pf_trafo3w_and_losses_match_runpp():
    """A multi-voltage case with 3-winding transformers: every branch table equals runpp."""
    from gridplan.studies.powerflow import run_powerflow

    net = pn.example_multivoltage()
    net.res_bus = net.res_bus.iloc[0:0]
    result = run_powerflow(net)
    assert net.res_bus.empty  # the caller's net is not written to
    pp.runpp(net)
    for el in ("line", "trafo", "trafo3w"):
        np.testing.assert_allclose(
            result.tables[el].loading_percent, net[f"res_{el}"].loading_percent, atol=1e-9
        )
    losses = net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum() + net.res_trafo3w.pl_mw.sum()
    assert result.summary.p_loss_mw.iloc[0] == pytest.approx(losses, abs=1e-9)


def test_dc_power_flow_equals_rundcpp(cli, tmp_path):
    out = tmp_path / "dc.h5"
    res = cli("pf", "case118", "--dc", "--out", str(out))
    assert res.code == 0, res.err
    net = pn.case118()
    pp.rundcpp(net)
    bus = read_table(out, "powerflow/bus")
    np.testing.assert_allclose(bus.va_degree, net.res_bus.va_degree, atol=1e-9)
    line = read_table(out, "powerflow/line")
    np.testing.assert_allclose(line.p_from_mw, net.res_line.p_from_mw, atol=1e-9)
