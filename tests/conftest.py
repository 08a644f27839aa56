"""Shared fixtures: in-process CLI runner, solved reference cases."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import pandapower as pp
import pandapower.networks as pn
import pytest

from gridplan.cli import main
from gridplan.model.contingency_model import ContingencyModel, compile_contingency_model


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``gridplan ARGS`` in-process; returns exit code, stdout and stderr."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = 0
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def case9241_solved() -> pp.pandapowerNet:
    """case9241pegase solved by pandapower's own runpp (the reference)."""
    net = pn.case9241pegase()
    pp.runpp(net)
    return net


@pytest.fixture
def case9241_copy(case9241_solved: pp.pandapowerNet) -> pp.pandapowerNet:
    return copy.deepcopy(case9241_solved)


@pytest.fixture(scope="module")
def net118() -> pp.pandapowerNet:
    """pandapower's case118 (read only: N-1 tests share it within a module)."""
    return pn.case118()


@pytest.fixture(scope="module")
def model118(net118: pp.pandapowerNet) -> ContingencyModel:
    return compile_contingency_model(net118)
