"""Atomic, streaming HDF5 writer for result tables.

Layout (docs/results-format.md, generated from :mod:`gridplan.results.schema`): root attributes
describe the run; one group per study; a table is a group holding one 1-D dataset per column
(``units`` attribute on each), plus ``index`` (element index) and an attribute ``columns``
giving the column order. Strings are UTF-8. Every table, column, array and attribute must be
declared in the schema: the writer takes units and dtypes from there and raises
:class:`~gridplan.results.schema.SchemaError` for anything undeclared.
The file is written under a temporary name in the target's folder and renamed on success,
so a run killed half-way never leaves a broken file under the final name.
"""

from __future__ import annotations

import datetime as _dt
import os
import shlex
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np
import pandas as pd

from gridplan.results import schema
from gridplan.results.schema import SCHEMA_VERSION, Column

STR_DTYPE = h5py.string_dtype(encoding="utf-8")
CHUNK_ROWS = 65536
COMPRESS_ABOVE = 4096  # rows; smaller datasets stay contiguous and uncompressed


_EPOCH_UNIT = "s since 1970-01-01T00:00:00Z"


def _column_array(values: Any, col: Column | None = None) -> np.ndarray:
    """``values`` as stored in HDF5, converted to the declared dtype of ``col``."""
    arr = np.asarray(values)
    if arr.dtype.kind in "OUS" or (col is not None and col.dtype == "str"):
        return np.array(["" if v is None or v != v else str(v) for v in arr], dtype=object)
    if arr.dtype.kind == "b":
        return arr.astype(np.uint8)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[s]").astype(np.int64)
    if col is not None and col.dtype == "bool":
        return arr.astype(bool).astype(np.uint8)
    if col is not None and col.dtype in ("float64", "float32", "int64", "int32"):
        return arr.astype(col.dtype, copy=False)
    return arr


def _h5_dtype(arr: np.ndarray) -> Any:
    return STR_DTYPE if arr.dtype == object else arr.dtype


def _attr_value(value: Any) -> Any:
    if isinstance(value, str | bytes | int | float | np.generic):
        return value
    if isinstance(value, bool):
        return int(value)
    if value is None:
        return ""
    return str(value)


