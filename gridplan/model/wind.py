"""Wind inputs read and checked once: turbine types, farm tables, wind series, scenarios.

Turbine types (the ``turbine`` of a farm), in this order:

- ``IEC-<class>/<kW>``: a generic IEC 61400-1 class curve (``IEC-II/3000``), see
  :func:`gridplan.core.wind_power.generic_curve`;
- a CSV file (``*.csv``): columns ``wind_speed_ms`` and one of ``p_kw``, ``p_mw``, ``p_w``;
- a type of windpowerlib's bundled turbine library (``E-82/2000``, ``V90/2000``): its
  ``oedb/power_curves.csv`` and ``turbine_data.csv`` are read as data from the installed
  package (``pip install "gridplan[wind]"``); windpowerlib's code is never run and its
  online refresh never called.

A curve that stops before its cut-out while still producing is extended to the farm's
``cut_out_ms`` or refused (19 of windpowerlib's 67 curves end below 25 m/s at rated power).

Farm tables (CSV, or TOML with ``[[farm]]`` tables), one farm per row; see :data:`FARM_COLUMNS`.
Wind files: CSV, first column ISO 8601 timestamps (regular steps, no gaps), one column of
speeds (m/s) per site, optional ``temperature_c``/``temperature_k`` and
``pressure_hpa``/``pressure_pa`` (at the measurement height, shared by all sites).
"""

from __future__ import annotations

import difflib
import importlib.util
import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridplan.core import wind_power as core
from gridplan.errors import CaseError, format_problems
from gridplan.model.profiles import _index_problems

DEFAULT_MEASUREMENT_HEIGHT_M = 10.0  # WMO standard anemometer height
DEFAULT_ROUGHNESS_M = 0.1  # farmland with some hedges (Davenport-Wieringa roughness class)
DEFAULT_HELLMAN = 1.0 / 7.0  # onshore power-law exponent
PROFILES = ("log", "power_law")
MET_COLUMNS = ("temperature_c", "temperature_k", "pressure_hpa", "pressure_pa")
_IEC_RE = re.compile(r"^IEC-(I|II|III|S)/(\d+(?:\.\d+)?)$", re.IGNORECASE)

#: farm table columns: name -> (dtype, default, description); None default = required
FARM_COLUMNS: dict[str, tuple[str, Any, str]] = {
    "name": ("str", None, "farm name (unique)"),
    "turbine": ("str", None, "turbine type: windpowerlib type, IEC-<class>/<kW> or a CSV"),
    "n_turbines": ("float", math.nan, "number of turbines (or give p_mw)"),
    "p_mw": ("float", math.nan, "installed capacity, MW (or give n_turbines)"),
    "bus": ("int", -1, "pandapower bus the farm feeds (grid studies)"),
    "sgen": ("int", -1, "existing pandapower sgen the farm is (instead of bus)"),
    "wind": ("str", "", "speed column of the wind file / site of the regime"),
    "hub_height_m": ("float", math.nan, "hub height, m (default: the turbine's)"),
    "measurement_height_m": ("float", DEFAULT_MEASUREMENT_HEIGHT_M, "height of the speeds, m"),
    "profile": ("str", "log", "wind profile: log or power_law"),
    "roughness_length_m": ("float", DEFAULT_ROUGHNESS_M, "roughness length z0, m"),
    "hellman_exponent": ("float", DEFAULT_HELLMAN, "power-law exponent"),
    "wake_efficiency": ("float", 1.0, "farm output / sum of free-stream turbine output"),
    "availability": ("float", 1.0, "technical availability"),
    "electrical_efficiency": ("float", 1.0, "collector and transformer efficiency"),
    "smoothing": ("str", "none", "power-curve smoothing: none, staffell or ti=<TI>"),
    "cut_out_ms": ("float", math.nan, "declared cut-out speed, m/s"),
    "power_factor": ("float", 1.0, "power factor of the injection (>0: producing Q)"),
}


# --------------------------------------------------------------------------------------
# turbine types
@dataclass(frozen=True)
class TurbineType:
    """A turbine's power curve (MW per turbine) and what is known about it."""

    name: str
    rated_mw: float
    speed_ms: np.ndarray
    power_mw: np.ndarray
    source: str
    rotor_diameter_m: float = math.nan
    hub_height_m: float = math.nan
    extended_to_ms: float | None = None


