"""Checks of a pandapower net as input data; every problem is reported, not only the first.

:func:`validate` returns the problems (one string each, naming the element table, the element
indices, the column and what is wrong); :func:`validate_net` raises them as one
:class:`~gridplan.errors.CaseError`. ``load_case`` runs it on every case it loads, so every
study sees a net that passed. What is checked (``docs/input-validation.md``):

1. every element table is a table (not a number or a string);
2. the columns a power flow reads are present, hold numbers (booleans for ``in_service``,
   ``closed``, ``slack``), and, for in-service elements, finite numbers in their range:
   finite impedances with a non-zero series reactance (pandapower's DC start divides by it),
   ratings, lengths and voltages > 0, powers at most :data:`MAX_ABS_MW` in magnitude;
3. every bus reference and switch target exists; there is a reference bus (ext_grid or slack
   gen);
4. no in-service load, generator or storage unit sits on a bus with no connection to an
   ext_grid or slack gen (pandapower would drop it from the power flow without a word).

Out-of-service elements are checked for types only: pandapower leaves them out of the power
flow, so a NaN there is harmless.

:func:`remarks` lists what is valid but changes what the numbers mean: negative resistances
(network equivalents such as the PEGASE cases carry them, so they are not refused) and branch
ratings at a placeholder (``max_i_ka`` 99999 kA or a 9900 MVA rating, what converters write
for a branch without a limit), under which every loading is tiny and no loading violation
can occur.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandapower as pp
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from gridplan.errors import CaseError, format_problems

#: largest power of one element, MW or Mvar (1 TW; the largest grids have a few TW in all)
MAX_ABS_MW = 1e6

# element table -> columns holding bus indices
BUS_COLUMNS: dict[str, tuple[str, ...]] = {
    "line": ("from_bus", "to_bus"),
    "trafo": ("hv_bus", "lv_bus"),
    "trafo3w": ("hv_bus", "mv_bus", "lv_bus"),
    "impedance": ("from_bus", "to_bus"),
    "dcline": ("from_bus", "to_bus"),
    "load": ("bus",),
    "sgen": ("bus",),
    "gen": ("bus",),
    "ext_grid": ("bus",),
    "storage": ("bus",),
    "shunt": ("bus",),
    "ward": ("bus",),
    "xward": ("bus",),
    "motor": ("bus",),
    "asymmetric_load": ("bus",),
    "asymmetric_sgen": ("bus",),
    "switch": ("bus",),
}

# (table, column, rule) for in-service elements; rules: "finite", ">0", ">=0", "power"
# (finite, |value| <= MAX_ABS_MW), ">=1". A column listed here must exist when the table has rows.
_RULES: tuple[tuple[str, str, str], ...] = (
    ("bus", "vn_kv", ">0"),
    ("line", "length_km", ">0"),
    ("line", "r_ohm_per_km", "finite"),
    ("line", "x_ohm_per_km", "finite"),
    ("line", "c_nf_per_km", "finite"),
    ("line", "max_i_ka", ">0"),
    ("trafo", "sn_mva", ">0"),
    ("trafo", "vn_hv_kv", ">0"),
    ("trafo", "vn_lv_kv", ">0"),
    ("trafo", "vk_percent", "finite"),
    ("trafo", "vkr_percent", "finite"),
    ("trafo", "pfe_kw", "finite"),
    ("trafo", "i0_percent", "finite"),
    ("trafo", "shift_degree", "finite"),
    ("trafo3w", "sn_hv_mva", ">0"),
    ("trafo3w", "sn_mv_mva", ">0"),
    ("trafo3w", "sn_lv_mva", ">0"),
    ("trafo3w", "vn_hv_kv", ">0"),
    ("trafo3w", "vn_mv_kv", ">0"),
    ("trafo3w", "vn_lv_kv", ">0"),
    ("trafo3w", "vk_hv_percent", "finite"),
    ("trafo3w", "vk_mv_percent", "finite"),
    ("trafo3w", "vk_lv_percent", "finite"),
    ("trafo3w", "vkr_hv_percent", "finite"),
    ("trafo3w", "vkr_mv_percent", "finite"),
    ("trafo3w", "vkr_lv_percent", "finite"),
    ("impedance", "rft_pu", "finite"),
    ("impedance", "xft_pu", "finite"),
    ("impedance", "sn_mva", ">0"),
    ("load", "p_mw", "power"),
    ("load", "q_mvar", "power"),
    ("sgen", "p_mw", "power"),
    ("sgen", "q_mvar", "power"),
    ("gen", "p_mw", "power"),
    ("gen", "vm_pu", ">0"),
    ("ext_grid", "vm_pu", ">0"),
    ("ext_grid", "va_degree", "finite"),
    ("storage", "p_mw", "power"),
    ("storage", "q_mvar", "power"),
    ("shunt", "p_mw", "power"),
    ("shunt", "q_mvar", "power"),
    ("shunt", "vn_kv", ">0"),
    ("dcline", "p_mw", "power"),
    ("dcline", "loss_percent", "finite"),
    ("dcline", "loss_mw", "finite"),
    ("dcline", "vm_from_pu", ">0"),
    ("dcline", "vm_to_pu", ">0"),
    ("ward", "ps_mw", "power"),
    ("ward", "qs_mvar", "power"),
    ("ward", "pz_mw", "power"),
    ("ward", "qz_mvar", "power"),
    ("xward", "ps_mw", "power"),
    ("xward", "qs_mvar", "power"),
    ("xward", "pz_mw", "power"),
    ("xward", "qz_mvar", "power"),
)
# optional columns checked when present (older files may lack them)
_OPTIONAL_RULES: tuple[tuple[str, str, str], ...] = (
    ("line", "g_us_per_km", "finite"),
    ("line", "parallel", ">=1"),
    ("trafo", "parallel", ">=1"),
    ("load", "scaling", ">=0"),
    ("sgen", "scaling", ">=0"),
    ("gen", "scaling", ">=0"),
    ("storage", "scaling", ">=0"),
)
_RULE_TEXT = {
    "finite": "a finite number",
    ">0": "a finite number > 0",
    ">=0": "a finite number >= 0",
    ">=1": "a finite number >= 1",
    "power": f"a finite number of at most {MAX_ABS_MW:g} in magnitude",
}
_BOOL_COLUMNS = {"in_service", "closed", "slack"}
# elements whose power a disconnected bus would silently drop
_INJECTIONS = ("load", "sgen", "gen", "storage")


def _ids(values: Iterable[object], limit: int = 8) -> str:
    vals = list(values)
    text = ", ".join(_fmt(v) for v in vals[:limit])
    return text + (f" ... ({len(vals)} in all)" if len(vals) > limit else "")


def _fmt(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _template() -> pp.pandapowerNet:
    global _TEMPLATE
    if _TEMPLATE is None:
        _TEMPLATE = pp.create_empty_network()
    return _TEMPLATE


_TEMPLATE: pp.pandapowerNet | None = None


def _tables(net: pp.pandapowerNet, problems: list[str]) -> dict[str, pd.DataFrame]:
    """The element tables of ``net`` that are tables; every other one is a problem."""
    template = _template()
    tables: dict[str, pd.DataFrame] = {}
    for name in template.keys():
        if name.startswith(("_", "res_")) or not isinstance(template[name], pd.DataFrame):
            continue
        if name not in net:
            continue
        value = net[name]
        if isinstance(value, pd.DataFrame):
            tables[name] = value
        else:
            problems.append(
                f"{name} must be a table, got {type(value).__name__} {_ids([value], 1)} instead"
            )
    return tables


def _numeric(
    tables: dict[str, pd.DataFrame], problems: list[str]
) -> dict[tuple[str, str], np.ndarray]:
    """Each numeric template column as float64; values that are not numbers are problems."""
    template = _template()
    out: dict[tuple[str, str], np.ndarray] = {}
    for name, df in tables.items():
        if not len(df):
            continue
        for col, dtype in template[name].dtypes.items():
            if col not in df:
                continue
            values = df[col]
            if col in _BOOL_COLUMNS:
                if values.dtype.kind == "b":
                    continue
                raw = values.to_numpy()
                ok = np.array(
                    [isinstance(v, bool | np.bool_) or (_is_number(v) and v in (0, 1)) for v in raw]
                )
                if not ok.all():
                    problems.append(
                        f"{name} {_ids(df.index[~ok])}: {col} must be true or false, "
                        f"got {_ids(raw[~ok])} instead"
                    )
                continue
            if dtype.kind not in "fiu":
                continue
            if values.dtype.kind in "fiub":
                out[(name, col)] = values.to_numpy(dtype=float)
                continue
            raw = values.to_numpy(dtype=object)
            num = np.array([_as_float(v) for v in raw], dtype=float)
            bad = np.array([not _is_number(v) and not _is_missing(v) for v in raw], dtype=bool)
            if bad.any():
                problems.append(
                    f"{name} {_ids(df.index[bad])}: {col} must be a number, "
                    f"got {_ids(raw[bad])} instead"
                )
            out[(name, col)] = num
    return out


def _is_number(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(
        v, bool | np.bool_
    )


def _is_missing(v: object) -> bool:
    return v is None or (isinstance(v, float | np.floating) and np.isnan(v))


def _as_float(v: object) -> float:
    return float(v) if _is_number(v) else np.nan  # type: ignore[arg-type]


def _flag(df: pd.DataFrame, col: str, default: bool) -> np.ndarray:
    """Boolean column ``col`` of ``df`` (``default`` where missing or not a boolean)."""
    if col not in df:
        return np.full(len(df), default, dtype=bool)
    if df[col].dtype.kind in "biuf":
        return df[col].fillna(default).to_numpy(dtype=bool)
    raw = df[col].to_numpy()
    return np.array(
        [bool(v) if isinstance(v, bool | np.bool_) or _is_number(v) else default for v in raw],
        dtype=bool,
    )


def _in_service(df: pd.DataFrame) -> np.ndarray:
    return _flag(df, "in_service", True)


def _value_rules(
    tables: dict[str, pd.DataFrame], num: dict[tuple[str, str], np.ndarray], problems: list[str]
) -> None:
    for rules, required in ((_RULES, True), (_OPTIONAL_RULES, False)):
        for name, col, rule in rules:
            df = tables.get(name)
            if df is None or not len(df):
                continue
            if col not in df:
                if required:
                    problems.append(f"{name} table has no column {col!r}")
                continue
            vals = num.get((name, col))
            if vals is None:
                continue
            live = _in_service(df)
            with np.errstate(invalid="ignore"):
                ok = np.isfinite(vals)
                if rule == ">0":
                    ok &= vals > 0
                elif rule == ">=0":
                    ok &= vals >= 0
                elif rule == ">=1":
                    ok &= vals >= 1
                elif rule == "power":
                    ok &= np.abs(vals) <= MAX_ABS_MW
            if df[col].dtype.kind not in "fiub":
                # values that are not numbers at all are reported once, by _numeric
                raw = df[col].to_numpy(dtype=object)
                ok |= np.array([not (_is_number(v) or _is_missing(v)) for v in raw], dtype=bool)
            bad = live & ~ok
            if bad.any():
                problems.append(
                    f"{name} {_ids(df.index[bad])}: {col} must be {_RULE_TEXT[rule]}, "
                    f"got {_ids(vals[bad])} instead"
                )


def _reactance_rules(
    tables: dict[str, pd.DataFrame], num: dict[tuple[str, str], np.ndarray], problems: list[str]
) -> None:
    """A series reactance of zero: pandapower's DC start (and the DC model) divides by it."""
    checks = (
        (
            "line",
            "x_ohm_per_km",
            None,
            "x_ohm_per_km must be non-zero (a zero-impedance connection is a bus-bus switch)",
        ),
        ("impedance", "xft_pu", None, "xft_pu must be non-zero"),
        (
            "trafo",
            "vk_percent",
            "vkr_percent",
            "|vk_percent| must be greater than "
            "|vkr_percent| (the short-circuit reactance must be non-zero)",
        ),
    )
    for name, col, minus, text in checks:
        df = tables.get(name)
        if df is None or not len(df) or (name, col) not in num:
            continue
        x = num[(name, col)]
        if minus is not None:
            if (name, minus) not in num:
                continue
            with np.errstate(invalid="ignore"):
                bad = np.abs(x) <= np.abs(num[(name, minus)])
        else:
            bad = x == 0
        bad &= _in_service(df)
        if bad.any():
            problems.append(f"{name} {_ids(df.index[bad])}: {text}")


