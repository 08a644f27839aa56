"""The one declared source of truth for result files: tables, arrays, attributes and units.

Every table, n-D array and attribute gridplan writes is declared here as data, with its dtype,
its unit and a one-line description. Each study declares its own in a module of
:mod:`gridplan.results.tables` listed in :data:`TABLE_MODULES`. The writer looks every unit up
here and refuses anything undeclared (:class:`SchemaError`), and ``docs/results-format.md`` is
generated from these declarations (``python -m gridplan.results.docs --write``), so the files,
the writer and the documentation cannot disagree.

Schema versions: 1 (gridplan 0.1) guessed units from column-name suffixes and wrote some
wrong (``saidi_h_per_year``, ``lole_h_per_year`` ... as ``1/yr``); 2 declares every unit.
Version-1 files are still read; :func:`corrected_unit` gives the right unit of their columns.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from functools import cache

SCHEMA_VERSION = 2

#: modules declaring ``TABLES`` (tables, arrays and groups), one per study
TABLE_MODULES: tuple[str, ...] = (
    "gridplan.results.tables.common",
    "gridplan.results.tables.powerflow",
    "gridplan.results.tables.n1",
    "gridplan.results.tables.timeseries",
    "gridplan.results.tables.reliability",
    "gridplan.results.tables.adequacy",
    "gridplan.results.tables.wind",
    "gridplan.results.tables.ev",
    "gridplan.results.tables.batch",
)

#: declared dtypes and how each is stored in HDF5
DTYPES: dict[str, str] = {
    "float64": "64-bit float",
    "float32": "32-bit float",
    "int64": "64-bit integer",
    "int32": "32-bit integer",
    "bool": "uint8 with attribute dtype=bool",
    "str": "UTF-8 variable-length string",
    "datetime64": "int64 seconds since 1970-01-01T00:00:00Z",
}


class SchemaError(ValueError):
    """A table, column, array or attribute that the schema does not declare (a bug, not input)."""


@dataclass(frozen=True)
class Column:
    """One column (or attribute): ``name`` may hold ``{k}`` for a run of digits (``top{k}_outage``)."""

    name: str
    dtype: str
    unit: str
    description: str

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise SchemaError(f"column {self.name}: unknown dtype {self.dtype!r}")

    @property
    def pattern(self) -> re.Pattern[str] | None:
        """Regex for names with ``{k}`` placeholders, else None."""
        if "{" not in self.name:
            return None
        return re.compile(re.sub(r"\\\{\w+\\\}", r"\\d+", re.escape(self.name)) + r"\Z")


@dataclass(frozen=True)
class _Declared:
    path: str
    description: str

    def _find(self, items: tuple[Column, ...], name: str, what: str) -> Column:
        for col in items:
            if col.name == name:
                return col
        for col in items:
            pat = col.pattern
            if pat is not None and pat.match(name):
                return col
        raise SchemaError(
            f"{self.path}: {what} {name!r} is not declared in the result schema "
            f"(gridplan/results/tables/)"
        )


@dataclass(frozen=True)
class Table(_Declared):
    """A table: an HDF5 group with one 1-D dataset per column, plus ``index``."""

    index: Column = field(default_factory=lambda: Column("index", "int64", "", "row number"))
    columns: tuple[Column, ...] = ()
    attrs: tuple[Column, ...] = ()

    def column(self, name: str) -> Column:
        """The declaration of column ``name`` (``index`` included); SchemaError if undeclared."""
        if name == "index":
            return self.index
        return self._find(self.columns, name, "column")

    def attr(self, name: str) -> Column:
        """The declaration of attribute ``name`` of this table's group."""
        return self._find(self.attrs, name, "attribute")


@dataclass(frozen=True)
class Array(_Declared):
    """An n-D dataset (per-step or per-outage matrices); ``dims`` name its axes."""

    dtype: str = "float64"
    unit: str = ""
    dims: tuple[str, ...] = ()
    attrs: tuple[Column, ...] = ()

    def attr(self, name: str) -> Column:
        """The declaration of attribute ``name`` of this dataset."""
        return self._find(self.attrs, name, "attribute")


@dataclass(frozen=True)
class Group(_Declared):
    """A group (a study's top level, or the file root ``/``), its attributes and notes."""

    attrs: tuple[Column, ...] = ()
    notes: str = ""

    def attr(self, name: str) -> Column:
        """The declaration of attribute ``name`` of this group."""
        return self._find(self.attrs, name, "attribute")


Declaration = Table | Array | Group


@cache
def declarations() -> dict[str, Declaration]:
    """Every declared path (``/`` for the root) -> its declaration, in declaration order."""
    out: dict[str, Declaration] = {}
    for module in TABLE_MODULES:
        for decl in importlib.import_module(module).TABLES:
            if decl.path in out:
                raise SchemaError(f"{decl.path} declared twice ({module})")
            out[decl.path] = decl
    return out


def _get(path: str, kind: type) -> Declaration:
    key = path if path == "/" else path.strip("/")
    decl = declarations().get(key)
    if not isinstance(decl, kind):
        raise SchemaError(
            f"{key!r} is not a declared {kind.__name__.lower()} of the result schema "
            "(gridplan/results/tables/)"
        )
    return decl


def table(path: str) -> Table:
    """The declared table at ``path`` (e.g. ``"powerflow/bus"``)."""
    return _get(path, Table)  # type: ignore[return-value]


def array(path: str) -> Array:
    """The declared n-D array at ``path`` (e.g. ``"contingency/loading_matrix"``)."""
    return _get(path, Array)  # type: ignore[return-value]


def group(path: str) -> Group:
    """The declared group at ``path`` (``"/"`` for the root attributes)."""
    return _get(path, Group)  # type: ignore[return-value]


def attr_of(path: str, name: str) -> Column:
    """The declaration of attribute ``name`` on the group, table or array at ``path``."""
    key = path if path == "/" else path.strip("/")
    decl = declarations().get(key)
    if decl is None:
        raise SchemaError(
            f"{key!r} is not declared in the result schema (gridplan/results/tables/)"
        )
    return decl.attr(name)


def tables() -> dict[str, Table]:
    """Every declared table, path -> declaration."""
    return {p: d for p, d in declarations().items() if isinstance(d, Table)}


# units schema version 1 wrote wrongly, by column suffix (it guessed "1/yr" for these)
_V1_WRONG_SUFFIXES = (("_h_per_year", "h/yr"), ("_min_per_year", "min/yr"))


def corrected_unit(column: str, stored_unit: str, schema_version: int) -> str:
    """The right unit of ``column`` in a file of ``schema_version`` that stored ``stored_unit``."""
    if schema_version < 2:
        for suffix, unit in _V1_WRONG_SUFFIXES:
            if column.endswith(suffix):
                return unit
    return stored_unit
