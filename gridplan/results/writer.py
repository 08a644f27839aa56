"""Atomic, streaming HDF5 writer for result tables.

Layout (docs/results-format.md, generated from :mod:`gridplan.results.schema`): root attributes
describe the run; one group per study; a table is a group holding one 1-D dataset per column
(``units`` attribute on each), plus ``index`` (element index) and an attribute ``columns``
giving the column order. Strings are UTF-8. Every table, column, array and attribute must be
declared in the schema: the writer takes units and dtypes from there and raises
:class:`~gridplan.results.schema.SchemaError` for anything undeclared.
The file is written under a temporary name in the target's folder and renamed on success,
so a run killed half-way never leaves a broken file under the final name; the writer holds a
lock on its target while it writes, and removes what writers that died left behind
(:mod:`gridplan.results.locking`).

A write that fails (disk full, file size limit) raises :class:`~gridplan.errors.OutputError`
and touches the file no more: HDF5 is not safe to use after a failed write (it reports some
failures only where h5py frees an object, as an ignored exception, and a later write then
crashes the process), so the writer records those too, refuses every later operation, points
HDF5's file descriptor at ``/dev/null`` so that closing cannot fail again, and deletes the
temporary file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import functools
import os
import re
import shlex
import sys
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np
import pandas as pd

from gridplan.errors import CaseError, OutputError
from gridplan.results import schema
from gridplan.results.locking import TargetLock, clean_stale, part_prefix
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


_WRITE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO, errno.EROFS}
_HDF5_ERRNO = re.compile(r"errno = (\d+)")
_LIVE: weakref.WeakSet[ResultWriter] = weakref.WeakSet()
_previous_hook: Any = None
_ABANDONED: list[Any] = []


def _write_errno(exc: BaseException) -> int | None:
    """The errno of a failed file write reported by h5py/HDF5, or None for other errors."""
    if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
        return exc.errno
    if isinstance(exc, OSError | RuntimeError) and "write failed" in str(exc):
        m = _HDF5_ERRNO.search(str(exc))
        return int(m.group(1)) if m else errno.EIO
    return None


def _unraisable(info: Any) -> None:
    """Record write failures HDF5 reports while h5py frees an object (else ignored)."""
    exc = info.exc_value
    if exc is not None and _write_errno(exc) is not None and len(_LIVE):
        hit = [w for w in _LIVE if w._tmp.name in str(exc)] or list(_LIVE)
        for w in hit:
            w._failure = w._failure or exc
            w._deferred = True
        return
    (_previous_hook or sys.__unraisablehook__)(info)


def _watch(writer: ResultWriter) -> None:
    """Register a live writer; the hook that records HDF5's deferred failures goes in once."""
    global _previous_hook
    _LIVE.add(writer)
    if sys.unraisablehook is not _unraisable:
        _previous_hook = sys.unraisablehook
        sys.unraisablehook = _unraisable


def _guarded(method: Any) -> Any:
    """Run a writer method under :meth:`ResultWriter._guard`."""

    @functools.wraps(method)
    def wrapper(self: ResultWriter, *args: Any, **kwargs: Any) -> Any:
        try:
            with self._guard():
                self._check_room(sum(_payload_bytes(a) for a in (*args, *kwargs.values())))
                out = method(self, *args, **kwargs)
                # write the chunks while their datasets are open (kept in self._keep): a
                # failure is raised here, not where h5py frees a dataset (which HDF5 reports
                # as an ignored exception, after which it is no longer safe to use)
                self._file.flush()  # type: ignore[union-attr]
                return out
        finally:
            self._keep.clear()

    return wrapper


def _payload_bytes(value: Any) -> int:
    """Uncompressed size of the data a writer call is given (0 for names and options)."""
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(index=True, deep=True).sum())
    if isinstance(value, np.ndarray):
        return int(value.nbytes) + (64 * value.size if value.dtype == object else 0)
    return 0