def _reference_rules(tables: dict[str, pd.DataFrame], problems: list[str]) -> None:
    buses = tables["bus"].index.to_numpy() if "bus" in tables else np.zeros(0)
    for table, cols in BUS_COLUMNS.items():
        df = tables.get(table)
        if df is None or not len(df):
            continue
        for col in cols:
            if col not in df:
                problems.append(f"{table} table has no column {col!r}")
                continue
            values = df[col].to_numpy()
            bad = ~np.isin(values, buses)
            if bad.any():
                problems.append(
                    f"{table} {_ids(df.index[bad])}: {col} refers to "
                    f"bus {_ids(pd.unique(values[bad]))} that does not exist"
                )
    sw = tables.get("switch")
    if sw is not None and len(sw) and {"et", "element"} <= set(sw.columns):
        for et, table in (("b", "bus"), ("l", "line"), ("t", "trafo"), ("t3", "trafo3w")):
            sel = (sw.et == et).to_numpy()
            if sel.any():
                known = tables[table].index.to_numpy() if table in tables else np.zeros(0)
                bad = sel & ~np.isin(sw.element.to_numpy(), known)
                if bad.any():
                    problems.append(
                        f"switch {_ids(sw.index[bad])}: element refers to "
                        f"{table} {_ids(pd.unique(sw.element.to_numpy()[bad]))} that does not exist"
                    )
    eg = tables.get("ext_grid")
    gen = tables.get("gen")
    has_eg = eg is not None and bool(_in_service(eg).any())
    has_slack = gen is not None and bool((_flag(gen, "slack", False) & _in_service(gen)).any())
    if not has_eg and not has_slack:
        problems.append("no ext_grid and no slack gen: the power flow has no reference bus")


