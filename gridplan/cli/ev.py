"""``gridplan ev``: EV charging demand (profile), grid impact and hosting capacity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gridplan.cli._common import echo_table
from gridplan.cli._types import COUNT, POSITIVE, Number, OutPath, require_order

_POLICIES = "uncontrolled,tou,balanced,valley"


def _policies(text: str) -> list[str]:
    from gridplan.core.ev_policies import POLICIES
    from gridplan.errors import CaseError

    out = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in out if p not in POLICIES]
    if bad or not out:
        raise CaseError(
            f"--policies: unknown policy {', '.join(bad) or '(none given)'}",
            hint=f"choose from {', '.join(POLICIES)}",
        )
    return out


def _bar(total: int, desc: str) -> tuple[Any, Any]:
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="day", disable=None, leave=False)
    done = [0]

    def progress(n: int) -> None:
        bar.update(n - done[0])
        done[0] = n

    return bar, progress


@click.group("ev")
def ev() -> None:
    """EV charging: demand profiles, grid impact and hosting capacity."""


@ev.command("profile")
@click.argument("scenario")
@click.option(
    "--days",
    default=7,
    show_default=True,
    type=COUNT,
    help="Days simulated from the scenario's start date.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=int,
    help="Monte Carlo seed (same seed, same profiles).",
)
@click.option(
    "--step-min",
    default=15.0,
    show_default=True,
    type=POSITIVE,
    help="Step length, minutes (must divide a day).",
)
@click.option(
    "--policies",
    default=_POLICIES,
    show_default=True,
    help="Comma-separated charging policies to compare.",
)
@click.option(
    "--case",
    "case_spec",
    default=None,
    help="Case the scenario's buses refer to (default: the scenario's `case`).",
)
@click.option(
    "--no-case",
    is_flag=True,
    help="Ignore the scenario's case (buses are labels; valley filling per bus).",
)
@click.option(
    "--out",
    type=OutPath(),
    help="Write /ev/profile to this HDF5 file.",
)
@click.option(
    "--plot",
    "plot_prefix",
    type=OutPath(),
    help="Write PREFIX-daily.png (daily curve with its 5-95 % band) and PREFIX-cf.png "
    "(coincidence factor).",
)
@click.option("--no-vehicles", is_flag=True, help="Leave the per-vehicle table out of --out.")
def profile(
    scenario: str,
    days: int,
    seed: int,
    step_min: float,
    policies: str,
    case_spec: str | None,
    no_case: bool,
    out: Path | None,
    plot_prefix: Path | None,
    no_vehicles: bool,
) -> None:
    """Charging demand of SCENARIO (TOML file or bundled name) per bus and charger class.

    Monte Carlo over vehicles and days; prints peak, energy per day, coincidence factor and
    after-diversity maximum demand per policy.
    """
    from gridplan.studies.ev.api import load_scenario_and_case
    from gridplan.studies.ev.profile import run_profile, write_profile

    pols = _policies(policies)
    sc, net, name = load_scenario_and_case(scenario, case_spec, no_case)
    bar, progress = _bar(days, "EV profile")
    try:
        result = run_profile(
            sc, net=net, days=days, seed=seed, step_min=step_min, policies=pols, progress=progress
        )
    finally:
        bar.close()
    print_profile(result)
    if out is not None:
        from gridplan.model.case_hash import case_sha256
        from gridplan.results import ResultWriter

        with ResultWriter(
            out, case_name=name, case_sha256=case_sha256(net) if net is not None else ""
        ) as w:
            write_profile(w, result, vehicles=not no_vehicles)
        click.echo(f"results written to {out}")
    if plot_prefix is not None:
        from gridplan.studies.ev.plots import plot_cf, plot_daily

        daily = Path(f"{plot_prefix}-daily.png")
        plot_daily(result, daily)
        msg = f"plots written to {daily}"
        if len(result.cf):
            cf = Path(f"{plot_prefix}-cf.png")
            plot_cf(result, cf)
            msg += f" and {cf}"
        click.echo(msg)


def print_profile(result: Any) -> None:
    """The figures a planner reads first."""
    sc = result.scenario
    cal = result.arrays.calendar
    click.echo(
        f"{sc.name}: {result.arrays.fleet.n:,} vehicles at {len(result.sites)} sites, "
        f"{cal.n_days} days of {cal.dt_h * 60:g}-min steps from {sc.start}, seed {result.seed} "
        f"({result.elapsed_s:.1f} s)"
    )
    if "valley" in result.runs:
        click.echo(f"  valley filling base load: {result.base_note}")
    s = result.summary
    cols = [
        "energy_kwh_per_day",
        "peak_kw",
        "admd_kw",
        "coincidence_factor",
        "missed_kwh",
        "shortfall_kwh",
        "unserved_sessions",
    ]
    echo_table(s[cols], "per policy (peak and ADMD in kW, energy in kWh):", floatfmt="{:.3f}")
    if len(result.cf):
        cf = result.cf.pivot(index="n_vehicles", columns="policy", values="cf_mean")[list(s.index)]
        echo_table(
            cf,
            "coincidence factor by number of vehicles (mean over random subsets):",
            floatfmt="{:.3f}",
        )
    if len(result.classes):
        echo_table(
            result.classes,
            "daily distance per vehicle class, km (sampled vs scenario):",
            floatfmt="{:.2f}",
        )


@ev.command("impact")
@click.argument("spec")
@click.option(
    "--scenario",
    "scenario",
    required=True,
    help="Scenario file (TOML) or bundled scenario name; its buses belong to SPEC.",
)
@click.option("--days", default=365, show_default=True, type=COUNT, help="Days simulated.")
@click.option("--seed", default=0, show_default=True, type=int, help="Monte Carlo seed.")
@click.option("--step-min", default=15.0, show_default=True, type=POSITIVE, help="Step, minutes.")
@click.option(
    "--policies",
    default=_POLICIES,
    show_default=True,
    help="Comma-separated charging policies to compare.",
)
@click.option(
    "--base-profiles",
    type=click.Path(dir_okay=False),
    help="Measured profiles of the case's loads (CSV/HDF5 as `gridplan timeseries`, same "
    "steps); default: synthetic shapes by load kind.",
)
@click.option(
    "--max-loading-percent",
    default=100.0,
    show_default=True,
    type=POSITIVE,
    help="Loading limit, %.",
)
@click.option(
    "--vm-min-pu", default=0.95, show_default=True, type=POSITIVE, help="Lower voltage limit, pu."
)
@click.option(
    "--vm-max-pu", default=1.05, show_default=True, type=POSITIVE, help="Upper voltage limit, pu."
)
@click.option("--out", type=OutPath(), help="Write /ev to this HDF5 file.")
@click.option(
    "--plot",
    "plot_path",
    type=OutPath(),
    help="Write the transformer loading duration curves per policy to this PNG.",
)
def impact(
    spec: str,
    scenario: str,
    days: int,
    seed: int,
    step_min: float,
    policies: str,
    base_profiles: str | None,
    max_loading_percent: float,
    vm_min_pu: float,
    vm_max_pu: float,
    out: Path | None,
    plot_path: Path | None,
) -> None:
    """Grid impact on case SPEC of the charging profiles of every policy.

    One AC power flow per step and policy: transformer and cable loading, lowest voltages,
    hours in violation and losses.
    """
    from tqdm import tqdm

    from gridplan.model.case_hash import case_sha256
    from gridplan.studies.ev.api import load_scenario_and_case
    from gridplan.studies.ev.impact import run_impact, write_impact
    from gridplan.studies.ev.profile import write_profile

    require_order(vm_min_pu, vm_max_pu, "--vm-min-pu", "--vm-max-pu")
    pols = _policies(policies)
    sc, net, name = load_scenario_and_case(scenario, spec)
    n_steps = days * round(1440 / step_min)
    bar = tqdm(total=n_steps * len(pols), desc="EV impact", unit="step", disable=None, leave=False)
    done: dict[str, int] = {}

    def progress(policy: str, n: int) -> None:
        bar.update(n - done.get(policy, 0))
        done[policy] = n

    try:
        result = run_impact(
            net,
            sc,
            days=days,
            seed=seed,
            step_min=step_min,
            policies=pols,
            base_profiles=base_profiles,
            max_loading_percent=max_loading_percent,
            vm_min_pu=vm_min_pu,
            vm_max_pu=vm_max_pu,
            progress=progress,
        )
    finally:
        bar.close()
    print_impact(result)
    if out is not None:
        from gridplan.results import ResultWriter

        with ResultWriter(out, case_name=name, case_sha256=case_sha256(net)) as w:
            write_profile(w, result.profile)
            write_impact(w, result)
        click.echo(f"results written to {out}")
    if plot_path is not None:
        from gridplan.studies.ev.plots import plot_duration

        plot_duration(result, plot_path)
        click.echo(f"loading duration curves written to {plot_path}")


def print_impact(result: Any) -> None:
    """Summary per policy and the transformers that carry the EVs."""
    pr = result.profile
    cal = pr.arrays.calendar
    click.echo(
        f"{pr.scenario.name}: {pr.arrays.fleet.n:,} vehicles, {cal.n_days} days of "
        f"{cal.dt_h * 60:g}-min steps, {len(pr.policies)} policies ({result.elapsed_s:.1f} s)"
    )
    click.echo(f"  base load: {result.base_note}")
    s = result.summary
    cols = [
        "ev_energy_mwh",
        "ev_peak_mw",
        "trafo_max_loading_percent",
        "trafo_hours_over_h",
        "line_max_loading_percent",
        "vm_min_pu",
        "hours_with_violations_h",
        "energy_loss_mwh",
    ]
    echo_table(s[cols], "per policy:", floatfmt="{:.3f}")
    trafos = result.ev_trafos()
    if trafos:
        t = result.trafo[result.trafo.trafo.isin(trafos)]
        tab = t.pivot(index=["trafo", "name"], columns="policy", values="max_loading_percent")
        echo_table(
            tab[pr.policies], "highest loading of the transformers supplying EVs, %:", "{:.1f}"
        )


@ev.command("hosting")
@click.argument("spec")
@click.option(
    "--scenario",
    "scenario",
    required=True,
    help="Scenario file (TOML) or bundled name; its [hosting] table says which vehicles to add.",
)
@click.option(
    "--days",
    default=7,
    show_default=True,
    type=COUNT,
    help="Days from the scenario's start date (choose the peak season).",
)
@click.option("--seeds", default=10, show_default=True, type=COUNT, help="Monte Carlo seeds.")
@click.option("--seed", default=0, show_default=True, type=int, help="First seed.")
@click.option(
    "--percentile",
    default=10.0,
    show_default=True,
    type=Number(0.0, 100.0),
    help="Percentile of the per-seed hosting counts reported (10: 90 % of seeds host at "
    "least that many).",
)
@click.option("--step-min", default=15.0, show_default=True, type=POSITIVE, help="Step, minutes.")
@click.option(
    "--policies", default=_POLICIES, show_default=True, help="Comma-separated charging policies."
)
@click.option(
    "--targets",
    "kinds",
    default="feeder,trafo",
    show_default=True,
    help="Target kinds: feeder, trafo (a transformer and all it supplies), or both.",
)
@click.option(
    "--target",
    "only",
    multiple=True,
    help="Only this feeder or transformer (by name; repeat for several).",
)
@click.option(
    "--base-profiles",
    type=click.Path(dir_okay=False),
    help="Measured profiles of the case's loads (same steps); default: synthetic shapes.",
)
@click.option(
    "--max-loading-percent",
    default=100.0,
    show_default=True,
    type=POSITIVE,
    help="Loading limit, %.",
)
@click.option(
    "--vm-min-pu", default=0.95, show_default=True, type=POSITIVE, help="Lower voltage limit, pu."
)
@click.option(
    "--vm-max-pu", default=1.05, show_default=True, type=POSITIVE, help="Upper voltage limit, pu."
)
@click.option("--out", type=OutPath(), help="Write /ev/hosting here.")
def hosting(
    spec: str,
    scenario: str,
    days: int,
    seeds: int,
    seed: int,
    percentile: float,
    step_min: float,
    policies: str,
    kinds: str,
    only: tuple[str, ...],
    base_profiles: str | None,
    max_loading_percent: float,
    vm_min_pu: float,
    vm_max_pu: float,
    out: Path | None,
) -> None:
    """EV hosting capacity of every feeder and transformer of case SPEC, per policy.

    The largest number of vehicles (and adoption share) before the first loading or voltage
    violation in any step, at the given percentile over Monte Carlo seeds, with the limiting
    element and hour.
    """
    from tqdm import tqdm

    from gridplan.errors import CaseError
    from gridplan.model.case_hash import case_sha256
    from gridplan.studies.ev.api import load_scenario_and_case
    from gridplan.studies.ev.hosting import run_hosting, write_hosting

    require_order(vm_min_pu, vm_max_pu, "--vm-min-pu", "--vm-max-pu")
    pols = _policies(policies)
    kind_list = [k.strip() for k in kinds.split(",") if k.strip()]
    if not kind_list or any(k not in ("feeder", "trafo") for k in kind_list):
        raise CaseError(f"--targets must be feeder, trafo or both, got {kinds!r}")
    sc, net, name = load_scenario_and_case(scenario, spec)
    bar = tqdm(total=1, desc="EV hosting", unit="search", disable=None, leave=False)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        result = run_hosting(
            net,
            sc,
            days=days,
            seeds=seeds,
            seed=seed,
            percentile=percentile,
            step_min=step_min,
            policies=pols,
            kinds=kind_list,
            only=list(only) or None,
            base_profiles=base_profiles,
            max_loading_percent=max_loading_percent,
            vm_min_pu=vm_min_pu,
            vm_max_pu=vm_max_pu,
            progress=progress,
        )
    finally:
        bar.close()
    print_hosting(result)
    if out is not None:
        from gridplan.results import ResultWriter

        with ResultWriter(out, case_name=name, case_sha256=case_sha256(net)) as w:
            write_hosting(w, result)
        click.echo(f"results written to {out}")


def print_hosting(result: Any) -> None:
    """Hosting count per target and policy, and what limits it."""
    r = result.results
    click.echo(
        f"{result.scenario.name}: EV hosting capacity at the {result.percentile:g}th percentile "
        f"of {result.n_seeds} seeds, {result.days} days ({result.elapsed_s:.1f} s; "
        f"candidates: {result.scenario.hosting.candidates})"
    )
    tab = r.pivot(index=["target_kind", "target"], columns="policy", values="hosting_count")
    order = list(dict.fromkeys(r.policy))
    echo_table(tab[order], "vehicles hosted (max_count when nothing limits):", "{:.0f}")
    lim = r[r.limited_seeds > 0][
        [
            "target",
            "policy",
            "hosting_count",
            "hosting_share",
            "limit_element",
            "limit_quantity",
            "limit_value",
            "limit_time",
        ]
    ]
    if len(lim):
        echo_table(lim.set_index(["target", "policy"]), "limits (one vehicle more):", "{:.3f}")


COMMANDS = [ev]
