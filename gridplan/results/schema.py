"""The one source of truth for result tables: names, columns, units.

Units follow pandapower's suffix convention and are derived from the column name, so the
writer, the reader and ``docs/results-format.md`` cannot disagree. ``TABLES`` lists every
table gridplan writes, with a one-line description; a test checks the docs cover it.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

# Longest suffix first: the first match wins.
_SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_mwh_per_year", "MWh/yr"),
    ("_per_km_year", "1/(km*yr)"),
    ("_per_year", "1/yr"),
    ("_h_per_year", "h/yr"),
    ("_min_per_year", "min/yr"),
    ("_mwh", "MWh"),
    ("_mw", "MW"),
    ("_mvar", "Mvar"),
    ("_mva", "MVA"),
    ("_kw", "kW"),
    ("_pu", "pu"),
    ("_degree", "degree"),
    ("_percent", "%"),
    ("_ka", "kA"),
    ("_kv", "kV"),
    ("_km", "km"),
    ("_h", "h"),
    ("_s", "s"),
    ("_hz", "Hz"),
)


def unit_of(column: str) -> str:
    """Unit of a result column from its pandapower-style suffix; ``""`` if dimensionless."""
    for suffix, unit in _SUFFIX_UNITS:
        if column.endswith(suffix):
            return unit
    return ""


# table path -> description (columns and units come from the data and unit_of)
TABLES: dict[str, str] = {
    "powerflow/bus": "bus results: vm_pu, va_degree, p_mw, q_mvar (injection), vn_kv; index = pandapower bus index",
    "powerflow/line": "line results: p/q at both ends, pl_mw, ql_mvar, i_from_ka, i_to_ka, i_ka, loading_percent",
    "powerflow/trafo": "2-winding transformer results: p/q at hv and lv side, i_hv_ka, i_lv_ka, loading_percent",
    "powerflow/trafo3w": "3-winding transformer results: p at hv/mv/lv, loading_percent",
    "powerflow/summary": "one row: converged, iterations, losses, extreme voltages and loadings",
}