def supplied_buses(net: pp.pandapowerNet) -> np.ndarray:
    """Boolean per row of ``net.bus``: in service and connected to an ext_grid or slack gen.

    Connections are in-service lines, transformers, three-winding transformers, impedances
    and closed bus-bus switches; an open line or transformer switch cuts that branch
    (as pandapower does). DC lines do not connect: each AC side needs its own reference.
    """
    bus_idx = net.bus.index.to_numpy()
    nb = len(bus_idx)
    pos = pd.Series(np.arange(nb), index=bus_idx)
    live_bus = _in_service(net.bus)
    sw = net.switch if "switch" in net and isinstance(net.switch, pd.DataFrame) else None
    opened: dict[str, set[tuple[int, int]]] = {"l": set(), "t": set(), "t3": set()}
    fr: list[np.ndarray] = []
    to: list[np.ndarray] = []
    if sw is not None and len(sw):
        closed = _flag(sw, "closed", True)
        for et in opened:
            sel = (sw.et == et).to_numpy() & ~closed
            opened[et] = set(zip(sw.element[sel].astype(int), sw.bus[sel].astype(int), strict=True))
        bb = (sw.et == "b").to_numpy() & closed
        fr.append(sw.bus.to_numpy()[bb])
        to.append(sw.element.to_numpy()[bb])

    def add(table: str, a: str, b: str, et: str | None) -> None:
        df = net[table] if table in net else None
        if df is None or not isinstance(df, pd.DataFrame) or not len(df):
            return
        live = _in_service(df)
        if et is not None and opened[et]:
            idx = df.index.to_numpy()
            for col in (a, b):
                cut = np.array(
                    [(int(i), int(x)) in opened[et] for i, x in zip(idx, df[col], strict=True)]
                )
                live &= ~cut
        fr.append(df[a].to_numpy()[live])
        to.append(df[b].to_numpy()[live])

    add("line", "from_bus", "to_bus", "l")
    add("trafo", "hv_bus", "lv_bus", "t")
    add("impedance", "from_bus", "to_bus", None)
    for a, b in (("hv_bus", "mv_bus"), ("hv_bus", "lv_bus"), ("mv_bus", "lv_bus")):
        add("trafo3w", a, b, "t3")
    f = pos.reindex(np.concatenate([np.zeros(0), *fr])).to_numpy()
    t = pos.reindex(np.concatenate([np.zeros(0), *to])).to_numpy()
    keep = np.isfinite(f) & np.isfinite(t)
    f, t = f[keep].astype(np.int64), t[keep].astype(np.int64)
    keep = live_bus[f] & live_bus[t]
    graph = sp.coo_matrix((np.ones(int(keep.sum())), (f[keep], t[keep])), shape=(nb, nb))
    _, label = connected_components(graph, directed=False)
    refs: list[np.ndarray] = []
    for table, slack_only in (("ext_grid", False), ("gen", True)):
        df = net[table] if table in net else None
        if df is None or not len(df):
            continue
        sel = _in_service(df)
        if slack_only:
            sel &= _flag(df, "slack", False)
        refs.append(pos.reindex(df.bus.to_numpy()[sel]).dropna().to_numpy(dtype=np.int64))
    ref = np.concatenate([np.zeros(0, dtype=np.int64), *refs])
    return live_bus & np.isin(label, label[ref[live_bus[ref]]])