def windpowerlib_data_dir() -> Path | None:
    """Folder of windpowerlib's bundled turbine library (``oedb``), found without importing it."""
    spec = importlib.util.find_spec("windpowerlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "oedb"
    return folder if (folder / "power_curves.csv").is_file() else None


@cache
def _library() -> tuple[pd.DataFrame, pd.DataFrame] | None:
    folder = windpowerlib_data_dir()
    if folder is None:
        return None
    curves = pd.read_csv(folder / "power_curves.csv", index_col=0)
    data = pd.read_csv(folder / "turbine_data.csv", index_col=0)
    return curves, data


def turbine_library() -> pd.DataFrame:
    """Turbine types with a power curve: windpowerlib's library (if installed) and the IEC
    generic classes; columns ``rated_mw``, ``rotor_diameter_m``, ``hub_height_m``,
    ``curve_end_ms``, ``source``."""
    rows = []
    for cls, sp in core.IEC_CLASS_SPECIFIC_POWER_W_M2.items():
        rows.append(
            {
                "turbine": f"IEC-{cls}/<kW>",
                "rated_mw": math.nan,
                "rotor_diameter_m": math.nan,
                "hub_height_m": math.nan,
                "curve_end_ms": core.GENERIC_CUT_OUT_MS,
                "source": f"generic IEC class {cls} curve ({sp:g} W/m2)",
            }
        )
    lib = _library()
    if lib is not None:
        curves, data = lib
        for name in curves.index:
            row = curves.loc[name].dropna()
            rows.append(
                {
                    "turbine": str(name),
                    "rated_mw": _num(data, name, "nominal_power") / 1e6,
                    "rotor_diameter_m": _num(data, name, "rotor_diameter"),
                    "hub_height_m": _first_height(data, name),
                    "curve_end_ms": float(row.index.astype(float).max()),
                    "source": "windpowerlib turbine library (oedb)",
                }
            )
    return pd.DataFrame(rows).set_index("turbine")


def _num(data: pd.DataFrame, name: str, col: str) -> float:
    try:
        return float(data.at[name, col])
    except (KeyError, TypeError, ValueError):
        return math.nan


def _first_height(data: pd.DataFrame, name: str) -> float:
    """First hub height listed for a type (the column holds e.g. ``"78; 84; 98"``)."""
    try:
        text = str(data.at[name, "hub_height"])
    except KeyError:
        return math.nan
    m = re.search(r"\d+(?:[.,]\d+)?", text)
    return float(m.group(0).replace(",", ".")) if m else math.nan


def resolve_turbine(
    spec: str, *, cut_out_ms: float | None = None, where: str = "turbine"
) -> TurbineType:
    """Turbine type named ``spec`` with its checked (and if declared, extended) curve.

    Raises
    ------
    CaseError
        Unknown type (with close names), unreadable CSV, or a bad curve; the message starts
        with ``where`` (file and farm).
    """
    spec = str(spec).strip()
    m = _IEC_RE.match(spec)
    if m:
        rated = float(m.group(2)) / 1000.0
        v, p = core.generic_curve(rated, m.group(1))
        return _checked(spec, v, p, f"generic IEC class {m.group(1).upper()}", cut_out_ms, where)
    if spec.lower().endswith(".csv"):
        return _csv_turbine(Path(spec), cut_out_ms, where)
    lib = _library()
    if lib is None:
        raise CaseError(
            f"{where}: turbine type {spec!r} needs windpowerlib's turbine library, which is "
            "not installed",
            hint="pip install 'gridplan[wind]', or use IEC-<class>/<kW> or a curve CSV",
        )
    curves, data = lib
    if spec not in curves.index:
        close = difflib.get_close_matches(spec, [str(i) for i in curves.index], n=3, cutoff=0.5)
        raise CaseError(
            f"{where}: unknown turbine type {spec!r}",
            hint=("did you mean " + ", ".join(close) + "? " if close else "")
            + "`gridplan wind turbines` lists the types",
        )
    row = curves.loc[spec].dropna()
    v = row.index.astype(float).to_numpy()
    p = row.to_numpy(dtype=float) / 1e6
    t = _checked(spec, v, p, "windpowerlib turbine library (oedb)", cut_out_ms, where)
    nominal = _num(data, spec, "nominal_power") / 1e6  # W; the curve's maximum may exceed it
    return replace(
        t,
        rated_mw=nominal if nominal > 0 else t.rated_mw,
        rotor_diameter_m=_num(data, spec, "rotor_diameter"),
        hub_height_m=_first_height(data, spec),
    )


def _csv_turbine(path: Path, cut_out_ms: float | None, where: str) -> TurbineType:
    if not path.is_file():
        raise CaseError(f"{where}: turbine curve file {path}: no such file")
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise CaseError(f"{path}: cannot read power curve CSV ({exc})") from None
    scale = {"p_kw": 1e-3, "p_mw": 1.0, "p_w": 1e-6}
    col = next((c for c in scale if c in df), None)
    if "wind_speed_ms" not in df or col is None:
        raise CaseError(
            f"{path}: power curve needs columns wind_speed_ms and one of p_kw, p_mw, p_w, "
            f"got {list(df.columns)} instead"
        )
    v = pd.to_numeric(df["wind_speed_ms"], errors="coerce").to_numpy(dtype=float)
    p = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float) * scale[col]
    return _checked(path.stem, v, p, str(path), cut_out_ms, f"{path} (turbine of {where})")


