"""CLI surface: every command has help, version names the backend, cases list/show, batch run."""

from __future__ import annotations

import os
import re

import click
import pytest

from gridplan.cli import cli as root


def _commands(group: click.Group, prefix: str = ""):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        yield prefix + name, cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, prefix + name + " ")


@pytest.mark.parametrize("name,cmd", list(_commands(root)))
def test_every_command_has_help(name, cmd):
    assert cmd.help and cmd.help.strip(), f"`gridplan {name}` has no help text"
    for param in cmd.params:
        if isinstance(param, click.Option):
            assert param.help, f"`gridplan {name}` option {param.opts} has no help"


def test_version_names_backend(cli):
    res = cli("--version")
    assert res.code == 0
    assert "branchflow=" in res.out
    if os.environ.get("GRIDPLAN_REQUIRE_EXT") == "1":
        assert "kernels: cython (compiled extensions)" in res.out
    else:
        assert re.search(r"kernels: (cython|numpy|mixed)", res.out)


def test_cases_show_summary(cli):
    res = cli("cases", "show", "mv_oberrhein")
    assert res.code == 0
    assert "179 bus" in res.out and "6 open switches" in res.out
    assert "110.0" in res.out and "20.0" in res.out


def test_batch_run_resumes(cli, tmp_path):
    out = tmp_path / "res"
    res = cli("run", "case9", "case30", "--analyses", "pf", "--out-dir", str(out))
    assert res.code == 0, res.err
    assert (out / "case9/base/pf.h5").is_file() and (out / "case30/base/pf.h5").is_file()
    first = (out / "case9/base/pf.h5").stat().st_mtime_ns
    res = cli("run", "case9", "case30", "--analyses", "pf", "--out-dir", str(out))
    assert "2 up to date" in res.out
    assert (out / "case9/base/pf.h5").stat().st_mtime_ns == first


def test_batch_failure_keeps_other_cases(cli, tmp_path):
    out = tmp_path / "res"
    bad = tmp_path / "no_such_case_q.json"
    bad.write_text("[1, 2]")
    res = cli("run", "case9", str(bad), "--analyses", "pf", "--out-dir", str(out))
    assert res.code == 1
    assert "1 of 2 tasks failed" in res.err and "no_such_case_q" in res.err
    assert (out / "case9/base/pf.h5").is_file()


def test_readme_command_table_is_generated_from_help():
    from pathlib import Path

    from gridplan.cli import reference

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert reference.block() in readme, (
        "README command table is stale: run `python -m gridplan.cli.reference --write README.md`"
    )


def test_every_command_is_found_where_the_lazy_group_looks():
    # the lazy group imports a command's module only when asked: its table must name every
    # command each module defines, and nothing else
    import importlib

    from gridplan.cli import COMMAND_MODULE, COMMAND_MODULES, cli

    defined = {c.name: m for m in COMMAND_MODULES for c in importlib.import_module(m).COMMANDS}
    assert defined == COMMAND_MODULE
    ctx = click.Context(cli)
    for name in COMMAND_MODULE:
        assert cli.get_command(ctx, name).name == name
    assert cli.get_command(ctx, "nope") is None


def test_n1_imports_no_other_command():
    # `gridplan n1` starts without importing batch, wind or EV support
    import json
    import subprocess
    import sys

    code = (
        "import json, sys; from gridplan.cli import cli; import click;"
        "cli.get_command(click.Context(cli), 'n1');"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('gridplan.cli.'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    ).stdout
    loaded = json.loads(out)
    assert "gridplan.cli.n1" in loaded
    assert not {"gridplan.cli.batch", "gridplan.cli.wind", "gridplan.cli.ev"} & set(loaded)
