"""``/ev``: EV charging demand, grid impact and hosting capacity (``gridplan ev ...``)."""

from gridplan.results.schema import Array, Column, Group, Table

_POLICY = Column("policy", "str", "", "charging policy: uncontrolled, tou, balanced or valley")
_ROW = Column("row", "int64", "", "row number")

TABLES = (
    Group(
        "ev",
        "EV charging studies",
        notes="""Written by `gridplan ev profile | impact | hosting` and `gridplan.ev`. Every
analysis runs each charging policy on the same Monte Carlo draws: `uncontrolled` (full
power from plug-in), `tou` (timer at the off-peak window with a randomized delay), `balanced`
(energy spread over the stay) and `valley` (valley filling per transformer against its base
load). Powers are mean kW per step (grid side), energies kWh. A site is one charger class at
one bus. docs/ev.md describes the model and the scenario file.""",
    ),
    Group(
        "ev/profile",
        "charging demand by Monte Carlo over vehicles and days",
        attrs=(
            Column("scenario", "str", "", "scenario name"),
            Column("scenario_file", "str", "", "scenario file"),
            Column("seed", "int64", "", "Monte Carlo seed"),
            Column("days", "int64", "", "days simulated"),
            Column("step_min", "float64", "min", "step length"),
            Column("start", "str", "", "first day, ISO date"),
            Column("vehicles", "int64", "", "vehicles in the fleet"),
            Column("policies", "str", "", "comma-separated policies run"),
            Column("base_load", "str", "", "where the base load of valley filling came from"),
            Column("elapsed_s", "float64", "s", "run time"),
        ),
    ),
    Table(
        "ev/profile/summary",
        "one row per policy: the fleet's energy, peak and shortfalls",
        index=_POLICY,
        columns=(
            Column("vehicles", "int64", "", "vehicles"),
            Column("energy_kwh_per_day", "float64", "kWh", "energy drawn from the grid per day"),
            Column("peak_kw", "float64", "kW", "highest fleet demand of any step"),
            Column("peak_step", "int64", "", "step of that peak"),
            Column("admd_kw", "float64", "kW", "after-diversity maximum demand per vehicle"),
            Column(
                "coincidence_factor",
                "float64",
                "",
                "fleet peak / sum of the vehicles' charger ratings",
            ),
            Column("charged_kwh", "float64", "kWh", "energy drawn from the grid"),
            Column("driven_kwh", "float64", "kWh", "energy used for driving (battery side)"),
            Column(
                "missed_kwh",
                "float64",
                "kWh",
                "energy sessions asked for and did not get before departure (battery side)",
            ),
            Column(
                "shortfall_kwh",
                "float64",
                "kWh",
                "driven minus charged x efficiency: what is not recharged at the end",
            ),
            Column("unserved_km", "float64", "km", "trips cut because the battery was empty"),
            Column("sessions", "int64", "", "charging sessions (swaps)"),
            Column(
                "unserved_sessions", "int64", "", "sessions that found no free point (rack) in time"
            ),
        ),
    ),
    Table(
        "ev/profile/sites",
        "charging sites: one charger class at one bus",
        index=Column("site", "int64", "", "site number (column of ev/profile/p_kw)"),
        columns=(
            Column("bus", "int64", "", "pandapower bus index (a label without a case)"),
            Column("charger", "str", "", "charger class"),
            Column("kind", "str", "", "ac, dc or swap"),
            Column("points", "int64", "", "charge points or swap racks; -1: one per vehicle"),
            Column("rating_kw", "float64", "kW", "rating per point (swap: per rack)"),
            Column("vehicles", "int64", "", "vehicles charging there"),
            Column("trafo_group", "str", "", "supplying transformer(s), valley filling's group"),
            Column("feeder", "str", "", "feeder of the bus"),
        ),
    ),
    Table(
        "ev/profile/site_stats",
        "per policy and site: peak, energy and queues",
        index=_ROW,
        columns=(
            _POLICY,
            Column("site", "int64", "", "site number"),
            Column("peak_kw", "float64", "kW", "highest demand of any step"),
            Column("energy_kwh_per_day", "float64", "kWh", "energy per day"),
            Column("sessions_per_day", "float64", "", "sessions per day"),
            Column("unserved_sessions", "int64", "", "sessions that found no free point in time"),
            Column("mean_wait_h", "float64", "h", "mean wait for a point (served sessions)"),
            Column("max_wait_h", "float64", "h", "longest wait for a point"),
        ),
    ),
    Table(
        "ev/profile/cf",
        "coincidence factor and ADMD as a function of the number of vehicles",
        index=_ROW,
        columns=(
            _POLICY,
            Column("n_vehicles", "int64", "", "vehicles in each subset"),
            Column("replicas", "int64", "", "disjoint random subsets of that size"),
            Column(
                "cf_mean",
                "float64",
                "",
                "mean over the subsets of peak demand / sum of the members' charger ratings",
            ),
            Column("cf_min", "float64", "", "smallest coincidence factor of the subsets"),
            Column("cf_max", "float64", "", "largest coincidence factor of the subsets"),
            Column("admd_kw", "float64", "kW", "mean subset peak per vehicle"),
        ),
    ),
    Table(
        "ev/profile/band",
        "the fleet's daily curve: statistics over the days per step of the day",
        index=_ROW,
        columns=(
            _POLICY,
            Column("hour", "float64", "h", "start of the step, hours after midnight"),
            Column("mean_kw", "float64", "kW", "mean over the days"),
            Column("p05_kw", "float64", "kW", "5th percentile over the days"),
            Column("p50_kw", "float64", "kW", "median over the days"),
            Column("p95_kw", "float64", "kW", "95th percentile over the days"),
            Column("max_kw", "float64", "kW", "highest over the days"),
        ),
    ),
    Table(
        "ev/profile/classes",
        "per vehicle class: sampled daily distance against the scenario's",
        index=Column("vehicle_class", "str", "", "vehicle class"),
        columns=(
            Column("vehicles", "int64", "", "vehicles"),
            Column("distance_km_per_day", "float64", "km", "mean sampled daily distance"),
            Column(
                "scenario_km_per_day",
                "float64",
                "km",
                "the scenario's mean (weekday and weekend means weighted by the calendar)",
            ),
            Column("driven_km_per_day", "float64", "km", "mean distance driven (less cut trips)"),
        ),
    ),
    Table(
        "ev/profile/vehicles",
        "per policy and vehicle: energy balance over the horizon",
        index=_ROW,
        columns=(
            _POLICY,
            Column("vehicle", "int64", "", "vehicle number"),
            Column("vehicle_class", "str", "", "vehicle class"),
            Column("location", "str", "", "charging location"),
            Column("site", "int64", "", "site it charges at"),
            Column("bus", "int64", "", "bus of that site"),
            Column("battery_kwh", "float64", "kWh", "battery capacity"),
            Column("efficiency", "float64", "", "charger efficiency, grid to battery"),
            Column("rating_kw", "float64", "kW", "rating of its point (rack)"),
            Column("distance_km", "float64", "km", "sampled distance"),
            Column("driven_km", "float64", "km", "distance driven"),
            Column("driven_kwh", "float64", "kWh", "energy used for driving (battery side)"),
            Column("unserved_km", "float64", "km", "trips cut because the battery was empty"),
            Column("charged_kwh", "float64", "kWh", "energy drawn from the grid"),
            Column("missed_kwh", "float64", "kWh", "energy sessions did not get (battery side)"),
            Column(
                "shortfall_kwh",
                "float64",
                "kWh",
                "driven_kwh - charged_kwh x efficiency (not recharged at the end)",
            ),
            Column("sessions", "float64", "", "charging sessions (swaps)"),
            Column("soc_min_kwh", "float64", "kWh", "lowest state of charge reached"),
            Column("soc_max_kwh", "float64", "kWh", "highest state of charge after a session"),
        ),
    ),
    Array(
        "ev/profile/p_kw",
        "mean charging power per step and site (float32)",
        "float32",
        "kW",
        dims=("policy (attribute policies)", "step", "site (ev/profile/sites)"),
        attrs=(
            Column("policies", "str", "", "comma-separated policies, in axis order"),
            Column("start", "str", "", "start of step 0, ISO 8601"),
            Column("step_min", "float64", "min", "step length"),
        ),
    ),
)

