"""Read gridplan HDF5 result files back (plain h5py underneath)."""

from __future__ import annotations

import os
from typing import Any

import h5py
import numpy as np
import pandas as pd

from gridplan.errors import CaseError
from gridplan.results.schema import corrected_unit


def _open(path: str | os.PathLike[str]) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except FileNotFoundError:
        raise CaseError(f"{path}: no such result file") from None
    except OSError as exc:
        raise CaseError(f"{path}: not a readable HDF5 file ({exc})") from None


def _decode(ds: h5py.Dataset) -> np.ndarray:
    if h5py.check_string_dtype(ds.dtype) is not None:
        return ds.asstr()[()]
    data = ds[()]
    if ds.attrs.get("dtype", "") == "bool":
        return data.astype(bool)
    return data


def read_table(path: str | os.PathLike[str], table: str) -> pd.DataFrame:
    """Read table ``table`` (e.g. ``"powerflow/bus"``) of a result file as a DataFrame."""
    with _open(path) as h5:
        table = table.strip("/")
        if (
            table not in h5
            or not isinstance(h5[table], h5py.Group)
            or "columns" not in h5[table].attrs
        ):
            tables = [t for t, _ in _walk_tables(h5)]
            raise CaseError(
                f"{path}: no table {table!r}",
                hint=f"tables in this file: {', '.join(tables) or 'none'}",
            )
        grp = h5[table]
        columns = [str(c) for c in grp.attrs["columns"]]
        missing = [c for c in ["index", *columns] if not isinstance(grp.get(c), h5py.Dataset)]
        if missing:
            raise CaseError(
                f"{path}: table {table!r} lists column(s) {', '.join(missing)} but holds no "
                "data for them (a damaged file, or one gridplan did not write)"
            )
        lengths = {c: grp[c].shape[0] if grp[c].ndim else 0 for c in ["index", *columns]}
        if len(set(lengths.values())) > 1:
            raise CaseError(
                f"{path}: table {table!r} has columns of different lengths "
                f"({', '.join(f'{c} {n}' for c, n in lengths.items())}): a damaged file"
            )
        data = {c: _decode(grp[c]) for c in columns}
        index = pd.Index(_decode(grp["index"]), name=str(grp.attrs.get("index_name", "index")))
        df = pd.DataFrame(data, index=index, columns=columns)
        version = int(h5.attrs.get("schema_version", 1))
        df.attrs["units"] = {
            c: corrected_unit(c, str(grp[c].attrs.get("units", "")), version) for c in columns
        }
        return df


def read_attrs(path: str | os.PathLike[str], group: str = "/") -> dict[str, Any]:
    """Attributes of ``group`` (root by default) as a plain dict."""
    with _open(path) as h5:
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in h5[group].attrs.items()}


#: attributes the writer keeps on every table group for itself (not results)
TABLE_BOOKKEEPING = frozenset({"columns", "index_name", "n_rows"})


def is_result_file(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` carries the root attributes every gridplan result file has."""
    with _open(path) as h5:
        return "gridplan_version" in h5.attrs and "schema_version" in h5.attrs


def read_group_attrs(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Attributes of every group below the root (the key figures of a study live there),
    group path -> {name: value}; the writer's own table bookkeeping is left out."""
    out: dict[str, dict[str, Any]] = {}
    with _open(path) as h5:

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Group):
                attrs = {
                    k: (v.decode() if isinstance(v, bytes) else v)
                    for k, v in obj.attrs.items()
                    if k not in TABLE_BOOKKEEPING
                }
                if attrs:
                    out[name] = attrs

        h5.visititems(visit)
    return out


def _walk_tables(h5: h5py.File) -> list[tuple[str, h5py.Group]]:
    found: list[tuple[str, h5py.Group]] = []

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Group) and "columns" in obj.attrs:
            found.append((name, obj))

    h5.visititems(visit)
    return found


def list_tree(path: str | os.PathLike[str]) -> list[tuple[str, str, str]]:
    """Rows ``(path, shape_or_kind, units)`` for every group and dataset in the file."""
    rows: list[tuple[str, str, str]] = []
    with _open(path) as h5:

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                rows.append(
                    (
                        name,
                        f"{obj.shape} {obj.dtype if obj.dtype.kind != 'O' else 'str'}",
                        str(obj.attrs.get("units", "")),
                    )
                )
            else:
                rows.append((name + "/", "group", ""))

        h5.visititems(visit)
    return rows
