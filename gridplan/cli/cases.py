"""``gridplan cases list|show``."""

from __future__ import annotations

import click
import pandas as pd

from gridplan.cli._common import echo_table
from gridplan.model.cases import bundled_cases, load_case
from gridplan.model.summary import describe_bundled, summarize


@click.group("cases")
def cases() -> None:
    """Bundled cases and case summaries."""


@cases.command("list")
def list_cases() -> None:
    """List the bundled cases with a one-line description each."""
    found = bundled_cases()
    if not found:
        click.echo("no bundled cases found")
        return
    width = max(len(n) for n in found)
    for name, path in found.items():
        click.echo(f"{name:<{width}}  {describe_bundled(str(path))}")
    click.echo(
        "\nAny pandapower.networks case (e.g. case9241pegase, mv_oberrhein) or a .json/.m/.mat "
        "file works too."
    )


@cases.command("show")
@click.argument("spec")
def show_case(spec: str) -> None:
    """Summarize a case SPEC (bundled name, pandapower.networks name or file)."""
    s = summarize(load_case(spec))
    click.echo(f"case {s.name}" + (f": {s.description}" if s.description else ""))
    click.echo("elements: " + ", ".join(f"{v} {k}" for k, v in s.counts.items()))
    echo_table(
        s.voltage_levels,
        "\nvoltage levels (kV): buses, lines, line length (km), transformers",
        floatfmt="{:.1f}",
    )
    if s.totals:
        click.echo("\ntotals (in service):")
        for key, value in s.totals.items():
            click.echo(f"  {key:<20} {value:12.2f}")
    if s.plan_figures is not None and len(s.plan_figures):
        cols = [c for c in ("figure", "value", "unit", "element", "source") if c in s.plan_figures]
        echo_table(
            pd.DataFrame(s.plan_figures[cols]).reset_index(drop=True),
            "\nfigures taken from the plan:",
            floatfmt="{:g}",
        )
    click.echo("\nremarks:" if s.remarks else "\nremarks: none")
    for remark in s.remarks:
        click.echo(f"  - {remark}")


COMMANDS = [cases]