_IMPACT_ATTRS = (
    Column("scenario", "str", "", "scenario name"),
    Column("scenario_file", "str", "", "scenario file"),
    Column("seed", "int64", "", "Monte Carlo seed"),
    Column("days", "int64", "", "days simulated"),
    Column("step_min", "float64", "min", "step length"),
    Column("policies", "str", "", "comma-separated policies run"),
    Column("base_load", "str", "", "where the base load profiles came from"),
    Column("elapsed_s", "float64", "s", "run time"),
    Column("max_loading_percent", "float64", "%", "loading limit of lines and transformers"),
    Column("vm_min_pu", "float64", "pu", "lower voltage limit"),
    Column("vm_max_pu", "float64", "pu", "upper voltage limit"),
)

TABLES = (
    *TABLES,
    Group(
        "ev/impact",
        "the charging profiles of every policy through the time-series power flow",
        notes="""One AC power flow per step and policy on a copy of the case with one load per
charging site (the case's own `ev_*` loads set to 0: the scenario replaces them).""",
        attrs=_IMPACT_ATTRS,
    ),
    Table(
        "ev/impact/summary",
        "one row per policy: loading, voltages, violations and losses over the horizon",
        index=_POLICY,
        columns=(
            Column("ev_energy_mwh", "float64", "MWh", "EV charging energy"),
            Column("ev_peak_mw", "float64", "MW", "highest EV demand of any step"),
            Column("trafo_max_loading_percent", "float64", "%", "highest transformer loading"),
            Column("trafo_max", "int64", "", "pandapower index of that transformer"),
            Column(
                "trafo_hours_over_h", "float64", "h", "hours with a transformer above the limit"
            ),
            Column("line_max_loading_percent", "float64", "%", "highest line loading"),
            Column("line_max", "int64", "", "pandapower index of that line"),
            Column("line_hours_over_h", "float64", "h", "hours with a line above the limit"),
            Column("vm_min_pu", "float64", "pu", "lowest bus voltage"),
            Column("bus_vm_min", "int64", "", "bus with the lowest voltage"),
            Column(
                "hours_below_vm_min_h", "float64", "h", "hours with a bus below the lower limit"
            ),
            Column(
                "hours_with_violations_h",
                "float64",
                "h",
                "hours with any voltage or loading violation",
            ),
            Column("energy_loss_mwh", "float64", "MWh", "line and transformer losses"),
            Column("steps_not_converged", "int64", "", "steps whose power flow failed"),
        ),
    ),
    Table(
        "ev/impact/ev_loads",
        "the load added per charging site in the study's copy of the case",
        index=Column("site", "int64", "", "site number (ev/profile/sites)"),
        columns=(
            Column("bus", "int64", "", "pandapower bus index"),
            Column("load", "int64", "", "index of the added load in the study's copy"),
        ),
    ),
    Table(
        "ev/impact/trafo",
        "per policy and transformer",
        index=_ROW,
        columns=(
            _POLICY,
            Column("trafo", "int64", "", "pandapower trafo index"),
            Column("name", "str", "", "transformer name"),
            Column("max_loading_percent", "float64", "%", "highest loading"),
            Column("step_max", "int64", "", "step of the highest loading"),
            Column("time_max", "datetime64", "s since 1970-01-01T00:00:00Z", "its time"),
            Column("mean_loading_percent", "float64", "%", "mean loading"),
            Column("hours_over_h", "float64", "h", "hours above the loading limit"),
        ),
    ),
    Table(
        "ev/impact/line",
        "per policy and line",
        index=_ROW,
        columns=(
            _POLICY,
            Column("line", "int64", "", "pandapower line index"),
            Column("name", "str", "", "line name"),
            Column("max_loading_percent", "float64", "%", "highest loading"),
            Column("step_max", "int64", "", "step of the highest loading"),
            Column("time_max", "datetime64", "s since 1970-01-01T00:00:00Z", "its time"),
            Column("mean_loading_percent", "float64", "%", "mean loading"),
            Column("hours_over_h", "float64", "h", "hours above the loading limit"),
        ),
    ),
    Table(
        "ev/impact/bus",
        "per policy and bus",
        index=_ROW,
        columns=(
            _POLICY,
            Column("bus", "int64", "", "pandapower bus index"),
            Column("vm_min_pu", "float64", "pu", "lowest voltage"),
            Column("step_min", "int64", "", "step of the lowest voltage"),
            Column("time_min", "datetime64", "s since 1970-01-01T00:00:00Z", "its time"),
            Column("vm_max_pu", "float64", "pu", "highest voltage"),
            Column("hours_below_h", "float64", "h", "hours below the lower limit"),
            Column("hours_above_h", "float64", "h", "hours above the upper limit"),
        ),
    ),
    Array(
        "ev/impact/trafo_duration",
        "transformer loading duration curves: loading exceeded 0, 1, ..., 100 % of the time",
        "float64",
        "%",
        dims=("policy (attribute policies)", "trafo (ev/impact/trafo_index)", "percent of time"),
        attrs=(Column("policies", "str", "", "comma-separated policies, in axis order"),),
    ),
    Array(
        "ev/impact/trafo_index",
        "pandapower trafo index of each duration curve",
        "int64",
        "",
        dims=("trafo",),
    ),
)