def _supply_rules(net: pp.pandapowerNet, problems: list[str]) -> None:
    supplied = pd.Series(supplied_buses(net), index=net.bus.index)
    live_bus = pd.Series(_in_service(net.bus), index=net.bus.index)
    for table in _INJECTIONS:
        df = net[table] if table in net else None
        if df is None or not len(df):
            continue
        bus = df.bus.to_numpy()
        p = df.p_mw.to_numpy(dtype=float) if "p_mw" in df else np.zeros(len(df))
        q = df.q_mvar.to_numpy(dtype=float) if "q_mvar" in df else np.zeros(len(df))
        if table == "gen":
            p = np.where(_flag(df, "slack", False), 0.0, p)
        cut = (
            _in_service(df)
            & live_bus.reindex(bus).to_numpy(dtype=bool)
            & ~supplied.reindex(bus).to_numpy(dtype=bool)
            & ((p != 0) | (q != 0))
        )
        if cut.any():
            problems.append(
                f"{table} {_ids(df.index[cut])} at bus {_ids(pd.unique(bus[cut]))}: the bus has "
                f"no connection to an ext_grid or slack gen, so its {_ids(p[cut])} MW would be "
                "left out of every power flow; connect the bus or set the "
                f"{table} out of service"
            )


#: ratings converters write for "no limit" (MATPOWER's 9900 MVA convention, 99999 placeholders)
PLACEHOLDER_MVA = (9900.0, 9999.0, 99999.0)
PLACEHOLDER_KA = 9999.0  # kA: no conductor carries 10 MA; pandapower writes 99999 for "none"


