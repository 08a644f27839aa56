"""``gridplan n1``: N-1 / N-k contingency scan with violations and worst cases."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from gridplan.cli._common import echo_table, warn_remarks
from gridplan.cli._types import COUNT, POSITIVE, OutPath, require_order, worsen_options
from gridplan.model.case_hash import case_sha256
from gridplan.model.cases import case_name, load_case
from gridplan.results import ResultWriter
from gridplan.studies.n1 import (
    ELEMENT_TYPES,
    MODES,
    N1Result,
    n1_matrix_sink,
    n1_violation_sink,
    run_n1,
    write_n1,
)


def print_n1(result: N1Result, elapsed_s: float, top: int = 10) -> None:
    """Print the scan summary a planner reads first."""
    n = len(result.outages)
    counts = ", ".join(f"{v} {k}" for k, v in sorted(result.status_counts().items()))
    click.echo(
        f"{result.case_name}: {n} outages ({result.mode}) in {elapsed_s:.2f} s "
        f"({n / max(elapsed_s, 1e-9):.0f} outages/s): {counts}"
    )
    if result.interrupted:
        click.echo("  interrupted: finished outages kept, the rest are not_simulated")
    isl = result.outages[result.outages.status == "islanded"]
    if len(isl):
        click.echo(
            f"  islanding outages cut off up to {isl.cut_load_mw.max():.1f} MW of load "
            f"({isl.cut_load_mw.sum():.1f} MW over all)"
        )
    lim, rule = result.limits, result.rule
    base = result.base_violations
    if base is not None and len(base):
        click.echo(
            f"  the base case already has {len(base)} violations "
            "(table contingency/base_violations)"
        )
    which = (
        f"new or worsened by > {rule['worsen_loading_percent']:g} %-points / "
        f"{rule['worsen_vm_pu']:g} pu, "
        if rule.get("report") == "changed"
        else ""
    )
    click.echo(
        f"  {result.n_violations} violations ({which}loading > {lim['max_loading_percent']:g} "
        f"%, vm outside {lim['vm_min_pu']:g}..{lim['vm_max_pu']:g} pu) in "
        f"{result.n_violation_outages} outages"
    )
    el = result.elements.dropna(subset=["max_loading_percent"])
    el = el.sort_values("max_loading_percent", ascending=False).head(top)
    if len(el):
        echo_table(
            el[
                [
                    "element_type",
                    "element",
                    "base_loading_percent",
                    "max_loading_percent",
                    "cause_name",
                ]
            ].reset_index(drop=True),
            "worst post-outage loading per element:",
            floatfmt="{:.2f}",
        )


@click.command("n1")
@click.argument("spec")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="ac",
    show_default=True,
    help="ac: full AC per outage; dc: PTDF/LODF active flows; screen: two-step AC "
    "estimate, full AC only for outages with a value within the screening margin of its limit.",
)
@click.option(
    "--elements",
    default="line,trafo",
    show_default=True,
    help="Element types outaged one at a time (comma list of "
    f"{', '.join(ELEMENT_TYPES)}): branches, unit trips (gen), DC bipole blocks (dcline: both "
    "converter ends), wind farm / PV trips (sgen), storage trips (positive p_mw = charging). "
    "The slack takes up the lost power (lost_p_mw in the outage table). Lines, trafos and "
    "impedances are monitored; an impedance's loading is against its sn_mva.",
)
@click.option(
    "--outages",
    "outages_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Named N-k outage sets: CSV (name,element_type,element), JSON, pypowsybl "
    "contingency JSON or PSS/E .con (single/double branch).",
)
@click.option(
    "--max-loading",
    default=100.0,
    type=POSITIVE,
    show_default=True,
    help="Branch loading limit, percent of rating.",
)
@click.option(
    "--vm-min",
    default=0.9,
    type=POSITIVE,
    show_default=True,
    help="Lowest allowed bus voltage, pu.",
)
@click.option(
    "--vm-max",
    default=1.1,
    type=POSITIVE,
    show_default=True,
    help="Highest allowed bus voltage, pu.",
)
@click.option(
    "--report",
    type=click.Choice(["changed", "all"]),
    default="changed",
    show_default=True,
    help="changed: a post-outage violation is listed when it is new (within its limit in the "
    "base case) or worse than the base by more than the margins below; base-case violations "
    "are listed once. all: every broken limit under every outage.",
)
@worsen_options
@click.option(
    "--top", default=3, type=COUNT, show_default=True, help="Worst outages kept per element."
)
@click.option(
    "--out",
    type=OutPath(),
    help="Write results to this HDF5 file (group /contingency).",
)
@click.option(
    "--store-matrix",
    is_flag=True,
    help="Also store the outage-by-element loading matrix (percent, float32, chunked).",
)
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(min=1),
    help="Blocks of outages solved at once, one per thread (ac and dc; screen runs on one); "
    "default: the cores this process may use. Results are identical for any number.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar with outages/s on stderr (default: when stderr is a terminal).",
)
def n1(
    spec: str,
    mode: str,
    elements: str,
    outages_file: Path | None,
    max_loading: float,
    vm_min: float,
    vm_max: float,
    report: str,
    worsen_loading: float,
    worsen_vm: float,
    top: int,
    out: Path | None,
    store_matrix: bool,
    threads: int | None,
    progress: bool | None,
) -> None:
    """Scan every outage of case SPEC and report violations and worst cases.

    Each outage gets a status: converged, islanded (load/generation cut off, MW), diverged
    (last mismatch) or not_simulated (reason). Ctrl-C keeps the outages already finished.
    """
    from tqdm import tqdm

    from gridplan.model.outages import read_outages
    from gridplan.studies.n1 import default_outages

    require_order(vm_min, vm_max, "--vm-min", "--vm-max")
    net = load_case(spec)
    warn_remarks(net)
    name = case_name(spec)
    specs = (
        read_outages(outages_file, net)
        if outages_file is not None
        else default_outages(net, [e.strip() for e in elements.split(",") if e.strip()])
    )
    if store_matrix and out is None:
        raise click.UsageError("--store-matrix needs --out FILE.h5")
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(
        total=len(specs), unit="outage", disable=not show, file=sys.stderr, desc=f"n1 {mode}"
    )
    t0 = time.perf_counter()
    kwargs = dict(
        mode=mode,
        outages=specs,
        max_loading_percent=max_loading,
        vm_min_pu=vm_min,
        vm_max_pu=vm_max,
        report=report,
        worsen_loading_percent=worsen_loading,
        worsen_vm_pu=worsen_vm,
        top=top,
        case_name=name,
        threads=threads,
        progress=bar.update,
    )
    try:
        if out is None:
            result = run_n1(net, **kwargs)
        else:
            with ResultWriter(out, case_name=name, case_sha256=case_sha256(net)) as w:
                sink = n1_matrix_sink(w) if store_matrix else None
                # violation rows go to the file block by block, not into memory
                result = run_n1(
                    net, matrix_sink=sink, violation_sink=n1_violation_sink(w), **kwargs
                )
                write_n1(w, result)
    finally:
        bar.close()
    print_n1(result, time.perf_counter() - t0)
    if out is not None:
        click.echo(f"results written to {out}")
    if result.interrupted:
        sys.exit(130)


COMMANDS = [n1]
