"""Time-series profiles: per-element P/Q values for every time step, read and validated once.

A profile table sets one column (``p_mw`` or ``q_mvar``) of one element type (``load``,
``sgen``, ``storage``; ``gen`` takes ``p_mw`` only) for every step: rows are time steps,
columns are pandapower element indices. Sources:

- a ``Profiles`` object, or a mapping ``{"load.p_mw": DataFrame, ("sgen", "p_mw"): DataFrame}``;
- one wide DataFrame (or CSV file) with a column per element and quantity named
  ``<element>.<index>.<column>``, e.g. ``load.12.p_mw``; the CSV's first column holds ISO 8601
  timestamps (or integer step numbers);
- an HDF5 file with a group (default ``/profiles``) holding ``time`` (int64 seconds since
  1970-01-01 UTC, or ISO strings) and ``<element>/<column>/values`` (float64, steps x
  elements) with ``<element>/<column>/index`` (int64 element indices); see :func:`write_h5`.

Elements without a profile keep their value from the case; a load given only ``p_mw`` keeps its
case ``q_mvar`` (as pandapower's ``ConstControl``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridplan.errors import CaseError, format_problems, utf8_problem

#: element type -> columns a profile may set
ALLOWED: dict[str, tuple[str, ...]] = {
    "load": ("p_mw", "q_mvar"),
    "sgen": ("p_mw", "q_mvar"),
    "storage": ("p_mw", "q_mvar"),
    "gen": ("p_mw",),
}


@dataclass(frozen=True)
class Profiles:
    """Validated-shape profile tables sharing one time index.

    Attributes
    ----------
    index : pandas.Index
        ``DatetimeIndex`` of step start times, or a ``RangeIndex`` of step numbers.
    tables : dict
        ``(element, column) -> DataFrame`` (n_steps x n_elements, float64, columns = element
        indices), values in MW or Mvar.
    duration_h : float
        Length of one step, h.
    source : str
        Where the profiles came from (file name), for error messages.
    """

    index: pd.Index
    tables: dict[tuple[str, str], pd.DataFrame]
    duration_h: float
    source: str = "profiles"

    @property
    def n_steps(self) -> int:
        """Number of time steps."""
        return len(self.index)

    def slice(self, start: int, stop: int) -> Profiles:
        """Steps ``start:stop`` as a new Profiles object."""
        return Profiles(
            self.index[start:stop],
            {k: v.iloc[start:stop] for k, v in self.tables.items()},
            self.duration_h,
            self.source,
        )


def _split_key(key: Any, source: str, problems: list[str]) -> tuple[str, str] | None:
    if isinstance(key, tuple) and len(key) == 2:
        et, col = str(key[0]), str(key[1])
    else:
        parts = str(key).split(".")
        if len(parts) != 2:
            problems.append(f"table key {key!r} must be '<element>.<column>' like 'load.p_mw'")
            return None
        et, col = parts
    if et not in ALLOWED:
        problems.append(
            f"element type {et!r} must be one of {', '.join(ALLOWED)}, got {et!r} instead"
        )
        return None
    if col not in ALLOWED[et]:
        problems.append(f"{et} column {col!r} must be one of {', '.join(ALLOWED[et])}")
        return None
    return et, col


def _index_problems(index: pd.Index) -> tuple[list[str], float | None]:
    """Duplicated timestamps, unordered steps and gaps; the step length in h if regular."""
    problems: list[str] = []
    if not isinstance(index, pd.DatetimeIndex):
        return problems, None
    dup = index[index.duplicated()]
    if len(dup):
        shown = ", ".join(str(t) for t in dup[:3].unique())
        problems.append(
            f"timestamps must be unique, got {len(dup)} duplicated ({shown}"
            f"{' ...' if len(dup) > 3 else ''})"
        )
    if len(index) < 2:
        return problems, None
    d = np.diff(index.as_unit("s").asi8) / 3600.0
    if (d < 0).any():
        k = int(np.flatnonzero(d < 0)[0])
        problems.append(f"timestamps must increase, got {index[k + 1]} after {index[k]}")
    pos = d[d > 0]
    if pos.size == 0:
        return problems, None
    step = float(np.median(pos))
    gaps = np.flatnonzero(d > step * 1.0001)
    if gaps.size:
        k = int(gaps[0])
        problems.append(
            f"time steps must be regular ({step:g} h), got {gaps.size} gap(s), first from "
            f"{index[k]} to {index[k + 1]} ({d[k]:g} h)"
        )
    return problems, step


def from_frames(
    frames: Mapping[Any, pd.DataFrame] | pd.DataFrame,
    *,
    source: str = "profiles",
    duration_h: float | None = None,
    net: Any = None,
    allow_negative_loads: bool = False,
) -> Profiles:
    """Build :class:`Profiles` from DataFrames.

    Parameters
    ----------
    frames
        Mapping ``"load.p_mw"`` (or ``("load", "p_mw")``) -> DataFrame (rows = steps, columns =
        element indices), or one wide DataFrame with columns ``<element>.<index>.<column>``.
    source
        Name used in error messages.
    duration_h
        Step length in h; derived from a ``DatetimeIndex`` when omitted (1 h for step numbers).
    net, allow_negative_loads
        When ``net`` is given, the checks of :func:`validate` run in the same pass, so one
        error lists the shape problems and the elements the case does not have together.

    Raises
    ------
    CaseError
        Every shape problem found: bad keys/columns, non-numeric or missing values, differing
        time indices, duplicated timestamps, gaps.
    """
    problems: list[str] = []
    if isinstance(frames, pd.DataFrame):
        grouped: dict[tuple[str, str], dict[int, pd.Series]] = {}
        for name in frames.columns:
            parts = str(name).split(".")
            if len(parts) != 3 or not parts[1].lstrip("-").isdigit():
                problems.append(
                    f"column {name!r} must be named '<element>.<index>.<column>' "
                    "like 'load.12.p_mw'"
                )
                continue
            key = _split_key(f"{parts[0]}.{parts[2]}", source, problems)
            if key is not None:
                grouped.setdefault(key, {})[int(parts[1])] = frames[name]
        frames = {k: pd.DataFrame(v, index=frames.index) for k, v in grouped.items()}
    tables: dict[tuple[str, str], pd.DataFrame] = {}
    index: pd.Index | None = None
    for raw_key, df in frames.items():
        key = _split_key(raw_key, source, problems)
        if key is None:
            continue
        name = f"{key[0]}.{key[1]}"
        try:
            cols = pd.Index([int(c) for c in df.columns])
        except (TypeError, ValueError):
            problems.append(
                f"{name} columns must be integer element indices, got "
                f"{list(df.columns)[:3]} instead"
            )
            continue
        if cols.has_duplicates:
            problems.append(
                f"{name} names elements {sorted(set(cols[cols.duplicated()]))[:5]} more than once"
            )
            continue
        vals = df.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(vals)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            problems.append(
                f"{name} values must be finite numbers, got {int(bad.sum())} "
                f"missing/invalid (first: element {cols[c]} at {df.index[r]})"
            )
        if index is None:
            index = df.index
        elif not index.equals(df.index):
            problems.append(f"{name} must have the same time index as the other tables")
        tables[key] = pd.DataFrame(vals, index=df.index, columns=cols)
    if index is None:
        problems.append("no profile tables given")
        index = pd.RangeIndex(0)
    if isinstance(index, pd.DatetimeIndex) or index.dtype == object:
        try:
            index = pd.DatetimeIndex(index)
        except (TypeError, ValueError):
            problems.append("the time index must hold ISO 8601 timestamps or step numbers")
    idx_problems, step = _index_problems(index)
    problems += idx_problems
    if net is not None:
        problems += _net_problems(tables, net, allow_negative_loads)
    if problems:
        raise CaseError(format_problems(source, problems))
    if duration_h is None:
        duration_h = step if step is not None else 1.0
    tables = {k: v.set_axis(index, axis=0) for k, v in tables.items()}
    return Profiles(index, tables, float(duration_h), source)


def read_csv(
    path: str | os.PathLike[str],
    *,
    duration_h: float | None = None,
    net: Any = None,
    allow_negative_loads: bool = False,
) -> Profiles:
    """Read a wide CSV: first column ISO timestamps (or step numbers), then one column per
    element and quantity named ``<element>.<index>.<column>`` (MW / Mvar); ``net``: see
    :func:`from_frames`."""
    p = Path(path)
    try:
        df = pd.read_csv(p, index_col=0)
    except UnicodeDecodeError as exc:
        raise CaseError(f"{p}: {utf8_problem(exc)}") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise CaseError(f"{p}: cannot read profile CSV ({exc})") from exc
    if df.index.dtype == object:
        try:
            df.index = pd.DatetimeIndex(pd.to_datetime(df.index, format="ISO8601"))
        except (TypeError, ValueError) as exc:
            raise CaseError(
                f"{p}: first column must hold ISO 8601 timestamps or step numbers, "
                f"got {df.index[0]!r} instead"
            ) from exc
    return from_frames(
        df, source=str(p), duration_h=duration_h, net=net, allow_negative_loads=allow_negative_loads
    )


def write_h5(path: str | os.PathLike[str], profiles: Profiles, *, group: str = "profiles") -> None:
    """Write profiles to an HDF5 file in the layout :func:`read_h5` reads."""
    import h5py

    with h5py.File(path, "a") as h5:
        if group in h5:
            del h5[group]
        g = h5.create_group(group)
        g.attrs["duration_h"] = profiles.duration_h
        if isinstance(profiles.index, pd.DatetimeIndex):
            t = g.create_dataset("time", data=profiles.index.as_unit("s").asi8)
            t.attrs["units"] = "s since 1970-01-01T00:00:00Z"
        else:
            g.create_dataset("time", data=np.asarray(profiles.index, dtype=np.int64))
            g["time"].attrs["units"] = "step"
        for (et, col), df in profiles.tables.items():
            sub = g.require_group(f"{et}/{col}")
            sub.create_dataset(
                "values",
                data=df.to_numpy(dtype=float),
                chunks=True,
                compression="gzip",
                compression_opts=4,
            )
            sub["values"].attrs["units"] = "MW" if col == "p_mw" else "Mvar"
            sub.create_dataset("index", data=df.columns.to_numpy(dtype=np.int64))


def read_h5(
    path: str | os.PathLike[str],
    *,
    group: str = "profiles",
    duration_h: float | None = None,
    net: Any = None,
    allow_negative_loads: bool = False,
) -> Profiles:
    """Read profiles from an HDF5 group (layout: see the module docstring); ``net``: see
    :func:`from_frames`."""
    import h5py

    p = Path(path)
    try:
        h5 = h5py.File(p, "r")
    except OSError as exc:
        raise CaseError(f"{p}: cannot open profile HDF5 file ({exc})") from exc
    with h5:
        if group not in h5:
            raise CaseError(
                f"{p}: group /{group} must exist, got groups {sorted(h5.keys())} instead"
            )
        g = h5[group]
        if "time" not in g:
            raise CaseError(f"{p}: /{group}/time must exist (timestamps or step numbers)")
        t = g["time"][()]
        if t.dtype.kind in "SO":
            index: pd.Index = pd.DatetimeIndex(
                pd.to_datetime(
                    [x.decode() if isinstance(x, bytes) else x for x in t], format="ISO8601"
                )
            )
        elif g["time"].attrs.get("units", "") == "step":
            index = pd.Index(t.astype(np.int64))
        else:
            index = pd.DatetimeIndex(pd.to_datetime(t.astype(np.int64), unit="s"))
        frames: dict[str, pd.DataFrame] = {}
        for et in g:
            if et == "time" or not isinstance(g[et], h5py.Group):
                continue
            for col in g[et]:
                sub = g[et][col]
                if "values" not in sub or "index" not in sub:
                    raise CaseError(f"{p}: /{group}/{et}/{col} must hold 'values' and 'index'")
                frames[f"{et}.{col}"] = pd.DataFrame(
                    sub["values"][()], index=index, columns=sub["index"][()]
                )
        if (
            duration_h is None
            and "duration_h" in g.attrs
            and not isinstance(index, pd.DatetimeIndex)
        ):
            duration_h = float(g.attrs["duration_h"])
    return from_frames(
        frames,
        source=str(p),
        duration_h=duration_h,
        net=net,
        allow_negative_loads=allow_negative_loads,
    )


def read_profiles(
    source: Any,
    *,
    duration_h: float | None = None,
    net: Any = None,
    allow_negative_loads: bool = False,
) -> Profiles:
    """Profiles from a :class:`Profiles`, DataFrame(s), CSV file or HDF5 file (``.h5``/``.hdf5``,
    optionally ``file.h5:/group``); with ``net``, also checked against it (:func:`validate`)
    in the same pass."""
    checks = {"net": net, "allow_negative_loads": allow_negative_loads}
    if isinstance(source, Profiles):
        if net is not None:
            validate(source, net, allow_negative_loads=allow_negative_loads)
        return source
    if isinstance(source, pd.DataFrame | Mapping):
        return from_frames(source, duration_h=duration_h, **checks)
    text = str(source)
    group = "profiles"
    if ":" in text and Path(text.rsplit(":", 1)[0]).suffix.lower() in {".h5", ".hdf5"}:
        text, group = text.rsplit(":", 1)
        group = group.strip("/") or "profiles"
    p = Path(text)
    if not p.exists():
        raise CaseError(f"{p}: profile file must exist, got a path with no file instead")
    if p.suffix.lower() in {".h5", ".hdf5"}:
        return read_h5(p, group=group, duration_h=duration_h, **checks)
    if p.suffix.lower() in {".csv", ".txt"}:
        return read_csv(p, duration_h=duration_h, **checks)
    raise CaseError(f"{p}: profile file must be .csv, .h5 or .hdf5, got {p.suffix!r} instead")


def validate(profiles: Profiles, net: Any, *, allow_negative_loads: bool = False) -> None:
    """Check profiles against a net; raise one :class:`CaseError` naming every problem.

    Problems: elements the case does not have; negative load ``p_mw`` unless
    ``allow_negative_loads``.
    """
    problems = _net_problems(profiles.tables, net, allow_negative_loads)
    if problems:
        raise CaseError(format_problems(profiles.source, problems))


def _net_problems(
    tables: Mapping[tuple[str, str], pd.DataFrame], net: Any, allow_negative_loads: bool
) -> list[str]:
    problems: list[str] = []
    for (et, col), df in tables.items():
        known = net[et].index if et in net else pd.Index([])
        missing = df.columns.difference(known)
        if len(missing):
            problems.append(
                f"{et}.{col} names {et} {missing.tolist()[:10]}"
                f"{' ...' if len(missing) > 10 else ''} which the case does not have"
            )
        if et == "load" and col == "p_mw" and not allow_negative_loads:
            vals = df.to_numpy()
            neg = vals < 0
            if neg.any():
                r, c = np.argwhere(neg)[0]
                problems.append(
                    f"load p_mw must be >= 0, got {vals[r, c]:g} for load {df.columns[c]} at "
                    f"{df.index[r]} ({int(neg.any(axis=0).sum())} load(s) negative; pass "
                    "allow_negative_loads to accept)"
                )
    return problems


def synthetic(
    net: Any,
    n_steps: int,
    *,
    start: str = "2025-01-01",
    freq_h: float = 1.0,
    seed: int = 0,
    noise: float = 0.03,
) -> Profiles:
    """Plausible demo profiles for every load, sgen and gen of ``net`` (not measured data).

    Loads follow one of three daily shapes (residential, commercial, flat) with a seasonal
    factor and ``noise`` (relative, per element and step); sgens follow a PV shape (zero at
    night, seasonal peak) with per-element cloudiness; gens follow the mean load shape so the
    slack does not carry all of the change. Values scale the case's base values.
    """
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=n_steps, freq=pd.Timedelta(hours=freq_h))
    hour = (index.hour + index.minute / 60.0).to_numpy()
    doy = index.dayofyear.to_numpy()
    season = 1.0 + 0.15 * np.cos(2 * np.pi * (doy - 15) / 365.0)
    shapes = np.stack(
        [
            0.45
            + 0.25 * np.exp(-(((hour - 8) / 2.0) ** 2))
            + 0.5 * np.exp(-(((hour - 19) / 2.5) ** 2)),
            0.35 + 0.65 * np.clip(np.sin(np.pi * (hour - 6) / 13.0), 0, None),
            np.full_like(hour, 0.8),
        ]
    )  # (3, n_steps)
    shapes = shapes * season[None, :]
    tables: dict[tuple[str, str], pd.DataFrame] = {}
    if len(net.load):
        kind = rng.integers(0, 3, len(net.load))
        f = shapes[kind].T * (1.0 + noise * rng.standard_normal((n_steps, len(net.load))))
        f = np.clip(f, 0.0, None)
        tables[("load", "p_mw")] = pd.DataFrame(
            f * net.load.p_mw.to_numpy(), index=index, columns=net.load.index
        )
        tables[("load", "q_mvar")] = pd.DataFrame(
            f * net.load.q_mvar.to_numpy(), index=index, columns=net.load.index
        )
    if len(net.sgen):
        sun = np.clip(np.sin(np.pi * (hour - 6) / 13.0), 0, None) * (
            1.0 - 0.3 * np.cos(2 * np.pi * (doy - 172) / 365.0)
        )
        cloud = rng.uniform(0.4, 1.0, (n_steps, len(net.sgen)))
        tables[("sgen", "p_mw")] = pd.DataFrame(
            sun[:, None] * cloud * net.sgen.p_mw.to_numpy(), index=index, columns=net.sgen.index
        )
    if len(net.gen):
        mean = shapes.mean(axis=0)  # generation follows the average load level
        tables[("gen", "p_mw")] = pd.DataFrame(
            mean[:, None] * net.gen.p_mw.to_numpy(), index=index, columns=net.gen.index
        )
    return Profiles(index, tables, float(freq_h), "synthetic")
