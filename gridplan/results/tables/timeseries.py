"""``/timeseries``: one AC power flow per time step (``gridplan timeseries``)."""

from gridplan.results.schema import Array, Column, Group, Table

_STEP_AXIS = "step (row of timeseries/steps)"

TABLES = (
    Group(
        "timeseries",
        "time-series power flow, streamed block by block",
        notes="""Written by `gridplan timeseries` / `gridplan.timeseries.run(..., out=...)`, block
by block while the run goes (a year of quarter-hours never has to fit in memory). Per-step
arrays have one row per step and one column per element (column order in the element's
`index` array); NaN for buses not energized and for steps that did not converge.
Example: `h5py.File('ts.h5')['timeseries/bus/vm_pu'][:, 5]` is bus column 5 over the year.

The per-step arrays are float32 (half the bytes of float64, written as fast as the run
solves): float32 rounds to a relative error of at most 2**-24 = 6e-8, so a stored value is
within 6e-8 pu of the solver's `vm_pu` (below 2 pu), 4e-6 degree of `va_degree` (below 128
degree) and 8e-6 % of `loading_percent` (below 256 %), far inside the 1e-6 pu / 1e-3 %
accuracy the engine is tested to. They are chunked 256 steps x up to 1024 elements and, by
default, compressed with HDF5's standard shuffle + deflate (gzip level 1) filters, which every
HDF5 reader (h5py, HDFView, h5dump, MATLAB) opens without plugins; `--no-compress` stores them
raw. Per-step summaries (`timeseries/steps`) and worst cases stay float64.""",
        attrs=(
            Column("n_steps", "int64", "", "time steps"),
            Column("n_converged", "int64", "", "steps whose power flow converged"),
            Column("duration_h", "float64", "h", "step length"),
            Column("energy_loss_mwh", "float64", "MWh", "sum of step branch losses x step length"),
            Column(
                "hours_with_violations",
                "float64",
                "h",
                "steps with a voltage outside its band or a loading above the limit, x step length",
            ),
            Column("elapsed_s", "float64", "s", "run time"),
            Column("steps_per_s", "float64", "1/s", "steps solved per second"),
            Column("threads", "int64", "", "blocks of steps solved at once (one per thread)"),
            Column(
                "solve_cpu_s",
                "float64",
                "s",
                "CPU time the threads spent solving blocks (compare with elapsed_s x threads)",
            ),
            Column("tolerance_mva", "float64", "pu", "Newton tolerance on the largest mismatch"),
            Column("max_loading_percent", "float64", "%", "loading limit of lines and trafos"),
        ),
    ),
    Table(
        "timeseries/steps",
        "one row per time step",
        index=Column("step", "int64", "", "step number"),
        columns=(
            Column(
                "time",
                "datetime64",
                "s since 1970-01-01T00:00:00Z",
                "timestamp (the step number, unit '', when the profiles have none)",
            ),
            Column("converged", "bool", "", "the step's power flow converged"),
            Column("iterations", "int64", "", "Newton/chord iterations of the step"),
            Column("max_mismatch_pu", "float64", "pu", "largest P/Q mismatch left"),
            Column("p_loss_mw", "float64", "MW", "sum of line and trafo losses"),
            Column("vm_min_pu", "float64", "pu", "lowest bus voltage"),
            Column("vm_max_pu", "float64", "pu", "highest bus voltage"),
            Column("max_loading_percent", "float64", "%", "highest line/trafo loading"),
            Column("violation", "bool", "", "a voltage or loading limit broken in the step"),
        ),
    ),
    Table(
        "timeseries/worst",
        "worst step per element and quantity",
        index=Column("row", "int64", "", "row number"),
        columns=(
            Column("element", "str", "", "bus, line or trafo"),
            Column("element_index", "int64", "", "pandapower element index"),
            Column("quantity", "str", "", "vm_min_pu, vm_max_pu or loading_percent"),
            Column("value", "float64", "see quantity", "worst value (pu or %, as quantity)"),
            Column("step", "int64", "", "worst step"),
            Column("time", "datetime64", "s since 1970-01-01T00:00:00Z", "time of the worst step"),
        ),
    ),
    Array(
        "timeseries/bus/vm_pu",
        "bus voltage magnitude per step",
        "float32",
        "pu",
        dims=(_STEP_AXIS, "bus (timeseries/bus/index)"),
    ),
    Array(
        "timeseries/bus/va_degree",
        "bus voltage angle per step",
        "float32",
        "degree",
        dims=(_STEP_AXIS, "bus (timeseries/bus/index)"),
    ),
    Array("timeseries/bus/index", "pandapower bus index of each column", "int64", "", ("bus",)),
    Array(
        "timeseries/line/loading_percent",
        "line loading per step",
        "float32",
        "%",
        dims=(_STEP_AXIS, "line (timeseries/line/index)"),
    ),
    Array("timeseries/line/index", "pandapower line index of each column", "int64", "", ("line",)),
    Array(
        "timeseries/trafo/loading_percent",
        "2-winding transformer loading per step",
        "float32",
        "%",
        dims=(_STEP_AXIS, "trafo (timeseries/trafo/index)"),
    ),
    Array(
        "timeseries/trafo/index", "pandapower trafo index of each column", "int64", "", ("trafo",)
    ),
)
