"""Violation rows of an N-1 scan: one long table, kept in memory or streamed block by block.

A row per (outage, element or bus, quantity) beyond its limit: ``outage`` (position),
``outage_name``, ``element_type``, ``element``, ``quantity`` (``loading_percent`` or
``vm_pu``), ``unit`` (``%`` or ``pu``: the unit of the four value columns in that row),
``value``, ``limit``, ``base_value``, ``change``. Rows of one outage are
consecutive, in element type, element index and bus index order; outages in ascending order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd

from gridplan.model.contingency_model import ContingencyModel

WORST_VIOLATIONS_KEPT = 100
#: unit of ``value``, ``limit``, ``base_value`` and ``change`` per ``quantity`` (``unit`` column)
QUANTITY_UNITS = {"loading_percent": "%", "vm_pu": "pu"}

VIOLATION_COLUMNS = (
    "outage",
    "outage_name",
    "element_type",
    "element",
    "quantity",
    "unit",
    "value",
    "limit",
    "base_value",
    "change",
)


class ViolationCollector:
    """The violation rows of a scan, as :class:`gridplan.core.contingency_running.RunningStats`
    hands them on block by block: kept, or passed to ``sink`` as a DataFrame per block (then
    only the counts and the :data:`WORST_VIOLATIONS_KEPT` worst rows per quantity stay here).
    """

    def __init__(
        self,
        model: ContingencyModel,
        names: np.ndarray,
        base_eld: np.ndarray,
        base_vm: np.ndarray,
        limits: dict[str, float],
        n_out: int,
        sink: Callable[[pd.DataFrame], None] | None = None,
    ) -> None:
        self.model = model
        self.names = names
        self.base_eld = base_eld
        self.base_vm = base_vm
        self.limits = limits
        self.n_out = n_out
        self.sink = sink
        self.has_viol = np.zeros(n_out, dtype=bool)
        self.counts = {"loading_percent": 0, "vm_pu": 0}
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.n_streamed = 0
        self.worst: pd.DataFrame | None = None

    def _count(self, parts: list[tuple[np.ndarray, ...]]) -> None:
        for vpos, kind, _, _ in parts:
            self.has_viol[vpos] = True
            n_ld = int(np.count_nonzero(kind == 0))
            self.counts["loading_percent"] += n_ld
            self.counts["vm_pu"] += kind.size - n_ld

    def frame(self, parts: list[tuple[np.ndarray, ...]]) -> pd.DataFrame:
        """Violation rows of ``parts`` as a table."""
        return violation_frame(
            self.model, parts, self.names, self.base_eld, self.base_vm, self.limits
        )

    def add(self, parts: list[tuple[np.ndarray, ...]]) -> None:
        """Take the ``(outage pos, kind, element/bus row, value)`` parts of one block."""
        if self.sink is None:
            self.parts.extend(parts)
            return
        # the kernel lists rows of one outage together, in the order of the in-memory table
        df = self.frame(parts)
        n0 = self.n_streamed
        df.index = pd.RangeIndex(n0, n0 + len(df))
        self.sink(df)
        # counted only once the sink has the rows (write_n1 trims a half-written append)
        self.n_streamed = n0 + len(df)
        self.worst = worst_violations(df if self.worst is None else pd.concat([self.worst, df]))
        self._count(parts)

    def table(self) -> tuple[pd.DataFrame, int]:
        """The violation table (all rows, or the worst when streamed) and the number of rows."""
        if self.sink is not None:
            viol = self.worst
            if viol is None:
                viol = self.frame([])
            return sort_violations(viol), int(self.n_streamed)
        parts = self.parts
        self._count(parts)
        if len(parts) > 1:
            parts = [merge_by_outage(parts, self.n_out)]
        viol = self.frame(parts)
        return viol, len(viol)

    @property
    def n_violation_outages(self) -> int:
        """Outages with at least one violation row counted."""
        return int(self.has_viol.sum())


def merge_by_outage(parts: list[tuple[np.ndarray, ...]], n_out: int) -> tuple[np.ndarray, ...]:
    """One table of violation parts, ordered by outage.

    Every outage lies in one part, where its rows are consecutive and the parts list their
    outages in ascending order; each row is put straight at its place (no sort).
    """
    ends = [(int(q[0][0]), int(q[0][-1])) for q in parts if q[0].size]
    if all(a[1] < b[0] for a, b in itertools.pairwise(ends)):
        return tuple(np.concatenate([q[i] for q in parts]) for i in range(4))  # in order
    counts = np.zeros(n_out, dtype=np.int64)
    for q in parts:
        counts += np.bincount(q[0], minlength=n_out)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    total = int(counts.sum())
    out = tuple(np.empty(total, dtype=parts[0][i].dtype) for i in range(4))
    for q in parts:
        pp = q[0]
        m = pp.size
        first = np.flatnonzero(np.concatenate([[True], pp[1:] != pp[:-1]]))
        seg = np.diff(np.concatenate([first, [m]]))
        dest = np.arange(m) + np.repeat(start[pp[first]] - first, seg)
        for i in range(4):
            out[i][dest] = q[i]
    return out


def violation_frame(
    model: ContingencyModel,
    parts: list[tuple[np.ndarray, ...]],
    names: np.ndarray,
    base_eld: np.ndarray,
    base_vm: np.ndarray,
    limits: dict[str, float],
) -> pd.DataFrame:
    """Violation rows from ``(outage pos, kind 0/1/2, element/bus row, value)`` parts."""
    if not parts:
        types = {"outage": np.int64, "element": np.int64}
        return pd.DataFrame(
            {c: np.zeros(0, dtype=types.get(c, object)) for c in VIOLATION_COLUMNS[:6]}
            | {c: np.zeros(0) for c in VIOLATION_COLUMNS[6:]}
        )
    if len(parts) == 1:
        pos, kind, idx, val = parts[0]
    else:
        pos, kind, idx, val = (np.concatenate([v[i] for v in parts]) for i in range(4))
    # one lookup table over element rows then bus rows: every column is a single take;
    # the string columns are categoricals (codes only, no per-row Python strings)
    n_mon = model.mon_index.size
    key = np.where(kind != 0, idx + n_mon, idx)
    type_names, type_code = np.unique(
        np.concatenate([model.mon_kind.astype(str), np.full(model.n_bus, "bus")]),
        return_inverse=True,
    )
    etype = pd.Categorical.from_codes(type_code[key], categories=type_names)
    elem = np.concatenate([model.mon_index, model.bus_index]).astype(np.int64)[key]
    base = np.concatenate([base_eld, base_vm])[key]
    lim = np.array([limits["max_loading_percent"], limits["vm_min_pu"], limits["vm_max_pu"]])
    qcode = np.array([0, 1, 1], dtype=np.int8)[kind]
    quantity = pd.Categorical.from_codes(qcode, categories=list(QUANTITY_UNITS))
    unit = pd.Categorical.from_codes(qcode, categories=list(QUANTITY_UNITS.values()))
    uniq_names = pd.Index(names).is_unique
    df = pd.DataFrame(
        {
            "outage": pos,
            "outage_name": pd.Categorical.from_codes(pos, categories=names)
            if uniq_names
            else names[pos],
            "element_type": etype,
            "element": elem,
            "quantity": quantity,
            "unit": unit,
            "value": val,
            "limit": lim[kind],
            "base_value": base,
            "change": val - base,
        },
        copy=False,  # fresh arrays; no consolidation copy of millions of rows
    )
    return df


def sort_violations(df: pd.DataFrame) -> pd.DataFrame:
    """Violation rows in table order: outage, quantity, element type, element."""
    return df.sort_values(
        ["outage", "quantity", "element_type", "element"], kind="stable"
    ).reset_index(drop=True)


def worst_violations(df: pd.DataFrame, n: int = WORST_VIOLATIONS_KEPT) -> pd.DataFrame:
    """The ``n`` rows per quantity farthest beyond their limit (bounded in-memory summary)."""
    excess = (df.value - df.limit).abs()
    order = np.lexsort((-excess.to_numpy(), df.quantity.to_numpy().astype(str)))
    d = df.iloc[order]
    return d[d.groupby("quantity", sort=False, observed=True).cumcount().to_numpy() < n]
