"""``/powerflow``: one table per element type of the case, pandapower's result columns."""

from gridplan.results.schema import Column, Group, Table

# pandapower result columns: name -> (dtype, unit, description). Sign conventions are
# pandapower's: bus, load, storage, shunt and ward p/q are consumption (positive = drawn from
# the network); gen, sgen and ext_grid p/q are generation (positive = fed in); branch
# p_from/p_to (p_hv/p_mv/p_lv) are flows into the branch at that end.
_C: dict[str, tuple[str, str, str]] = {
    "vm_pu": ("float64", "pu", "voltage magnitude"),
    "va_degree": ("float64", "degree", "voltage angle"),
    "p_mw": ("float64", "MW", "active power (pandapower's sign convention of this element)"),
    "q_mvar": ("float64", "Mvar", "reactive power (pandapower's sign convention of this element)"),
    "vn_kv": ("float64", "kV", "rated voltage"),
    "p_from_mw": ("float64", "MW", "active power into the branch at the from end"),
    "q_from_mvar": ("float64", "Mvar", "reactive power into the branch at the from end"),
    "p_to_mw": ("float64", "MW", "active power into the branch at the to end"),
    "q_to_mvar": ("float64", "Mvar", "reactive power into the branch at the to end"),
    "p_hv_mw": ("float64", "MW", "active power into the transformer at the hv side"),
    "q_hv_mvar": ("float64", "Mvar", "reactive power into the transformer at the hv side"),
    "p_mv_mw": ("float64", "MW", "active power into the transformer at the mv side"),
    "q_mv_mvar": ("float64", "Mvar", "reactive power into the transformer at the mv side"),
    "p_lv_mw": ("float64", "MW", "active power into the transformer at the lv side"),
    "q_lv_mvar": ("float64", "Mvar", "reactive power into the transformer at the lv side"),
    "pl_mw": ("float64", "MW", "active power losses"),
    "ql_mvar": ("float64", "Mvar", "reactive power consumed"),
    "i_from_ka": ("float64", "kA", "current at the from end"),
    "i_to_ka": ("float64", "kA", "current at the to end"),
    "i_ka": ("float64", "kA", "largest current of the two ends"),
    "i_hv_ka": ("float64", "kA", "current at the hv side"),
    "i_mv_ka": ("float64", "kA", "current at the mv side"),
    "i_lv_ka": ("float64", "kA", "current at the lv side"),
    "loading_percent": ("float64", "%", "loading against the rating (current or apparent power)"),
    "vm_from_pu": ("float64", "pu", "voltage magnitude at the from end"),
    "va_from_degree": ("float64", "degree", "voltage angle at the from end"),
    "vm_to_pu": ("float64", "pu", "voltage magnitude at the to end"),
    "va_to_degree": ("float64", "degree", "voltage angle at the to end"),
    "vm_internal_pu": ("float64", "pu", "internal voltage magnitude"),
    "va_internal_degree": ("float64", "degree", "internal voltage angle"),
    "thyristor_firing_angle_degree": ("float64", "degree", "thyristor firing angle"),
    "x_ohm": ("float64", "Ohm", "resulting reactance"),
    "in_service": ("bool", "", "element in service"),
    "name": ("str", "", "element name"),
    "bus": ("int64", "", "pandapower bus index"),
    "from_bus": ("int64", "", "pandapower bus index of the from end"),
    "to_bus": ("int64", "", "pandapower bus index of the to end"),
    "hv_bus": ("int64", "", "pandapower bus index of the hv side"),
    "lv_bus": ("int64", "", "pandapower bus index of the lv side"),
    "mv_bus": ("int64", "", "pandapower bus index of the mv side"),
    "element": ("int64", "", "index of the element the switch connects to the bus"),
    "et": ("str", "", "switch element type: b (bus), l (line), t (trafo), t3 (trafo3w)"),
    "closed": ("bool", "", "switch closed"),
}


def _cols(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, *_C[n]) for n in names)


