"""``gridplan wind``: power from wind, hosting capacity, curtailment year, capacity credit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from gridplan.cli._common import echo_table
from gridplan.cli._types import worsen_options

FILE = click.Path(dir_okay=False)
OUT = click.Path(dir_okay=False, path_type=Path)


@click.group("wind")
def wind() -> None:
    """Wind integration: power from wind, hosting capacity, curtailment, capacity credit."""


def _wind_inputs(f):  # type: ignore[no-untyped-def]
    """Options shared by the commands that turn wind into farm output."""
    opts = [
        click.option(
            "--farms",
            type=FILE,
            help="Farm table: CSV or TOML ([[farm]]); columns name, turbine, n_turbines or "
            "p_mw, bus or sgen, wind, hub_height_m, ... (docs/wind.md).",
        ),
        click.option(
            "--wind",
            "wind_file",
            type=FILE,
            help="Wind CSV: ISO timestamps, one speed column (m/s) per site, optional "
            "temperature_c and pressure_hpa.",
        ),
        click.option(
            "--synthetic",
            is_flag=True,
            help="Draw a synthetic year from the Weibull regimes ([[site]]) of the scenario or "
            "TOML farm file.",
        ),
        click.option(
            "--scenario",
            default=None,
            help="Bundled wind scenario (a case name, e.g. wind-test-centre) or scenario TOML: "
            "farms and regimes.",
        ),
        click.option("--seed", default=0, show_default=True, help="Seed of the synthetic year."),
        click.option(
            "--hours", default=8760, show_default=True, help="Length of the synthetic series, h."
        ),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


@wind.command("power")
@_wind_inputs
@click.option(
    "--density-correction/--no-density-correction",
    default=None,
    help="IEC 61400-12-1 density normalisation (default: on when the wind file has "
    "temperature and pressure).",
)
@click.option("--csv", "csv_out", type=OUT, help="Write the output per step and farm (MW) to CSV.")
@click.option("--out", type=OUT, help="Write /wind/power to this HDF5 file.")
@click.option("--plot", type=OUT, help="Duration curve and monthly energy (PNG).")
def power_cmd(
    farms: str | None,
    wind_file: str | None,
    synthetic: bool,
    scenario: str | None,
    seed: int,
    hours: int,
    density_correction: bool | None,
    csv_out: Path | None,
    out: Path | None,
    plot: Path | None,
) -> None:
    """Hourly output (MW) of wind farms from wind speeds at a measurement height."""
    from gridplan.studies.wind.power import power

    result = power(
        farms,
        wind_file,
        synthetic=synthetic,
        scenario=scenario,
        seed=seed,
        hours=hours,
        density_correction=density_correction,
    )
    s = result.summary()
    click.echo(
        f"{s['wind_farms']} farm(s), {s['wind_installed_mw']:.1f} MW installed, "
        f"{len(result.p_mw)} steps of {result.duration_h:g} h from {result.source}"
        + (" (IEC density normalisation)" if result.density_corrected else "")
    )
    click.echo(
        f"  energy {s['wind_energy_mwh']:.0f} MWh, capacity factor "
        f"{100 * s['wind_capacity_factor']:.1f} %"
    )
    cols = ["turbine", "installed_mw", "mean_speed_hub_ms", "energy_mwh", "capacity_factor"]
    echo_table(result.farms[cols].head(30), "per farm:", floatfmt="{:.3f}")
    ext = result.farms[result.farms.curve_extended_to_ms.notna()]
    for name, row in ext.iterrows():
        click.echo(
            f"  note: {name}: curve of {row.turbine} extended to {row.curve_extended_to_ms:g} m/s"
        )
    if csv_out is not None:
        result.p_mw.to_csv(csv_out, index_label="time")
        click.echo(f"output per step written to {csv_out}")
    if plot is not None:
        from gridplan.studies.wind.plots import plot_power

        plot_power(result.p_mw, plot, title="wind output")
        click.echo(f"plot written to {plot}")
    if out is not None:
        from gridplan.results import ResultWriter
        from gridplan.studies.wind.power import write_power

        with ResultWriter(out) as w:
            write_power(w, result)
        click.echo(f"results written to {out}")


@wind.command("hosting")
@click.argument("spec")
@click.option(
    "--buses",
    default=None,
    help="Candidate buses (pandapower indices and ranges: 1,4,10-20); default: every bus.",
)
@click.option("--n1", is_flag=True, help="Also under every single outage of --elements.")
@click.option(
    "--balance",
    type=click.Choice(["auto", "slack", "gens"]),
    default="auto",
    show_default=True,
    help="Who gives way to the wind: the slack, or dispatchable generators pro rata to their "
    "room down (auto: gens when the case has them).",
)
@click.option(
    "--pf", "power_factor", default=1.0, show_default=True, help="Power factor of the wind."
)
@click.option(
    "--reactive",
    type=click.Choice(["absorb", "produce"]),
    default="absorb",
    show_default=True,
    help="With --pf < 1: the wind absorbs (under-excited) or produces reactive power.",
)
@click.option(
    "--elements", default="line,trafo", show_default=True, help="Outaged element types with --n1."
)
@click.option(
    "--min-stable",
    default=None,
    help="With --balance gens: share of its output a unit keeps when wind displaces it, "
    "percent: a number, or per fuel like coal=70.",
)
@click.option("--max-loading-percent", default=100.0, show_default=True, help="Loading limit, %.")
@click.option(
    "--vm-min-pu",
    default=0.95,
    show_default=True,
    help="Lower voltage limit (buses without min_vm_pu).",
)
@click.option(
    "--vm-max-pu",
    default=1.05,
    show_default=True,
    help="Upper voltage limit (buses without max_vm_pu).",
)
@worsen_options
@click.option("--tol-mw", default=1.0, show_default=True, help="Search tolerance, MW (and 0.5 %).")
@click.option("--max-mw", type=float, default=None, help="Largest injection tried, MW.")
@click.option("--jobs", default=1, show_default=True, help="Buses refined in parallel processes.")
@click.option("--top", default=30, show_default=True, help="Rows shown (smallest hosting first).")
@click.option("--out", type=OUT, help="Write /wind/hosting to this HDF5 file.")
@click.option("--csv", "csv_out", type=OUT, help="Write the table to CSV.")
@click.option("--plot", type=OUT, help="Bar chart of MW per bus coloured by the limit (PNG).")
def hosting_cmd(
    spec: str,
    buses: str | None,
    n1: bool,
    balance: str,
    power_factor: float,
    reactive: str,
    elements: str,
    min_stable: str | None,
    max_loading_percent: float,
    vm_min_pu: float,
    vm_max_pu: float,
    worsen_loading: float,
    worsen_vm: float,
    tol_mw: float,
    max_mw: float | None,
    jobs: int,
    top: int,
    out: Path | None,
    csv_out: Path | None,
    plot: Path | None,
) -> None:
    """Hosting capacity of wind per bus of case SPEC (N-0, or N-1 with --n1)."""
    from tqdm import tqdm

    from gridplan.model.cases import case_name, load_case
    from gridplan.studies.wind.curtailment import parse_min_stable
    from gridplan.studies.wind.hosting import hosting, parse_buses

    net = load_case(spec)
    n_cand = len(parse_buses(buses, net))
    with tqdm(total=n_cand, unit="bus", desc="hosting", disable=None, leave=False) as bar:
        done = [0]

        def progress(k: int) -> None:
            bar.update(k - done[0])
            done[0] = k

        result = hosting(
            net,
            buses,
            n1=n1,
            balance=balance,
            power_factor=power_factor,
            absorb_reactive=reactive == "absorb",
            elements=[e.strip() for e in elements.split(",") if e.strip()],
            min_stable_percent=parse_min_stable(min_stable) if min_stable is not None else None,
            max_loading_percent=max_loading_percent,
            vm_min_pu=vm_min_pu,
            vm_max_pu=vm_max_pu,
            worsen_loading_percent=worsen_loading,
            worsen_vm_pu=worsen_vm,
            tol_mw=tol_mw,
            max_mw=max_mw,
            case_name=case_name(spec),
            jobs=jobs,
            progress=progress,
        )
    t = result.table
    click.echo(
        f"{case_name(spec)}: hosting capacity of {len(t)} bus(es), "
        f"{'N-1 (' + str(result.n_outages) + ' outages)' if n1 else 'N-0'}, balance "
        f"{result.balance}, pf {power_factor:g}, {sum(result.timings_s.values()):.1f} s"
    )
    if result.skipped_outages:
        click.echo(
            f"  {len(result.skipped_outages)} outage(s) left out (not solvable without wind)"
        )
    cols = ["hosting_mw", "limit_kind", "limit_element", "limit_outage", "limit_value"]
    echo_table(t.sort_values("hosting_mw")[cols].head(top), floatfmt="{:.3f}")
    if csv_out is not None:
        t.to_csv(csv_out)
        click.echo(f"table written to {csv_out}")
    if plot is not None:
        from gridplan.studies.wind.plots import plot_hosting

        plot_hosting(t, plot, title=f"hosting capacity, {case_name(spec)}{' (N-1)' if n1 else ''}")
        click.echo(f"plot written to {plot}")
    if out is not None:
        from gridplan.studies.wind.hosting import write_hosting

        _write_case_file(out, spec, net, write_hosting, result)


@wind.command("year")
@click.argument("spec")
@_wind_inputs
@click.option(
    "--profiles",
    "profiles_path",
    type=FILE,
    help="Load (and other element) profiles as for gridplan timeseries; same steps as the wind.",
)
@click.option(
    "--load-shape",
    type=click.Choice(["case", "rts79"]),
    default=None,
    help="Without --profiles: the case's loads every hour, or scaled by the IEEE RTS-79 shape "
    "(default: the scenario's, else case).",
)
@click.option("--n1", is_flag=True, help="Also keep post-outage flows within limits.")
@click.option(
    "--elements", default="line,trafo", show_default=True, help="Outaged element types with --n1."
)
@click.option(
    "--balance",
    type=click.Choice(["auto", "slack", "gens"]),
    default=None,
    help="Who takes up the imbalance and redispatches (default: the scenario's, else auto).",
)
@click.option(
    "--min-stable",
    default=None,
    help="Must-run share of dispatchable units, percent of their no-wind output: a number, or "
    "per fuel like coal=70,hydro=0 (default: the scenario's).",
)
@click.option("--max-loading-percent", default=100.0, show_default=True, help="Branch limit, %.")
@click.option("--no-ac", is_flag=True, help="Skip the AC check of the dispatched year.")
@click.option("--out", type=OUT, help="Write /wind/year (and /wind/power) to this HDF5 file.")
@click.option("--plot", type=OUT, help="Curtailment duration curve (PNG).")
@click.option("--top", default=10, show_default=True, help="Rows shown per table.")
def year_cmd(
    spec: str,
    farms: str | None,
    wind_file: str | None,
    synthetic: bool,
    scenario: str | None,
    seed: int,
    hours: int,
    profiles_path: str | None,
    load_shape: str | None,
    n1: bool,
    elements: str,
    balance: str | None,
    min_stable: str | None,
    max_loading_percent: float,
    no_ac: bool,
    out: Path | None,
    plot: Path | None,
    top: int,
) -> None:
    """Curtailment of wind farms over a year on case SPEC: hourly least-curtailment DC
    dispatch (HiGHS), binding branches, and an AC check of the dispatched hours."""
    from gridplan.model.cases import case_name, load_case
    from gridplan.studies.wind.curtailment import parse_min_stable, scenario_options, year

    net = load_case(spec)
    opts = scenario_options(scenario, "year")
    result = year(
        net,
        farms,
        wind_file,
        synthetic=synthetic,
        scenario=scenario,
        seed=seed,
        profiles=profiles_path,
        load_shape=load_shape or opts.get("load_shape", "case"),
        n1=n1,
        elements=tuple(e.strip() for e in elements.split(",") if e.strip()),
        balance=balance or opts.get("balance", "auto"),
        min_stable_percent=parse_min_stable(min_stable)
        if min_stable is not None
        else opts.get("min_stable_percent"),
        max_loading_percent=max_loading_percent,
        ac_check=not no_ac,
        case_name=case_name(spec),
    )
    s = result.summary
    click.echo(
        f"{case_name(spec)}: {s['n_steps']} steps, {len(result.farms)} farm(s), balance "
        f"{s['balance']}{', N-1 (' + str(s['n_outages']) + ' outages)' if s['n1'] else ''}, "
        f"{s['elapsed_s']:.1f} s"
    )
    click.echo(
        f"  wind available {s['energy_available_mwh']:.0f} MWh, produced "
        f"{s['energy_produced_mwh']:.0f} MWh, curtailed {s['energy_curtailed_mwh']:.0f} MWh "
        f"({s['curtailed_percent']:.2f} %) in {s['hours_with_curtailment_h']:g} h"
    )
    click.echo(
        f"  congested {s['congested_hours_h']:g} h; {100 * s['share_without_lp']:.1f} % of the "
        "steps needed no LP (no branch over its limit in the reference dispatch)"
    )
    if not no_ac:
        click.echo(
            f"  AC check: {s['ac_violation_hours_h']:g} h with a violation the wind makes new or "
            f"worse ({s['ac_any_violation_hours_h']:g} h with any violation)"
        )
    cols = ["available_mwh", "curtailed_mwh", "curtailed_percent", "curtailed_hours_h"]
    echo_table(result.farms[cols].head(top), "per farm:", floatfmt="{:.1f}")
    echo_table(result.binding.head(top), "binding elements:", floatfmt="{:.1f}")
    if not no_ac:
        echo_table(result.ac_violations.head(top), "AC violations missed by the DC dispatch:")
    if plot is not None:
        from gridplan.studies.wind.plots import plot_curtailment

        plot_curtailment(
            result.steps["curtailed_mw"].to_numpy(),
            plot,
            title=f"curtailment duration curve, {case_name(spec)}",
        )
        click.echo(f"plot written to {plot}")
    if out is not None:
        from gridplan.studies.wind.curtailment import write_year

        _write_case_file(out, spec, net, write_year, result)


@wind.command("credit")
@click.argument("spec")
@_wind_inputs
@click.option(
    "--metric",
    type=click.Choice(["lole", "eens", "both"]),
    default="both",
    show_default=True,
    help="Risk metric of the bisections.",
)
@click.option(
    "--load-model",
    default="rts79",
    show_default=True,
    help="Hourly load: rts79 (IEEE RTS-79 shape), flat, or a CSV with p_mw or p_pu per hour.",
)
@click.option(
    "--peak-mw", type=float, default=None, help="Annual peak load, MW (default: the case's)."
)
@click.option("--step", "step_mw", type=float, default=None, help="COPT grid step, MW.")
@click.option(
    "--tol",
    "tol_mw",
    type=float,
    default=None,
    help="Bisection gap, MW (default 0.1 % of nameplate).",
)
@click.option(
    "--include-ext-grid", is_flag=True, help="Count ext_grids with max_p_mw as generating units."
)
@click.option("--out", type=OUT, help="Write /wind/credit (and /wind/power) to this HDF5 file.")
@click.option("--plot", type=OUT, help="Risk at every bisection point (PNG).")
def credit_cmd(
    spec: str,
    farms: str | None,
    wind_file: str | None,
    synthetic: bool,
    scenario: str | None,
    seed: int,
    hours: int,
    metric: str,
    load_model: str,
    peak_mw: float | None,
    step_mw: float | None,
    tol_mw: float | None,
    include_ext_grid: bool,
    out: Path | None,
    plot: Path | None,
) -> None:
    """Capacity credit of wind farms on case SPEC: ELCC and EFC by bisection (LOLE, EENS)."""
    from gridplan.model.cases import case_name, load_case
    from gridplan.studies.wind.credit import credit

    net = load_case(spec)
    result = credit(
        net,
        farms,
        wind_file,
        synthetic=synthetic,
        scenario=scenario,
        seed=seed,
        metrics=("lole", "eens") if metric == "both" else (metric,),
        load_model=load_model,
        peak_mw=peak_mw,
        step_mw=step_mw,
        tol_mw=tol_mw,
        include_ext_grid=include_ext_grid,
        case_name=case_name(spec),
    )
    c = result.credit
    click.echo(
        f"{case_name(spec)}: {c.nameplate_mw.iloc[0]:.1f} MW of wind against "
        f"{result.installed_mw:.0f} MW of conventional units, load peak "
        f"{result.peak_load_mw:.0f} MW ({result.load_model}), {result.hours} h, COPT step "
        f"{result.step_mw:g} MW, bisection gap {result.tol_mw:.3g} MW"
    )
    for m, row in c.iterrows():
        click.echo(
            f"  {m}: ELCC {row.elcc_mw:.1f} MW [{row.elcc_low_mw:.1f}, {row.elcc_high_mw:.1f}] "
            f"({row.elcc_percent:.1f} %), EFC {row.efc_mw:.1f} MW [{row.efc_low_mw:.1f}, "
            f"{row.efc_high_mw:.1f}] ({row.efc_percent:.1f} %); risk {row.risk_without:.4g} "
            f"-> {row.risk_with:.4g} {row.risk_unit}"
        )
    if plot is not None:
        from gridplan.studies.wind.plots import plot_credit

        plot_credit(result.trials, plot, title=f"capacity credit, {case_name(spec)}")
        click.echo(f"plot written to {plot}")
    if out is not None:
        from gridplan.studies.wind.credit import write_credit

        _write_case_file(out, spec, net, write_credit, result)


def _write_case_file(
    out: Path, spec: str, net: Any, write: Callable[[Any, Any], None], result: Any
) -> None:
    """Write ``result`` with ``write(writer, result)`` to ``out`` (stamped with the case name
    and hash), plus the farms' power (``/wind/power``) when the result carries it."""
    from gridplan.model.case_hash import case_sha256
    from gridplan.model.cases import case_name
    from gridplan.results import ResultWriter
    from gridplan.studies.wind.power import write_power

    with ResultWriter(out, case_name=case_name(spec), case_sha256=case_sha256(net)) as w:
        write(w, result)
        if getattr(result, "wind", None) is not None:
            write_power(w, result.wind)
    click.echo(f"results written to {out}")


@wind.command("turbines")
@click.option("--match", default="", help="Only types whose name contains this text.")
def turbines_cmd(match: str) -> None:
    """List the turbine types with a power curve (windpowerlib's library and IEC classes)."""
    from gridplan.model.wind import turbine_library, windpowerlib_data_dir

    lib = turbine_library()
    if match:
        lib = lib[lib.index.str.contains(match, case=False, regex=False)]
    echo_table(lib, floatfmt="{:.2f}")
    if windpowerlib_data_dir() is None:
        click.echo("(windpowerlib not installed: pip install 'gridplan[wind]' for its 67 curves)")


COMMANDS = [wind]
