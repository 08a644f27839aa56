"""Shared CLI helpers: error handling, exit codes, table printing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
import pandas as pd

from gridplan.errors import GridplanError


def run_cli(group: click.Group, argv: list[str] | None = None) -> None:
    """Run ``group``; GridplanError -> one line on stderr and its exit code (no traceback)."""
    args = list(sys.argv[1:] if argv is None else argv)
    # --debug is the group's option; accept it anywhere before a "--" (after the subcommand too)
    end = args.index("--") if "--" in args else len(args)
    debug = "--debug" in args[:end]
    if debug:
        args = ["--debug", *(a for a in args[:end] if a != "--debug"), *args[end:]]
    try:
        group.main(args=args, prog_name="gridplan", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        # one line, like every other bad input; the usage text is one --help away
        click.echo(f"error: {exc.format_message()}", err=True)
        if exc.ctx is not None:
            click.echo(f"hint: see '{exc.ctx.command_path} --help'", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except GridplanError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


def warn_remarks(net: Any) -> None:
    """Print on stderr what is valid in the case but changes what its numbers mean
    (placeholder ratings, negative resistances): see :func:`gridplan.model.validate.remarks`."""
    from gridplan.model.validate import remarks

    for note in remarks(net):
        click.echo(f"warning: {note}", err=True)


def echo_table(df: pd.DataFrame, title: str | None = None, floatfmt: str = "{:.4f}") -> None:
    """Print a DataFrame as a plain aligned table (no index name clutter)."""
    if title:
        click.echo(title)
    if df.empty:
        click.echo("  (none)")
        return
    formatters: dict[str, Callable[[object], str]] = {
        c: (lambda v, _f=floatfmt: _f.format(v)) for c in df.columns if df[c].dtype.kind == "f"
    }
    click.echo(df.to_string(formatters=formatters))
