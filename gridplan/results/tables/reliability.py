"""``/reliability``: distribution reliability by failure modes and effects.

SAIFI and MAIFI are interruptions per customer-year, SAIDI hours per customer-year, CAIDI hours
per interruption, ASAI/ASUI fractions of the year, ENS MWh per year, AENS MWh per customer-year.
"""

from gridplan.results.schema import Column, Group, Table

_CLASS = Column("reliability_class", "str", "", "urban or rural (plan target class)")
_CUSTOMERS = Column("customers", "float64", "", "customers served")
_INDICES = (
    _CLASS,
    _CUSTOMERS,
    Column("saifi_per_year", "float64", "1/yr", "SAIFI, interruptions per customer-year"),
    Column("saidi_h_per_year", "float64", "h/yr", "SAIDI, hours per customer-year"),
    Column("caidi_h", "float64", "h", "CAIDI, hours per interruption"),
    Column("asai", "float64", "", "ASAI, fraction of customer-hours supplied"),
    Column("asui", "float64", "", "ASUI = 1 - ASAI"),
    Column("ens_mwh_per_year", "float64", "MWh/yr", "energy not supplied"),
    Column("aens_mwh_per_year", "float64", "MWh/yr", "AENS, energy not supplied per customer"),
    Column("maifi_per_year", "float64", "1/yr", "MAIFI, momentary interruptions per customer-year"),
)

TABLES = (
    Group(
        "reliability",
        "distribution reliability indices and the verdict against the plan targets",
        notes="""Written by `gridplan reliability` (analytical failure modes and effects,
docs/reliability-data.md). SAIFI and MAIFI are interruptions per customer-year, SAIDI hours per
customer-year, CAIDI hours per interruption, ASAI/ASUI fractions, ENS MWh per year, AENS MWh
per customer-year.""",
        attrs=(
            Column("method", "str", "", "analytical, or mc (analytical plus Monte Carlo)"),
            Column("case_name", "str", "", "case name"),
            Column(
                "transfer_check",
                "str",
                "",
                "how a transfer over a tie is accepted: capacity (spare MVA) or powerflow",
            ),
        ),
    ),
    Table(
        "reliability/load_points",
        "per load point (pandapower load)",
        index=Column("load", "int64", "", "pandapower load index"),
        columns=(
            Column("name", "str", "", "load name"),
            Column("bus", "int64", "", "pandapower bus index"),
            Column("feeder", "str", "", "feeder the load is supplied from"),
            _CLASS,
            _CUSTOMERS,
            Column("p_avg_mw", "float64", "MW", "average load"),
            Column("failure_rate_per_year", "float64", "1/yr", "sustained interruptions per year"),
            Column("outage_duration_h", "float64", "h", "average interruption duration"),
            Column("unavailability_h_per_year", "float64", "h/yr", "hours interrupted per year"),
            Column("ens_mwh_per_year", "float64", "MWh/yr", "energy not supplied"),
            Column("momentary_per_year", "float64", "1/yr", "momentary interruptions per year"),
        ),
    ),
    Table(
        "reliability/feeders",
        "per feeder",
        index=Column("feeder", "str", "", "feeder name"),
        columns=_INDICES,
    ),
    Table(
        "reliability/system",
        "one row: all load points",
        index=Column("scope", "str", "", "system"),
        columns=_INDICES,
    ),
    Table(
        "reliability/components",
        "per failing component, sorted by SAIDI contribution",
        index=Column("row", "int64", "", "row number"),
        columns=(
            Column("element", "str", "", "component, e.g. 'line 4', 'trafo 2', 'switch 7'"),
            Column("name", "str", "", "component name"),
            Column("kind", "str", "", "component kind (overhead line, cable, trafo, switch...)"),
            Column("failure_rate_per_year", "float64", "1/yr", "failures per year"),
            Column("repair_time_h", "float64", "h", "repair (or replacement) time"),
            Column("saifi_per_year", "float64", "1/yr", "contribution to SAIFI"),
            Column("saidi_h_per_year", "float64", "h/yr", "contribution to SAIDI"),
            Column("saidi_share_percent", "float64", "%", "share of SAIDI"),
            Column("ens_mwh_per_year", "float64", "MWh/yr", "contribution to ENS"),
            Column("ens_share_percent", "float64", "%", "share of ENS"),
        ),
    ),
    Table(
        "reliability/verdict",
        "per feeder and the system: supply-reliability rate against the plan target",
        index=Column("scope", "str", "", "'feeder <name>' or 'system'"),
        columns=(
            _CLASS,
            Column("target_percent", "float64", "%", "target ASAI (seeds/ or --target)"),
            Column("asai_percent", "float64", "%", "supply-reliability rate RS-1 (ASAI)"),
            Column("saidi_h_per_year", "float64", "h/yr", "SAIDI, hours per customer-year"),
            Column(
                "allowed_unavailability_h_per_year",
                "float64",
                "h/yr",
                "hours per customer-year the target allows",
            ),
            Column(
                "margin_min_per_year",
                "float64",
                "min/yr",
                "allowed minus actual interruption, minutes per customer-year (negative: missed)",
            ),
            Column("passed", "bool", "", "target met"),
        ),
    ),
    Table(
        "reliability/what_if",
        "per candidate change: indices and their change against the base case",
        index=Column("change", "str", "", "change, e.g. sectionalizer@line:12"),
        columns=(
            Column("saifi_per_year", "float64", "1/yr", "SAIFI with the change"),
            Column("saidi_h_per_year", "float64", "h/yr", "SAIDI with the change"),
            Column("ens_mwh_per_year", "float64", "MWh/yr", "ENS with the change"),
            Column("delta_saifi_per_year", "float64", "1/yr", "SAIFI change"),
            Column("delta_maifi_per_year", "float64", "1/yr", "MAIFI change"),
            Column("delta_saidi_min_per_year", "float64", "min/yr", "SAIDI change, minutes"),
            Column("delta_ens_mwh_per_year", "float64", "MWh/yr", "ENS change"),
            Column("asai_percent", "float64", "%", "ASAI with the change"),
        ),
    ),
    Table(
        "reliability/mc_summary",
        "--method mc: per index, the analytical value against the Monte Carlo statistics "
        "(values in the unit of the index named in the row)",
        index=Column(
            "index_name", "str", "", "saifi_per_year, saidi_h_per_year or ens_mwh_per_year"
        ),
        columns=(
            Column("analytical", "float64", "see index_name", "analytical (FMEA) value"),
            Column("mean", "float64", "see index_name", "Monte Carlo mean"),
            Column("std_error", "float64", "see index_name", "standard error of the mean"),
            Column("ci95_low", "float64", "see index_name", "95 % confidence interval, low"),
            Column("ci95_high", "float64", "see index_name", "95 % confidence interval, high"),
            Column("p05", "float64", "see index_name", "5th percentile of the annual values"),
            Column("p50", "float64", "see index_name", "median of the annual values"),
            Column("p95", "float64", "see index_name", "95th percentile of the annual values"),
            Column("analytical_in_ci95", "bool", "", "analytical value inside the 95 % CI"),
        ),
    ),
    Table(
        "reliability/mc_years",
        "--method mc: one row per simulated year",
        index=Column("year", "int64", "", "simulated year"),
        columns=(
            Column("saifi_per_year", "float64", "1/yr", "SAIFI of the year"),
            Column("saidi_h_per_year", "float64", "h/yr", "SAIDI of the year"),
            Column("ens_mwh_per_year", "float64", "MWh/yr", "ENS of the year"),
        ),
    ),
)