def _room_bytes(folder: Path, size_now: int) -> int | None:
    """Bytes a file of ``size_now`` bytes in ``folder`` may still grow by: free space on the
    file system and the process's file size limit (RLIMIT_FSIZE), or None when unknown."""
    room: list[int] = []
    try:
        st = os.statvfs(folder)
        # root may also fill the blocks reserved for it; everyone else only the available ones
        free = st.f_bfree if hasattr(os, "geteuid") and os.geteuid() == 0 else st.f_bavail
        room.append(free * st.f_frsize)
    except (OSError, AttributeError):
        pass
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if soft != resource.RLIM_INFINITY:
            room.append(soft - size_now)
    except (ImportError, OSError, ValueError):
        pass
    return min(room) if room else None


#: room kept free beyond the data of a write (HDF5 metadata, chunk index, gzip's worst case)
ROOM_MARGIN_BYTES = 1 << 20


def _attr_value(value: Any) -> Any:
    if isinstance(value, str | bytes | int | float | np.generic):
        return value
    if isinstance(value, bool):
        return int(value)
    if value is None:
        return ""
    return str(value)


def _deflate() -> Any:
    """``compress(data, level)`` giving a zlib stream, as HDF5's deflate filter writes: ISA-L's
    (python-isal, ~10x faster at levels 1-3, the same format) when installed, else zlib's.
    Both release the GIL, so solver threads run on while a block is compressed."""
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - isal is a dependency; zlib gives the same format
        isal_zlib = None
    import zlib

    def compress(data: bytes | memoryview, level: int) -> bytes:
        if isal_zlib is not None and 1 <= level <= 3:
            return isal_zlib.compress(data, level)
        return zlib.compress(data, level)

    return compress


_compress = _deflate()


def _pipeline(ds: h5py.Dataset) -> str | None:
    """``"raw"`` or ``"shuffle+deflate"`` when this writer can filter the chunks of ``ds``
    itself (native numeric dtype, exactly those filters), else None."""
    if ds.chunks is None or ds.dtype.kind not in "fiu" or not ds.dtype.isnative:
        return None
    dcpl = ds.id.get_create_plist()
    filters = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
    if not filters:
        return "raw"
    if filters == [h5py.h5z.FILTER_SHUFFLE, h5py.h5z.FILTER_DEFLATE]:
        return "shuffle+deflate"
    return None


def _encode_chunk(chunk: np.ndarray, pipeline: str, level: int) -> bytes:
    """One whole chunk as HDF5 stores it: raw bytes, or HDF5's byte shuffle (byte j of every
    element together, j = 0..itemsize-1) then a zlib stream, which is what its shuffle and
    deflate filters produce and undo."""
    raw = np.ascontiguousarray(chunk)
    if pipeline == "raw":
        return raw.tobytes()
    size = raw.dtype.itemsize
    shuffled = raw.view(np.uint8).reshape(-1, size).T.copy() if size > 1 else raw
    return _compress(memoryview(shuffled).cast("B"), level)


