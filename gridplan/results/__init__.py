"""HDF5 result files: declared schema (tables, units), atomic writer, reader."""

from gridplan.results.reader import (
    is_result_file,
    list_tree,
    read_attrs,
    read_group_attrs,
    read_table,
)
from gridplan.results.schema import SCHEMA_VERSION, SchemaError
from gridplan.results.writer import ResultWriter

__all__ = [
    "SCHEMA_VERSION",
    "ResultWriter",
    "SchemaError",
    "is_result_file",
    "list_tree",
    "read_attrs",
    "read_group_attrs",
    "read_table",
]
