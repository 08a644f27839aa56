"""Every input format loads into the same grid: write a small case, load it back, compare."""

from __future__ import annotations

import zipfile

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest
import tolerances as tol
from pandapower.converter.matpower import to_mpc

import gridplan
from gridplan.errors import CaseError


def _solved(net: pp.pandapowerNet) -> pp.pandapowerNet:
    pp.runpp(net)
    return net


def _matpower_text(mpc: dict) -> str:
    """A MATPOWER version-2 .m file from a ppc dict, as MATPOWER itself writes them."""

    def block(name: str, arr: np.ndarray) -> str:
        rows = "\n".join(
            "\t" + "\t".join(f"{x:.17g}" for x in row) + ";" for row in np.atleast_2d(arr)
        )
        return f"mpc.{name} = [\n{rows}\n];\n"

    return (
        "function mpc = case_written_by_test\nmpc.version = '2';\n"
        f"mpc.baseMVA = {float(mpc['baseMVA']):.17g};\n"
        + block("bus", mpc["bus"][:, :13])
        + block("gen", mpc["gen"][:, :10])
        + block("branch", mpc["branch"][:, :13])
    )


@pytest.fixture(scope="module")
def case9_ref() -> pp.pandapowerNet:
    return _solved(pn.case9())


def test_pandapower_json_roundtrip(tmp_path, case9_ref):
    path = tmp_path / "case9.json"
    pp.to_json(pn.case9(), str(path))
    net = _solved(gridplan.load_case(path))
    np.testing.assert_allclose(net.res_bus.vm_pu, case9_ref.res_bus.vm_pu, atol=1e-12)
    assert net.name == "case9"


def test_matpower_mat(tmp_path, case9_ref):
    path = tmp_path / "case9.mat"
    to_mpc(pn.case9(), filename=str(path), init="flat")
    net = _solved(gridplan.load_case(path))
    np.testing.assert_allclose(
        net.res_bus.vm_pu.to_numpy(),
        case9_ref.res_bus.vm_pu.to_numpy(),
        atol=tol.INDEPENDENT_SOLVE_VM_PU,
    )
    np.testing.assert_allclose(
        net.res_bus.va_degree.to_numpy(),
        case9_ref.res_bus.va_degree.to_numpy(),
        atol=tol.INDEPENDENT_SOLVE_VA_DEGREE,
    )


def test_matpower_m(tmp_path):
    ref = _solved(pn.case30())
    path = tmp_path / "case30.m"
    path.write_text(_matpower_text(to_mpc(pn.case30(), init="flat")["mpc"]))
    net = _solved(gridplan.load_case(path))
    assert len(net.bus) == 30
    np.testing.assert_allclose(
        net.res_bus.vm_pu.to_numpy(), ref.res_bus.vm_pu.to_numpy(), atol=tol.INDEPENDENT_SOLVE_VM_PU
    )
    np.testing.assert_allclose(
        net.res_bus.va_degree.to_numpy(),
        ref.res_bus.va_degree.to_numpy(),
        atol=tol.INDEPENDENT_SOLVE_VA_DEGREE,
    )


def test_bundled_and_pandapower_networks_names():
    net = gridplan.load_case("mv_oberrhein")
    assert len(net.bus) == 179
    assert gridplan.load_case("case118").name == "case118"


@pytest.fixture(scope="module")
def powsybl_ieee14():
    pn_ = pytest.importorskip("pypowsybl.network", reason="gridplan[formats] extra not installed")
    import pypowsybl.loadflow as lf

    network = pn_.create_ieee14()
    # OpenLoadFlow distributes the slack by default; pandapower keeps it on the reference bus
    lf.run_ac(network, parameters=lf.Parameters(distributed_slack=False))
    return network


def _compare_with_powsybl(net: pp.pandapowerNet, network) -> None:
    pp.runpp(net)
    buses = network.get_buses()
    vls = network.get_voltage_levels()
    ref_vm = (buses.v_mag / vls.nominal_v.reindex(buses.voltage_level_id).to_numpy()).to_numpy()
    ref_va = buses.v_angle.to_numpy()
    ref_va = (
        ref_va - ref_va[np.argmax(net.bus.index == net.ext_grid.bus.iloc[0])]
    )  # same reference bus
    assert len(net.bus) == len(buses) == 14
    assert list(net.bus.name) == list(buses.index)
    # two independent Newton solvers (pandapower, OpenLoadFlow), each converged to about 1e-8 pu
    # mismatch on the same model: 1e-6 pu and 1e-4 degree
    np.testing.assert_allclose(
        net.res_bus.vm_pu.to_numpy(), ref_vm, atol=tol.INDEPENDENT_SOLVE_VM_PU
    )
    np.testing.assert_allclose(
        net.res_bus.va_degree.to_numpy(), ref_va, atol=tol.INDEPENDENT_SOLVE_VA_DEGREE
    )


def test_psse_raw_through_pypowsybl(tmp_path, powsybl_ieee14):
    path = tmp_path / "ieee14.raw"
    powsybl_ieee14.save(str(path), format="PSS/E")
    _compare_with_powsybl(gridplan.load_case(path), powsybl_ieee14)


def test_cgmes_zip_through_pypowsybl(tmp_path, powsybl_ieee14):
    folder = tmp_path / "cgmes"
    folder.mkdir()
    powsybl_ieee14.save(str(folder / "ieee14"), format="CGMES")
    path = tmp_path / "ieee14.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(folder.glob("*.xml")):
            zf.write(f, f.name)
    # CGMES export does not carry every control of the original (pypowsybl's own load flow of the
    # re-read file differs from the original), so compare the data: topology and injections
    net = gridplan.load_case(path)
    ref = powsybl_ieee14
    assert len(net.bus) == len(ref.get_buses())
    assert len(net.line) + len(net.trafo) + len(net.impedance) == (
        len(ref.get_lines()) + len(ref.get_2_windings_transformers())
    )
    assert net.load.p_mw.sum() == pytest.approx(ref.get_loads().p0.sum(), abs=1e-6)
    assert net.load.q_mvar.sum() == pytest.approx(ref.get_loads().q0.sum(), abs=1e-6)
    pp.runpp(net)
    assert net.converged


def test_missing_formats_extra_is_explained(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pypowsybl(name, *args, **kwargs):
        if name.startswith("pypowsybl"):
            raise ImportError("no pypowsybl")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pypowsybl)
    path = tmp_path / "grid.raw"
    path.write_text("0, 100.0 /\n")
    with pytest.raises(CaseError, match=r"needs pypowsybl") as err:
        gridplan.load_case(path)
    assert "gridplan[formats]" in err.value.hint
