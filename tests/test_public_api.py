"""The public API: study entry points, results and files import from ``gridplan`` itself."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import gridplan

ROOT = Path(__file__).parent.parent
PUBLIC = {
    "load_case": "gridplan.model.cases",
    "run_powerflow": "gridplan.studies.powerflow",
    "PowerFlowResult": "gridplan.studies.powerflow",
    "run_n1": "gridplan.studies.n1",
    "N1Result": "gridplan.studies.n1",
    "run_timeseries": "gridplan.studies.timeseries",
    "TimeSeriesResult": "gridplan.studies.timeseries",
    "run_reliability": "gridplan.studies.reliability",
    "ReliabilityResult": "gridplan.studies.reliability",
    "run_adequacy": "gridplan.studies.adequacy",
    "AdequacyResult": "gridplan.studies.adequacy",
    "read_table": "gridplan.results",
    "ResultWriter": "gridplan.results",
    "validate": "gridplan.model.validate",
    "CaseError": "gridplan.errors",
    "ConvergenceError": "gridplan.errors",
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_names_import_from_gridplan(name):
    module = importlib.import_module(PUBLIC[name])
    attr = "run" if name == "run_timeseries" else name
    assert getattr(gridplan, name) is getattr(module, attr)
    assert name in gridplan.__all__
    exec(f"from gridplan import {name}", {})  # the form users write


def test_every_exported_name_resolves():
    for name in gridplan.__all__:
        assert getattr(gridplan, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'run_everything'"):
        gridplan.run_everything  # noqa: B018


def test_import_gridplan_stays_light(tmp_path):
    # the study modules (pandapower, scipy, h5py) load on first use, not on import
    code = (
        "import sys, gridplan; "
        "print(sorted(m for m in ('pandapower', 'scipy', 'h5py', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "[]"


def test_python_dash_m_gridplan_runs_the_cli(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "gridplan", "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert "Usage: gridplan" in out.stdout and "n1" in out.stdout


def test_package_is_typed():
    assert (Path(gridplan.__file__).parent / "py.typed").is_file()
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in meta["tool"]["setuptools"]["package-data"]["gridplan"]


def test_a_study_through_the_public_api():
    net = gridplan.load_case("case9")
    res = gridplan.run_powerflow(net)
    assert isinstance(res, gridplan.PowerFlowResult) and res.converged
    # MATPOWER's case9 solution (runpf table, 3 decimals): lowest voltage 0.958 pu at bus 9
    assert res.summary.vm_min_pu.iloc[0] == pytest.approx(0.958, abs=5e-4)
    assert res.summary.vm_min_bus.iloc[0] == 8
