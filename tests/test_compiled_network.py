"""The one compiled network: every engine's model comes from one base-case power flow."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pandapower.toolbox
import pytest
import tolerances as tol

import gridplan
from gridplan.errors import CaseError, ConvergenceError
from gridplan.model import CompiledNetwork, compile_network
from gridplan.model.branches import BranchModel
from gridplan.model.contingency_model import ContingencyModel, compile_contingency_model
from gridplan.model.timeseries_model import TimeSeriesModel
from gridplan.studies.powerflow import run_powerflow

MODEL_DIR = Path(gridplan.__file__).parent / "model"


@pytest.fixture
def count_runpp(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count pandapower power flows (AC and DC) run from here on."""
    calls = [0]
    for name in ("runpp", "rundcpp"):
        real = getattr(pp, name)

        def counted(*args, _real=real, **kwargs):
            calls[0] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(pp, name, counted)
    return calls


def test_three_models_compile_from_one_power_flow(count_runpp):
    net = pn.case118()
    network = compile_network(net)
    assert count_runpp[0] == 1
    cm = ContingencyModel.from_network(network, net)
    tm = TimeSeriesModel.from_network(network, net)
    bm = BranchModel.from_network(network)
    assert count_runpp[0] == 1  # no second power flow for the models
    # the network's arrays: same admittance matrix, voltages, branch two-ports
    for model in (cm, tm):
        assert (model.ybus != network.ybus).nnz == 0
        np.testing.assert_array_equal(model.v0, network.v0)
    np.testing.assert_array_equal(cm.sbus, network.sbus)
    assert bm.yff is network.yff
    on = network.branch_ppci >= 0
    np.testing.assert_array_equal(tm.yff, network.yff[on])
    np.testing.assert_array_equal(cm.yff[on], network.yff[on])


def test_each_entry_point_runs_one_power_flow(count_runpp):
    net = pn.case9()
    for build in (compile_contingency_model, TimeSeriesModel.compile, run_powerflow):
        count_runpp[0] = 0
        build(net)
        assert count_runpp[0] == 1, build


def test_no_other_power_flow_call_in_model():
    # the one runpp/rundcpp call of gridplan/model is solve_base_case's, in network.py
    calls = []
    for path in sorted(MODEL_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                fn = node.func
                name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
                if name in ("runpp", "rundcpp", "runopp", "rundcopp"):
                    calls.append((path.name, name))
    assert sorted(calls) == [("network.py", "rundcpp"), ("network.py", "runpp")]


def test_network_equals_pandapower_solution_and_leaves_net_alone():
    net = pn.case118()
    before = copy.deepcopy(net)
    network = compile_network(net)
    assert net.res_bus.empty  # the user's net is not solved in place
    assert pandapower.toolbox.nets_equal(net, before)
    ref = copy.deepcopy(net)
    pp.runpp(ref)
    rows = network.bus_lookup[ref.bus.index.to_numpy()]
    np.testing.assert_allclose(
        np.abs(network.v0[rows]), ref.res_bus.vm_pu, rtol=0, atol=tol.SAME_SOLUTION_VM_PU
    )
    np.testing.assert_allclose(
        np.rad2deg(np.angle(network.v0[rows])),
        ref.res_bus.va_degree,
        rtol=0,
        atol=tol.SAME_SOLUTION_VA_DEGREE,
    )
    # frozen: every array is read-only
    for name in network.array_fields():
        assert not getattr(network, name).flags.writeable, name
    assert not network.ybus.data.flags.writeable
    with pytest.raises(ValueError):
        network.v0[0] = 0.0
    # limits: line loading from the network's per-kA scale equals pandapower's at the base case
    a, b = network.branch_ranges["line"]
    i_ka = ref.res_line[["i_from_ka", "i_to_ka"]].to_numpy()
    loading = 100.0 * np.maximum(
        i_ka[:, 0] * network.scale_f[a:b], i_ka[:, 1] * network.scale_t[a:b]
    )
    np.testing.assert_allclose(loading, ref.res_line.loading_percent, rtol=1e-12)


def test_no_convergence_is_one_convergence_error():
    net = pn.case9()
    net.load.p_mw *= 8.0
    with pytest.raises(ConvergenceError, match="case9x: AC power flow did not converge") as err:
        compile_network(net, where="case9x")
    assert err.value.iterations == 10 and err.value.max_mismatch > 1.0
    assert err.value.hint


def test_unsupported_elements_are_listed_in_one_error():
    net = pn.case9()
    net.load["const_z_percent"] = 0.0
    net.load.loc[[0, 2], "const_z_percent"] = 50.0
    pp.create_svc(
        net, bus=4, x_l_ohm=1.0, x_cvar_ohm=-10.0, set_vm_pu=1.0, thyristor_firing_angle_degree=90.0
    )
    with pytest.raises(CaseError) as err:
        compile_network(net, where="mixed")
    msg = str(err.value)
    assert msg.startswith("mixed: ")
    assert "const_z_percent must be 0" in msg and "[0, 2]" in msg
    assert "svc [0] not supported" in msg


def test_compiled_network_is_exported():
    assert gridplan.model.compile_network is compile_network
    assert isinstance(compile_network(pn.case9()), CompiledNetwork)
