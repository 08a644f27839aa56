"""``gridplan results show|export``."""

from __future__ import annotations

from pathlib import Path

import click

from gridplan.cli._types import OutPath
from gridplan.results import list_tree, read_attrs, read_table


@click.group("results")
def results() -> None:
    """Inspect and export HDF5 result files."""


@results.command("show")
@click.argument("file", type=click.Path(path_type=Path))
def show(file: Path) -> None:
    """Print the tree of FILE with shapes and units, and its root attributes."""
    for key, value in read_attrs(file).items():
        click.echo(f"{key}: {value}")
    click.echo("")
    rows = list_tree(file)
    width = max((len(r[0]) for r in rows), default=10)
    for name, shape, unit in rows:
        click.echo(f"/{name:<{width}}  {shape}" + (f"  [{unit}]" if unit else ""))


@results.command("export")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("table")
@click.option(
    "--csv",
    "csv_out",
    required=True,
    type=OutPath(),
    help="CSV file to write (header row has the column names; units in a second header "
    "line are not added, see `results show`).",
)
def export(file: Path, table: str, csv_out: Path) -> None:
    """Write TABLE (e.g. powerflow/bus) of FILE to CSV."""
    df = read_table(file, table)
    df.to_csv(csv_out)
    click.echo(f"{len(df)} rows of {table} written to {csv_out}")


COMMANDS = [results]
