"""The ``gridplan`` command: a thin shell over the library.

Each command group lives in its own module, named in ``COMMAND_MODULE`` and imported when
the command runs; every module exposes ``COMMANDS``, a list of click commands or groups.
Commands parse options, call one library function and format its result; errors become one
line and an exit code.
"""

from __future__ import annotations

import gc
import importlib
import sys

import click

from gridplan.cli._common import run_cli

#: each command and the module that defines it, imported only when the command is run or
#: listed (``gridplan n1`` does not pay for importing batch, wind or EV support)
COMMAND_MODULE = {
    "cases": "gridplan.cli.cases",
    "pf": "gridplan.cli.pf",
    "results": "gridplan.cli.results",
    "run": "gridplan.cli.run",
    "batch": "gridplan.cli.batch",
    "reliability": "gridplan.cli.reliability",
    "adequacy": "gridplan.cli.reliability",
    "timeseries": "gridplan.cli.timeseries",
    "n1": "gridplan.cli.n1",
    "validate": "gridplan.cli.validate",
    "wind": "gridplan.cli.wind",
    "ev": "gridplan.cli.ev",
}
COMMAND_MODULES = list(dict.fromkeys(COMMAND_MODULE.values()))


class _LazyGroup(click.Group):
    """A group whose commands are imported from :data:`COMMAND_MODULE` when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULE)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULE.get(cmd_name)
        if module is None:
            return None
        found = {c.name: c for c in importlib.import_module(module).COMMANDS}
        if _process["entry"] and not gc.isenabled():
            # what the imports made lives as long as the process: out of every collection
            gc.freeze()
            gc.enable()
        return found[cmd_name]


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


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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


#: whether :func:`main` runs as the process itself (console script, ``python -m gridplan``)
_process = {"entry": False}


def main(argv: list[str] | None = None) -> None:
    """Console entry point (``argv`` None: this process's own arguments)."""
    _process["entry"] = argv is None
    if argv is None:
        # no collections while the command's modules (pandas, pandapower, scipy) are
        # imported: millions of objects that all live until the process ends
        gc.disable()
    try:
        run_cli(cli, argv)
    finally:
        if argv is None:
            # the process ends here: its objects are freed by the OS. Without this, the
            # garbage collector's passes over the millions of objects pandas and pandapower
            # hold took 0.7-0.9 s of interpreter shutdown after every command.
            gc.freeze()
