"""``/contingency``: N-1 and named N-k scans (``gridplan n1``)."""

from gridplan.results.schema import Array, Column, Group, Table

_OUTAGE = "outage position (row of contingency/outages)"
_ESTIMATE = "screen mode: {} is the screen's estimate (its outage was cleared)"

TABLES = (
    Group(
        "contingency",
        "N-1 / N-k scan: outage statuses, worst cases per element and bus, violations",
        notes="""Written by `gridplan n1` / `gridplan.run_n1` and `write_n1`. Every outage gets a
status: `converged`, `islanded` (solved; load and generation cut off, MW), `diverged` (last
mismatch reported) or `not_simulated` (reason given; e.g. `interrupted` when Ctrl-C stopped the
scan). Outages that did not converge or were not simulated have NaN (never 0) in every value
column and never appear as the cause of a worst case. Violation rows are streamed to the file
block by block while the scan runs.""",
        attrs=(
            Column("mode", "str", "", "ac, dc or screen"),
            Column("n_outages", "int64", "", "outages in the scan"),
            Column("n_converged", "int64", "", "outages solved without islanding"),
            Column("n_islanded", "int64", "", "outages that cut buses off (solved for the rest)"),
            Column("n_diverged", "int64", "", "outages whose power flow did not converge"),
            Column("n_not_simulated", "int64", "", "outages not simulated (reason given)"),
            Column("interrupted", "int64", "", "1 when Ctrl-C stopped the scan, else 0"),
            Column("max_loading_percent", "float64", "%", "loading limit of lines/trafos"),
            Column("vm_min_pu", "float64", "pu", "lower voltage limit"),
            Column("vm_max_pu", "float64", "pu", "upper voltage limit"),
            Column(
                "report",
                "str",
                "",
                "changed (violations new or worsened against the base case) or all",
            ),
            Column(
                "worsen_loading_percent",
                "float64",
                "%",
                "report changed: growth of a base-case overload that counts as worsened",
            ),
            Column(
                "worsen_vm_pu",
                "float64",
                "pu",
                "report changed: change of a base-case voltage violation that counts as worsened",
            ),
            Column("time_compile_s", "float64", "s", "base case solved and compiled"),
            Column("time_outages_s", "float64", "s", "outage list translated"),
            Column("time_factorize_s", "float64", "s", "base-case LU factorization"),
            Column("time_scan_s", "float64", "s", "all outages solved"),
        ),
    ),
    Table(
        "contingency/outages",
        "one row per outage: status, what it cut off, its worst loading and voltages",
        index=Column("outage", "int64", "", "outage position in scan order"),
        columns=(
            Column("name", "str", "", "outage name (e.g. 'line 3', or the N-k set's name)"),
            Column("elements", "str", "", "elements taken out, e.g. 'line 3;line 4'"),
            Column("status", "str", "", "converged, islanded, diverged or not_simulated"),
            Column("reason", "str", "", "why an outage diverged or was not simulated"),
            Column("iterations", "int64", "", "chord/Newton iterations"),
            Column("max_mismatch_pu", "float64", "pu", "largest P/Q mismatch left"),
            Column(
                "cut_load_mw",
                "float64",
                "MW",
                "load cut off by islanding: loads plus storage p_mw (positive = charging, a "
                "demand, as in powerflow/balance); NaN for a not_simulated outage",
            ),
            Column(
                "cut_gen_mw",
                "float64",
                "MW",
                "generation (gen, sgen) cut off by islanding; NaN for a not_simulated outage",
            ),
            Column("n_bus_cut", "int64", "", "buses cut off by islanding"),
            Column(
                "lost_p_mw",
                "float64",
                "MW",
                "active power the outaged elements supplied, taken up by the slack: gen and "
                "sgen P, a dcline's sending-end p_mw (the receiving end loses that less the "
                "losses), storage -p_mw (negative while charging), 0 for branches; NaN when an "
                "element is not in service",
            ),
            Column("max_loading_percent", "float64", "%", "highest post-outage branch loading"),
            Column("max_loading_element", "str", "", "element with that loading ('line 7')"),
            Column("min_vm_pu", "float64", "pu", "lowest post-outage voltage (NaN in dc mode)"),
            Column("min_vm_bus", "int64", "", "bus with that voltage (-1 in dc mode)"),
            Column("max_vm_pu", "float64", "pu", "highest post-outage voltage (NaN in dc mode)"),
            Column("max_vm_bus", "int64", "", "bus with that voltage (-1 in dc mode)"),
            Column(
                "screened_out",
                "bool",
                "",
                "screen mode: cleared by the screen; the row's values are its two-step estimate",
            ),
        ),
    ),
    Table(
        "contingency/elements",
        "one row per monitored line/trafo/trafo3w/impedance: base and worst post-outage loading "
        "(an impedance's against its sn_mva)",
        index=Column("row", "int64", "", "row number (column of contingency/loading_matrix)"),
        columns=(
            Column("element_type", "str", "", "line, trafo, trafo3w or impedance"),
            Column("element", "int64", "", "pandapower element index"),
            Column("base_loading_percent", "float64", "%", "base-case loading"),
            Column("max_loading_percent", "float64", "%", "worst loading over all outages"),
            Column("cause_index", "int64", "", f"outage causing it, {_OUTAGE}"),
            Column("cause_name", "str", "", "name of that outage"),
            Column("cause_estimate", "bool", "", _ESTIMATE.format("max_loading_percent")),
            Column("top{k}_outage", "int64", "", f"k-th worst outage, {_OUTAGE}"),
            Column("top{k}_loading_percent", "float64", "%", "loading under the k-th worst outage"),
            Column("top{k}_estimate", "bool", "", _ESTIMATE.format("top{k}_loading_percent")),
        ),
    ),
    Table(
        "contingency/buses",
        "one row per bus: base and extreme post-outage voltages",
        index=Column("row", "int64", "", "row number"),
        columns=(
            Column("bus", "int64", "", "pandapower bus index"),
            Column("base_vm_pu", "float64", "pu", "base-case voltage"),
            Column("min_vm_pu", "float64", "pu", "lowest post-outage voltage"),
            Column("min_vm_cause", "int64", "", f"outage causing it, {_OUTAGE}"),
            Column("min_vm_estimate", "bool", "", _ESTIMATE.format("min_vm_pu")),
            Column("max_vm_pu", "float64", "pu", "highest post-outage voltage"),
            Column("max_vm_cause", "int64", "", f"outage causing it, {_OUTAGE}"),
            Column("max_vm_estimate", "bool", "", _ESTIMATE.format("max_vm_pu")),
        ),
    ),
    Table(
        "contingency/violations",
        "long format, one row per violated limit, grouped per outage in scan order; value, "
        "limit, base_value and change are in the row's unit (% for loading_percent, pu for vm_pu)",
        index=Column("row", "int64", "", "row number"),
        columns=(
            Column("outage", "int64", "", _OUTAGE),
            Column("outage_name", "str", "", "outage name"),
            Column("element_type", "str", "", "line, trafo, trafo3w, impedance or bus"),
            Column("element", "int64", "", "pandapower element index"),
            Column("quantity", "str", "", "loading_percent or vm_pu"),
            Column("unit", "str", "", "unit of value, limit, base_value and change: % or pu"),
            Column("value", "float64", "see unit column", "post-outage value"),
            Column("limit", "float64", "see unit column", "the limit it breaks"),
            Column("base_value", "float64", "see unit column", "base-case value"),
            Column("change", "float64", "see unit column", "value - base_value"),
            Column(
                "violation",
                "str",
                "",
                "new (within its limit in the base case), worsened (beyond it and worse by more "
                "than the margin) or existing (report all only)",
            ),
            Column(
                "estimate",
                "bool",
                "",
                "screen mode: the outage was cleared by the screen; value and change are its "
                "two-step estimate",
            ),
        ),
    ),
    Table(
        "contingency/base_violations",
        "the base case's own violations, listed once; value and limit in the row's unit",
        index=Column("row", "int64", "", "row number"),
        columns=(
            Column("element_type", "str", "", "line, trafo, trafo3w, impedance or bus"),
            Column("element", "int64", "", "pandapower element index"),
            Column("quantity", "str", "", "loading_percent or vm_pu"),
            Column("unit", "str", "", "unit of value and limit: % or pu"),
            Column("value", "float64", "see unit column", "base-case value"),
            Column("limit", "float64", "see unit column", "the limit it breaks"),
        ),
    ),
    Array(
        "contingency/loading_matrix",
        "--store-matrix: post-outage loading of every monitored element, rows in scan order",
        dtype="float32",
        unit="%",
        dims=("outage row", "row of contingency/elements"),
    ),
    Array(
        "contingency/loading_matrix_outage",
        "--store-matrix: outage position of each loading_matrix row",
        dtype="int64",
        unit="",
        dims=("outage row",),
    ),
)
