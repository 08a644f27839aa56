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
    "reliability/load_points": "per load point: failure_rate_per_year, outage_duration_h, unavailability_h_per_year, ens_mwh_per_year, customers, feeder, class",
    "reliability/feeders": "per feeder: SAIFI, SAIDI, CAIDI, ASAI, ASUI, ENS, AENS, customers, reliability_class",
    "reliability/system": "one row: system SAIFI, SAIDI, CAIDI, ASAI, ASUI, ENS, AENS",
    "reliability/components": "per failing component: rate, repair time, SAIFI/SAIDI/ENS contribution and share, sorted by SAIDI",
    "reliability/verdict": "per feeder and system: target_percent, asai_percent (RS-1), margin_min_per_year, passed",
    "reliability/what_if": "per candidate change: indices and their change against the base case",
    "reliability/mc_summary": "Monte Carlo: per index analytical value, mean, 95 % CI, percentiles",
    "reliability/mc_years": "Monte Carlo: simulated annual saifi_per_year, saidi_h_per_year, ens_mwh_per_year",
    "adequacy/indices": "HL-I: installed_mw, peak_load_mw, lolp, lole_h_per_year, lole_d_per_year, eens_mwh_per_year, lolf_per_year",
    "adequacy/units": "generating units: capacity_mw, forced_outage_rate, mttf_h, mttr_h, bus",
    "adequacy/copt": "capacity outage probability table: outage_mw, probability, cumulative_probability",
    "adequacy/composite": "HL-II Monte Carlo: samples, LOLE and EENS with 95 % CI, CoV, states_per_s",
    "adequacy/composite_bus": "HL-II per bus: lole_h_per_year, eens_mwh_per_year",
    "timeseries/steps": "time series, one row per step: time, converged, iterations, p_loss_mw, vm_min_pu, vm_max_pu, max_loading_percent, violation",
    "timeseries/worst": "time series, worst step per element: element, element_index, quantity, value, step, time",
    "contingency/outages": "N-1/N-k, one row per outage: status, reason, iterations, cut_load_mw, cut_gen_mw, worst loading and voltages with where",
    "contingency/elements": "N-1, per line/trafo/trafo3w: base and worst post-outage loading_percent, cause outage, top-N worst outages",
    "contingency/buses": "N-1, per bus: base_vm_pu, lowest/highest post-outage vm_pu and the outage causing it",
    "contingency/violations": "N-1, long format: outage, element, quantity, value, limit, base_value, change",
}