_TARGET = (
    Column("target_kind", "str", "", "feeder, or trafo (a transformer group and all it supplies)"),
    Column("target", "str", "", "feeder name, or the transformers' names"),
    _POLICY,
)
_LIMIT = (
    Column(
        "limit_element", "str", "", "element whose limit one more vehicle breaks (trafo 9, bus 25)"
    ),
    Column(
        "limit_quantity",
        "str",
        "",
        "loading_percent, vm_min_pu, vm_max_pu, or not_converged (power flow failed)",
    ),
    Column("limit_value", "float64", "see limit_quantity", "its value then (% or pu)"),
    Column("limit_time", "datetime64", "s since 1970-01-01T00:00:00Z", "the step it happens"),
)

TABLES = (
    *TABLES,
    Group(
        "ev/hosting",
        "EV hosting capacity per feeder and transformer at a percentile over Monte Carlo seeds",
        notes="""The hosting count of a seed is the largest number of candidate vehicles (spread
over the target's buses in proportion to customers or the scenario's fleet) with no violation
in any step: a line or transformer above the loading limit, a bus outside the voltage band, a
power flow that fails; limits already broken without EVs count where the EVs make them worse.
The reported count is the stated percentile of the seeds' counts.""",
        attrs=(
            Column("scenario", "str", "", "scenario name"),
            Column("scenario_file", "str", "", "scenario file"),
            Column("candidates", "str", "", "fleet (the scenario's mix) or customers (a template)"),
            Column("percentile", "float64", "%", "percentile of the per-seed counts reported"),
            Column("seeds", "int64", "", "Monte Carlo seeds"),
            Column("days", "int64", "", "days simulated"),
            Column("step_min", "float64", "min", "step length"),
            Column("base_load", "str", "", "where the base load profiles came from"),
            Column("elapsed_s", "float64", "s", "run time"),
            Column("max_loading_percent", "float64", "%", "loading limit"),
            Column("vm_min_pu", "float64", "pu", "lower voltage limit"),
            Column("vm_max_pu", "float64", "pu", "upper voltage limit"),
        ),
    ),
    Table(
        "ev/hosting/results",
        "per target and policy: hosting capacity at the percentile, and what limits it",
        index=_ROW,
        columns=(
            *_TARGET,
            Column("buses", "int64", "", "buses with candidate vehicles"),
            Column("customers", "float64", "", "customers at those buses"),
            Column("max_count", "int64", "", "largest fleet tried"),
            Column("hosting_count", "int64", "", "vehicles hosted at the percentile"),
            Column("hosting_share", "float64", "", "hosting_count / customers (adoption share)"),
            Column("mean_count", "float64", "", "mean over the seeds"),
            Column("min_count", "int64", "", "smallest over the seeds"),
            Column("limited_seeds", "int64", "", "seeds where a violation came before max_count"),
            *_LIMIT,
            Column("seed", "int64", "", "the seed whose count is reported"),
        ),
    ),
    Table(
        "ev/hosting/seeds",
        "per target, policy and seed",
        index=_ROW,
        columns=(
            *_TARGET,
            Column("seed", "int64", "", "Monte Carlo seed"),
            Column("hosting_count", "int64", "", "largest fleet with no violation"),
            Column("limited", "bool", "", "a violation came before max_count"),
            *_LIMIT,
            Column("limit_step", "int64", "", "step of the violation (-1: none)"),
        ),
    ),
)
