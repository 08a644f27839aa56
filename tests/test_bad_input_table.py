"""Every bad input of issue 21: one line naming the file and the element, exit code 2.

One table (``BAD_INPUTS``) holds them all: the fixture each needs is built here, in the test's
folder, and every row runs ``gridplan`` in-process and checks the exit code, that the error is
one line (plus at most a hint, never a traceback) and that it names what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

import gridplan
from gridplan.cli import main
from gridplan.errors import CaseError

Setup = Callable[[Path], list[str]]


def _one_line_error(res) -> str:
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert lines and lines[0].startswith("error: "), res.err
    assert "Traceback" not in res.err
    assert len(lines) <= 2 and all(ln.startswith("hint: ") for ln in lines[1:]), res.err
    return lines[0]


def _case(tmp: Path, name: str, change: Callable[[pp.pandapowerNet], None] | None = None) -> str:
    net = pn.case9()
    if change is not None:
        change(net)
    path = tmp / f"{name}.json"
    pp.to_json(net, str(path))
    return str(path)


def _set(table: str, row: int, col: str, value: object) -> Callable[[pp.pandapowerNet], None]:
    def change(net: pp.pandapowerNet) -> None:
        if isinstance(value, str):
            net[table][col] = net[table][col].astype(object)
        net[table].loc[row, col] = value

    return change


def _zero_impedance(net: pp.pandapowerNet) -> None:
    net.line.loc[0, ["r_ohm_per_km", "x_ohm_per_km"]] = 0.0


def _unconnected_load(net: pp.pandapowerNet) -> None:
    bus = pp.create_bus(net, 345.0)
    pp.create_load(net, bus, p_mw=10.0)


def _table_is_a_number(tmp: Path) -> str:
    path = Path(_case(tmp, "number"))
    raw = json.loads(path.read_text())
    raw["_object"]["line"] = 5
    path.write_text(json.dumps(raw))
    return str(path)


def _con_not_utf8(tmp: Path) -> list[str]:
    con = tmp / "latin1.con"
    con.write_bytes(b"CONTINGENCY 'Tr\xe9sor'\nOPEN BRANCH FROM BUS 1 TO BUS 4\nEND\nEND\n")
    return ["n1", _case(tmp, "ok"), "--outages", str(con)]


def _result_file_missing_a_column(tmp: Path) -> list[str]:
    out = tmp / "pf.h5"
    assert main_code(["pf", _case(tmp, "ok"), "--out", str(out)]) == 0
    with h5py.File(out, "a") as h5:
        del h5["powerflow/bus/vm_pu"]
    return ["results", "export", str(out), "powerflow/bus", "--csv", str(tmp / "bus.csv")]


def _foreign_hdf5(tmp: Path) -> list[str]:
    path = tmp / "other.h5"
    with h5py.File(path, "w") as h5:
        h5["data"] = np.arange(3)
    return ["results", "show", str(path)]


def _profiles_with_unknown_columns(tmp: Path) -> list[str]:
    csv = tmp / "profiles.csv"
    csv.write_text(
        "time,load.0.p_mw,load.99.p_mw,sgen.98.p_mw,load.1.pmw\n"
        "2025-01-01T00:00,1,2,3,4\n2025-01-01T01:00,1,2,3,4\n"
    )
    return ["timeseries", _case(tmp, "ok"), "--profiles", str(csv)]


def _outages(tmp: Path, name: str, content: object) -> list[str]:
    path = tmp / name
    path.write_text(json.dumps(content))
    return ["n1", _case(tmp, "ok"), "--outages", str(path)]


def _under_a_file(tmp: Path) -> Path:
    blocker = tmp / "not-a-folder"
    blocker.write_text("a regular file")
    return blocker / "sub"


# every command with --out/--out-dir (and --plot, --csv): a folder under a regular file
_OUTPUTS: list[tuple[str, Setup]] = [
    ("pf --out", lambda t: ["pf", _case(t, "ok"), "--out", str(_under_a_file(t) / "x.h5")]),
    ("n1 --out", lambda t: ["n1", _case(t, "ok"), "--out", str(_under_a_file(t) / "x.h5")]),
    (
        "timeseries --out",
        lambda t: [
            "timeseries",
            _case(t, "ok"),
            "--synthetic",
            "4",
            "--out",
            str(_under_a_file(t) / "x.h5"),
        ],
    ),
    (
        "reliability --out",
        lambda t: ["reliability", "rural-feeder", "--out", str(_under_a_file(t) / "x.h5")],
    ),
    (
        "reliability --plot",
        lambda t: ["reliability", "rural-feeder", "--plot", str(_under_a_file(t) / "x.png")],
    ),
    (
        "adequacy --out",
        lambda t: ["adequacy", "case24_ieee_rts", "--out", str(_under_a_file(t) / "x.h5")],
    ),
    (
        "results export --csv",
        lambda t: [
            "results",
            "export",
            str(t / "any.h5"),
            "powerflow/bus",
            "--csv",
            str(_under_a_file(t) / "x.csv"),
        ],
    ),
    ("run --out-dir", lambda t: ["run", "rural-feeder", "--out-dir", str(_under_a_file(t))]),
]

# id, setup (tmp folder -> argv), fragments the error line must hold ("{tmp}" = the folder)
BAD_INPUTS: list[tuple[str, Setup, list[str]]] = [
    (
        "NaN impedance (pf)",
        lambda t: ["pf", _case(t, "nan_x", _set("line", 0, "x_ohm_per_km", np.nan))],
        ["nan_x.json", "line 0: x_ohm_per_km must be a finite number, got nan"],
    ),
    (
        "NaN impedance (n1)",
        lambda t: ["n1", _case(t, "nan_x", _set("line", 0, "x_ohm_per_km", np.nan))],
        ["nan_x.json", "line 0: x_ohm_per_km"],
    ),
    (
        "NaN impedance (timeseries)",
        lambda t: [
            "timeseries",
            _case(t, "nan_r", _set("line", 2, "r_ohm_per_km", np.nan)),
            "--synthetic",
            "4",
        ],
        ["nan_r.json", "line 2: r_ohm_per_km must be a finite number"],
    ),
    (
        "zero impedance",
        lambda t: ["pf", _case(t, "zero_z", _zero_impedance)],
        ["zero_z.json", "line 0: x_ohm_per_km must be non-zero"],
    ),
    (
        "string length_km",
        lambda t: ["n1", _case(t, "str_len", _set("line", 3, "length_km", "ten"))],
        ["str_len.json", "line 3: length_km must be a number, got 'ten' instead"],
    ),
    (
        "string p_mw",
        lambda t: ["pf", _case(t, "str_p", _set("load", 1, "p_mw", "lots"))],
        ["str_p.json", "load 1: p_mw must be a number, got 'lots' instead"],
    ),
    (
        "table that is a number",
        lambda t: ["pf", _table_is_a_number(t)],
        ["number.json", "line must be a table, got int 5 instead"],
    ),
    (".con file not UTF-8", _con_not_utf8, ["latin1.con", "line 1: must be UTF-8 text"]),
    ("n1 --top 0", lambda t: ["n1", _case(t, "ok"), "--top", "0"], ["'--top'", "got 0"]),
    ("n1 --top -1", lambda t: ["n1", _case(t, "ok"), "--top", "-1"], ["'--top'", "got -1"]),
    (
        "adequacy --max-samples 0",
        lambda t: ["adequacy", "case24_ieee_rts", "--composite", "--max-samples", "0"],
        ["'--max-samples'", "got 0"],
    ),
    (
        "results export of a table missing a column",
        _result_file_missing_a_column,
        ["pf.h5", "table 'powerflow/bus' lists column(s) vm_pu but holds no data"],
    ),
    *(
        (f"output under a regular file ({name})", setup, ["cannot write there", "is a file"])
        for name, setup in _OUTPUTS
    ),
    (
        "load on a bus with no connection",
        lambda t: ["n1", _case(t, "island", _unconnected_load)],
        ["island.json", "load 3 at bus 9: the bus has no connection to an ext_grid"],
    ),
    (
        "1e300 MW load (pf)",
        lambda t: ["pf", _case(t, "huge", _set("load", 0, "p_mw", 1e300))],
        ["huge.json", "load 0: p_mw must be a finite number of at most 1e+06", "1e+300"],
    ),
    (
        "1e300 MW load (adequacy)",
        lambda t: ["adequacy", _case(t, "huge", _set("load", 0, "p_mw", 1e300))],
        ["huge.json", "load 0: p_mw"],
    ),
    (
        "n1 --vm-min above --vm-max",
        lambda t: ["n1", _case(t, "ok"), "--vm-min", "1.2", "--vm-max", "1.1"],
        ["--vm-min must be below --vm-max, got 1.2 >= 1.1"],
    ),
    (
        "timeseries --vm-min-pu above --vm-max-pu",
        lambda t: ["timeseries", _case(t, "ok"), "--synthetic", "4", "--vm-min-pu", "1.1"],
        ["--vm-min-pu must be below --vm-max-pu"],
    ),
    (
        "n1 --max-loading -5",
        lambda t: ["n1", _case(t, "ok"), "--max-loading", "-5"],
        ["'--max-loading'", "must be a finite number > 0, got -5"],
    ),
    (
        "n1 --max-loading nan",
        lambda t: ["n1", _case(t, "ok"), "--max-loading", "nan"],
        ["'--max-loading'", "got nan"],
    ),
    ("pf --top -3", lambda t: ["pf", _case(t, "ok"), "--top", "-3"], ["'--top'", "got -3"]),
    (
        "adequacy --cov -1",
        lambda t: ["adequacy", "case24_ieee_rts", "--composite", "--cov", "-1"],
        ["'--cov'", "got -1"],
    ),
    (
        "adequacy --cov nan",
        lambda t: ["adequacy", "case24_ieee_rts", "--cov", "nan"],
        ["'--cov'", "got nan"],
    ),
    (
        "timeseries --step-hours -1",
        lambda t: ["timeseries", _case(t, "ok"), "--synthetic", "4", "--step-hours", "-1"],
        ["'--step-hours'", "got -1"],
    ),
    (
        "timeseries --step-hours nan",
        lambda t: ["timeseries", _case(t, "ok"), "--synthetic", "4", "--step-hours", "nan"],
        ["'--step-hours'", "got nan"],
    ),
    (
        "results show of an HDF5 file gridplan did not write",
        _foreign_hdf5,
        ["other.h5", "not a gridplan result file"],
    ),
    (
        "profile CSV with unknown columns: every one reported",
        _profiles_with_unknown_columns,
        [
            "profiles.csv",
            "load column 'pmw' must be one of p_mw, q_mvar",
            "load.p_mw names load [99] which the case does not have",
            "sgen.p_mw names sgen [98] which the case does not have",
        ],
    ),
    (
        "outage JSON of the wrong shape",
        lambda t: _outages(t, "wrong.json", {"outages": {"a": 1}}),
        ["wrong.json", 'must be {"outages": [...]} or a list, got dict'],
    ),
    (
        "pypowsybl contingency JSON of the wrong shape",
        lambda t: _outages(t, "contingencies.json", {"contingencies": [1, {"elements": [3]}]}),
        ["contingencies.json", "contingency #0 must be an object", "got 3 instead"],
    ),
]


def main_code(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.parametrize(
    ("setup", "fragments"), [r[1:] for r in BAD_INPUTS], ids=[r[0] for r in BAD_INPUTS]
)
def test_bad_input_is_one_line_exit_2(cli, tmp_path, setup, fragments):
    argv = setup(tmp_path)
    res = cli(*argv)
    assert res.code == 2, (res.code, res.err)
    line = _one_line_error(res)
    for fragment in fragments:
        assert fragment in line, (fragment, line)


def test_validate_reports_every_problem_with_inf_and_nan():
    net = pn.case9()
    net.line.loc[0, "r_ohm_per_km"] = np.inf
    net.line.loc[1, "x_ohm_per_km"] = np.nan
    net.trafo = 7  # a table that is a number
    net.load.loc[2, "p_mw"] = -1e300
    problems = gridplan.validate(net)
    assert "line 0: r_ohm_per_km must be a finite number, got inf instead" in problems
    assert "line 1: x_ohm_per_km must be a finite number, got nan instead" in problems
    assert "trafo must be a table, got int 7 instead" in problems
    assert any(p.startswith("load 2: p_mw must be a finite number of at most") for p in problems)


def test_validate_passes_the_bundled_and_reference_cases():
    for spec in (
        "uhv-backbone",
        "tianjin-ecocity",
        "rural-feeder",
        "wind-test-centre",
        "case9241pegase",
    ):
        assert gridplan.validate(gridplan.load_case(spec, validate=False)) == [], spec


def test_out_of_service_elements_are_checked_for_type_only():
    # pandapower leaves out-of-service elements out of the power flow: a NaN there is harmless
    net = pn.case9()
    net.line.loc[2, ["in_service", "r_ohm_per_km"]] = [False, np.nan]  # a line of the ring
    assert gridplan.validate(net) == []
    pp.runpp(net)  # pandapower agrees
    # line 0 is the slack bus's only connection: out of service, every load is cut off
    net.line.loc[0, "in_service"] = False
    load, gen = gridplan.validate(net)
    assert load.startswith("load 0, 1, 2 at bus 4, 6, 8: the bus has no connection")
    assert gen.startswith("gen 0, 1 at bus 1, 2: the bus has no connection")


def test_validate_command(cli, tmp_path):
    ok = cli("validate", _case(tmp_path, "ok"))
    assert ok.code == 0 and ok.out.strip().endswith("ok.json: no problems")
    bad = _case(tmp_path, "bad", _set("line", 3, "length_km", "ten"))
    res = cli("validate", bad)
    assert res.code == 2
    assert f"{bad}: line 3: length_km must be a number, got 'ten' instead" in res.out
    assert _one_line_error(res) == f"error: {bad}: 1 problem found"
    # load_case raises the same problems
    with pytest.raises(CaseError, match="line 3: length_km must be a number"):
        gridplan.load_case(bad)


def test_negative_resistance_is_said_not_refused(cli, tmp_path):
    # network equivalents (PEGASE, case145) carry negative resistances: accepted, but warned
    path = _case(tmp_path, "neg_r", _set("line", 0, "r_ohm_per_km", -1.0))
    res = cli("pf", path)
    assert res.code == 0
    assert "warning: line 0: negative resistance (r_ohm_per_km < 0)" in res.err


def test_debug_works_after_the_subcommand(tmp_path):
    with pytest.raises(CaseError, match="no such file"):
        main(["pf", str(tmp_path / "nope.json"), "--debug"])
    with pytest.raises(CaseError, match="no such file"):
        main(["--debug", "pf", str(tmp_path / "nope.json")])


def test_results_export_to_a_missing_folder_creates_it(cli, tmp_path):
    out = tmp_path / "pf.h5"
    assert cli("pf", _case(tmp_path, "ok"), "--out", str(out)).code == 0
    csv = tmp_path / "new" / "folder" / "bus.csv"
    res = cli("results", "export", str(out), "powerflow/bus", "--csv", str(csv))
    assert res.code == 0, res.err
    assert csv.is_file() and (csv.parent / "bus.units.csv").is_file()
