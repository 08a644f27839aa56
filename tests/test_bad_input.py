"""Bad input: one line naming the file/element and the problem, exit code, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pandapower as pp
import pandapower.networks as pn
import pytest

import gridplan
from gridplan.errors import CaseError


def _one_line_error(res) -> str:
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("error: "), res.err
    assert "Traceback" not in res.err
    assert len(lines) <= 2  # the error, optionally a hint
    return lines[0]


def test_missing_file(cli, tmp_path):
    res = cli("pf", str(tmp_path / "nope.json"))
    assert res.code == 2
    assert _one_line_error(res) == f"error: {tmp_path / 'nope.json'}: no such file"


def test_unknown_case_suggests_close_names(cli):
    res = cli("pf", "case9241pegas")
    assert res.code == 2
    assert _one_line_error(res) == "error: case9241pegas: unknown case"
    assert "did you mean case9241pegase" in res.err


def test_malformed_json(cli, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(
        '{"_module": "pandapower.auxiliary", "_class": "pandapowerNet",\n "_object": {"bus": '
    )
    res = cli("pf", str(path))
    assert res.code == 2
    line = _one_line_error(res)
    assert str(path) in line and "malformed JSON at line 2" in line


def test_unsupported_extension(cli, tmp_path):
    path = tmp_path / "grid.xlsx"
    path.write_text("not a case")
    res = cli("cases", "show", str(path))
    assert res.code == 2
    assert "unsupported file type '.xlsx'" in _one_line_error(res)
    assert "hint: supported: .json" in res.err


def test_bus_reference_that_does_not_exist(cli, tmp_path):
    net = pn.case9()
    net.line.loc[3, "to_bus"] = 99
    net.load.loc[1, "bus"] = 42
    path = tmp_path / "badbus.json"
    pp.to_json(net, str(path))
    res = cli("pf", str(path))
    assert res.code == 2
    line = _one_line_error(res)
    # every problem is reported, not only the first
    assert "line 3: to_bus refers to bus 99 that does not exist" in line
    assert "load 1: bus refers to bus 42 that does not exist" in line


def test_non_convergence_exit_code_1(cli, tmp_path):
    net = pn.case9()
    net.load.p_mw *= 8.0
    path = tmp_path / "overloaded.json"
    pp.to_json(net, str(path))
    res = cli("pf", str(path))
    assert res.code == 1
    line = _one_line_error(res)
    assert "overloaded: AC power flow did not converge after 10 iterations" in line
    assert "largest bus mismatch" in line


def test_json_naming_foreign_modules_is_refused(tmp_path):
    net = pn.case9()
    path = tmp_path / "evil.json"
    pp.to_json(net, str(path))
    raw = json.loads(path.read_text())
    raw["_object"]["payload"] = {"_module": "os", "_class": "system", "_object": "echo hacked"}
    path.write_text(json.dumps(raw))
    with pytest.raises(CaseError, match="refuses object of module 'os'"):
        gridplan.load_case(path)


def test_debug_shows_traceback_and_console_script_does_not(tmp_path):
    cmd = [sys.executable, "-c", "from gridplan.cli import main; main()", "pf", "no_such_case_xyz"]
    # cwd outside the source tree: `python -c` would otherwise import the uncompiled sources
    plain = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert plain.returncode == 2
    assert "Traceback" not in plain.stderr and "unknown case" in plain.stderr
    debug = subprocess.run(
        [*cmd[:3], "--debug", *cmd[3:]], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert debug.returncode != 0 and "Traceback" in debug.stderr
