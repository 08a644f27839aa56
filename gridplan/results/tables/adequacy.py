"""``/adequacy``: bulk generation adequacy, HL-I and composite HL-II (``gridplan adequacy``)."""

from gridplan.results.schema import Column, Group, Table

_LEVEL = Column("level", "str", "", "hl1 or hl2")

TABLES = (
    Group(
        "adequacy",
        "generation adequacy: LOLE, EENS, LOLF",
        attrs=(
            Column("load_model", "str", "", "rts79, flat, or the load CSV"),
            Column("case_name", "str", "", "case name"),
            Column(
                "notes",
                "str",
                "",
                "what the study counted or left out (ext_grid units), one note per line",
            ),
            Column(
                "target_cov", "float64", "", "HL-II: requested coefficient of variation of EENS"
            ),
            Column("max_samples", "int64", "", "HL-II: sample limit"),
            Column(
                "cov_reached",
                "bool",
                "",
                "HL-II reached target_cov; false: it stopped at max_samples, intervals wider",
            ),
        ),
    ),
    Table(
        "adequacy/indices",
        "one row (hl1): HL-I indices from the exact capacity outage probability table",
        index=_LEVEL,
        columns=(
            Column("installed_mw", "float64", "MW", "installed capacity of the units"),
            Column("peak_load_mw", "float64", "MW", "annual peak load"),
            Column("reserve_percent", "float64", "%", "installed over peak, minus 100 %"),
            Column("hours", "float64", "h", "length of the load model"),
            Column("lolp", "float64", "", "loss-of-load probability"),
            Column("lole_h_per_year", "float64", "h/yr", "loss-of-load expectation (hourly loads)"),
            Column("lole_d_per_year", "float64", "d/yr", "loss-of-load expectation (daily peaks)"),
            Column("eens_mwh_per_year", "float64", "MWh/yr", "expected energy not served"),
            Column("lolf_per_year", "float64", "1/yr", "loss-of-load frequency"),
            Column("lold_h", "float64", "h", "loss-of-load duration, LOLE / LOLF"),
        ),
    ),
    Table(
        "adequacy/units",
        "generating units",
        index=Column("index", "int64", "", "row number"),
        columns=(
            Column("element", "str", "", "element, e.g. 'gen 3'"),
            Column("name", "str", "", "unit name"),
            Column("bus", "int64", "", "pandapower bus index"),
            Column("capacity_mw", "float64", "MW", "capacity"),
            Column("forced_outage_rate", "float64", "", "forced outage rate (probability)"),
            Column("mttf_h", "float64", "h", "mean time to failure"),
            Column("mttr_h", "float64", "h", "mean time to repair"),
            Column(
                "derated_outage_mw",
                "float64",
                "MW",
                "capacity lost in the derated state (mean over several, by probability)",
            ),
            Column("derated_probability", "float64", "", "probability of the derated state(s)"),
            Column(
                "derated_states",
                "str",
                "",
                "derated states as 'outage_mw:probability;...' (empty: two-state unit)",
            ),
        ),
    ),
    Table(
        "adequacy/copt",
        "capacity outage probability table",
        index=Column("index", "int64", "", "row number"),
        columns=(
            Column("outage_mw", "float64", "MW", "capacity on outage"),
            Column("probability", "float64", "", "probability of exactly this outage"),
            Column("cumulative_probability", "float64", "", "probability of this outage or more"),
        ),
    ),
    Table(
        "adequacy/composite",
        "--composite: one row (hl2): Monte Carlo over generator, branch and HVDC outages",
        index=_LEVEL,
        columns=(
            Column("samples", "int64", "", "sampled states"),
            Column("lp_solved", "int64", "", "states whose curtailment LP was solved"),
            Column("lp_failed", "int64", "", "states whose LP failed"),
            Column("lole_h_per_year", "float64", "h/yr", "loss-of-load expectation"),
            Column("lole_ci95_low_h_per_year", "float64", "h/yr", "95 % CI, low"),
            Column("lole_ci95_high_h_per_year", "float64", "h/yr", "95 % CI, high"),
            Column("eens_mwh_per_year", "float64", "MWh/yr", "expected energy not served"),
            Column("eens_ci95_low_mwh_per_year", "float64", "MWh/yr", "95 % CI, low"),
            Column("eens_ci95_high_mwh_per_year", "float64", "MWh/yr", "95 % CI, high"),
            Column("eens_cov", "float64", "", "coefficient of variation of the EENS estimate"),
            Column("duration_s", "float64", "s", "run time"),
            Column("states_per_s", "float64", "1/s", "states evaluated per second"),
        ),
    ),
    Table(
        "adequacy/composite_bus",
        "--composite: per bus",
        index=Column("bus", "int64", "", "pandapower bus index"),
        columns=(
            Column("lole_h_per_year", "float64", "h/yr", "loss-of-load expectation at the bus"),
            Column("eens_mwh_per_year", "float64", "MWh/yr", "energy not served at the bus"),
        ),
    ),
)
