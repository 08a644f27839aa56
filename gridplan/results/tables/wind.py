"""``/wind``: power from wind, hosting capacity, curtailment year, capacity credit
(``gridplan wind power|hosting|year|credit``)."""

from gridplan.results.schema import Array, Column, Group, Table

_FARM = Column("farm", "str", "", "farm name (farm table)")
_TIME_UNIT = "s since 1970-01-01T00:00:00Z"

TABLES = (
    Group(
        "wind",
        "wind integration studies",
        notes="""`/wind/power` holds the farms' output per step, `/wind/hosting` the hosting
capacity per bus, `/wind/year` the curtailment year and `/wind/credit` the capacity credit.
Farms are named as in the farm table; per-step arrays have one row per step (times in
`/wind/power/time` or `/wind/year/steps`) and one column per farm (order of the `farms` table).""",
    ),
    # --- power ----------------------------------------------------------------------------
    Group(
        "wind/power",
        "farm output from wind speeds (gridplan wind power)",
        attrs=(
            Column("source", "str", "", "wind file, or 'synthetic (seed N)'"),
            Column("duration_h", "float64", "h", "step length"),
            Column("density_corrected", "bool", "", "IEC 61400-12-1 density normalisation applied"),
            Column("farms", "str", "", "comma-separated farm names, the column order of p_mw"),
        ),
    ),
    Table(
        "wind/power/farms",
        "per farm: turbines, energy and capacity factor over the series",
        index=_FARM,
        columns=(
            Column("turbine", "str", "", "turbine type"),
            Column("n_turbines", "float64", "", "number of turbines"),
            Column("installed_mw", "float64", "MW", "installed capacity"),
            Column("bus", "int64", "", "pandapower bus (-1: none given)"),
            Column("sgen", "int64", "", "pandapower sgen the farm is (-1: none)"),
            Column("hub_height_m", "float64", "m", "hub height"),
            Column("mean_speed_hub_ms", "float64", "m/s", "mean speed at hub height"),
            Column("energy_mwh", "float64", "MWh", "energy over the series"),
            Column("capacity_factor", "float64", "", "energy / (installed x duration)"),
            Column("full_load_hours_h", "float64", "h", "capacity factor x 8760 h"),
            Column("loss_factor", "float64", "", "wake efficiency x availability x electrical"),
            Column(
                "curve_extended_to_ms",
                "float64",
                "m/s",
                "cut-out the power curve was extended to (NaN: complete curve)",
            ),
        ),
    ),
    Array(
        "wind/power/p_mw",
        "output per step and farm",
        "float64",
        "MW",
        dims=("step (wind/power/time)", "farm (wind/power/farms)"),
    ),
    Array("wind/power/time", "start of each step", "int64", _TIME_UNIT, dims=("step",)),
    # --- hosting ----------------------------------------------------------------------------
    Table(
        "wind/hosting",
        "hosting capacity per candidate bus (gridplan wind hosting)",
        index=Column("bus", "int64", "", "pandapower bus index"),
        columns=(
            Column(
                "hosting_mw",
                "float64",
                "MW",
                "largest wind injection found with no new or worsened violation",
            ),
            Column("upper_mw", "float64", "MW", "smallest found with one (NaN: unlimited)"),
            Column("screen_mw", "float64", "MW", "linear (PTDF/LODF, Jacobian) estimate"),
            Column(
                "limit_kind",
                "str",
                "",
                "limiting quantity: loading, vm_max, vm_min, diverged or unlimited",
            ),
            Column("limit_element", "str", "", "limiting element, e.g. 'line 4', 'bus 17'"),
            Column("limit_outage", "str", "", "outage of the limiting case (empty: base case)"),
            Column("limit_value", "float64", "% or pu", "the quantity at upper_mw"),
            Column("limit_bound", "float64", "% or pu", "its effective limit"),
            Column("ac_trials", "int64", "", "AC evaluations of the search"),
            Column("bound_outages", "int64", "", "outages checked in every AC evaluation"),
            Column("confirmed_ac", "int64", "", "outages solved in AC to confirm the result"),
        ),
        attrs=(
            Column("n1", "bool", "", "hosting under every single outage"),
            Column("balance", "str", "", "slack or gens: who gives way to the wind"),
            Column("power_factor", "float64", "", "power factor of the wind"),
            Column("n_outages", "int64", "", "outages considered"),
            Column("n_skipped_outages", "int64", "", "outages not solvable without the wind"),
        ),
    ),
    # --- curtailment year --------------------------------------------------------------------
    Group(
        "wind/year",
        "curtailment over a year: least-curtailment DC dispatch, AC check (gridplan wind year)",
        attrs=(
            Column("n_steps", "int64", "", "time steps"),
            Column("duration_h", "float64", "h", "step length"),
            Column("balance", "str", "", "slack or gens"),
            Column("n1", "bool", "", "post-outage limits kept too"),
            Column("n_outages", "int64", "", "outages whose post-outage flows were limited"),
            Column("energy_available_mwh", "float64", "MWh", "wind on offer"),
            Column("energy_produced_mwh", "float64", "MWh", "wind produced after curtailment"),
            Column("energy_curtailed_mwh", "float64", "MWh", "wind curtailed"),
            Column("curtailed_percent", "float64", "%", "curtailed / available"),
            Column("hours_with_curtailment_h", "float64", "h", "steps with curtailment x length"),
            Column("congested_hours_h", "float64", "h", "steps with a binding branch x length"),
            Column("lp_hours_h", "float64", "h", "steps that needed an LP x length"),
            Column(
                "share_without_lp",
                "float64",
                "",
                "share of steps whose reference dispatch broke no limit (no LP solved)",
            ),
            Column("lp_failed", "int64", "", "steps whose LP did not solve"),
            Column(
                "ac_violation_hours_h",
                "float64",
                "h",
                "AC: steps with a violation the wind makes new or worse, x length",
            ),
            Column("ac_any_violation_hours_h", "float64", "h", "AC: steps with any violation"),
            Column("elapsed_s", "float64", "s", "run time"),
        ),
    ),
    Table(
        "wind/year/farms",
        "per farm: energy available, produced and curtailed",
        index=_FARM,
        columns=(
            Column("bus", "int64", "", "pandapower bus of the farm"),
            Column("installed_mw", "float64", "MW", "installed capacity"),
            Column("available_mwh", "float64", "MWh", "wind on offer"),
            Column("produced_mwh", "float64", "MWh", "produced"),
            Column("curtailed_mwh", "float64", "MWh", "curtailed"),
            Column("curtailed_percent", "float64", "%", "curtailed / available"),
            Column("curtailed_hours_h", "float64", "h", "steps with curtailment x length"),
        ),
    ),
    Table(
        "wind/year/steps",
        "per step: wind on offer, produced and curtailed (all farms), AC check",
        index=Column("step", "int64", "", "step number"),
        columns=(
            Column("time", "datetime64", _TIME_UNIT, "start of the step"),
            Column("available_mw", "float64", "MW", "wind on offer"),
            Column("produced_mw", "float64", "MW", "wind produced"),
            Column("curtailed_mw", "float64", "MW", "wind curtailed"),
            Column("redispatch_mw", "float64", "MW", "sum of generator changes from the reference"),
            Column("lp", "bool", "", "an LP was solved (the reference broke a limit)"),
            Column("binding", "int64", "", "branch (post-outage) limits at their bound"),
            Column("ac_converged", "bool", "", "AC power flow of the dispatched step converged"),
            Column("ac_max_loading_percent", "float64", "%", "AC: highest branch loading"),
            Column("ac_vm_min_pu", "float64", "pu", "AC: lowest bus voltage"),
            Column("ac_vm_max_pu", "float64", "pu", "AC: highest bus voltage"),
            Column(
                "ac_violation", "bool", "", "AC: a violation the wind makes new or worse (rule)"
            ),
        ),
    ),
    Table(
        "wind/year/binding",
        "elements (after an outage) at their limit in the dispatch, by hours",
        index=Column("row", "int64", "", "row number"),
        columns=(
            Column("element", "str", "", "element, e.g. 'line 0'"),
            Column("outage", "str", "", "outage (empty: base case)"),
            Column("hours_h", "float64", "h", "steps at the limit x length"),
            Column("curtailed_mwh", "float64", "MWh", "curtailment in those steps"),
        ),
    ),
    Table(
        "wind/year/ac_violations",
        "AC check: elements with a violation the wind makes new or worse, by hours",
        index=Column("row", "int64", "", "row number"),
        columns=(
            Column("element", "str", "", "element, e.g. 'bus 17', 'line 4'"),
            Column("quantity", "str", "", "loading_percent, vm_max_pu or vm_min_pu"),
            Column("hours_h", "float64", "h", "steps with the violation x length"),
            Column("worst", "float64", "% or pu", "worst value"),
            Column("worst_step", "int64", "", "step of the worst value"),
        ),
    ),
    Array(
        "wind/year/curtailed_mw",
        "curtailment per step and farm",
        "float64",
        "MW",
        dims=("step (wind/year/steps)", "farm (wind/year/farms)"),
    ),
    # --- credit ----------------------------------------------------------------------------
    Group(
        "wind/credit",
        "capacity credit of the farms (gridplan wind credit)",
        attrs=(
            Column("hours", "int64", "", "hours of wind and load compared"),
            Column("peak_load_mw", "float64", "MW", "peak of the load model"),
            Column("installed_mw", "float64", "MW", "conventional capacity in the COPT"),
            Column("step_mw", "float64", "MW", "COPT grid step"),
            Column("load_model", "str", "", "rts79, flat or the load CSV"),
        ),
    ),
    Table(
        "wind/credit/credit",
        "ELCC and EFC per risk metric, with the bisection bounds",
        index=Column("metric", "str", "", "lole or eens"),
        columns=(
            Column("nameplate_mw", "float64", "MW", "installed wind capacity"),
            Column("elcc_mw", "float64", "MW", "effective load-carrying capability"),
            Column("elcc_low_mw", "float64", "MW", "ELCC bisection, lower bound"),
            Column("elcc_high_mw", "float64", "MW", "ELCC bisection, upper bound"),
            Column("efc_mw", "float64", "MW", "equivalent firm capacity"),
            Column("efc_low_mw", "float64", "MW", "EFC bisection, lower bound"),
            Column("efc_high_mw", "float64", "MW", "EFC bisection, upper bound"),
            Column("elcc_percent", "float64", "%", "ELCC / nameplate"),
            Column("efc_percent", "float64", "%", "EFC / nameplate"),
            Column("risk_without", "float64", "see risk_unit", "risk of the system without wind"),
            Column("risk_with", "float64", "see risk_unit", "risk of the system with the wind"),
            Column("risk_unit", "str", "", "h (LOLE) or MWh (EENS) over the hours compared"),
            Column("elcc_iterations", "int64", "", "bisection steps"),
            Column("efc_iterations", "int64", "", "bisection steps"),
        ),
    ),
    Table(
        "wind/credit/trials",
        "every point the bisections evaluated",
        index=Column("trial", "int64", "", "row number"),
        columns=(
            Column("search", "str", "", "elcc or efc"),
            Column("metric", "str", "", "lole or eens"),
            Column("x_mw", "float64", "MW", "added load (ELCC) or firm capacity (EFC)"),
            Column("risk", "float64", "see metric", "risk at x_mw (h or MWh)"),
            Column("target", "float64", "see metric", "risk the search aims at"),
        ),
    ),
)