def _checked(
    name: str, v: np.ndarray, p: np.ndarray, source: str, cut_out_ms: float | None, where: str
) -> TurbineType:
    try:
        chk = core.check_curve(v, p, cut_out_ms)
    except ValueError as exc:
        raise CaseError(f"{where}: turbine {name}: {exc}") from None
    return TurbineType(
        name=name,
        rated_mw=float(chk.power.max()),
        speed_ms=chk.speed_ms,
        power_mw=chk.power,
        source=source,
        extended_to_ms=chk.extended_to_ms,
    )


# --------------------------------------------------------------------------------------
# farms
@dataclass(frozen=True)
class Farm:
    """One wind farm as read from a farm table (units in the names)."""

    name: str
    turbine: TurbineType
    n_turbines: float
    wind: str
    hub_height_m: float
    measurement_height_m: float
    profile: str
    roughness_length_m: float
    hellman_exponent: float
    wake_efficiency: float
    availability: float
    electrical_efficiency: float
    smoothing: str
    power_factor: float
    bus: int = -1
    sgen: int = -1

    @property
    def installed_mw(self) -> float:
        """Installed capacity, MW."""
        return self.n_turbines * self.turbine.rated_mw

    @property
    def loss_factor(self) -> float:
        """Wake efficiency x availability x electrical efficiency."""
        return self.wake_efficiency * self.availability * self.electrical_efficiency


