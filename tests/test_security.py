"""Case files are data: none of these hostile cases may make gridplan import or call anything.

Each fixture is a real attack on pandapower's JSON decoder (the first test shows each one
imports or calls the planted module when pandapower reads the file itself). gridplan must
refuse every one with a one-line error, import no new module (``sys.modules`` compared in a
fresh subprocess) and call nothing (the planted module writes a marker file when it is imported
and another when its function runs).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest

EVIL_MODULE = "gp_planted_module"
EVIL_SOURCE = """
from pathlib import Path
Path(__file__).with_name("imported.marker").write_text("imported")

def touch(*args, **kwargs):
    Path(__file__).with_name("called.marker").write_text("called")
    return "{}"
"""


def _escaped(obj: dict) -> str:
    """JSON text of ``obj`` with every ``_module`` key written as ``\\u005fmodule``."""
    return json.dumps(obj).replace('"_module"', '"\\u005fmodule"')


def _case_with_cell(tmp: Path, name: str, cell: dict) -> Path:
    """case9 with ``cell`` planted in a new column of the bus table's embedded JSON."""
    raw = json.loads(pp.to_json(pn.case9()))
    bus = raw["_object"]["bus"]
    table = json.loads(bus["_object"])
    table["columns"].append("payload")
    for row in table["data"]:
        row.append("PAYLOAD")
    inner = json.dumps(table).replace('"PAYLOAD"', _escaped(cell), 1)
    bus["_object"] = inner
    bus["dtype"]["payload"] = "object"
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(raw))
    assert "\\\\u005fmodule" in path.read_text()  # the escape survives into the file
    return path


def _case_with_entry(tmp: Path, name: str, key: str, entry: dict) -> Path:
    raw = json.loads(pp.to_json(pn.case9()))
    raw["_object"][key] = entry
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(raw))
    return path


def _hostile_cases(tmp: Path) -> dict[str, Path]:
    return {
        # imports an arbitrary module (its top-level code runs) through an escaped _module
        "imports_module": _case_with_cell(
            tmp, "imports_module", {"_module": EVIL_MODULE, "_class": "Thing", "_object": "{}"}
        ),
        # a reference to os.system stored in a table of the net
        "os_system_in_table": _case_with_cell(
            tmp, "os_system_in_table", {"_module": "os", "_class": "function", "_object": "system"}
        ),
        # the net's to_json replaced by a planted function, called when a case is hashed
        "to_json_function": _case_with_entry(
            tmp,
            "to_json_function",
            "to_json",
            {"_module": EVIL_MODULE, "_class": "function", "_object": "touch"},
        ),
        # the numpy prefix lets numpy.f2py.__main__ (f2py's command line) be imported
        "numpy_f2py_main": _case_with_cell(
            tmp, "numpy_f2py_main", {"_module": "numpy.f2py.__main__", "_class": "x", "_object": 1}
        ),
        # builtins.eval as an object in the net
        "builtins_eval": _case_with_cell(
            tmp, "builtins_eval", {"_module": "builtins", "_class": "function", "_object": "eval"}
        ),
        # a function of a planted module as a table cell
        "planted_function": _case_with_cell(
            tmp,
            "planted_function",
            {"_module": EVIL_MODULE, "_class": "function", "_object": "touch"},
        ),
        # a table whose data is a file path: pandas would open and read that file
        "table_from_file": _case_with_entry(
            tmp,
            "table_from_file",
            "extra",
            {
                "_module": "pandas.core.frame",
                "_class": "DataFrame",
                "_object": str(tmp / "secret.json"),
                "orient": "split",
            },
        ),
    }


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    plant = tmp_path / "plant"
    plant.mkdir()
    (plant / f"{EVIL_MODULE}.py").write_text(EVIL_SOURCE)
    (tmp_path / "secret.json").write_text('{"columns":["a"],"index":[0],"data":[[1]]}')
    cases = tmp_path / "cases"
    cases.mkdir()
    return plant, _hostile_cases(cases)


def _run(code: str, plant: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**_env(), "PYTHONPATH": str(plant)},
    )


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_fixtures_are_live_attacks_on_pandapower(hostile, tmp_path):
    """Without gridplan's check, pandapower itself imports the planted module."""
    plant, cases = hostile
    res = _run(
        f"""
        import pandapower as pp
        try:
            pp.from_json({str(cases["imports_module"])!r})
        except Exception:
            pass
        import sys
        print({EVIL_MODULE!r} in sys.modules)
        """,
        plant,
        tmp_path,
    )
    assert res.stdout.strip().endswith("True"), res.stderr
    assert (plant / "imported.marker").exists()


