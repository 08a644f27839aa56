"""``gridplan reliability`` (distribution indices and verdict) and ``gridplan adequacy``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gridplan.cli._common import echo_table
from gridplan.cli._types import COUNT, COUNT0, NON_NEGATIVE, POSITIVE, Number, OutPath
from gridplan.model.case_hash import case_sha256
from gridplan.model.cases import case_name, load_case
from gridplan.model.reliability_data import ReliabilityDefaults
from gridplan.results import ResultWriter
from gridplan.studies.adequacy import AdequacyResult, run_adequacy, write_adequacy
from gridplan.studies.reliability import (
    ReliabilityResult,
    plot_saidi_contributions,
    run_reliability,
    write_reliability,
)


def print_reliability(r: ReliabilityResult, top: int) -> None:
    """The report a planner reads: system and feeder indices, verdict, where to invest."""
    s = r.system.iloc[0]
    click.echo(
        f"{r.case_name}: {len(r.load_points)} load points, {s.customers:.0f} customers, "
        f"{len(r.feeders)} feeders ({r.method})"
    )
    click.echo(
        f"  SAIFI {s.saifi_per_year:.4f} int/customer-yr   SAIDI {s.saidi_h_per_year:.4f} "
        f"h/customer-yr ({60 * s.saidi_h_per_year:.1f} min)   CAIDI {s.caidi_h:.3f} h"
    )
    click.echo(
        f"  ASAI {100 * s.asai:.4f} %   ASUI {100 * s.asui:.4f} %   ENS "
        f"{s.ens_mwh_per_year:.3f} MWh/yr   AENS {1000 * s.aens_mwh_per_year:.3f} "
        f"kWh/customer-yr   MAIFI {s.maifi_per_year:.4f} /customer-yr"
    )
    f = r.feeders[
        [
            "reliability_class",
            "customers",
            "saifi_per_year",
            "saidi_h_per_year",
            "caidi_h",
            "ens_mwh_per_year",
        ]
    ]
    echo_table(f, "feeders:", floatfmt="{:.4f}")
    v = r.verdict.copy()
    v["passed"] = v["passed"].map({True: "PASS", False: "FAIL"})
    echo_table(
        v[["reliability_class", "target_percent", "asai_percent", "margin_min_per_year", "passed"]],
        "verdict (supply-reliability rate RS-1 = ASAI vs. plan target; "
        "margin in min per customer-year):",
        floatfmt="{:.4f}",
    )
    c = r.components.head(top)[
        [
            "element",
            "name",
            "failure_rate_per_year",
            "repair_time_h",
            "saidi_share_percent",
            "ens_share_percent",
        ]
    ]
    echo_table(
        c.set_index("element"),
        f"top {len(c)} components by share of SAIDI / ENS:",
        floatfmt="{:.3f}",
    )
    if not r.what_if.empty:
        echo_table(
            r.what_if[
                [
                    "saidi_h_per_year",
                    "delta_saidi_min_per_year",
                    "delta_saifi_per_year",
                    "delta_ens_mwh_per_year",
                    "asai_percent",
                ]
            ],
            "what-if (one change at a time):",
            floatfmt="{:.4f}",
        )
    if not r.mc_summary.empty:
        n = len(r.mc_years)
        echo_table(
            r.mc_summary[
                [
                    "analytical",
                    "mean",
                    "ci95_low",
                    "ci95_high",
                    "p05",
                    "p50",
                    "p95",
                    "analytical_in_ci95",
                ]
            ],
            f"Monte Carlo, {n} years (annual values; 95 % CI of the mean):",
            floatfmt="{:.4f}",
        )


@click.command("reliability")
@click.argument("spec")
@click.option(
    "--method",
    type=click.Choice(["analytical", "mc"]),
    default="analytical",
    show_default=True,
    help="analytical FMEA only, or also Monte Carlo annual indices (mc).",
)
@click.option(
    "--years", default=10000, type=COUNT, show_default=True, help="Simulated years for --method mc."
)
@click.option(
    "--seed", default=0, type=COUNT0, show_default=True, help="Random seed for --method mc."
)
@click.option(
    "--target",
    type=Number(0.0, 100.0, min_open=True),
    default=None,
    help="Supply-reliability target in % (ASAI) for every feeder; default: the "
    "seeds/ target of each feeder's class (urban 99.915 %, rural 99.73 %).",
)
@click.option(
    "--what-if",
    "what_if",
    multiple=True,
    help="Candidate change, repeatable: 'sectionalizer@line:12' (also recloser, fuse, "
    "breaker, disconnector), 'tie@bus:12-40', 'underground@line:12'; join changes "
    "with '+' to evaluate them together.",
)
@click.option(
    "--transfer-check",
    type=click.Choice(["capacity", "powerflow"]),
    default="capacity",
    show_default=True,
    help="Accept a transfer over a tie by spare capacity (MVA) on the supporting "
    "path, or also by an AC power flow (loading <= 100 %, voltage >= 0.9 pu).",
)
@click.option(
    "--defaults",
    "defaults_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file overriding the default reliability data (docs/reliability-data.md).",
)
@click.option(
    "--out",
    type=OutPath(),
    help="Write results to this HDF5 file (group /reliability).",
)
@click.option(
    "--plot",
    type=OutPath(),
    help="Write a PNG bar chart of SAIDI contributions (min per customer-year).",
)
@click.option(
    "--top", default=10, type=COUNT0, show_default=True, help="Components shown in the ranking."
)
def reliability(
    spec: str,
    method: str,
    years: int,
    seed: int,
    target: float | None,
    what_if: tuple[str, ...],
    transfer_check: str,
    defaults_file: Path | None,
    out: Path | None,
    plot: Path | None,
    top: int,
) -> None:
    """Distribution reliability of case SPEC: load-point and system indices (SAIFI, SAIDI in
    h/customer-yr, ENS in MWh/yr), verdict against the plan targets, component ranking."""
    net = load_case(spec)
    defaults = ReliabilityDefaults.from_toml(defaults_file) if defaults_file else None
    result = run_reliability(
        net,
        case_name=case_name(spec),
        defaults=defaults,
        target=target,
        method=method,
        years=years,
        seed=seed,
        what_if=list(what_if),
        transfer_check=transfer_check,
    )
    print_reliability(result, top)
    if plot is not None:
        plot_saidi_contributions(result, plot, top=max(top, 1))
        click.echo(f"SAIDI contributions plotted to {plot}")
    if out is not None:
        with ResultWriter(out, case_name=result.case_name, case_sha256=case_sha256(net)) as w:
            write_reliability(w, result)
        click.echo(f"results written to {out}")


def print_adequacy(r: AdequacyResult) -> None:
    """HL-I (and HL-II) indices."""
    i = r.indices.iloc[0]
    for note in r.notes:
        click.echo(f"note: {note}")
    if i.installed_mw < i.peak_load_mw:
        click.echo(
            "note: installed generation is below the peak load; a case supplied "
            "through an ext_grid needs max_p_mw on it (or --include-ext-grid)"
        )
    click.echo(
        f"{r.case_name}: {len(r.units)} generating units, "
        f"{i.installed_mw:.6g} MW installed, peak load {i.peak_load_mw:.6g} MW "
        f"(reserve {i.reserve_percent:.1f} %), "
        f"load model {r.load_model} ({i.hours:.0f} h)"
    )
    click.echo(
        f"  HL-I  LOLE {i.lole_h_per_year:.4f} h/yr   LOLE {i.lole_d_per_year:.4f} d/yr "
        f"(daily peaks)   EENS {i.eens_mwh_per_year:.2f} MWh/yr   LOLF "
        f"{i.lolf_per_year:.4f} /yr   LOLP {i.lolp:.3e}"
    )
    if not r.composite.empty:
        c = r.composite.iloc[0]
        click.echo(
            f"  HL-II LOLE {c.lole_h_per_year:.4f} h/yr "
            f"[{c.lole_ci95_low_h_per_year:.4f}, {c.lole_ci95_high_h_per_year:.4f}]   "
            f"EENS {c.eens_mwh_per_year:.2f} MWh/yr "
            f"[{c.eens_ci95_low_mwh_per_year:.2f}, {c.eens_ci95_high_mwh_per_year:.2f}] "
            f"(95 % CI, CoV {c.eens_cov:.3f})"
        )
        click.echo(
            f"        {c.samples:.0f} states in {c.duration_s:.1f} s "
            f"({c.states_per_s:.0f} states/s, {c.lp_solved:.0f} LPs solved)"
        )
        if not r.composite_converged:
            click.echo(
                f"note: HL-II stopped at its sample limit ({r.max_samples} states) with EENS "
                f"CoV {c.eens_cov:.3g}, above the requested {r.target_cov:g}: the intervals are "
                "wider than asked; raise --max-samples for the requested precision"
            )
        b = (
            r.composite_bus[r.composite_bus.eens_mwh_per_year > 0]
            .sort_values("eens_mwh_per_year", ascending=False)
            .head(10)
        )
        echo_table(b, "buses with curtailment:", floatfmt="{:.3f}")


@click.command("adequacy")
@click.argument("spec")
@click.option(
    "--load-model",
    default="rts79",
    show_default=True,
    help="'rts79' (IEEE RTS-79 hourly shape, 8736 h), 'flat' (peak all 8760 h), or a "
    "CSV with an hourly column p_mw (MW) or p_pu (per unit of the peak).",
)
@click.option(
    "--peak",
    "peak_mw",
    type=POSITIVE,
    default=None,
    help="Annual peak load in MW (default: sum of the case's loads).",
)
@click.option(
    "--step",
    "step_mw",
    type=POSITIVE,
    default=None,
    help="Capacity grid of the outage table, MW (default: 1 MW, finer when units are below 10 MW).",
)
@click.option(
    "--include-ext-grid/--exclude-ext-grid",
    default=None,
    help="Default: ext_grids with max_p_mw count as generating units, those without are "
    "left out (said in a note). --include-ext-grid also counts an ext_grid without max_p_mw, "
    "as an unlimited, fully reliable infeed; --exclude-ext-grid counts no ext_grid.",
)
@click.option(
    "--composite",
    is_flag=True,
    help="Also run HL-II: Monte Carlo over generator and branch outages with a DC "
    "load-curtailment LP (scipy HiGHS) per state.",
)
@click.option(
    "--cov",
    "target_cov",
    type=NON_NEGATIVE,
    default=0.05,
    show_default=True,
    help="HL-II: stop when the coefficient of variation of EENS reaches this.",
)
@click.option(
    "--max-samples",
    default=100000,
    type=COUNT,
    show_default=True,
    help="HL-II: maximum number of sampled states.",
)
@click.option("--seed", default=0, type=COUNT0, show_default=True, help="HL-II random seed.")
@click.option(
    "--defaults",
    "defaults_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file overriding default branch outage data (docs/reliability-data.md).",
)
@click.option(
    "--out",
    type=OutPath(),
    help="Write results to this HDF5 file (group /adequacy).",
)
def adequacy(
    spec: str,
    load_model: str,
    peak_mw: float | None,
    step_mw: float,
    include_ext_grid: bool | None,
    composite: bool,
    target_cov: float,
    max_samples: int,
    seed: int,
    defaults_file: Path | None,
    out: Path | None,
) -> None:
    """Bulk adequacy of case SPEC: HL-I LOLE (h/yr, d/yr), EENS (MWh/yr), LOLF (1/yr); with
    --composite also HL-II system and bus LOLE/EENS with confidence intervals."""
    from tqdm import tqdm

    net = load_case(spec)
    defaults = ReliabilityDefaults.from_toml(defaults_file) if defaults_file else None
    bar = tqdm(
        total=max_samples,
        unit="state",
        file=sys.stderr,
        disable=not (composite and sys.stderr.isatty()),
    )
    try:
        result = run_adequacy(
            net,
            case_name=case_name(spec),
            load_model=load_model,
            peak_mw=peak_mw,
            step_mw=step_mw,
            include_ext_grid=include_ext_grid,
            composite=composite,
            target_cov=target_cov,
            max_samples=max_samples,
            seed=seed,
            defaults=defaults,
            progress=bar.update,
        )
    finally:
        bar.close()
    print_adequacy(result)
    if out is not None:
        with ResultWriter(out, case_name=result.case_name, case_sha256=case_sha256(net)) as w:
            write_adequacy(w, result)
        click.echo(f"results written to {out}")


COMMANDS = [reliability, adequacy]