def unrated_branches(net: pp.pandapowerNet) -> dict[str, tuple[int, int]]:
    """Per branch table (``line``, ``trafo``): (in-service branches with a placeholder rating,
    in-service branches)."""
    out: dict[str, tuple[int, int]] = {}
    sqrt3 = np.sqrt(3.0)
    for table in ("line", "trafo"):
        df = net[table] if table in net else None
        if not isinstance(df, pd.DataFrame) or not len(df):
            continue
        df = df[_in_service(df)]
        if not len(df):
            continue
        if table == "line":
            ka = pd.to_numeric(df.max_i_ka, errors="coerce").to_numpy(dtype=float)
            vn = net.bus.vn_kv.reindex(df.from_bus).to_numpy(dtype=float)
            mva = sqrt3 * ka * vn
            flag = ka >= PLACEHOLDER_KA
        else:
            mva = pd.to_numeric(df.sn_mva, errors="coerce").to_numpy(dtype=float)
            flag = np.zeros(len(df), dtype=bool)
        for p in PLACEHOLDER_MVA:
            flag |= np.abs(mva - p) <= 1e-4 * p
        out[table] = (int(flag.sum()), len(df))
    return out


def remarks(net: pp.pandapowerNet) -> list[str]:
    """What is valid in ``net`` but changes what its numbers mean (one string each)."""
    notes: list[str] = []
    for table, col in (("line", "r_ohm_per_km"), ("trafo", "vkr_percent")):
        df = net[table] if table in net else None
        if not isinstance(df, pd.DataFrame) or not len(df) or col not in df:
            continue
        vals = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        neg = _in_service(df) & (vals < 0)
        if neg.any():
            notes.append(
                f"{table} {_ids(df.index[neg])}: negative resistance ({col} < 0), as network "
                "equivalents carry; accepted, but these branches lower the losses"
            )
    unrated = unrated_branches(net)
    for table, (n_bad, n_all) in unrated.items():
        if not n_bad:
            continue
        what = "max_i_ka" if table == "line" else "sn_mva"
        who = (
            f"every in-service {table} has its"
            if n_bad == n_all
            else f"{n_bad} of {n_all} in-service {table}s have their"
        )
        notes.append(
            f"{who} rating ({what}) at a placeholder (99999 kA or 9900/9999/99999 MVA, what "
            f"converters write for no limit): their loading means nothing and never violates "
            "a limit"
        )
    return notes


def validate(net: pp.pandapowerNet) -> list[str]:
    """Every problem found in ``net`` as input data (empty list: none).

    Each problem is one string naming the element table, the element indices, the column and
    what is wrong, e.g. ``"line 3: r_ohm_per_km must be a finite number >= 0, got -1 instead"``.
    """
    problems: list[str] = []
    tables = _tables(net, problems)
    if "bus" not in tables:
        problems.append("the case has no bus table")
        return problems
    num = _numeric(tables, problems)
    _value_rules(tables, num, problems)
    _reactance_rules(tables, num, problems)
    n_structural = len(problems)
    _reference_rules(tables, problems)
    if len(problems) == n_structural and not any("must be" in p for p in problems):
        # connectivity only means something once every reference and type is sound
        _supply_rules(net, problems)
    return problems


def validate_net(net: pp.pandapowerNet, source: str = "case") -> None:
    """Raise :class:`CaseError` naming every problem :func:`validate` finds in ``net``."""
    problems = validate(net)
    if problems:
        raise CaseError(format_problems(source, problems))