def _write_rows(ds: h5py.Dataset, n0: int, block: np.ndarray) -> None:
    """Write ``block`` into rows ``n0...`` of the (already resized) chunked dataset ``ds``."""
    pipeline = _pipeline(ds)
    n1 = n0 + block.shape[0]
    if pipeline is None:
        ds[n0:n1] = block
        return
    rows = ds.chunks[0]
    # rows completing a chunk an earlier append began: through HDF5 (it merges the chunk)
    head = min(n1, -(-n0 // rows) * rows)
    if head > n0:
        ds[n0:head] = block[: head - n0]
    level = 0
    if pipeline == "shuffle+deflate":
        level = int(ds.id.get_create_plist().get_filter(1)[2][0])
    tail = block.shape[1:]
    chunk_shape = ds.chunks
    for r0 in range(head, n1, rows):
        part = block[r0 - n0 : min(n1, r0 + rows) - n0]
        for corner in np.ndindex(*(-(-n // c) for n, c in zip(tail, chunk_shape[1:], strict=True))):
            lo = [i * c for i, c in zip(corner, chunk_shape[1:], strict=True)]
            sl = tuple(slice(a, a + c) for a, c in zip(lo, chunk_shape[1:], strict=True))
            piece = part[(slice(None), *sl)]
            if piece.shape != chunk_shape:  # an edge chunk: HDF5 stores it whole
                full = np.zeros(chunk_shape, dtype=block.dtype)
                full[tuple(slice(0, k) for k in piece.shape)] = piece
                piece = full
            ds.id.write_direct_chunk((r0, *lo), _encode_chunk(piece, pipeline, level))


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
        self._failure: BaseException | None = None
        self._deferred = False  # a failure HDF5 reported while h5py freed an object
        self._detached = False
        self._keep: list[Any] = []  # datasets of the running call, freed after its flush
        self._lock: TargetLock | None = None
        self._file: h5py.File | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = TargetLock(self.path)
            clean_stale(self.path.parent, own=self.path)
            fd, tmp = tempfile.mkstemp(
                prefix=part_prefix(self.path), suffix=".part", dir=self.path.parent
            )
            os.close(fd)
        except OSError as exc:
            self._release()
            raise CaseError(
                f"{self.path}: cannot write a result file there ({exc.strerror or exc})"
            ) from None
        except BaseException:
            self._release()
            raise
        self._tmp = Path(tmp)
        _watch(self)
        self._file = h5py.File(self._tmp, "w")
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
            return
        if exc is not None and _write_errno(exc) is not None:
            self._failure = self._failure or exc  # a write through .h5 directly
        self.abort()
        if self._failure is not None and not isinstance(exc, OutputError):
            self._raise_if_failed()

    @property
    def h5(self) -> h5py.File:
        """The open (temporary) h5py file, for writers that need more than tables."""
        self._raise_if_failed()
        if self._file is None:
            raise RuntimeError("result file already closed")
        return self._file

    def commit(self) -> Path:
        """Close the temporary file and rename it to the final path."""
        if self._file is not None:
            try:
                with self._guard():
                    self._check_room(0)
                    self._file.flush()
                    self._file.close()
            except OutputError:
                self.abort()
                raise
            self._file = None
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self._tmp, 0o666 & ~umask)  # mkstemp creates 0600; give a normal file mode
            os.replace(self._tmp, self.path)
            self._release()
        return self.path

    def abort(self) -> None:
        """Close and delete the temporary file; nothing appears at the final path."""
        if self._file is not None:
            if self._failure is None:
                self._file.close()
            elif not self._deferred:
                self._detach()
                with contextlib.suppress(Exception):  # HDF5 may still complain: nothing to save
                    self._file.close()
            else:
                # HDF5 failed inside an object's release: closing could crash the process.
                # Its writes go to /dev/null, and the file object is left to the interpreter.
                self._detach()
                _ABANDONED.append(self._file)
            self._file = None
        if hasattr(self, "_tmp"):
            self._tmp.unlink(missing_ok=True)
        self._release()

    # -- failures ----------------------------------------------------------------------
    def _release(self) -> None:
        _LIVE.discard(self)
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _detach(self) -> None:
        """Point HDF5's file descriptor at /dev/null: closing then writes nothing anywhere."""
        if self._detached:
            return
        self._detached = True
        try:
            fd = self._file.id.get_vfd_handle()  # type: ignore[union-attr]
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, fd)
            os.close(null)
        except Exception:  # not the sec2 driver: close as it is
            pass

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            code = _write_errno(self._failure) or errno.EIO
            raise OutputError(
                f"{self.path}: cannot write the result file ({os.strerror(code)}); nothing was "
                "kept under this name",
                hint="free space (or raise the file size limit) and run again",
            )

    def _check_room(self, nbytes: int) -> None:
        """Refuse a write the disk or the file size limit has no room for, before HDF5 tries
        it: HDF5 is not safe to use after a failed write (see the module docstring)."""
        if self._file is None:
            return
        try:
            size_now = max(os.path.getsize(self._tmp), int(self._file.id.get_filesize()))
        except (OSError, RuntimeError, ValueError):
            return
        room = _room_bytes(self.path.parent, size_now)
        need = int(nbytes * 1.05) + ROOM_MARGIN_BYTES
        if room is not None and room < need:
            code = errno.ENOSPC
            with contextlib.suppress(ImportError, OSError, ValueError):
                import resource

                soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
                if soft != resource.RLIM_INFINITY and soft - size_now < need:
                    code = errno.EFBIG
            self._failure = OSError(code, os.strerror(code))
            self._raise_if_failed()

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn a failed HDF5 write into OutputError and refuse to touch the file again."""
        self._raise_if_failed()
        try:
            yield
        except (OSError, RuntimeError) as exc:
            if _write_errno(exc) is None:
                raise
            self._failure = self._failure or exc
            # before any dataset of the failed call is freed (the traceback holds them)
            self._detach()
        self._raise_if_failed()  # also failures HDF5 reported while h5py freed an object

    # -- groups and attributes --------------------------------------------------------
    @_guarded
    def set_attrs(self, group: str, **attrs: Any) -> None:
        """Set declared attributes on ``group`` (created if missing)."""
        for key in attrs:
            schema.attr_of(group, key)
        grp = self.h5.require_group(group)
        self._keep.append(grp)
        for key, value in attrs.items():
            grp.attrs[key] = _attr_value(value)

    # -- tables ----------------------------------------------------------------------
    @_guarded
    def write_table(self, name: str, df: pd.DataFrame, **attrs: Any) -> None:
        """Write a whole DataFrame as the declared table ``name`` (e.g. ``"powerflow/bus"``)."""
        self._create_table(name, df, resizable=False)
        if attrs:
            self.set_attrs(name, **attrs)

    @_guarded
    def append_table(self, name: str, df: pd.DataFrame) -> None:
        """Append rows to the declared table ``name``; the first call creates it (resizable)."""
        if name not in self.h5:
            self._create_table(name, df, resizable=True)
            return
        decl = schema.table(name)
        grp = self.h5[name]
        self._keep.append(grp)
        n_old = grp["index"].shape[0]
        n_new = len(df)
        for col, data in [("index", df.index.to_numpy()), *((c, df[c].to_numpy()) for c in df)]:
            arr = _column_array(data, decl.column(str(col)))
            ds = grp[str(col)]
            self._keep.append(ds)
            ds.resize((n_old + n_new, *ds.shape[1:]))
            ds[n_old:] = arr
            self._raise_if_failed()
        grp.attrs["n_rows"] = n_old + n_new

    # -- n-D arrays --------------------------------------------------------------------
    @_guarded
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

    @_guarded
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
        ``chunk_width``) and compressed with HDF5's standard shuffle + deflate (gzip) filters
        at ``compression_level`` (``None``: uncompressed), so any HDF5 reader opens it.
        Whole chunks are filtered here and stored with ``write_direct_chunk``
        (:func:`_encode_chunk`); only rows that complete a chunk an earlier call began go
        through HDF5's own filter pipeline. Appending in multiples of ``chunk_rows`` keeps
        every write on the fast path.
        """
        decl = schema.array(name)
        block = np.ascontiguousarray(block, dtype=decl.dtype)
        if name not in self.h5:
            tail = block.shape[1:]
            chunks = (max(1, chunk_rows), *(min(chunk_width, max(1, n)) for n in tail))
            filters: dict[str, Any] = (
                {"compression": "gzip", "compression_opts": compression_level, "shuffle": True}
                if compression_level is not None
                else {}
            )
            ds = self.h5.create_dataset(
                name,
                shape=(0, *tail),
                dtype=block.dtype,
                maxshape=(None, *tail),
                chunks=chunks,
                **filters,
            )
            ds.attrs["units"] = decl.unit
        else:
            ds = self.h5[name]
        self._keep.append(ds)
        n0 = ds.shape[0]
        ds.resize((n0 + block.shape[0], *ds.shape[1:]))
        if block.shape[0]:
            _write_rows(ds, n0, block)
            self._raise_if_failed()
        return ds

    def _create_table(self, name: str, df: pd.DataFrame, *, resizable: bool) -> None:
        decl = schema.table(name)
        cols = [(str(c), decl.column(str(c))) for c in df.columns]
        index_col = decl.column("index")
        if name in self.h5:
            del self.h5[name]
        grp = self.h5.create_group(name)
        self._keep.append(grp)
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
            self._raise_if_failed()
            ds = grp.create_dataset(col, data=arr, dtype=_h5_dtype(arr), **kwargs)
            self._keep.append(ds)
            kind = np.asarray(data).dtype.kind
            if decl_col.dtype == "datetime64" and kind != "M":
                ds.attrs["units"] = ""  # plain step numbers, not timestamps
            else:
                ds.attrs["units"] = decl_col.unit
            if decl_col.dtype == "bool" or kind == "b":
                ds.attrs["dtype"] = "bool"
