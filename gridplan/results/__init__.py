"""HDF5 result files: schema (names, units), atomic writer, reader."""

from gridplan.results.reader import list_tree, read_attrs, read_table
from gridplan.results.schema import SCHEMA_VERSION, unit_of
from gridplan.results.writer import ResultWriter

__all__ = ["SCHEMA_VERSION", "ResultWriter", "list_tree", "read_attrs", "read_table", "unit_of"]
