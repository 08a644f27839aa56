"""EV charging scenario files (TOML): read, check and turn into the arrays the Monte Carlo runs on.

A scenario names vehicle classes, charging locations (where and when vehicles charge),
charger classes, charging sites (charge points per bus) and the fleet per bus or area; the
format is documented in ``docs/ev.md``. ``include = ["ev-defaults"]`` starts from a parameter
set in ``seeds/`` (each value with the published figure it comes from); the file's own tables
override it entry by entry and key by key.

Every problem found is reported in one :class:`gridplan.errors.CaseError` line naming the file,
the key and what is wrong, e.g. ``my.toml: vehicles.taxi.battery_kwh must be > 0, got -5``.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from gridplan.core import ev_fleet as fl
from gridplan.core.ev_policies import TouParams
from gridplan.errors import CaseError

CHARGER_KINDS = ("ac", "dc", "swap")
LOCATION_KINDS = ("home", "work", "public", "depot", "swap")
DIST_KEYS = {
    "fixed": ("value",),
    "uniform": ("min", "max"),
    "normal": ("mean", "sd"),
    "lognormal": ("mean", "cv"),
    "gamma": ("mean", "cv"),
}
MAX_MULTI_DAY_H = 7 * 24.0
DEFAULT_START = dt.date(2025, 1, 6)  # a Monday
SHUFFLE_SEED = 20170101  # fixed vehicle order (not the Monte Carlo seed)


# -- parsed scenario ---------------------------------------------------------------------
@dataclass(frozen=True)
class DistSpec:
    """One distribution as written: ``kind`` and its parameters (``min``/``max`` clip)."""

    kind: str
    params: dict[str, float]
    key: str  # dotted key in the file, for messages

    def get(self, name: str, default: float) -> float:
        """A parameter or ``default``."""
        return float(self.params.get(name, default))

    @property
    def mean(self) -> float:
        """The stated mean (fixed: the value; uniform: the mid-point)."""
        if self.kind == "fixed":
            return self.params["value"]
        if self.kind == "uniform":
            return (self.params["min"] + self.params["max"]) / 2.0
        return self.params["mean"]


@dataclass(frozen=True)
class ChargerClass:
    """A charger type: ``power_kw`` per point (swap: per rack), grid side."""

    name: str
    kind: str
    power_kw: float
    efficiency: float
    power_factor: float
    flexible: bool
    source: str = ""


@dataclass(frozen=True)
class VehicleClass:
    """A vehicle class; ``max_km`` caps the daily distance (default: the battery's range)."""

    name: str
    battery_kwh: float
    consumption_kwh_per_km: float
    distance: DistSpec
    weekend_distance: DistSpec
    max_km: float
    ac_max_kw: float
    dc_max_kw: float
    source: str = ""


@dataclass(frozen=True)
class SessionSpec:
    """One charging session of a day: arrival hour, dwell (h), share of the day's distance
    driven before it."""

    arrival: DistSpec
    dwell: DistSpec
    share: float


@dataclass(frozen=True)
class Location:
    """Where and when vehicles charge."""

    name: str
    kind: str
    charger: str
    plug_probability: float
    multi_day: bool
    weekday: tuple[SessionSpec, ...]
    weekend: tuple[SessionSpec, ...]
    source: str = ""


@dataclass(frozen=True)
class FleetRow:
    """Vehicles of one class and location charging at one bus."""

    entry: int  # index of the [[fleet]] entry
    bus: int
    vehicle: str
    location: str
    charger: str
    count: int
    customers: float  # customers at the bus the count was drawn from (adoption), else nan


@dataclass(frozen=True)
class HostingSpec:
    """``[hosting]``: which vehicles hosting capacity adds where."""

    candidates: str = (
        "fleet"  # "fleet": the scenario's own mix; "customers": every bus with customers
    )
    vehicle: str = ""
    location: str = ""
    charger: str = ""
    customer_kind: str = ""
    max_adoption: float = 1.0
    max_count: int = 0  # 0: from customers x max_adoption, else 10 x the fleet there


@dataclass(frozen=True)
class Scenario:
    """A checked scenario."""

    path: Path
    name: str
    description: str
    case: str
    start: dt.date
    chargers: dict[str, ChargerClass]
    vehicles: dict[str, VehicleClass]
    locations: dict[str, Location]
    sites: dict[tuple[int, str], int]  # (bus, charger) -> points (racks); -1: one per vehicle
    rows: tuple[FleetRow, ...]
    tou: TouParams = field(default_factory=TouParams)
    swap_max_wait_h: float = 12.0
    hosting: HostingSpec = HostingSpec()
    includes: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def n_vehicles(self) -> int:
        """Vehicles in the fleet."""
        return sum(r.count for r in self.rows)

    def with_rows(self, rows: tuple[FleetRow, ...]) -> Scenario:
        """The same scenario with another fleet."""
        from dataclasses import replace

        return replace(self, rows=rows)


# -- reading -------------------------------------------------------------------------------
class _Problems:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, key: str, text: str) -> None:
        self.items.append(f"{key} {text}")

    def raise_if_any(self) -> None:
        if self.items:
            raise CaseError(
                f"{self.path}: " + "; ".join(self.items),
                hint="see docs/ev.md for the scenario format",
            )


def seeds_dir() -> Path:
    """Folder of the bundled parameter sets and scenarios (source tree first)."""
    src = Path(__file__).resolve().parents[2] / "seeds"
    if src.is_dir():
        return src
    return Path(str(resources.files("gridplan._seeds")))