class ResultWriter:
    """Write result tables to ``path`` atomically.

    Use as a context manager; the file appears under ``path`` only when the block exits
    without an exception (or after :meth:`commit`). ``append_table`` streams rows in chunks
    so long scans never hold all rows in memory.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        case_name: str = "",
        case_sha256: str = "",
        command: str | None = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> None:
        import pandapower

        from gridplan import __version__

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent
        )
        os.close(fd)
        self._tmp = Path(tmp)
        self._file: h5py.File | None = h5py.File(self._tmp, "w")
        root = {
            "gridplan_version": __version__,
            "schema_version": SCHEMA_VERSION,
            "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": command if command is not None else shlex.join(["gridplan", *sys.argv[1:]]),
            "case_name": case_name,
            "case_sha256": case_sha256,
            "pandapower_version": pandapower.__version__,
        }
        root.update(attrs or {})
        for key, value in root.items():
            schema.attr_of("/", key)
            self._file.attrs[key] = _attr_value(value)

    # -- context manager -------------------------------------------------------------
    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    @property
    def h5(self) -> h5py.File:
        """The open (temporary) h5py file, for writers that need more than tables."""
        if self._file is None:
            raise RuntimeError("result file already closed")
        return self._file

    def commit(self) -> Path:
        """Close the temporary file and rename it to the final path."""
        if self._file is not None:
            self._file.flush()
            self._file.close()
            self._file = None
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self._tmp, 0o666 & ~umask)  # mkstemp creates 0600; give a normal file mode
            os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Close and delete the temporary file; nothing appears at the final path."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._tmp.unlink(missing_ok=True)

    # -- groups and attributes --------------------------------------------------------
    def set_attrs(self, group: str, **attrs: Any) -> None:
        """Set declared attributes on ``group`` (created if missing)."""
        for key in attrs:
            schema.attr_of(group, key)
        grp = self.h5.require_group(group)
        for key, value in attrs.items():
            grp.attrs[key] = _attr_value(value)

    # -- tables ----------------------------------------------------------------------
    def write_table(self, name: str, df: pd.DataFrame, **attrs: Any) -> None:
        """Write a whole DataFrame as the declared table ``name`` (e.g. ``"powerflow/bus"``)."""
        self._create_table(name, df, resizable=False)
        if attrs:
            self.set_attrs(name, **attrs)

    def append_table(self, name: str, df: pd.DataFrame) -> None:
        """Append rows to the declared table ``name``; the first call creates it (resizable)."""
        if name not in self.h5:
            self._create_table(name, df, resizable=True)
            return
        decl = schema.table(name)
        grp = self.h5[name]
        n_old = grp["index"].shape[0]
        n_new = len(df)
        for col, data in [("index", df.index.to_numpy()), *((c, df[c].to_numpy()) for c in df)]:
            arr = _column_array(data, decl.column(str(col)))
            ds = grp[str(col)]
            ds.resize((n_old + n_new, *ds.shape[1:]))
            ds[n_old:] = arr
        grp.attrs["n_rows"] = n_old + n_new

    # -- n-D arrays --------------------------------------------------------------------
    def write_array(
        self,
        name: str,
        data: np.ndarray,
        *,
        maxshape: tuple[int | None, ...] | None = None,
        chunks: tuple[int, ...] | bool | None = True,
        **attrs: Any,
    ) -> h5py.Dataset:
        """Write the declared n-D array ``name`` (chunked, gzip level 4); returns the dataset."""
        decl = schema.array(name)
        compress = chunks is not None and chunks is not False
        ds = self.h5.create_dataset(
            name,
            data=np.asarray(data, dtype=decl.dtype),
            maxshape=maxshape,
            chunks=chunks,
            **({"compression": "gzip", "compression_opts": 4, "shuffle": True} if compress else {}),
        )
        ds.attrs["units"] = decl.unit
        for key, value in attrs.items():
            decl.attr(key)
            ds.attrs[key] = _attr_value(value)
        return ds

    def append_array(
        self,
        name: str,
        block: np.ndarray,
        *,
        chunk_rows: int = 64,
        chunk_width: int = 8192,
        compression_level: int | None = 4,
    ) -> h5py.Dataset:
        """Append ``block`` along axis 0 of the declared array ``name`` (created on first call).

        The dataset is resizable along its first axis, chunked ``chunk_rows`` x (up to
        ``chunk_width``) and gzip-compressed at ``compression_level`` (``None``: uncompressed).
        """
        decl = schema.array(name)
        block = np.asarray(block, dtype=decl.dtype)
        if name not in self.h5:
            tail = block.shape[1:]
            chunks = (max(1, chunk_rows), *(min(chunk_width, max(1, n)) for n in tail))
            filters: dict[str, Any] = (
                {"compression": "gzip", "compression_opts": compression_level, "shuffle": True}
                if compression_level is not None
                else {}
            )
            ds = self.h5.create_dataset(
                name, data=block, maxshape=(None, *tail), chunks=chunks, **filters
            )
            ds.attrs["units"] = decl.unit
            return ds
        ds = self.h5[name]
        n0 = ds.shape[0]
        ds.resize((n0 + block.shape[0], *ds.shape[1:]))
        ds[n0:] = block
        return ds

    def _create_table(self, name: str, df: pd.DataFrame, *, resizable: bool) -> None:
        decl = schema.table(name)
        cols = [(str(c), decl.column(str(c))) for c in df.columns]
        index_col = decl.column("index")
        if name in self.h5:
            del self.h5[name]
        grp = self.h5.create_group(name)
        grp.attrs["columns"] = [c for c, _ in cols]
        grp.attrs["index_name"] = str(df.index.name or index_col.name)
        grp.attrs["n_rows"] = len(df)
        for (col, decl_col), data in zip(
            [("index", index_col), *cols],
            [df.index.to_numpy(), *(df[c].to_numpy() for c in df.columns)],
            strict=True,
        ):
            arr = _column_array(data, decl_col)
            big = resizable or arr.shape[0] > COMPRESS_ABOVE
            kwargs: dict[str, Any] = {}
            if big:
                kwargs = {
                    "chunks": (min(max(arr.shape[0], 1), CHUNK_ROWS),)
                    if not resizable
                    else (CHUNK_ROWS // 16,),
                    "compression": "gzip",
                    "compression_opts": 4,
                    "shuffle": arr.dtype != object,
                }
            if resizable:
                kwargs["maxshape"] = (None,)
            ds = grp.create_dataset(col, data=arr, dtype=_h5_dtype(arr), **kwargs)
            kind = np.asarray(data).dtype.kind
            if decl_col.dtype == "datetime64" and kind != "M":
                ds.attrs["units"] = ""  # plain step numbers, not timestamps
            else:
                ds.attrs["units"] = decl_col.unit
            if decl_col.dtype == "bool" or kind == "b":
                ds.attrs["dtype"] = "bool"
