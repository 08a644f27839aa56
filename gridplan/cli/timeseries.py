"""``gridplan timeseries``: one AC power flow per profile step, streamed to HDF5."""

from __future__ import annotations

from pathlib import Path

import click

from gridplan.cli._common import echo_table, warn_remarks
from gridplan.cli._types import COUNT0, POSITIVE, OutPath, require_order
from gridplan.model.case_hash import case_sha256
from gridplan.model.cases import case_name, load_case
from gridplan.studies.timeseries import TimeSeriesResult, run


def print_timeseries(result: TimeSeriesResult, top: int) -> None:
    """Summary: convergence, energy losses, hours with violations, worst steps."""
    s = result.summary
    click.echo(
        f"{s['n_steps']} steps of {s['duration_h']:g} h: {s['n_converged']} converged, "
        f"{s['elapsed_s']:.1f} s ({s['steps_per_s']:.0f} steps/s, {s['threads']} thread"
        f"{'s' if s['threads'] != 1 else ''})"
    )
    click.echo(f"  energy losses {s['energy_loss_mwh']:.2f} MWh (branch losses x step length)")
    click.echo(
        f"  hours with violations {s['hours_with_violations']:g} h "
        f"(voltage outside band or loading above limit)"
    )
    bad = result.steps[~result.steps["converged"]]
    if len(bad):
        click.echo(
            f"  {len(bad)} step(s) did not converge, first at step {bad.index[0]} "
            f"({bad['time'].iloc[0]})"
        )
    w = result.worst
    cols = ["element_index", "value", "step", "time"]
    for el, qty, asc, title in (
        ("line", "loading_percent", False, "highest line loading (%)"),
        ("trafo", "loading_percent", False, "highest trafo loading (%)"),
        ("bus", "vm_min_pu", True, "lowest bus voltage (pu)"),
        ("bus", "vm_max_pu", False, "highest bus voltage (pu)"),
    ):
        part = w[(w["element"] == el) & (w["quantity"] == qty)]
        if len(part):
            part = part.sort_values("value", ascending=asc).head(top)
            echo_table(
                part[cols].set_index("element_index").rename_axis(el),
                f"worst steps, {title}:",
                floatfmt="{:.4f}",
            )


@click.command("timeseries")
@click.argument("spec")
@click.option(
    "--profiles",
    "profiles_path",
    type=click.Path(dir_okay=False),
    help="Profile file: CSV with ISO timestamps and columns like load.12.p_mw (MW) / "
    "load.12.q_mvar (Mvar), or HDF5 (file.h5 or file.h5:/group).",
)
@click.option(
    "--synthetic",
    type=click.IntRange(min=1),
    default=None,
    help="Instead of --profiles: this many hourly demo steps generated from the case "
    "(daily load shapes, PV; not measured data).",
)
@click.option(
    "--out",
    type=OutPath(),
    help="Stream per-step results to this HDF5 file (group /timeseries).",
)
@click.option(
    "--block-size",
    default=None,
    type=click.IntRange(min=1),
    help="Steps solved together (memory grows with block size x buses x threads); default: "
    "an eighth of the run, 512 to 2048 steps.",
)
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(min=1),
    help="Blocks of steps solved at once, one per thread; default: the cores this process "
    "may use. Results are identical for any number.",
)
@click.option(
    "--vm-min-pu",
    default=0.95,
    type=POSITIVE,
    show_default=True,
    help="Lower voltage limit, pu (for buses without min_vm_pu).",
)
@click.option(
    "--vm-max-pu",
    default=1.05,
    type=POSITIVE,
    show_default=True,
    help="Upper voltage limit, pu (for buses without max_vm_pu).",
)
@click.option(
    "--max-loading-percent",
    default=100.0,
    type=POSITIVE,
    show_default=True,
    help="Line/trafo loading limit, %.",
)
@click.option(
    "--step-hours",
    type=POSITIVE,
    default=None,
    help="Step length in h when the profiles have step numbers, not timestamps.",
)
@click.option(
    "--allow-negative-loads",
    is_flag=True,
    help="Accept negative load p_mw in the profiles (e.g. prosumers).",
)
@click.option(
    "--no-compress",
    is_flag=True,
    help="Store the per-step arrays raw instead of shuffle + gzip level 1 (about 1.4x larger "
    "files, a little faster to write).",
)
@click.option(
    "--top", default=5, type=COUNT0, show_default=True, help="Worst elements shown per quantity."
)
def timeseries(
    spec: str,
    profiles_path: str | None,
    synthetic: int | None,
    out: Path | None,
    block_size: int | None,
    threads: int | None,
    vm_min_pu: float,
    vm_max_pu: float,
    max_loading_percent: float,
    step_hours: float | None,
    allow_negative_loads: bool,
    no_compress: bool,
    top: int,
) -> None:
    """Run one AC power flow per time step of the profiles on case SPEC."""
    from tqdm import tqdm

    from gridplan.errors import CaseError
    from gridplan.model.profiles import read_profiles
    from gridplan.model.profiles import synthetic as make_synthetic

    if (profiles_path is None) == (synthetic is None):
        raise CaseError(
            "timeseries: give exactly one of --profiles FILE and --synthetic N",
            hint="e.g. gridplan timeseries mv_oberrhein --synthetic 8760",
        )
    require_order(vm_min_pu, vm_max_pu, "--vm-min-pu", "--vm-max-pu")
    net = load_case(spec)
    warn_remarks(net)
    profiles = (
        make_synthetic(net, synthetic)
        if synthetic is not None
        else read_profiles(
            profiles_path,
            duration_h=step_hours,
            net=net,
            allow_negative_loads=allow_negative_loads,
        )
    )
    bar = tqdm(total=profiles.n_steps, unit="step", desc="time series", disable=None, leave=False)
    done = [0]

    def progress(n_done: int) -> None:
        bar.update(n_done - done[0])
        done[0] = n_done

    try:
        result = run(
            net,
            profiles,
            out=out,
            block_size=block_size,
            threads=threads,
            vm_min_pu=vm_min_pu,
            vm_max_pu=vm_max_pu,
            max_loading_percent=max_loading_percent,
            allow_negative_loads=allow_negative_loads,
            compress=not no_compress,
            progress=progress,
            case_name=case_name(spec),
            case_sha256=case_sha256(net),
        )
    finally:
        bar.close()
    print_timeseries(result, top)
    if out is not None:
        click.echo(f"results written to {out}")


COMMANDS = [timeseries]