#: element type -> (description, key columns from the element table, pandapower result columns)
ELEMENT_TABLES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "line": (
        "line results (AC: flows from the bus voltages; dc: p and loading only)",
        ("from_bus", "to_bus"),
        (
            "p_from_mw",
            "q_from_mvar",
            "p_to_mw",
            "q_to_mvar",
            "pl_mw",
            "ql_mvar",
            "i_from_ka",
            "i_to_ka",
            "i_ka",
            "loading_percent",
        ),
    ),
    "trafo": (
        "2-winding transformer results",
        ("hv_bus", "lv_bus"),
        (
            "p_hv_mw",
            "q_hv_mvar",
            "p_lv_mw",
            "q_lv_mvar",
            "pl_mw",
            "ql_mvar",
            "i_hv_ka",
            "i_lv_ka",
            "loading_percent",
        ),
    ),
    "trafo3w": (
        "3-winding transformer results",
        ("hv_bus", "mv_bus", "lv_bus"),
        (
            "p_hv_mw",
            "q_hv_mvar",
            "p_mv_mw",
            "q_mv_mvar",
            "p_lv_mw",
            "q_lv_mvar",
            "pl_mw",
            "ql_mvar",
            "i_hv_ka",
            "i_mv_ka",
            "i_lv_ka",
            "loading_percent",
        ),
    ),
    "impedance": (
        "impedance (branch without rating) results",
        ("from_bus", "to_bus"),
        (
            "p_from_mw",
            "q_from_mvar",
            "p_to_mw",
            "q_to_mvar",
            "pl_mw",
            "ql_mvar",
            "i_from_ka",
            "i_to_ka",
        ),
    ),
    "dcline": (
        "DC line (HVDC link) results: p_from_mw is drawn at the sending end (positive), "
        "p_to_mw delivered at the receiving end (negative), pl_mw the converter and line losses",
        ("from_bus", "to_bus"),
        (
            "p_from_mw",
            "q_from_mvar",
            "p_to_mw",
            "q_to_mvar",
            "pl_mw",
            "vm_from_pu",
            "va_from_degree",
            "vm_to_pu",
            "va_to_degree",
        ),
    ),
    "ext_grid": (
        "external grid infeed (positive = import into the case)",
        ("bus",),
        ("p_mw", "q_mvar"),
    ),
    "gen": (
        "voltage-controlled generators (positive = generation)",
        ("bus",),
        ("p_mw", "q_mvar", "va_degree", "vm_pu"),
    ),
    "sgen": ("static generators (positive = generation)", ("bus",), ("p_mw", "q_mvar")),
    "load": ("loads (positive = consumption)", ("bus",), ("p_mw", "q_mvar")),
    "storage": (
        "storage units (positive = charging, pandapower's load convention)",
        ("bus",),
        ("p_mw", "q_mvar"),
    ),
    "shunt": ("shunts (positive = consumption)", ("bus",), ("p_mw", "q_mvar", "vm_pu")),
    "ward": ("ward equivalents (positive = consumption)", ("bus",), ("p_mw", "q_mvar", "vm_pu")),
    "xward": (
        "extended ward equivalents (positive = consumption)",
        ("bus",),
        ("p_mw", "q_mvar", "vm_pu", "va_internal_degree", "vm_internal_pu"),
    ),
    "motor": ("motors (positive = consumption)", ("bus",), ("p_mw", "q_mvar")),
    "asymmetric_load": (
        "asymmetric loads, three-phase sums (positive = consumption)",
        ("bus",),
        ("p_mw", "q_mvar"),
    ),
    "asymmetric_sgen": (
        "asymmetric static generators, three-phase sums (positive = generation)",
        ("bus",),
        ("p_mw", "q_mvar"),
    ),
    "switch": (
        "switch results (bus-branch switches carry their branch's current)",
        ("bus", "element", "et", "closed"),
        ("i_ka", "loading_percent", "p_from_mw", "q_from_mvar", "p_to_mw", "q_to_mvar"),
    ),
    "svc": (
        "static var compensators",
        ("bus",),
        ("thyristor_firing_angle_degree", "x_ohm", "q_mvar", "vm_pu", "va_degree"),
    ),
    "tcsc": (
        "thyristor-controlled series capacitors",
        ("from_bus", "to_bus"),
        (
            "thyristor_firing_angle_degree",
            "x_ohm",
            "p_from_mw",
            "q_from_mvar",
            "p_to_mw",
            "q_to_mvar",
            "pl_mw",
            "ql_mvar",
            "i_ka",
            "vm_from_pu",
            "va_from_degree",
            "vm_to_pu",
            "va_to_degree",
        ),
    ),
    "ssc": (
        "static synchronous compensators",
        ("bus",),
        ("q_mvar", "vm_internal_pu", "va_internal_degree", "vm_pu", "va_degree"),
    ),
}