def bundled_scenarios() -> dict[str, Path]:
    """Bundled EV scenario name -> file (``seeds/ev-*.toml`` holding a fleet)."""
    out = {}
    for p in sorted(seeds_dir().glob("ev-*.toml")):
        if "[[fleet]]" in p.read_text(encoding="utf-8"):
            out[p.stem] = p
    return out


def _resolve(name: str, base: Path) -> Path:
    cand = [base / name, base / f"{name}.toml", seeds_dir() / name, seeds_dir() / f"{name}.toml"]
    for c in cand:
        if c.is_file():
            return c
    raise CaseError(
        f"{base}: include {name!r} is neither a file next to the scenario nor a parameter set "
        f"in {seeds_dir()}",
        hint="bundled sets: " + ", ".join(p.stem for p in sorted(seeds_dir().glob("ev-*.toml"))),
    )


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CaseError(f"{path}: scenario file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(f"{path}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{path}: not valid TOML ({exc})") from None


def scenario_path(spec: str | Path) -> Path:
    """A scenario file path, or a bundled scenario name (``seeds/<name>.toml``)."""
    p = Path(spec)
    if p.is_file():
        return p
    bundled = bundled_scenarios()
    if str(spec) in bundled:
        return bundled[str(spec)]
    raise CaseError(
        f"{spec}: scenario file not found",
        hint="bundled scenarios: " + ", ".join(bundled),
    )


TOP_KEYS = {
    "scenario",
    "chargers",
    "vehicles",
    "locations",
    "sites",
    "fleet",
    "policies",
    "hosting",
}


def read_scenario(spec: str | Path, net: Any = None) -> Scenario:
    """Read and check a scenario file (or bundled scenario name).

    Parameters
    ----------
    spec
        TOML file, or the name of a bundled scenario in ``seeds/``.
    net
        The pandapower net its buses refer to; without one, bus numbers are labels and
        adoption shares and areas cannot be used.

    Raises
    ------
    CaseError
        One line naming the file, every offending key and what is wrong.
    """
    path = scenario_path(spec)
    raw = _load_toml(path)
    pr = _Problems(path)
    for k in raw:
        if k not in TOP_KEYS:
            pr.add(k, f"is not a scenario table (known: {', '.join(sorted(TOP_KEYS))})")
    head = raw.get("scenario", {})
    if not isinstance(head, dict):
        pr.add("scenario", "must be a table")
        head = {}
    _unknown(
        pr, "scenario", head, {"name", "description", "case", "start", "include", "swap_max_wait_h"}
    )
    includes = head.get("include", [])
    if isinstance(includes, str):
        includes = [includes]
    merged: dict[str, dict[str, dict[str, Any]]] = {"chargers": {}, "vehicles": {}, "locations": {}}
    origin: dict[str, str] = {}
    for inc in includes:
        ipath = _resolve(str(inc), path.parent)
        idata = _load_toml(ipath)
        for table in merged:
            for name, entry in idata.get(table, {}).items():
                merged[table].setdefault(name, {}).update(entry)
                origin[f"{table}.{name}"] = ipath.name
    for table in merged:
        own = raw.get(table, {})
        if not isinstance(own, dict):
            pr.add(table, "must be a table of named entries")
            continue
        for name, entry in own.items():
            if not isinstance(entry, dict):
                pr.add(f"{table}.{name}", "must be a table")
                continue
            merged[table].setdefault(name, {}).update(entry)
            origin[f"{table}.{name}"] = path.name

    chargers = {n: _charger(pr, n, e) for n, e in merged["chargers"].items()}
    chargers = {n: c for n, c in chargers.items() if c is not None}
    vehicles = {n: _vehicle(pr, n, e) for n, e in merged["vehicles"].items()}
    vehicles = {n: v for n, v in vehicles.items() if v is not None}
    locations = {n: _location(pr, n, e, chargers) for n, e in merged["locations"].items()}
    locations = {n: v for n, v in locations.items() if v is not None}

    case = str(head.get("case", ""))
    start = head.get("start", DEFAULT_START)
    if isinstance(start, str):
        try:
            start = dt.date.fromisoformat(start)
        except ValueError:
            pr.add("scenario.start", f"must be an ISO date like 2025-01-06, got {start!r}")
            start = DEFAULT_START
    elif isinstance(start, dt.datetime):
        start = start.date()
    elif not isinstance(start, dt.date):
        pr.add("scenario.start", f"must be a date like 2025-01-06, got {start!r}")
        start = DEFAULT_START
    swap_wait = _num(pr, "scenario.swap_max_wait_h", head.get("swap_max_wait_h", 12.0), lo=0.0)

    buses = _Buses(net)
    sites = _sites(pr, raw.get("sites", []), chargers, buses)
    rows = _fleet(pr, raw.get("fleet", []), vehicles, locations, chargers, sites, buses)
    tou = _policies(pr, raw.get("policies", {}))
    hosting = _hosting(pr, raw.get("hosting", {}), vehicles, locations, chargers)
    pr.raise_if_any()
    sources = {}
    for table, entries in (
        ("chargers", chargers),
        ("vehicles", vehicles),
        ("locations", locations),
    ):
        for n, e in entries.items():
            if e.source:
                sources[f"{table}.{n}"] = e.source
    return Scenario(
        path=path,
        name=str(head.get("name", path.stem)),
        description=str(head.get("description", "")),
        case=case,
        start=start,
        chargers=chargers,
        vehicles=vehicles,
        locations=locations,
        sites=sites,
        rows=tuple(rows),
        tou=tou,
        swap_max_wait_h=swap_wait,
        hosting=hosting,
        includes=tuple(str(i) for i in includes),
        sources=sources,
    )


def _unknown(pr: _Problems, key: str, entry: dict[str, Any], known: set[str]) -> None:
    for k in entry:
        if k not in known:
            pr.add(f"{key}.{k}", f"is not a known key (known: {', '.join(sorted(known))})")


def _num(
    pr: _Problems,
    key: str,
    value: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        pr.add(key, f"must be a number, got {value!r}")
        return math.nan
    v = float(value)
    if not math.isfinite(v):
        pr.add(key, f"must be finite, got {value!r}")
    elif lo is not None and (v <= lo if lo_open else v < lo):
        pr.add(key, f"must be {'>' if lo_open else '>='} {lo:g}, got {value!r}")
    elif hi is not None and v > hi:
        pr.add(key, f"must be <= {hi:g}, got {value!r}")
    return v


def _required(pr: _Problems, key: str, entry: dict[str, Any], name: str) -> Any:
    if name not in entry:
        pr.add(f"{key}.{name}", "is missing")
        return None
    return entry[name]


def _dist(pr: _Problems, key: str, value: Any, *, positive: bool = True) -> DistSpec | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = {"dist": "fixed", "value": value}
    if not isinstance(value, dict):
        pr.add(
            key,
            f"must be a number or a table like {{dist = 'normal', mean = 18, sd = 2}}"
            f", got {value!r}",
        )
        return None
    kind = value.get("dist")
    if kind not in DIST_KEYS:
        pr.add(f"{key}.dist", f"must be one of {', '.join(DIST_KEYS)}, got {kind!r}")
        return None
    need = DIST_KEYS[kind]
    allowed = {"dist", *need, "min", "max"}
    _unknown(pr, key, value, allowed)
    params: dict[str, float] = {}
    for k in need:
        if k not in value:
            pr.add(f"{key}.{k}", f"is missing (a {kind} distribution needs {', '.join(need)})")
            return None
    for k in (*need, "min", "max"):
        if k in value:
            params[k] = _num(pr, f"{key}.{k}", value[k])
    if any(math.isnan(v) for v in params.values()):
        return None
    if kind in ("lognormal", "gamma"):
        if params["mean"] <= 0:
            pr.add(f"{key}.mean", f"must be > 0, got {params['mean']:g}")
        if params["cv"] <= 0:
            pr.add(f"{key}.cv", f"must be > 0, got {params['cv']:g}")
    if kind == "normal" and params["sd"] < 0:
        pr.add(f"{key}.sd", f"must be >= 0, got {params['sd']:g}")
    if kind == "uniform" and params["max"] < params["min"]:
        pr.add(key, f"max must be >= min, got {params['min']:g}..{params['max']:g}")
    if positive:
        lo = params.get("min", params.get("value", 0.0))
        if lo < 0:
            pr.add(f"{key}.min", f"must be >= 0, got {lo:g}")
    if "min" in params and "max" in params and params["max"] < params["min"]:
        pr.add(key, f"max must be >= min, got {params['min']:g}..{params['max']:g}")
    return DistSpec(kind, params, key)


def _charger(pr: _Problems, name: str, e: dict[str, Any]) -> ChargerClass | None:
    key = f"chargers.{name}"
    _unknown(pr, key, e, {"kind", "power_kw", "efficiency", "power_factor", "flexible", "source"})
    kind = _required(pr, key, e, "kind")
    if kind is not None and kind not in CHARGER_KINDS:
        pr.add(f"{key}.kind", f"must be one of {', '.join(CHARGER_KINDS)}, got {kind!r}")
        return None
    p = _required(pr, key, e, "power_kw")
    if kind is None or p is None:
        return None
    if kind == "swap" and e.get("flexible", False):
        pr.add(f"{key}.flexible", "cannot be true for a swap station (its racks charge at once)")
    return ChargerClass(
        name=name,
        kind=kind,
        power_kw=_num(pr, f"{key}.power_kw", p, lo=0.0, lo_open=True),
        efficiency=_num(
            pr, f"{key}.efficiency", e.get("efficiency", 0.92), lo=0.0, hi=1.0, lo_open=True
        ),
        power_factor=_num(
            pr, f"{key}.power_factor", e.get("power_factor", 0.99), lo=0.0, hi=1.0, lo_open=True
        ),
        flexible=bool(e.get("flexible", kind == "ac")) and kind != "swap",
        source=str(e.get("source", "")),
    )


def _vehicle(pr: _Problems, name: str, e: dict[str, Any]) -> VehicleClass | None:
    key = f"vehicles.{name}"
    _unknown(
        pr,
        key,
        e,
        {
            "battery_kwh",
            "consumption_kwh_per_km",
            "distance_km",
            "weekend_distance_km",
            "max_km",
            "ac_max_kw",
            "dc_max_kw",
            "source",
        },
    )
    b = _required(pr, key, e, "battery_kwh")
    c = _required(pr, key, e, "consumption_kwh_per_km")
    d = _required(pr, key, e, "distance_km")
    if b is None or c is None or d is None:
        return None
    batt = _num(pr, f"{key}.battery_kwh", b, lo=0.0, lo_open=True)
    cons = _num(pr, f"{key}.consumption_kwh_per_km", c, lo=0.0, lo_open=True)
    if not (batt > 0 and cons > 0):
        return None
    rng_km = batt / cons
    max_km = _num(pr, f"{key}.max_km", e.get("max_km", rng_km), lo=0.0, lo_open=True)
    dist = _dist(pr, f"{key}.distance_km", d)
    wdist = (
        _dist(pr, f"{key}.weekend_distance_km", e["weekend_distance_km"])
        if "weekend_distance_km" in e
        else dist
    )
    for ds in {id(dist): dist, id(wdist): wdist}.values():
        if ds is None:
            continue
        cap = min(max_km, ds.get("max", math.inf))
        top = (
            ds.params.get("value", ds.params.get("max", -math.inf))
            if ds.kind in ("fixed", "uniform")
            else ds.mean
        )
        if ds.kind == "normal" and ds.params["mean"] >= cap:
            pr.add(
                f"{ds.key}.mean",
                f"must be below the {cap:g} km the vehicle can drive a day (max_km)"
                f", got {ds.mean:g}",
            )
        elif ds.kind in ("fixed", "uniform") and top > cap:
            pr.add(
                ds.key,
                f"reaches {top:g} km, beyond the {cap:g} km the vehicle can drive a day (max_km)",
            )
        elif ds.kind in ("lognormal", "gamma") and ds.mean >= cap:
            pr.add(
                f"{ds.key}.mean",
                f"must be below the {cap:g} km the vehicle can drive a day (max_km)"
                f", got {ds.mean:g}",
            )
    if dist is None or wdist is None:
        return None
    return VehicleClass(
        name=name,
        battery_kwh=batt,
        consumption_kwh_per_km=cons,
        distance=dist,
        weekend_distance=wdist,
        max_km=max_km,
        ac_max_kw=_num(pr, f"{key}.ac_max_kw", e.get("ac_max_kw", math.inf), lo=0.0, lo_open=True)
        if "ac_max_kw" in e
        else math.inf,
        dc_max_kw=_num(pr, f"{key}.dc_max_kw", e.get("dc_max_kw", math.inf), lo=0.0, lo_open=True)
        if "dc_max_kw" in e
        else math.inf,
        source=str(e.get("source", "")),
    )


def _sessions(
    pr: _Problems, key: str, value: Any, multi_day: bool
) -> tuple[SessionSpec, ...] | None:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        pr.add(key, "must be a list of sessions like [{arrival_h = ..., dwell_h = ...}]")
        return None
    out = []
    for i, s in enumerate(value):
        k = f"{key}[{i}]"
        if not isinstance(s, dict):
            pr.add(k, "must be a table with arrival_h and dwell_h")
            continue
        _unknown(pr, k, s, {"arrival_h", "dwell_h", "share"})
        a = _required(pr, k, s, "arrival_h")
        w = _required(pr, k, s, "dwell_h")
        if a is None or w is None:
            continue
        arr = _dist(pr, f"{k}.arrival_h", a, positive=False)
        dwell = _dist(pr, f"{k}.dwell_h", w)
        if arr is not None and arr.kind not in ("fixed", "uniform", "normal"):
            pr.add(
                f"{k}.arrival_h.dist",
                f"must be fixed, uniform or normal (hours of the day, taken modulo 24)"
                f", got {arr.kind!r}",
            )
        if dwell is not None:
            top = dwell.params.get("value", dwell.params.get("max", 24.0))
            limit = MAX_MULTI_DAY_H if multi_day else 24.0
            if top > limit:
                why = (
                    "stays longer than a day are only allowed where the location sets"
                    " multi_day = true"
                    if not multi_day
                    else "at most a week"
                )
                pr.add(f"{k}.dwell_h", f"must not exceed {limit:g} h ({why}), got up to {top:g} h")
        share = _num(pr, f"{k}.share", s.get("share", 1.0 / len(value)), lo=0.0, hi=1.0)
        if arr is not None and dwell is not None:
            out.append(SessionSpec(arr, dwell, share))
    if out and abs(sum(s.share for s in out) - 1.0) > 1e-9:
        pr.add(key, f"session shares must sum to 1, got {sum(s.share for s in out):g}")
    return tuple(out)


def _location(
    pr: _Problems, name: str, e: dict[str, Any], chargers: dict[str, ChargerClass]
) -> Location | None:
    key = f"locations.{name}"
    _unknown(
        pr,
        key,
        e,
        {"kind", "charger", "plug_probability", "multi_day", "weekday", "weekend", "source"},
    )
    kind = _required(pr, key, e, "kind")
    if kind is not None and kind not in LOCATION_KINDS:
        pr.add(f"{key}.kind", f"must be one of {', '.join(LOCATION_KINDS)}, got {kind!r}")
    charger = str(e.get("charger", ""))
    if charger and charger not in chargers:
        pr.add(
            f"{key}.charger",
            f"names charger class {charger!r}, which does not exist"
            f" (defined: {', '.join(chargers) or 'none'})",
        )
    multi = bool(e.get("multi_day", False))
    wd = _required(pr, key, e, "weekday")
    if wd is None:
        return None
    weekday = _sessions(pr, f"{key}.weekday", wd, multi)
    weekend = _sessions(pr, f"{key}.weekend", e["weekend"], multi) if "weekend" in e else weekday
    if weekday is None or weekend is None or kind is None:
        return None
    return Location(
        name=name,
        kind=str(kind),
        charger=charger,
        plug_probability=_num(
            pr, f"{key}.plug_probability", e.get("plug_probability", 1.0), lo=0.0, hi=1.0
        ),
        multi_day=multi,
        weekday=weekday,
        weekend=weekend,
        source=str(e.get("source", "")),
    )


class _Buses:
    """What the scenario may refer to in the case: buses, feeders, customers per bus."""

    def __init__(self, net: Any) -> None:
        self.net = net
        self.name = str(getattr(net, "name", "") or "the case") if net is not None else ""
        if net is None:
            return
        self.index = set(int(b) for b in net.bus.index)
        self.feeder = net.bus["feeder"].astype(str).to_dict() if "feeder" in net.bus else {}

    def check(self, pr: _Problems, key: str, bus: Any) -> int | None:
        if isinstance(bus, bool) or not isinstance(bus, int):
            pr.add(key, f"must be an integer bus index, got {bus!r}")
            return None
        if self.net is not None and bus not in self.index:
            pr.add(key, f"names bus {bus}, which is not a bus of case {self.name}")
            return None
        return int(bus)

    def customers(self, kind: str = "") -> dict[int, float]:
        """Customers per bus (``load.customers``; only loads of ``load.kind == kind`` if given)."""
        if self.net is None or "customers" not in self.net.load:
            return {}
        ld = self.net.load
        if kind and "kind" in ld:
            ld = ld[ld["kind"] == kind]
        ser = ld.groupby("bus")["customers"].sum()
        return {int(b): float(c) for b, c in ser.items() if c > 0}


def _sites(
    pr: _Problems, raw: Any, chargers: dict[str, ChargerClass], buses: _Buses
) -> dict[tuple[int, str], int]:
    """``[[sites]]``: charge points (swap racks) of one charger class at a bus, or at each
    of ``buses`` (``points`` each, or ``total_points`` split evenly)."""
    out: dict[tuple[int, str], int] = {}
    if not isinstance(raw, list):
        pr.add("sites", "must be an array of tables ([[sites]])")
        return out
    for i, s in enumerate(raw):
        key = f"sites[{i}]"
        if not isinstance(s, dict):
            pr.add(key, "must be a table")
            continue
        _unknown(pr, key, s, {"bus", "buses", "charger", "points", "total_points"})
        c = _required(pr, key, s, "charger")
        if c is None:
            continue
        if c not in chargers:
            pr.add(
                f"{key}.charger",
                f"names charger class {c!r}, which does not exist "
                f"(defined: {', '.join(chargers) or 'none'})",
            )
            continue
        if ("bus" in s) == ("buses" in s):
            pr.add(key, "must give exactly one of bus and buses")
            continue
        bus_list: list[int] = []
        if "bus" in s:
            b = buses.check(pr, f"{key}.bus", s["bus"])
            bus_list = [b] if b is not None else []
        elif not isinstance(s["buses"], list) or not s["buses"]:
            pr.add(f"{key}.buses", "must be a non-empty list of bus indices")
            continue
        else:
            for j, b in enumerate(s["buses"]):
                bb = buses.check(pr, f"{key}.buses[{j}]", b)
                if bb is not None:
                    bus_list.append(bb)
        if ("points" in s) == ("total_points" in s):
            pr.add(key, "must give exactly one of points (per bus) and total_points")
            continue
        name = "points" if "points" in s else "total_points"
        n = s[name]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            pr.add(
                f"{key}.{name}",
                f"must be an integer >= 1 (charge points, or racks of a swap station), got {n!r}",
            )
            continue
        if name == "points":
            counts = [n] * len(bus_list)
        else:
            counts = _largest_remainder(np.ones(len(bus_list)), n) if bus_list else []
        for bus, k in zip(bus_list, counts, strict=True):
            if (bus, c) in out:
                pr.add(key, f"repeats the site of charger {c!r} at bus {bus}")
            if k > 0:
                out[(bus, c)] = int(k)
    return out


def _fleet(
    pr: _Problems,
    raw: Any,
    vehicles: dict[str, VehicleClass],
    locations: dict[str, Location],
    chargers: dict[str, ChargerClass],
    sites: dict[tuple[int, str], int],
    buses: _Buses,
) -> list[FleetRow]:
    rows: list[FleetRow] = []
    if not isinstance(raw, list):
        pr.add("fleet", "must be an array of tables ([[fleet]])")
        return rows
    for i, e in enumerate(raw):
        key = f"fleet[{i}]"
        if not isinstance(e, dict):
            pr.add(key, "must be a table")
            continue
        _unknown(
            pr,
            key,
            e,
            {
                "bus",
                "buses",
                "area",
                "vehicle",
                "location",
                "charger",
                "count",
                "adoption",
                "customer_kind",
            },
        )
        veh = _required(pr, key, e, "vehicle")
        loc = _required(pr, key, e, "location")
        if veh is not None and veh not in vehicles:
            pr.add(
                f"{key}.vehicle",
                f"names vehicle class {veh!r}, which does not exist"
                f" (defined: {', '.join(vehicles) or 'none'})",
            )
            veh = None
        if loc is not None and loc not in locations:
            pr.add(
                f"{key}.location",
                f"names location {loc!r}, which does not exist"
                f" (defined: {', '.join(locations) or 'none'})",
            )
            loc = None
        charger = e.get("charger", locations[loc].charger if loc else "")
        if not charger:
            pr.add(f"{key}.charger", "is missing (and the location names no default charger)")
            charger = None
        elif charger not in chargers:
            pr.add(
                f"{key}.charger",
                f"names charger class {charger!r}, which does not exist"
                f" (defined: {', '.join(chargers) or 'none'})",
            )
            charger = None
        where = [k for k in ("bus", "buses", "area") if k in e]
        if len(where) != 1:
            pr.add(key, "must give exactly one of bus, buses or area")
            continue
        bus_list: list[int] = []
        if "bus" in e:
            b = buses.check(pr, f"{key}.bus", e["bus"])
            bus_list = [b] if b is not None else []
        elif "buses" in e:
            if not isinstance(e["buses"], list) or not e["buses"]:
                pr.add(f"{key}.buses", "must be a non-empty list of bus indices")
            else:
                for j, b in enumerate(e["buses"]):
                    bb = buses.check(pr, f"{key}.buses[{j}]", b)
                    if bb is not None:
                        bus_list.append(bb)
        else:
            area = str(e["area"])
            if buses.net is None:
                pr.add(f"{key}.area", "needs the scenario's case (its buses' feeder column)")
            elif not buses.feeder:
                pr.add(f"{key}.area", f"needs a 'feeder' column in the buses of case {buses.name}")
            else:
                bus_list = sorted(b for b, f in buses.feeder.items() if f == area)
                if not bus_list:
                    known = sorted(set(buses.feeder.values()))
                    pr.add(
                        f"{key}.area",
                        f"names feeder {area!r}, which case {buses.name} does not have"
                        f" (feeders: {', '.join(known)})",
                    )
        has_count, has_share = "count" in e, "adoption" in e
        if has_count == has_share:
            pr.add(key, "must give exactly one of count and adoption")
            continue
        kind = str(e.get("customer_kind", ""))
        cust = buses.customers(kind) if has_share or len(bus_list) > 1 else {}
        counts: list[int] = []
        cust_of: list[float] = []
        if has_share:
            share = _num(pr, f"{key}.adoption", e["adoption"], lo=0.0, hi=1.0)
            if buses.net is None:
                pr.add(
                    f"{key}.adoption",
                    "needs the scenario's case (customers per bus); give count instead",
                )
                continue
            cs = [cust.get(b, 0.0) for b in bus_list]
            if bus_list and sum(cs) == 0:
                pr.add(
                    f"{key}.adoption",
                    f"needs customers at its buses, but {bus_list[:5]} have none"
                    + (f" of kind {kind!r}" if kind else ""),
                )
                continue
            counts = _largest_remainder(share * np.array(cs), round(share * sum(cs)))
            cust_of = cs
        else:
            cnt = e["count"]
            if isinstance(cnt, bool) or not isinstance(cnt, int) or cnt < 0:
                pr.add(f"{key}.count", f"must be an integer >= 0, got {cnt!r}")
                continue
            w = np.array([cust.get(b, 0.0) for b in bus_list]) if cust else np.ones(len(bus_list))
            if w.sum() == 0:
                w = np.ones(len(bus_list))
            counts = _largest_remainder(cnt * w / w.sum(), cnt) if bus_list else []
            cust_of = [math.nan] * len(bus_list)
        if veh is None or loc is None or charger is None:
            continue
        ch = chargers[charger]
        for b, n, c in zip(bus_list, counts, cust_of, strict=True):
            if ch.kind == "swap" and (b, charger) not in sites:
                pr.add(
                    key,
                    f"puts swap charger {charger!r} at bus {b} without a [[sites]]"
                    " entry giving its racks (points)",
                )
                break
            if n > 0:
                rows.append(FleetRow(i, b, veh, loc, charger, int(n), c))
    return rows


def _largest_remainder(quota: np.ndarray, total: int) -> list[int]:
    """Integers summing to ``total`` closest to ``quota`` (largest remainders get the rest)."""
    if quota.size == 0:
        return []
    q = (
        quota * (total / quota.sum())
        if quota.sum() > 0
        else np.full(quota.size, total / quota.size)
    )
    base = np.floor(q).astype(int)
    rest = total - int(base.sum())
    order = np.argsort(-(q - base), kind="stable")
    base[order[:rest]] += 1
    return base.tolist()


def _policies(pr: _Problems, raw: Any) -> TouParams:
    if not isinstance(raw, dict):
        pr.add("policies", "must be a table")
        return TouParams()
    _unknown(pr, "policies", raw, {"tou"})
    t = raw.get("tou", {})
    if not isinstance(t, dict):
        pr.add("policies.tou", "must be a table")
        return TouParams()
    _unknown(pr, "policies.tou", t, {"start_h", "end_h", "delay_h", "keep_energy"})
    d = TouParams()
    return TouParams(
        start_h=_num(pr, "policies.tou.start_h", t.get("start_h", d.start_h), lo=0.0, hi=24.0),
        end_h=_num(pr, "policies.tou.end_h", t.get("end_h", d.end_h), lo=0.0, hi=24.0),
        delay_h=_num(pr, "policies.tou.delay_h", t.get("delay_h", d.delay_h), lo=0.0, hi=24.0),
        keep_energy=bool(t.get("keep_energy", d.keep_energy)),
    )


def _hosting(
    pr: _Problems,
    raw: Any,
    vehicles: dict[str, VehicleClass],
    locations: dict[str, Location],
    chargers: dict[str, ChargerClass],
) -> HostingSpec:
    if not isinstance(raw, dict):
        pr.add("hosting", "must be a table")
        return HostingSpec()
    _unknown(
        pr,
        "hosting",
        raw,
        {
            "candidates",
            "vehicle",
            "location",
            "charger",
            "customer_kind",
            "max_adoption",
            "max_count",
        },
    )
    cand = str(raw.get("candidates", "fleet"))
    if cand not in ("fleet", "customers"):
        pr.add("hosting.candidates", f"must be 'fleet' or 'customers', got {cand!r}")
    veh, loc = str(raw.get("vehicle", "")), str(raw.get("location", ""))
    charger = str(raw.get("charger", locations[loc].charger if loc in locations else ""))
    if cand == "customers":
        for k, v, pool in (
            ("vehicle", veh, vehicles),
            ("location", loc, locations),
            ("charger", charger, chargers),
        ):
            if v not in pool:
                pr.add(
                    f"hosting.{k}",
                    f"names {v!r}, which does not exist (defined: {', '.join(pool) or 'none'})",
                )
    mc = raw.get("max_count", 0)
    if isinstance(mc, bool) or not isinstance(mc, int) or mc < 0:
        pr.add("hosting.max_count", f"must be an integer >= 0, got {mc!r}")
        mc = 0
    return HostingSpec(
        candidates=cand,
        vehicle=veh,
        location=loc,
        charger=charger,
        customer_kind=str(raw.get("customer_kind", "")),
        max_adoption=_num(
            pr, "hosting.max_adoption", raw.get("max_adoption", 1.0), lo=0.0, hi=10.0, lo_open=True
        ),
        max_count=int(mc),
    )


# -- arrays for the Monte Carlo --------------------------------------------------------------
@dataclass(frozen=True)
class FleetArrays:
    """The Monte Carlo inputs of a scenario and the labels of its rows."""

    fleet: fl.Fleet
    sites: fl.Sites
    calendar: fl.Calendar
    site_bus: np.ndarray  # bus of each site
    site_charger: list[str]  # charger class of each site
    vehicle_row: np.ndarray  # fleet row of each vehicle
    vehicle_class: list[str]  # class name of each vehicle's row
    scenario: Scenario


def calendar(start: dt.date, days: int, step_min: float) -> fl.Calendar:
    """Days from ``start`` with ``step_min``-minute steps (must divide a day)."""
    spd = 1440.0 / step_min
    if step_min <= 0 or abs(spd - round(spd)) > 1e-9:
        raise CaseError(f"step of {step_min:g} min must divide a day (1440 min) evenly")
    if days < 1:
        raise CaseError(f"days must be >= 1, got {days}")
    wd = np.array([(start + dt.timedelta(days=d)).weekday() >= 5 for d in range(days + 1)])
    return fl.Calendar(n_days=int(days), steps_per_day=round(spd), weekend=wd)


def build_arrays(
    sc: Scenario,
    days: int,
    step_min: float = 15.0,
    *,
    vehicle_rows: np.ndarray | None = None,
    site_trafo: dict[tuple[int, str], int] | None = None,
) -> FleetArrays:
    """Turn a scenario into :mod:`gridplan.core.ev_fleet` arrays.

    Parameters
    ----------
    sc
        The scenario.
    days, step_min
        Horizon and step length.
    vehicle_rows
        Fleet row of each vehicle, in the order wanted (hosting capacity interleaves buses);
        default: every row repeated ``count`` times, in a fixed random order.
    site_trafo
        Transformer row (valley filling) of each site ``(bus, charger)``; default 0.
    """
    cal = calendar(sc.start, days, step_min)
    rows = sc.rows
    shuffled = vehicle_rows is None
    if vehicle_rows is None:
        # a fixed random order: coincidence-factor subsets are then runs of vehicles
        vehicle_rows = np.repeat(np.arange(len(rows)), [r.count for r in rows]).astype(np.int64)
        vehicle_rows = vehicle_rows[
            np.random.default_rng(SHUFFLE_SEED).permutation(len(vehicle_rows))
        ]
    # sites: declared ones first, then those the fleet brings
    site_keys: list[tuple[int, str]] = list(sc.sites)
    for r in rows:
        if (r.bus, r.charger) not in sc.sites and (r.bus, r.charger) not in site_keys:
            site_keys.append((r.bus, r.charger))
    site_pos = {k: i for i, k in enumerate(site_keys)}
    st_ch = [sc.chargers[c] for _, c in site_keys]
    sites = fl.Sites(
        points=np.array([sc.sites.get(k, -1) for k in site_keys], dtype=np.int64),
        kind=np.array([fl.CHARGER_KINDS[c.kind] for c in st_ch], dtype=np.int64),
        p_kw=np.array([c.power_kw for c in st_ch]),
        flexible=np.array([c.flexible for c in st_ch], dtype=bool),
        trafo=np.array([(site_trafo or {}).get(k, 0) for k in site_keys], dtype=np.int64),
        swap_max_wait_h=sc.swap_max_wait_h,
    )
    # distribution table
    kinds, a_, b_, lo_, hi_, wrap_ = [], [], [], [], [], []
    ids: dict[tuple[int, float, bool], int] = {}

    def dist_id(ds: DistSpec, *, cap: float = math.inf, wrap: bool = False, lo: float = 0.0) -> int:
        key = (id(ds), cap, wrap)
        if key in ids:
            return ids[key]
        cap = min(cap, ds.get("max", math.inf))
        k = fl.DIST_KINDS[ds.kind]
        a = b = 0.0
        if ds.kind == "fixed":
            a = ds.params["value"]
        elif ds.kind == "uniform":
            a, b = ds.params["min"], ds.params["max"]
        elif ds.kind == "normal":
            a, b = ds.params["mean"], ds.params["sd"]
        elif ds.kind == "lognormal":
            a, b = fl.capped_lognormal(ds.params["mean"], ds.params["cv"], cap)
        else:
            a, b = fl.capped_gamma(ds.params["mean"], ds.params["cv"], cap)
        kinds.append(k)
        a_.append(a)
        b_.append(b)
        lo_.append(ds.get("min", lo))
        hi_.append(cap)
        wrap_.append(wrap)
        ids[key] = len(kinds) - 1
        return ids[key]

    nv = vehicle_rows.shape[0]
    row_obj = [rows[i] for i in range(len(rows))]
    per_row: dict[str, list[Any]] = {
        k: [] for k in ("batt", "cons", "eff", "p", "grp", "plug", "multi", "dw", "de")
    }
    for r in row_obj:
        vc = sc.vehicles[r.vehicle]
        loc = sc.locations[r.location]
        ch = sc.chargers[r.charger]
        limit = vc.ac_max_kw if ch.kind == "ac" else vc.dc_max_kw if ch.kind == "dc" else math.inf
        per_row["batt"].append(vc.battery_kwh)
        per_row["cons"].append(vc.consumption_kwh_per_km)
        per_row["eff"].append(ch.efficiency)
        per_row["p"].append(min(ch.power_kw, limit))
        per_row["grp"].append(site_pos[(r.bus, r.charger)])
        per_row["plug"].append(loc.plug_probability)
        per_row["multi"].append(loc.multi_day)
        per_row["dw"].append(dist_id(vc.distance, cap=vc.max_km))
        per_row["de"].append(dist_id(vc.weekend_distance, cap=vc.max_km))

    def take(name: str, dtype: Any = float) -> np.ndarray:
        arr = np.asarray(per_row[name], dtype=dtype)
        return np.ascontiguousarray(arr[vehicle_rows]) if nv else np.empty(0, dtype=dtype)

    # session slots per day type
    slots_by_type = []
    first_share = []
    no_slot = []
    max_stay = 0.0
    for day_type in ("weekday", "weekend"):
        locs_of_row = [sc.locations[r.location] for r in row_obj]
        sess_of_row = [getattr(loc, day_type) for loc in locs_of_row]
        n_sess = np.array([len(s) for s in sess_of_row], dtype=np.int64)
        nv_sess = n_sess[vehicle_rows] if nv else np.empty(0, dtype=np.int64)
        fs = np.array([s[0].share if s else 1.0 for s in sess_of_row])
        first_share.append(np.ascontiguousarray(fs[vehicle_rows]) if nv else np.empty(0))
        no_slot.append(np.flatnonzero(nv_sess == 0).astype(np.int64))
        slots = []
        for j in range(int(n_sess.max(initial=0))):
            veh = np.flatnonzero(nv_sess > j).astype(np.int64)
            # one session a day: arrival hours wrap around midnight; several: clipped to the
            # day so the sessions keep their order
            arr_id = np.array(
                [
                    dist_id(s[j].arrival, wrap=len(s) == 1, cap=24.0 - 1e-9) if len(s) > j else -1
                    for s in sess_of_row
                ]
            )
            dw_id = np.array(
                [
                    dist_id(s[j].dwell, cap=MAX_MULTI_DAY_H if loc.multi_day else 24.0)
                    if len(s) > j
                    else -1
                    for s, loc in zip(sess_of_row, locs_of_row, strict=True)
                ]
            )
            share = np.array([s[j].share if len(s) > j else 0.0 for s in sess_of_row])
            nxt = np.array([s[j + 1].share if len(s) > j + 1 else -1.0 for s in sess_of_row])
            rv = vehicle_rows[veh]
            dists_tmp = _dists(kinds, a_, b_, lo_, hi_, wrap_)
            slots.append(
                fl.Slot(
                    vehicles=veh,
                    arrival=dists_tmp.plan(arr_id[rv]),
                    dwell=dists_tmp.plan(dw_id[rv]),
                    share=np.ascontiguousarray(share[rv]),
                    next_share=np.ascontiguousarray(nxt[rv]),
                )
            )
            for s in sess_of_row:
                if len(s) > j:
                    max_stay = max(
                        max_stay, s[j].dwell.params.get("value", s[j].dwell.params.get("max", 24.0))
                    )
        slots_by_type.append(tuple(slots))
    fleet = fl.Fleet(
        battery_kwh=take("batt"),
        consumption_kwh_per_km=take("cons"),
        efficiency=take("eff"),
        p_kw=take("p"),
        group=take("grp", np.int64),
        plug_probability=take("plug"),
        multi_day=take("multi", bool),
        distance=(take("dw", np.int64), take("de", np.int64)),
        distributions=_dists(kinds, a_, b_, lo_, hi_, wrap_),
        slots=(slots_by_type[0], slots_by_type[1]),
        first_share=(first_share[0], first_share[1]),
        no_slot=(no_slot[0], no_slot[1]),
        max_stay_h=max_stay,
        shuffled=shuffled,
    )
    return FleetArrays(
        fleet=fleet,
        sites=sites,
        calendar=cal,
        site_bus=np.array([b for b, _ in site_keys], dtype=np.int64),
        site_charger=[c for _, c in site_keys],
        vehicle_row=vehicle_rows,
        vehicle_class=[r.vehicle for r in row_obj],
        scenario=sc,
    )


def _dists(
    kinds: list[int],
    a: list[float],
    b: list[float],
    lo: list[float],
    hi: list[float],
    wrap: list[bool],
) -> fl.Distributions:
    return fl.Distributions(
        kind=np.array(kinds, dtype=np.int64),
        a=np.array(a, dtype=float),
        b=np.array(b, dtype=float),
        lo=np.array(lo, dtype=float),
        hi=np.array(hi, dtype=float),
        wrap24=np.array(wrap, dtype=bool),
    )
