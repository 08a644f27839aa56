"""Read a pandapower JSON case as data: nothing in the file may make gridplan import or call.

pandapower's JSON decoder imports the module a file names in ``_module`` and instantiates or
looks up ``_class`` in it, before it checks anything. So the decision is taken here, before
pandapower sees the file, on the fully decoded structure:

1. The file is parsed with the standard library (no object hooks), and every string that
   holds JSON (a table's embedded ``_object``, a cell) is parsed too, recursively, so escapes
   such as ``\\u005fmodule`` are resolved before anything is inspected.
2. Every object carrying ``_module``/``_class`` must be one exact (module, class) pair of
   :data:`ALLOWED_OBJECTS` (no prefixes, no ``builtins``, no functions, no controllers), with
   only the keys that pair's decoder reads, each of the expected JSON type; a table's data must
   be embedded JSON (never a file path, which pandas would open).
3. pandapower then decodes a canonical text re-encoded from the checked structure (every
   embedded table re-serialized by :func:`json.dumps`), never the original bytes, so a second
   JSON parser cannot read something different from what was checked.

:func:`read_pandapower_json` returns that canonical text; a refused file raises
:class:`~gridplan.errors.CaseError` naming the file, where in it, and what was found.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gridplan.errors import CaseError

_NUMPY_SCALARS = (
    "bool_",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "str_",
)

#: every (module, class) pair a case file may carry, and the keys its object may have
ALLOWED_OBJECTS: dict[tuple[str, str], frozenset[str]] = {
    ("pandapower.auxiliary", "pandapowerNet"): frozenset(),
    **{
        pair: frozenset(
            {
                "orient",
                "dtype",
                "is_multiindex",
                "is_multicolumn",
                "index_name",
                "index_names",
                "column_name",
                "column_names",
            }
        )
        for pair in (("pandas.core.frame", "DataFrame"), ("pandas", "DataFrame"))
    },
    **{
        pair: frozenset({"orient", "dtype", "typ", "is_multiindex", "index_name", "index_names"})
        for pair in (("pandas.core.series", "Series"), ("pandas", "Series"))
    },
    ("numpy", "array"): frozenset(),
    ("numpy", "bool"): frozenset(),
    **{("numpy", name): frozenset() for name in _NUMPY_SCALARS},
}
_TABLE_CLASSES = {"DataFrame", "Series"}
_ORIENTS = {"split", "columns", "index"}
_GEOJSON_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
    "Feature",
    "FeatureCollection",
}
_MAX_DEPTH = 200


class _Refused(Exception):
    """A problem at a place in the file (``where`` is a JSON-path-like string)."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")


def _embedded_json(text: str) -> Any | None:
    """The value of ``text`` when it is a JSON object or array, else None."""
    head = text.lstrip()[:1]
    if head not in ("{", "["):
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None


def _check_scalar_dict(value: Any, where: str, what: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(v, str | int | float | bool | type(None)):
                raise _Refused(f"{where}.{k}", f"{what} must map names to strings")
    elif not isinstance(value, str | type(None)):
        raise _Refused(where, f"{what} must be a string or a mapping of strings")


def _check_names(value: Any, where: str) -> None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, str | int | float | type(None)):
            raise _Refused(where, "index/column names must be strings, numbers or null")


def _canonical(node: Any, where: str, depth: int, geo: bool = False) -> Any:
    """Check ``node`` and return its canonical form (embedded tables re-encoded)."""
    if depth > _MAX_DEPTH:
        raise _Refused(where, f"nested deeper than {_MAX_DEPTH} levels")
    if isinstance(node, list):
        return [_canonical(v, f"{where}[{i}]", depth + 1, geo) for i, v in enumerate(node)]
    if isinstance(node, str):
        inner = _embedded_json(node)
        if inner is not None:
            # checked as pandapower or pandas could decode it; kept as the original text
            _canonical(inner, f"{where}<embedded JSON>", depth + 1, geo)
        return node
    if not isinstance(node, dict):
        return node
    if geo and "type" in node and node["type"] not in _GEOJSON_TYPES:
        raise _Refused(where, f"geometry type {node['type']!r} is not a GeoJSON geometry")
    if "_module" not in node and "_class" not in node:
        return {k: _canonical(v, f"{where}.{k}", depth + 1, geo) for k, v in node.items()}
    return _canonical_object(node, where, depth)