_SUMMARY = (
    Column("converged", "bool", "", "the power flow converged"),
    Column("iterations", "int64", "", "Newton-Raphson iterations"),
    Column("p_loss_mw", "float64", "MW", "active losses of lines, transformers and impedances"),
    Column("q_loss_mvar", "float64", "Mvar", "reactive power consumed by the same branches"),
    Column("p_load_mw", "float64", "MW", "active power drawn by loads (pandapower's res_load)"),
    Column(
        "p_gen_mw",
        "float64",
        "MW",
        "generation of gen and sgen (storage is a demand term of powerflow/balance)",
    ),
    Column("p_ext_grid_mw", "float64", "MW", "import from external grids"),
    Column("vm_min_pu", "float64", "pu", "lowest voltage of an energized bus"),
    Column("vm_min_bus", "int64", "", "bus with the lowest voltage"),
    Column("vm_max_pu", "float64", "pu", "highest voltage of an energized bus"),
    Column("vm_max_bus", "int64", "", "bus with the highest voltage"),
    Column("line_loading_max_percent", "float64", "%", "highest line loading"),
    Column("line_loading_max_index", "int64", "", "most loaded line"),
    Column("trafo_loading_max_percent", "float64", "%", "highest transformer loading"),
    Column("trafo_loading_max_index", "int64", "", "most loaded transformer"),
)

TABLES = (
    Group(
        "powerflow",
        "one AC (Newton-Raphson) or DC power flow",
        notes="""Written by `gridplan pf` / `write_powerflow`: one table per element type the case
has. Sign conventions are pandapower's: bus, load, storage, shunt and ward powers are
consumption (positive = drawn from the network); gen, sgen and ext_grid powers are generation
(positive = fed in); branch `p_from_mw`/`p_to_mw` (`p_hv_mw` ...) are flows into the branch at
that end, so `pl_mw` is their sum.""",
        attrs=(
            Column("algorithm", "str", "", "nr (AC Newton-Raphson) or dc"),
            Column("converged", "bool", "", "the power flow converged"),
            Column("iterations", "int64", "", "Newton-Raphson iterations"),
        ),
    ),
    Table(
        "powerflow/bus",
        "bus voltages and the power drawn at each bus",
        index=Column("bus", "int64", "", "pandapower bus index"),
        columns=(
            *_cols("vm_pu", "va_degree"),
            Column(
                "p_mw",
                "float64",
                "MW",
                "active power drawn from the network at the bus (pandapower's res_bus: "
                "positive = net consumption, negative = net infeed)",
            ),
            Column("q_mvar", "float64", "Mvar", "reactive power drawn at the bus, same sign"),
            *_cols("vn_kv", "in_service", "name"),
        ),
    ),
    *(
        Table(
            f"powerflow/{element}",
            description,
            index=Column(element, "int64", "", f"pandapower {element} index"),
            columns=_cols(*keys, *results, "in_service", "name"),
        )
        for element, (description, keys, results) in ELEMENT_TABLES.items()
    ),
    Table(
        "powerflow/balance",
        "active-power balance: every supply and demand term the case has, and the mismatch "
        "(sum of supply minus sum of demand, zero to the solver tolerance)",
        index=Column(
            "term",
            "str",
            "",
            "ext_grid, gen, sgen, load, storage, shunt, ward, xward, motor, asymmetric_load/sgen, "
            "line/trafo/trafo3w/impedance/switch/dcline losses, mismatch",
        ),
        columns=(
            Column("side", "str", "", "supply (fed into the AC grid) or demand (drawn from it)"),
            Column(
                "p_mw",
                "float64",
                "MW",
                "the term in pandapower's sign of its element (storage: positive = charging, "
                "a demand, as n1's cut_load_mw counts it); DC links: their losses",
            ),
        ),
        attrs=(
            Column(
                "dcline_transfer_mw",
                "float64",
                "MW",
                "active power the DC links carry between AC areas (sum of |p_from_mw|)",
            ),
        ),
    ),
    Table(
        "powerflow/summary",
        "one row: convergence, losses, load and generation totals, extreme voltages and loadings",
        index=Column("row", "int64", "", "0"),
        columns=_SUMMARY,
    ),
)
