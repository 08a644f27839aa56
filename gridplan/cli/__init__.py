"""The ``gridplan`` command: a thin shell over the library.

Each command group lives in its own module and is listed in ``COMMAND_MODULES``; every module
exposes ``COMMANDS``, a list of click commands or groups. Commands parse options, call one
library function and format its result; errors become one line and an exit code.
"""

from __future__ import annotations

import importlib
import sys

import click

from gridplan.cli._common import run_cli

COMMAND_MODULES = [
    "gridplan.cli.cases",
    "gridplan.cli.pf",
    "gridplan.cli.results",
    "gridplan.cli.run",
    "gridplan.cli.batch",
    "gridplan.cli.reliability",
    "gridplan.cli.timeseries",
    "gridplan.cli.n1",
    "gridplan.cli.validate",
    "gridplan.cli.wind",
    "gridplan.cli.ev",
]


def _version_message() -> str:
    import numpy
    import pandapower

    from gridplan import __version__
    from gridplan._backend import describe

    return (
        f"gridplan {__version__}\n"
        f"kernels: {describe()}\n"
        f"pandapower {pandapower.__version__}, numpy {numpy.__version__}, "
        f"python {sys.version.split()[0]}"
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Grid-planning studies on pandapower cases: power flow, N-1, time series, reliability."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(_version_message())
    ctx.exit()


# --version also names the active kernel backend
cli.params.append(
    click.Option(
        ["--version"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_print_version,
        help="Show version and active kernel backend.",
    )
)

for _name in COMMAND_MODULES:
    for _command in importlib.import_module(_name).COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    run_cli(cli, argv)
