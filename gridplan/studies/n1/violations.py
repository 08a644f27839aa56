"""Violation rows of an N-1 scan: one long table, kept in memory or streamed in batches.

A row per (outage, element or bus, quantity) beyond its limit: ``outage`` (position),
``outage_name``, ``element_type``, ``element``, ``quantity`` (``loading_percent`` or
``vm_pu``), ``unit`` (``%`` or ``pu``: the unit of the four value columns in that row),
``value``, ``limit``, ``base_value``, ``change``, ``violation`` (``new``: within its limit in
the base case; ``worsened``: already beyond it and worse by more than the margin;
``existing``: already beyond it and not worse by the margin, listed only under
``report="all"``). Rows of one outage are consecutive, in element type, element index and bus
index order; outages in ascending order.

Which rows are reported is the new-or-worsened rule of :mod:`gridplan.core.violation_rule`
(``report="changed"``, the default) or every limit broken (``report="all"``). The kernel
lists every broken plain limit; since an effective limit is never stricter than the plain one,
the reported rows are the kernel's rows filtered against the effective limits
(:meth:`ViolationCollector.add`). Base-case violations are listed once, in their own table
(:func:`base_violation_frame`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd

from gridplan.core.violation_rule import WORSEN_LOADING_PERCENT, WORSEN_VM_PU, effective_limits
from gridplan.model.contingency_model import ContingencyModel

WORST_VIOLATIONS_KEPT = 100
#: violation rows gathered before they go to a sink in one call (a block of a large case has
#: a few hundred; one HDF5 append per block cost ~20 ms, mostly fixed: resize, rewrite of the
#: partly filled compressed chunk, flush). The rows reach the file later, never lost: a scan
#: that stops hands over what it gathered (``flush``), and a killed one leaves no file.
STREAM_BATCH_ROWS = 1 << 15
#: unit of ``value``, ``limit``, ``base_value`` and ``change`` per ``quantity`` (``unit`` column)
QUANTITY_UNITS = {"loading_percent": "%", "vm_pu": "pu"}
#: ``report``: ``changed`` (new or worsened violations, the default) or ``all``
REPORTS = ("changed", "all")
#: ``violation`` column values
VIOLATION_KINDS = ("new", "worsened", "existing")

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
    "violation",
    "estimate",
)
BASE_VIOLATION_COLUMNS = ("element_type", "element", "quantity", "unit", "value", "limit")

#: a block's reported violation parts (ViolationCollector.prepare)
Prepared = list[tuple[np.ndarray, ...]]
#: type names, type code, element index and base value per element-then-bus row, outage dtype
FrameTables = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, pd.CategoricalDtype | None]


class ReportRule:
    """Which post-outage violations are reported, against the base case.

    ``eff_ld`` (per monitored element, %), ``eff_lo`` and ``eff_hi`` (per bus row, pu) are the
    effective limits of :func:`gridplan.core.violation_rule.effective_limits` under
    ``report="changed"``, and the plain limits under ``report="all"``; ``changed_ld``,
    ``changed_lo`` and ``changed_hi`` are the former under either report.
    """

    def __init__(
        self,
        report: str,
        base_eld: np.ndarray,
        base_vm: np.ndarray,
        limits: dict[str, float],
        worsen_loading_percent: float = WORSEN_LOADING_PERCENT,
        worsen_vm_pu: float = WORSEN_VM_PU,
    ) -> None:
        self.report = report
        self.worsen_loading_percent = float(worsen_loading_percent)
        self.worsen_vm_pu = float(worsen_vm_pu)
        self.limits = limits
        self.base_eld = np.asarray(base_eld, dtype=float)
        self.base_vm = np.asarray(base_vm, dtype=float)
        eff = effective_limits(
            self.base_eld,
            limits["max_loading_percent"],
            self.base_vm,
            limits["vm_min_pu"],
            limits["vm_max_pu"],
            worsen_loading_percent=self.worsen_loading_percent,
            worsen_vm_pu=self.worsen_vm_pu,
        )
        # the changed rule's limits, whatever is reported: the screen clears the same
        # outages under either report (their values then agree row by row)
        self.changed_ld, self.changed_lo, self.changed_hi = (np.ascontiguousarray(a) for a in eff)
        if report == "all":
            eff = (
                np.full(self.base_eld.shape, limits["max_loading_percent"]),
                np.full(self.base_vm.shape, limits["vm_min_pu"]),
                np.full(self.base_vm.shape, limits["vm_max_pu"]),
            )
        self.eff_ld, self.eff_lo, self.eff_hi = (np.ascontiguousarray(a) for a in eff)

    @property
    def attrs(self) -> dict[str, object]:
        """The rule as attributes of ``/contingency``."""
        return {
            "report": self.report,
            "worsen_loading_percent": self.worsen_loading_percent,
            "worsen_vm_pu": self.worsen_vm_pu,
        }

    def keep(self, part: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        """The rows of a kernel part ``(outage pos, kind, row, value)`` that are reported."""
        if self.report == "all":
            return part
        _, kind, idx, val = part
        lim = np.empty(val.size)
        k0, k1, k2 = kind == 0, kind == 1, kind == 2
        lim[k0] = self.eff_ld[idx[k0]]
        lim[k1] = self.eff_lo[idx[k1]]
        lim[k2] = self.eff_hi[idx[k2]]
        ok = np.where(k1, val < lim, val > lim)
        if ok.all():
            return part
        return tuple(a[ok] for a in part)

    def kinds(self, kind: np.ndarray, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
        """``violation`` code per row: 0 new, 1 worsened, 2 existing (see VIOLATION_KINDS)."""
        key = np.where(kind != 0, idx + self.eff_ld.size, idx)
        base = np.concatenate([self.base_eld, self.base_vm])[key]
        lim = self.limits
        m_ld, m_vm = self.worsen_loading_percent, self.worsen_vm_pu
        with np.errstate(invalid="ignore"):
            was = np.select(
                [kind == 0, kind == 1],
                [base > lim["max_loading_percent"], base < lim["vm_min_pu"]],
                base > lim["vm_max_pu"],
            )
            worse = np.select(
                [kind == 0, kind == 1],
                [val > base + m_ld, val < base - m_vm],
                val > base + m_vm,
            )
        return np.where(~was, 0, np.where(worse, 1, 2)).astype(np.int8)


class ViolationCollector:
    """The violation rows of a scan, as :class:`gridplan.core.contingency_running.RunningStats`
    hands them on block by block: kept, or passed to ``sink`` as a DataFrame per batch of
    whole blocks (:data:`STREAM_BATCH_ROWS`; then only the counts, the batch being gathered
    and the :data:`WORST_VIOLATIONS_KEPT` worst rows per quantity stay here).
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
        rule: ReportRule | None = None,
        estimate: np.ndarray | None = None,
    ) -> None:
        self.rule = rule or ReportRule("all", base_eld, base_vm, limits)
        # per outage: True where its values are the screen's estimate (read as rows are
        # framed, so the scan sets it before booking the outage)
        self.estimate = np.zeros(n_out, dtype=bool) if estimate is None else estimate
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
        # the worst rows so far as parts (framed once, at the end)
        self.worst: tuple[np.ndarray, ...] | None = None
        self.tables = frame_tables(model, names, base_eld, base_vm)
        self._lim = np.array(
            [limits["max_loading_percent"], limits["vm_min_pu"], limits["vm_max_pu"]]
        )

    def _count(self, parts: list[tuple[np.ndarray, ...]]) -> None:
        for vpos, kind, _, _ in parts:
            self.has_viol[vpos] = True
            n_ld = int(np.count_nonzero(kind == 0))
            self.counts["loading_percent"] += n_ld
            self.counts["vm_pu"] += kind.size - n_ld

    def frame(self, parts: list[tuple[np.ndarray, ...]]) -> pd.DataFrame:
        """Violation rows of ``parts`` as a table."""
        return violation_frame(
            self.model,
            parts,
            self.names,
            self.base_eld,
            self.base_vm,
            self.limits,
            self.rule,
            self.estimate,
            tables=self.tables,
        )

    def prepare(self, parts: list[tuple[np.ndarray, ...]]) -> Prepared | None:
        """The order-free work on a block's kernel parts ``(outage pos, kind, element/bus
        row, value)`` (every broken plain limit), on any thread: the rows the rule reports
        (numpy only; None: no row reported). The table is made in :meth:`book`: pandas
        work on the solver threads fights the main thread for the GIL (``gridplan n1
        case2869pegase --out --threads 2`` took 9.1-9.8 s with it there, 8.1-8.7 s here)."""
        parts = [q for q in (self.rule.keep(p) for p in parts) if q[0].size]
        return parts or None

    def book(self, prepared: Prepared | None) -> None:
        """Keep a :meth:`prepare`-d block (blocks in order); with a sink, gathered up to
        :data:`STREAM_BATCH_ROWS` rows, then framed, numbered and handed on (:meth:`flush`)."""
        if prepared is None:
            return
        parts = prepared
        self.parts.extend(parts)
        if self.sink is None:
            return
        self.worst = worst_parts([*([self.worst] if self.worst else []), *parts], self._lim)
        if sum(q[0].size for q in self.parts) >= STREAM_BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Hand the gathered rows to the sink as one table (with a sink; else nothing)."""
        if self.sink is None or not self.parts:
            return
        parts = self.parts
        df = self.frame(parts)
        # the kernel lists rows of one outage together, in the order of the in-memory table
        n0 = self.n_streamed
        df.index = pd.RangeIndex(n0, n0 + len(df))
        self.sink(df)
        # counted only once the sink has the rows (write_n1 trims a half-written append)
        self.n_streamed = n0 + len(df)
        self.parts = []
        self._count(parts)

    def add(self, parts: list[tuple[np.ndarray, ...]]) -> None:
        """Take the ``(outage pos, kind, element/bus row, value)`` parts of one block (the
        kernel's rows: every broken plain limit), keeping the rows the rule reports."""
        self.book(self.prepare(parts))

    def table(self) -> tuple[pd.DataFrame, int]:
        """The violation table (all rows, or the worst when streamed) and the number of rows."""
        if self.sink is not None:
            self.flush()
            viol = self.frame([self.worst] if self.worst else [])
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


def frame_tables(
    model: ContingencyModel, names: np.ndarray, base_eld: np.ndarray, base_vm: np.ndarray
) -> FrameTables:
    """The lookup tables of :func:`violation_frame` over element rows then bus rows (type
    names and codes, element index, base value) and the outage names' dtype (categorical
    when unique, else None); made once per scan instead of once per block."""
    type_names, type_code = np.unique(
        np.concatenate([model.mon_kind.astype(str), np.full(model.n_bus, "bus")]),
        return_inverse=True,
    )
    elem = np.concatenate([model.mon_index, model.bus_index]).astype(np.int64)
    base = np.concatenate([base_eld, base_vm])
    names_dtype = pd.CategoricalDtype(names) if pd.Index(names).is_unique else None
    return type_names, type_code, elem, base, names_dtype


def violation_frame(
    model: ContingencyModel,
    parts: list[tuple[np.ndarray, ...]],
    names: np.ndarray,
    base_eld: np.ndarray,
    base_vm: np.ndarray,
    limits: dict[str, float],
    rule: ReportRule | None = None,
    estimate: np.ndarray | None = None,
    tables: FrameTables | None = None,
) -> pd.DataFrame:
    """Violation rows from ``(outage pos, kind 0/1/2, element/bus row, value)`` parts;
    ``estimate`` (bool per outage) marks the rows of outages the screen cleared
    (``tables``: :func:`frame_tables` of the same arguments, made here when not given)."""
    if rule is None:
        rule = ReportRule("all", base_eld, base_vm, limits)
    if not parts:
        types = {"outage": np.int64, "element": np.int64}
        return pd.DataFrame(
            {c: np.zeros(0, dtype=types.get(c, object)) for c in VIOLATION_COLUMNS[:6]}
            | {c: np.zeros(0) for c in VIOLATION_COLUMNS[6:10]}
            | {"violation": np.zeros(0, dtype=object), "estimate": np.zeros(0, dtype=bool)}
        )
    if len(parts) == 1:
        pos, kind, idx, val = parts[0]
    else:
        pos, kind, idx, val = (np.concatenate([v[i] for v in parts]) for i in range(4))
    # one lookup table over element rows then bus rows: every column is a single take;
    # the string columns are categoricals (codes only, no per-row Python strings)
    n_mon = model.mon_index.size
    key = np.where(kind != 0, idx + n_mon, idx)
    if tables is None:
        tables = frame_tables(model, names, base_eld, base_vm)
    type_names, type_code, elem_all, base_all, names_dtype = tables
    etype = pd.Categorical.from_codes(type_code[key], categories=type_names)
    elem = elem_all[key]
    base = base_all[key]
    lim = np.array([limits["max_loading_percent"], limits["vm_min_pu"], limits["vm_max_pu"]])
    qcode = np.array([0, 1, 1], dtype=np.int8)[kind]
    quantity = pd.Categorical.from_codes(qcode, categories=list(QUANTITY_UNITS))
    unit = pd.Categorical.from_codes(qcode, categories=list(QUANTITY_UNITS.values()))
    df = pd.DataFrame(
        {
            "outage": pos,
            "outage_name": pd.Categorical.from_codes(pos, dtype=names_dtype)
            if names_dtype is not None
            else names[pos],
            "element_type": etype,
            "element": elem,
            "quantity": quantity,
            "unit": unit,
            "value": val,
            "limit": lim[kind],
            "base_value": base,
            "change": val - base,
            "violation": pd.Categorical.from_codes(
                rule.kinds(kind, idx, val), categories=list(VIOLATION_KINDS)
            ),
            "estimate": np.zeros(pos.size, dtype=bool) if estimate is None else estimate[pos],
        },
        copy=False,  # fresh arrays; no consolidation copy of millions of rows
    )
    return df


def sort_violations(df: pd.DataFrame) -> pd.DataFrame:
    """Violation rows in table order: outage, quantity, element type, element."""
    return df.sort_values(
        ["outage", "quantity", "element_type", "element"], kind="stable"
    ).reset_index(drop=True)


def worst_parts(
    parts: list[tuple[np.ndarray, ...]], lim: np.ndarray, n: int = WORST_VIOLATIONS_KEPT
) -> tuple[np.ndarray, ...]:
    """The ``n`` rows per quantity (loading, then voltage) farthest beyond their limit
    (``lim``: loading %, vm min, vm max pu by kind) of ``(outage pos, kind, row, value)``
    parts, as one part; ties keep the parts' order (bounded in-memory summary)."""
    pos, kind, idx, val = (np.concatenate([q[i] for q in parts]) for i in range(4))
    quantity = (kind != 0).astype(np.int8)  # loading_percent, then vm_pu
    order = np.lexsort((-np.abs(val - lim[kind]), quantity))
    q = quantity[order]
    first = np.searchsorted(q, q, side="left")  # each row's rank within its quantity
    keep = order[np.arange(order.size) - first < n]
    return pos[keep], kind[keep], idx[keep], val[keep]


def base_violation_frame(
    model: ContingencyModel, base_eld: np.ndarray, base_vm: np.ndarray, limits: dict[str, float]
) -> pd.DataFrame:
    """The base case's own violations, once: ``element_type``, ``element``, ``quantity``,
    ``unit``, ``value`` and ``limit`` (% for loading, pu for voltage)."""
    with np.errstate(invalid="ignore"):
        el = np.flatnonzero(base_eld > limits["max_loading_percent"])
        lo = np.flatnonzero(base_vm < limits["vm_min_pu"])
        hi = np.flatnonzero(base_vm > limits["vm_max_pu"])
    # buses in the order of the violation rows: element rows first, then bus rows
    n = el.size + lo.size + hi.size
    df = pd.DataFrame(
        {
            "element_type": np.concatenate(
                [model.mon_kind[el].astype(str), np.full(lo.size + hi.size, "bus")]
            ).astype(object),
            "element": np.concatenate(
                [model.mon_index[el], model.bus_index[lo], model.bus_index[hi]]
            ).astype(np.int64),
            "quantity": np.array(
                ["loading_percent"] * el.size + ["vm_pu"] * (lo.size + hi.size), dtype=object
            ),
            "unit": np.array(["%"] * el.size + ["pu"] * (lo.size + hi.size), dtype=object),
            "value": np.concatenate([base_eld[el], base_vm[lo], base_vm[hi]]),
            "limit": np.concatenate(
                [
                    np.full(el.size, limits["max_loading_percent"]),
                    np.full(lo.size, limits["vm_min_pu"]),
                    np.full(hi.size, limits["vm_max_pu"]),
                ]
            ),
        },
        index=pd.RangeIndex(n, name="row"),
    )
    return (
        df.sort_values(["quantity", "element_type", "element"], kind="stable")
        .reset_index(drop=True)
        .rename_axis("row")
    )
