"""Shared CLI helpers: error handling, exit codes, table printing."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
import pandas as pd

from gridplan.errors import GridplanError


def run_cli(group: click.Group, argv: list[str] | None = None) -> None:
    """Run ``group``; GridplanError -> one line on stderr and its exit code (no traceback)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        group.main(args=args, prog_name="gridplan", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
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
