"""Structural checks of a pandapower net; every problem is reported, not only the first."""

from __future__ import annotations

import numpy as np
import pandapower as pp

from gridplan.errors import CaseError, format_problems

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


def _ids(values: np.ndarray, limit: int = 8) -> str:
    vals = [str(v) for v in values[:limit]]
    return ", ".join(vals) + (f" ... ({len(values)} in all)" if len(values) > limit else "")


def validate_net(net: pp.pandapowerNet, source: str = "case") -> None:
    """Raise :class:`CaseError` naming every element that references a missing bus etc."""
    problems: list[str] = []
    buses = net.bus.index.to_numpy()
    for table, cols in BUS_COLUMNS.items():
        if table not in net or not len(net[table]):
            continue
        df = net[table]
        for col in cols:
            if col not in df:
                problems.append(f"{table} table has no column {col!r}")
                continue
            bad = ~np.isin(df[col].to_numpy(), buses)
            if bad.any():
                missing = np.unique(df[col].to_numpy()[bad])
                problems.append(
                    f"{table} {_ids(df.index.to_numpy()[bad])}: {col} refers to "
                    f"bus {_ids(missing)} that does not exist"
                )
    if "switch" in net and len(net.switch):
        sw = net.switch
        for et, table in (("b", "bus"), ("l", "line"), ("t", "trafo"), ("t3", "trafo3w")):
            sel = (sw.et == et).to_numpy()
            if sel.any():
                bad = sel & ~np.isin(sw.element.to_numpy(), net[table].index.to_numpy())
                if bad.any():
                    problems.append(
                        f"switch {_ids(sw.index.to_numpy()[bad])}: element refers to "
                        f"{table} {_ids(np.unique(sw.element.to_numpy()[bad]))} that does not exist"
                    )
    for table, col in (
        ("line", "length_km"),
        ("line", "max_i_ka"),
        ("trafo", "sn_mva"),
        ("bus", "vn_kv"),
    ):
        if table in net and len(net[table]) and col in net[table]:
            vals = net[table][col].to_numpy(dtype=float)
            bad = ~(vals > 0)
            if bad.any():
                problems.append(
                    f"{table} {_ids(net[table].index.to_numpy()[bad])}: {col} must be > 0, "
                    f"got {_ids(vals[bad])} instead"
                )
    if not len(net.ext_grid) and not (len(net.gen) and net.gen.get("slack", False).any()):
        problems.append("no ext_grid and no slack gen: the power flow has no reference bus")
    if problems:
        raise CaseError(format_problems(source, problems))
