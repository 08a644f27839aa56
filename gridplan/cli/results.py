"""``gridplan results show|export``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
import pandas as pd

from gridplan.cli._types import OutPath
from gridplan.errors import CaseError
from gridplan.results import (
    is_result_file,
    list_tree,
    read_attrs,
    read_group_attrs,
    read_table,
)
from gridplan.results.locking import TargetLock, clean_stale, part_prefix


@click.group("results")
def results() -> None:
    """Inspect and export HDF5 result files."""


def _require_result_file(file: Path) -> None:
    if not is_result_file(file):
        raise CaseError(
            f"{file}: not a gridplan result file (no gridplan_version and schema_version "
            "root attributes)",
            hint="h5dump -n FILE, h5ls -r FILE or HDFView show any HDF5 file",
        )


@results.command("show")
@click.argument("file", type=click.Path(path_type=Path))
def show(file: Path) -> None:
    """Print the tree of FILE with shapes and units, its root attributes and every group's
    attributes (where the key figures of a study are)."""
    _require_result_file(file)
    for key, value in read_attrs(file).items():
        click.echo(f"{key}: {value}")
    click.echo("")
    rows = list_tree(file)
    group_attrs = read_group_attrs(file)
    width = max((len(r[0]) for r in rows), default=10)
    for name, shape, unit in rows:
        click.echo(f"/{name:<{width}}  {shape}" + (f"  [{unit}]" if unit else ""))
        for key, value in group_attrs.get(name.rstrip("/"), {}).items() if shape == "group" else ():
            click.echo(f"    @{key} = {value}")


def _units_frame(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """column, unit, description of every exported column (descriptions from the schema)."""
    from gridplan.results import schema

    try:
        decl = schema.table(table.strip("/"))
    except schema.SchemaError:
        decl = None
    units = df.attrs.get("units", {})
    rows = []
    for col in [df.index.name or "index", *df.columns]:
        description = ""
        if decl is not None:
            try:
                description = decl.column("index" if col == df.index.name else str(col)).description
            except schema.SchemaError:
                description = ""
        rows.append((str(col), units.get(col, ""), description))
    return pd.DataFrame(rows, columns=["column", "unit", "description"])


def _write_atomic(df: pd.DataFrame, path: Path, **kwargs: object) -> None:
    """``df.to_csv(path)`` under a temporary name, renamed when complete (one writer of
    ``path`` at a time; what writers that died left in the folder is removed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = TargetLock(path)
    clean_stale(path.parent, own=path)
    fd, tmp = tempfile.mkstemp(prefix=part_prefix(path), suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, **kwargs)  # type: ignore[arg-type]
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        lock.release()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@results.command("export", options_metavar="--csv OUT.csv [OPTIONS]")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("table")
@click.option(
    "--csv",
    "csv_out",
    required=True,
    type=OutPath(),
    help="CSV file to write (header row: the column names); the units and descriptions of "
    "the columns go beside it to OUT.units.csv.",
)
def export(file: Path, table: str, csv_out: Path) -> None:
    """Write TABLE (e.g. powerflow/bus) of FILE to CSV, with the units in OUT.units.csv."""
    _require_result_file(file)
    df = read_table(file, table)
    units_out = csv_out.with_name(csv_out.stem + ".units.csv")
    _write_atomic(df, csv_out)
    _write_atomic(_units_frame(table, df), units_out, index=False)
    click.echo(f"{len(df)} rows of {table} written to {csv_out} (units in {units_out})")


COMMANDS = [results]
