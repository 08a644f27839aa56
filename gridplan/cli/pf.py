"""``gridplan pf``: one power flow with a planner's summary."""

from __future__ import annotations

from pathlib import Path

import click

from gridplan.cli._common import echo_table, warn_remarks
from gridplan.cli._types import COUNT0, OutPath
from gridplan.model.case_hash import case_sha256
from gridplan.model.cases import case_name, load_case
from gridplan.results import ResultWriter
from gridplan.studies.powerflow import PowerFlowResult, run_powerflow, write_powerflow


def print_powerflow(result: PowerFlowResult, top: int = 5) -> None:
    """Print the summary a planner reads first."""
    s = result.summary.iloc[0]
    algo = "AC Newton-Raphson" if result.algorithm == "nr" else "DC"
    click.echo(f"{result.case_name}: {algo} power flow converged in {result.iterations} iterations")
    print_balance(result)
    click.echo(
        f"  voltage min {s.vm_min_pu:.4f} pu at bus {s.vm_min_bus}, "
        f"max {s.vm_max_pu:.4f} pu at bus {s.vm_max_bus}"
    )
    for el, cols in (
        ("line", ["from_bus", "to_bus", "i_ka", "loading_percent"]),
        ("trafo", ["hv_bus", "lv_bus", "loading_percent"]),
        ("trafo3w", ["p_hv_mw", "loading_percent"]),
    ):
        df = result.most_loaded(el, top)
        if len(df):
            cols = [c for c in cols if c in df]
            echo_table(df[cols], f"most loaded {el}s:", floatfmt="{:.2f}")


def print_balance(result: PowerFlowResult) -> None:
    """Every term of the active-power balance, so supply = demand + mismatch can be checked."""
    bal = result.tables["balance"]
    click.echo("  active power, MW (supply = demand; storage p_mw > 0 is charging, a demand):")
    for side in ("supply", "demand"):
        part = bal[bal.side == side]
        terms = ", ".join(f"{t.replace('_', ' ')} {v:.2f}" for t, v in part.p_mw.items())
        click.echo(f"    {side:<7} {part.p_mw.sum():12.2f} = {terms or 'none'}")
    extra = ""
    if "dcline_transfer_mw" in bal.attrs:
        extra = f"; DC links carry {bal.attrs['dcline_transfer_mw']:.1f} MW between AC areas"
    click.echo(f"    mismatch {bal.p_mw['mismatch']:.2g}{extra}")


@click.command("pf")
@click.argument("spec")
@click.option("--dc", is_flag=True, help="DC power flow instead of AC Newton-Raphson.")
@click.option(
    "--out",
    type=OutPath(),
    help="Write results to this HDF5 file (group /powerflow).",
)
@click.option(
    "--top",
    default=5,
    type=COUNT0,
    show_default=True,
    help="Number of most loaded lines/trafos shown.",
)
def pf(spec: str, dc: bool, out: Path | None, top: int) -> None:
    """Run a power flow on case SPEC and print its summary."""
    net = load_case(spec)
    warn_remarks(net)
    result = run_powerflow(net, dc=dc, case_name=case_name(spec))
    print_powerflow(result, top)
    if out is not None:
        with ResultWriter(out, case_name=result.case_name, case_sha256=case_sha256(net)) as w:
            write_powerflow(w, result)
        click.echo(f"results written to {out}")


COMMANDS = [pf]