def _canonical_object(node: dict[str, Any], where: str, depth: int) -> dict[str, Any]:
    module, cls = node.get("_module"), node.get("_class")
    pair = (module, cls)
    if not (isinstance(module, str) and isinstance(cls, str)) or pair not in ALLOWED_OBJECTS:
        raise _Refused(
            where,
            f"refuses object of module {module!r}, class {cls!r}: a case file may only hold "
            "pandapower nets, pandas tables and numpy values",
        )
    extra = set(node) - {"_module", "_class", "_object"} - ALLOWED_OBJECTS[pair]
    if extra:
        raise _Refused(where, f"{cls} object has unexpected keys {sorted(extra)}")
    if "_object" not in node:
        raise _Refused(where, f"{cls} object has no _object")
    obj = node["_object"]
    out: dict[str, Any] = {k: v for k, v in node.items() if k != "_object"}
    if cls == "pandapowerNet":
        if where != "$":
            raise _Refused(where, "a pandapowerNet may only be the top level of the file")
        if not isinstance(obj, dict):
            raise _Refused(where, "the net's _object must be a JSON object of tables")
        out["_object"] = {k: _net_entry(k, v, depth) for k, v in obj.items()}
        return out
    if cls in _TABLE_CLASSES:
        if not isinstance(obj, str):
            raise _Refused(where, f"{cls} data must be embedded JSON text")
        data = _embedded_json(obj)
        if not isinstance(data, dict | list):
            raise _Refused(where, f"{cls} data is not embedded JSON (a file path is never read)")
        if out.get("orient", "split") not in _ORIENTS:
            raise _Refused(where, f"{cls} orient must be one of {sorted(_ORIENTS)}")
        if "typ" in out and out["typ"] != "series":
            raise _Refused(where, "Series typ must be 'series'")
        _check_scalar_dict(out.get("dtype"), f"{where}.dtype", "dtype")
        for key in ("index_name", "index_names", "column_name", "column_names"):
            if key in out:
                _check_names(out[key], f"{where}.{key}")
        for key in ("is_multiindex", "is_multicolumn"):
            if key in out and not isinstance(out[key], bool):
                raise _Refused(f"{where}.{key}", "must be true or false")
        columns = data.get("columns", []) if isinstance(data, dict) else []
        geo_at = columns.index("geo") if isinstance(columns, list) and "geo" in columns else -1
        checked = _canonical_table(data, where, depth, geo_at)
        out["_object"] = json.dumps(checked, allow_nan=True)
        return out
    # numpy values: plain numbers, strings, booleans or lists of them
    out["_object"] = _canonical(obj, f"{where}._object", depth + 1)
    if isinstance(out["_object"], dict):
        raise _Refused(where, f"numpy {cls} must hold a value, not an object")
    return out


def _canonical_table(data: Any, where: str, depth: int, geo_at: int) -> Any:
    """Check a table's decoded data; cells of split-oriented tables are named by row and column."""
    split = isinstance(data, dict) and isinstance(data.get("data"), list)
    if not split:
        return _canonical(data, f"{where} data", depth + 1)
    columns = data.get("columns") if isinstance(data.get("columns"), list) else []
    index = data.get("index") if isinstance(data.get("index"), list) else []
    rows = []
    for i, row in enumerate(data["data"]):
        label = index[i] if i < len(index) else i
        if not isinstance(row, list):
            rows.append(_canonical(row, f"{where} row {label}", depth + 2))
            continue
        rows.append(
            [
                _canonical(
                    v,
                    f"{where} row {label} column {columns[j] if j < len(columns) else j!r}",
                    depth + 2,
                    geo=(j == geo_at),
                )
                for j, v in enumerate(row)
            ]
        )
    rest = {k: _canonical(v, f"{where} {k}", depth + 1) for k, v in data.items() if k != "data"}
    rest["data"] = rows
    return rest


def _net_entry(key: str, value: Any, depth: int) -> Any:
    from pandapower.auxiliary import pandapowerNet

    where = f"table {key!r}"
    if not key or key.startswith("__") or hasattr(pandapowerNet, key):
        raise _Refused(where, "this key would replace an attribute of the net, not add a table")
    return _canonical(value, where, depth + 1)


def read_pandapower_json(path: Path) -> str:
    """Check the pandapower JSON file ``path`` and return canonical text for pandapower.

    Raises :class:`CaseError` (one line: the file, where in it, what was refused) when the file
    cannot be read, is not JSON, is not a pandapower net, or holds anything but data.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CaseError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise CaseError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseError(
            f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise CaseError(f"{path}: JSON nested too deeply") from None
    if not isinstance(raw, dict) or raw.get("_class") != "pandapowerNet":
        raise CaseError(
            f"{path}: not a pandapower net (JSON top level must be a pandapowerNet object)"
        )
    try:
        canonical = _canonical(raw, "$", 0)
    except _Refused as exc:
        raise CaseError(
            f"{path}: {exc}", hint="case files are data; see docs/trust-model.md"
        ) from None
    return json.dumps(canonical, allow_nan=True)
