"""Atomic, streaming HDF5 writer for result tables.

Layout (schema version 1): root attributes describe the run; one group per study; a table
is a group holding one 1-D dataset per column (``units`` attribute on each), plus ``index``
(element index) and an attribute ``columns`` giving the column order. Strings are UTF-8.
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

from gridplan.results.schema import SCHEMA_VERSION, unit_of

STR_DTYPE = h5py.string_dtype(encoding="utf-8")
CHUNK_ROWS = 65536
COMPRESS_ABOVE = 4096  # rows; smaller datasets stay contiguous and uncompressed


def _column_array(values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "OUS":
        return np.array(["" if v is None or v != v else str(v) for v in arr], dtype=object)
    if arr.dtype.kind == "b":
        return arr.astype(np.uint8)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[s]").astype(np.int64)
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
        """Set attributes on ``group`` (created if missing)."""
        grp = self.h5.require_group(group)
        for key, value in attrs.items():
            grp.attrs[key] = _attr_value(value)

    # -- tables ----------------------------------------------------------------------
    def write_table(
        self, name: str, df: pd.DataFrame, *, units: Mapping[str, str] | None = None, **attrs: Any
    ) -> None:
        """Write a whole DataFrame as table ``name`` (e.g. ``"powerflow/bus"``)."""
        self._create_table(name, df, units=units, resizable=False)
        if attrs:
            self.set_attrs(name, **attrs)

    def append_table(
        self, name: str, df: pd.DataFrame, *, units: Mapping[str, str] | None = None
    ) -> None:
        """Append rows to table ``name``; the first call creates it (resizable, chunked)."""
        if name not in self.h5:
            self._create_table(name, df, units=units, resizable=True)
            return
        grp = self.h5[name]
        n_old = grp["index"].shape[0]
        n_new = len(df)
        for col, data in [("index", df.index.to_numpy()), *((c, df[c].to_numpy()) for c in df)]:
            arr = _column_array(data)
            ds = grp[str(col)]
            ds.resize((n_old + n_new, *ds.shape[1:]))
            ds[n_old:] = arr
        grp.attrs["n_rows"] = n_old + n_new

    def write_array(
        self,
        name: str,
        data: np.ndarray,
        *,
        unit: str = "",
        maxshape: tuple[int | None, ...] | None = None,
        chunks: tuple[int, ...] | bool | None = True,
        **attrs: Any,
    ) -> h5py.Dataset:
        """Write an n-D array (chunked and gzip-compressed) with its unit; returns the dataset."""
        ds = self.h5.create_dataset(
            name,
            data=data,
            maxshape=maxshape,
            chunks=chunks,
            compression="gzip",
            compression_opts=4,
            shuffle=True,
        )
        ds.attrs["units"] = unit
        for key, value in attrs.items():
            ds.attrs[key] = _attr_value(value)
        return ds

    def _create_table(
        self, name: str, df: pd.DataFrame, *, units: Mapping[str, str] | None, resizable: bool
    ) -> None:
        if name in self.h5:
            del self.h5[name]
        grp = self.h5.create_group(name)
        grp.attrs["columns"] = [str(c) for c in df.columns]
        grp.attrs["index_name"] = str(df.index.name or "index")
        grp.attrs["n_rows"] = len(df)
        for col, data in [("index", df.index.to_numpy()), *((c, df[c].to_numpy()) for c in df)]:
            arr = _column_array(data)
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
            ds = grp.create_dataset(str(col), data=arr, dtype=_h5_dtype(arr), **kwargs)
            unit = (units or {}).get(str(col), unit_of(str(col)))
            ds.attrs["units"] = unit
            if np.asarray(data).dtype.kind == "b":
                ds.attrs["dtype"] = "bool"
            if np.asarray(data).dtype.kind == "M":
                ds.attrs["units"] = "s since 1970-01-01T00:00:00Z"