def _farm_frame(source: Any) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), "farms"
    if isinstance(source, Sequence) and not isinstance(source, str | bytes):
        return pd.DataFrame(list(source)), "farms"
    path = Path(source)
    if not path.is_file():
        raise CaseError(f"{path}: no such farm file")
    if path.suffix.lower() == ".toml":
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CaseError(f"{path}: not a valid TOML file ({exc})") from None
        farms = doc.get("farm")
        if not isinstance(farms, list) or not farms:
            raise CaseError(f"{path}: needs [[farm]] tables (one per farm)")
        return pd.DataFrame(farms), str(path)
    try:
        return pd.read_csv(path, comment="#", skipinitialspace=True), str(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise CaseError(f"{path}: cannot read farm CSV ({exc})") from None


def read_farms(source: Any, *, base_dir: Path | None = None) -> list[Farm]:
    """Farms from a CSV/TOML file, a DataFrame or a list of dicts (see :data:`FARM_COLUMNS`).

    Every problem is reported at once: ``FILE: farm 'NAME': what, got what instead; ...``.
    Turbine CSV paths are taken relative to the farm file's folder.
    """
    df, where = _farm_frame(source)
    if base_dir is None and where != "farms":
        base_dir = Path(where).parent
    unknown = [c for c in df.columns if c not in FARM_COLUMNS]
    if unknown:
        raise CaseError(
            f"{where}: unknown farm column(s) {', '.join(map(str, unknown))}",
            hint="known: " + ", ".join(FARM_COLUMNS),
        )
    problems: list[str] = []
    for col in ("name", "turbine"):
        if col not in df or df[col].isna().any():
            problems.append(f"every farm needs a {col}")
    if problems:
        raise CaseError(format_problems(where, problems))
    if df["name"].astype(str).duplicated().any():
        dup = df["name"][df["name"].astype(str).duplicated()].astype(str).tolist()
        raise CaseError(f"{where}: farm names must be unique, got {', '.join(dup)} twice")
    farms = []
    types: dict[tuple[str, float | None], TurbineType] = {}
    for _, row in df.iterrows():
        vals = {}
        for col, (kind, default, _) in FARM_COLUMNS.items():
            raw = row.get(col, default)
            if raw is None or (isinstance(raw, float) and math.isnan(raw) and kind != "float"):
                raw = default
            vals[col] = raw
        name = str(vals["name"])
        here = f"{where}: farm {name!r}"
        try:
            num = {
                c: float(vals[c]) for c, (k, _, _) in FARM_COLUMNS.items() if k in ("float", "int")
            }
        except (TypeError, ValueError) as exc:
            problems.append(f"farm {name!r}: numbers expected ({exc})")
            continue
        cut = num["cut_out_ms"]
        turbine_spec = str(vals["turbine"]).strip()
        if turbine_spec.lower().endswith(".csv") and base_dir is not None:
            tp = Path(turbine_spec)
            if not tp.is_absolute() and not tp.is_file():
                turbine_spec = str(base_dir / tp)
        key = (turbine_spec, None if math.isnan(cut) else cut)
        if key not in types:
            types[key] = resolve_turbine(turbine_spec, cut_out_ms=key[1], where=here)
        tt = types[key]
        n, p = num["n_turbines"], num["p_mw"]
        if math.isnan(n) == math.isnan(p):
            problems.append(f"farm {name!r}: give exactly one of n_turbines and p_mw")
            continue
        if math.isnan(n):
            n = p / tt.rated_mw
        hub = num["hub_height_m"] if not math.isnan(num["hub_height_m"]) else tt.hub_height_m
        if math.isnan(hub):
            problems.append(f"farm {name!r}: hub_height_m is needed for turbine {tt.name}")
            continue
        prof = str(vals["profile"]).strip().lower()
        checks = [
            (n > 0, f"n_turbines (or p_mw) must be > 0, got {n:g}"),
            (prof in PROFILES, f"profile must be one of {', '.join(PROFILES)}, got {prof!r}"),
            (hub > 0, f"hub_height_m must be > 0, got {hub:g}"),
            (
                num["measurement_height_m"] > 0,
                f"measurement_height_m must be > 0, got {num['measurement_height_m']:g}",
            ),
            (
                0 < num["roughness_length_m"] < min(hub, num["measurement_height_m"]),
                "roughness_length_m must be > 0 and below the heights, got "
                f"{num['roughness_length_m']:g}",
            ),
            (
                0 < num["power_factor"] <= 1,
                f"power_factor must be in (0, 1], got {num['power_factor']:g}",
            ),
        ]
        for c in ("wake_efficiency", "availability", "electrical_efficiency"):
            checks.append((0 < num[c] <= 1, f"{c} must be in (0, 1], got {num[c]:g}"))
        smoothing = str(vals["smoothing"]).strip().lower()
        if not (smoothing in ("none", "staffell", "") or re.fullmatch(r"ti=\d*\.?\d+", smoothing)):
            checks.append(
                (False, f"smoothing must be none, staffell or ti=<value>, got {smoothing!r}")
            )
        bad = [msg for ok, msg in checks if not ok]
        if bad:
            problems += [f"farm {name!r}: {b}" for b in bad]
            continue
        farms.append(
            Farm(
                name=name,
                turbine=tt,
                n_turbines=n,
                wind=str(vals["wind"]).strip(),
                hub_height_m=hub,
                measurement_height_m=num["measurement_height_m"],
                profile=prof,
                roughness_length_m=num["roughness_length_m"],
                hellman_exponent=num["hellman_exponent"],
                wake_efficiency=num["wake_efficiency"],
                availability=num["availability"],
                electrical_efficiency=num["electrical_efficiency"],
                smoothing=smoothing or "none",
                power_factor=num["power_factor"],
                bus=int(num["bus"]),
                sgen=int(num["sgen"]),
            )
        )
    if problems:
        raise CaseError(format_problems(where, problems))
    return farms


# --------------------------------------------------------------------------------------
# wind series
@dataclass(frozen=True)
class WindSeries:
    """Measured (or synthetic) wind at the measurement height, one column per site.

    ``speed_ms``: steps x sites, m/s; ``temperature_k`` / ``pressure_pa``: per step or None.
    """

    speed_ms: pd.DataFrame
    temperature_k: np.ndarray | None = None
    pressure_pa: np.ndarray | None = None
    duration_h: float = 1.0
    source: str = "wind"
    regimes: dict[str, core.Regime] = field(default_factory=dict)

    @property
    def index(self) -> pd.Index:
        """Time index of the steps."""
        return self.speed_ms.index


def read_wind(source: Any) -> WindSeries:
    """Wind speeds from a CSV file or a DataFrame (index = timestamps).

    Raises
    ------
    CaseError
        Non-numeric, missing or negative speeds, duplicated timestamps, gaps or irregular steps.
    """
    if isinstance(source, WindSeries):
        return source
    if isinstance(source, pd.DataFrame):
        df, where = source.copy(), "wind"
    else:
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise CaseError(f"{path}: no such wind file")
        try:
            df = pd.read_csv(path, index_col=0, comment="#")
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise CaseError(f"{path}: cannot read wind CSV ({exc})") from None
        try:
            df.index = pd.DatetimeIndex(pd.to_datetime(df.index, format="ISO8601"))
        except (TypeError, ValueError):
            raise CaseError(
                f"{path}: first column must hold ISO 8601 timestamps, got "
                f"{df.index[0] if len(df) else 'nothing'!r} instead"
            ) from None
    problems: list[str] = []
    if not isinstance(df.index, pd.DatetimeIndex):
        problems.append("the index must hold timestamps")
        step = None
    else:
        idx_problems, step = _index_problems(df.index)
        problems += idx_problems
    sites = [c for c in df.columns if str(c) not in MET_COLUMNS]
    if not sites:
        problems.append("no wind speed column (every column is a temperature or pressure)")
    vals = df.apply(pd.to_numeric, errors="coerce")
    for c in df.columns:
        bad = ~np.isfinite(vals[c].to_numpy(dtype=float))
        if bad.any():
            first = df.index[int(np.flatnonzero(bad)[0])]
            problems.append(
                f"column {c!r} must hold numbers, got {int(bad.sum())} missing/invalid "
                f"(first at {first})"
            )
    for c in sites:
        neg = vals[c].to_numpy(dtype=float) < 0
        if neg.any():
            problems.append(f"wind speeds must be >= 0, column {c!r} has {int(neg.sum())} below 0")
    if problems:
        raise CaseError(format_problems(where, problems))
    t = p = None
    if "temperature_k" in vals:
        t = vals["temperature_k"].to_numpy(dtype=float)
    elif "temperature_c" in vals:
        t = vals["temperature_c"].to_numpy(dtype=float) + 273.15
    if "pressure_pa" in vals:
        p = vals["pressure_pa"].to_numpy(dtype=float)
    elif "pressure_hpa" in vals:
        p = vals["pressure_hpa"].to_numpy(dtype=float) * 100.0
    if (t is None) != (p is None):
        raise CaseError(
            f"{where}: air density needs both a temperature and a pressure column, got only one"
        )
    if t is not None and (np.any(t <= 150) or np.any(p <= 10000)):
        raise CaseError(f"{where}: temperatures must be in C or K and pressures in hPa or Pa")
    speeds = vals[sites].astype(float)
    speeds.columns = [str(c) for c in sites]
    return WindSeries(
        speed_ms=speeds,
        temperature_k=t,
        pressure_pa=p,
        duration_h=float(step) if step else 1.0,
        source=where,
    )


# --------------------------------------------------------------------------------------
# regimes and scenarios
REGIME_KEYS = {
    "name",
    "mean_ms",
    "scale_ms",
    "k",
    "lag1",
    "diurnal_amplitude",
    "diurnal_peak_hour",
    "seasonal_amplitude",
    "seasonal_peak_day",
    "height_m",
}


def regimes_from(doc: Mapping[str, Any], where: str) -> tuple[dict[str, core.Regime], float]:
    """Weibull regimes of the ``[[site]]`` tables of a scenario document, and the site
    correlation (``[regime] site_correlation``)."""
    out: dict[str, core.Regime] = {}
    problems = []
    for i, s in enumerate(doc.get("site", []) or []):
        name = str(s.get("name", f"site{i + 1}"))
        extra = set(s) - REGIME_KEYS
        if extra:
            problems.append(f"site {name!r}: unknown key(s) {', '.join(sorted(extra))}")
            continue
        k = float(s.get("k", 2.0))
        if ("mean_ms" in s) == ("scale_ms" in s):
            problems.append(f"site {name!r}: give exactly one of mean_ms and scale_ms")
            continue
        if not k > 0:
            problems.append(f"site {name!r}: k must be > 0, got {k}")
            continue
        scale = (
            float(s["scale_ms"]) if "scale_ms" in s else core.weibull_scale(float(s["mean_ms"]), k)
        )
        out[name] = core.Regime(
            scale_ms=scale,
            k=k,
            lag1=float(s.get("lag1", 0.9)),
            diurnal_amplitude=float(s.get("diurnal_amplitude", 0.0)),
            diurnal_peak_hour=float(s.get("diurnal_peak_hour", 15.0)),
            seasonal_amplitude=float(s.get("seasonal_amplitude", 0.0)),
            seasonal_peak_day=float(s.get("seasonal_peak_day", 15.0)),
        )
    if problems:
        raise CaseError(format_problems(where, problems))
    corr = float((doc.get("regime") or {}).get("site_correlation", 0.0))
    return out, corr


def synthetic_wind(
    regimes: Mapping[str, core.Regime],
    *,
    hours: int = 8760,
    start: str = "2030-01-01",
    site_correlation: float = 0.0,
    seed: int = 0,
    where: str = "regime",
) -> WindSeries:
    """A synthetic hourly wind series (one column per regime), see
    :func:`gridplan.core.wind_power.synthetic_speeds`."""
    index = pd.date_range(start, periods=hours, freq="h")
    try:
        v = core.synthetic_speeds(
            index.hour.to_numpy() + 0.5,
            index.dayofyear.to_numpy(),
            list(regimes.values()),
            site_correlation=site_correlation,
            seed=seed,
        )
    except ValueError as exc:
        raise CaseError(f"{where}: {exc}") from None
    return WindSeries(
        speed_ms=pd.DataFrame(v, index=index, columns=list(regimes)),
        duration_h=1.0,
        source=f"synthetic (seed {seed})",
        regimes=dict(regimes),
    )


def scenario_dir() -> Path:
    """Folder of the bundled scenario files (the seeds folder)."""
    from gridplan.seeds import _seed_path

    return _seed_path().parent


def scenario_path(name: str | os.PathLike[str]) -> Path:
    """A scenario TOML by path, or a bundled one by case name (``seeds/<case>.wind.toml``)."""
    p = Path(name)
    if p.suffix.lower() == ".toml":
        if not p.is_file():
            raise CaseError(f"{p}: no such scenario file")
        return p
    bundled = scenario_dir() / f"{name}.wind.toml"
    if not bundled.is_file():
        raise CaseError(
            f"{name}: no bundled wind scenario", hint="bundled: " + ", ".join(bundled_scenarios())
        )
    return bundled


def bundled_scenarios() -> list[str]:
    """Case names that have a bundled wind scenario."""
    return sorted(q.name.removesuffix(".wind.toml") for q in scenario_dir().glob("*.wind.toml"))


def read_scenario(name: str | os.PathLike[str]) -> dict[str, Any]:
    """The TOML document of a scenario (``[scenario]``, ``[[farm]]``, ``[[site]]``, ...)."""
    p = scenario_path(name)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CaseError(f"{p}: not a valid TOML file ({exc})") from None
    doc["_path"] = str(p)
    return doc
