"""``case_sha256(net)``: a fingerprint of a case's input data, read from its tables.

The hash covers every input table (name, columns, dtypes, index, values) and the net's plain
attributes (``sn_mva``, ``f_hz``, ``std_types``, ...); result tables (``res_*``) and private
keys (``_*``) are left out, so a solved and an unsolved copy of one case hash alike. Values are
read as arrays and plain JSON types only: no object in the net is ever asked to serialize
itself, so nothing a case file carries is called while hashing (see docs/trust-model.md).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd


def _plain(value: Any) -> Any:
    """``value`` as JSON types, without calling any method of a foreign object."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return {
            "columns": [str(c) for c in value.columns],
            "index": _plain(value.index.to_numpy()),
            "data": [_plain(value[c].to_numpy()) for c in value.columns],
        }
    if isinstance(value, pd.Series):
        return {"index": _plain(value.index.to_numpy()), "data": _plain(value.to_numpy())}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in dict.items(value)}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def _update_frame(h: Any, df: pd.DataFrame) -> None:
    h.update(json.dumps([[str(c), str(t)] for c, t in df.dtypes.items()]).encode())
    h.update(
        np.ascontiguousarray(df.index.to_numpy()).tobytes()
        if df.index.dtype.kind in "iuf"
        else json.dumps(_plain(df.index.to_numpy())).encode()
    )
    for col in df.columns:
        arr = df[col].to_numpy()
        if arr.dtype.kind in "biuf":
            h.update(np.ascontiguousarray(arr).tobytes())
        else:
            h.update(json.dumps(_plain(arr), allow_nan=True).encode())


def case_sha256(net: Any) -> str:
    """SHA-256 hex digest of the input data of pandapower net ``net`` (results excluded)."""
    h = hashlib.sha256()
    for key in sorted(k for k in dict.keys(net) if isinstance(k, str)):
        if key.startswith(("res_", "_")):
            continue
        value = dict.__getitem__(net, key)
        h.update(f"\0{key}\0".encode())
        if isinstance(value, pd.DataFrame):
            _update_frame(h, value)
        else:
            h.update(json.dumps(_plain(value), sort_keys=True, allow_nan=True).encode())
    return h.hexdigest()