HOSTILE = (
    "imports_module",
    "os_system_in_table",
    "to_json_function",
    "numpy_f2py_main",
    "builtins_eval",
    "planted_function",
    "table_from_file",
)


def test_hostile_cases_are_refused_and_import_nothing(hostile, tmp_path):
    """Each case refused in one line naming its file; ``sys.modules`` unchanged by each."""
    plant, cases = hostile
    paths = {name: str(cases[name]) for name in HOSTILE}
    res = _run(
        f"""
        import json, sys
        import gridplan
        from gridplan.errors import CaseError
        from gridplan.model.case_hash import case_sha256
        case_sha256(gridplan.load_case("case9"))  # every import a benign load needs, first
        report = {{}}
        for name, path in {paths!r}.items():
            before = set(sys.modules)
            try:
                gridplan.load_case(path)
                outcome = "loaded"
            except CaseError as exc:
                outcome = "refused: " + str(exc)
            report[name] = {{"outcome": outcome, "new": sorted(set(sys.modules) - before)}}
        print(json.dumps(report))
        """,
        plant,
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout.strip().splitlines()[-1])
    for name in HOSTILE:
        outcome = report[name]["outcome"]
        assert outcome.startswith(f"refused: {cases[name]}: "), (name, outcome)
        assert "\n" not in outcome
        assert report[name]["new"] == [], f"{name} imported {report[name]['new']}"
    assert not (plant / "imported.marker").exists()
    assert not (plant / "called.marker").exists()


def test_cli_refuses_hostile_cases_with_one_line(hostile, tmp_path):
    """``cases show``, ``pf`` and ``run`` (which hashes the case): one line, exit 2, no call."""
    plant, cases = hostile
    runs = [
        [*command, str(cases[name])]
        for command in (["cases", "show"], ["pf"], ["run", "--out-dir", str(tmp_path / "out")])
        for name in ("imports_module", "to_json_function", "os_system_in_table")
    ]
    res = _run(
        f"""
        import contextlib, io, json
        from gridplan.cli import main
        out = []
        for args in {runs!r}:
            err = io.StringIO()
            code = 0
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                try:
                    main(args)
                except SystemExit as exc:
                    code = exc.code
            out.append([args, code, err.getvalue()])
        print(json.dumps(out))
        """,
        plant,
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    for args, code, err in json.loads(res.stdout.strip().splitlines()[-1]):
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert "Traceback" not in err, (args, err)
        assert code == (1 if args[0] == "run" else 2), (args, code, err)  # run: batch failed
        assert any(args[-1] in ln and "refuses object" in ln for ln in lines), (args, err)
    assert not (plant / "imported.marker").exists()
    assert not (plant / "called.marker").exists()


def test_refusal_names_the_table_row_and_column(hostile):
    from gridplan import load_case
    from gridplan.errors import CaseError

    _, cases = hostile
    with pytest.raises(CaseError) as info:
        load_case(cases["os_system_in_table"])
    msg = str(info.value)
    assert "table 'bus' row 0 column 'payload'" in msg
    assert "refuses object of module 'os', class 'function'" in msg


def test_every_bundled_case_and_a_saved_pandapower_case_still_load(tmp_path):
    from gridplan import load_case
    from gridplan.model.cases import bundled_cases

    for name in bundled_cases():
        assert len(load_case(name).bus) > 0
    net = pn.mv_oberrhein()
    path = tmp_path / "oberrhein.json"
    pp.to_json(net, str(path))
    back = load_case(path)
    assert back.bus.shape == net.bus.shape
    assert (back.line.length_km.to_numpy() == net.line.length_km.to_numpy()).all()


def test_case_hash_reads_data_not_objects():
    """The hash follows the data, ignores results, and calls nothing on objects in the net."""
    from gridplan.model.case_hash import case_sha256

    net = pn.case9()
    h0 = case_sha256(net)
    pp.runpp(net)
    assert case_sha256(net) == h0  # results excluded
    net.load.loc[0, "p_mw"] += 1e-9
    assert case_sha256(net) != h0

    class Booby:
        def to_json(self):  # pragma: no cover - must never run
            raise AssertionError("called")

        def __repr__(self):  # pragma: no cover
            raise AssertionError("called")

    net["extra"] = {"x": Booby()}
    case_sha256(net)
