"""Shared fixtures: in-process CLI runner, solved reference cases."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import pandapower as pp
import pandapower.networks as pn
import pytest

from gridplan.cli import main


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
