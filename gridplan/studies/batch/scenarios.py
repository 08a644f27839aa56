"""Scenario variants of a study: what changes in a case before the analyses run.

A scenario is a table under ``[scenarios.NAME]`` in the study file (docs/batch.md):

``load_scale``, ``sgen_scale``, ``gen_scale``
    Factors (> 0) on the active and reactive power of every load, static generator, and on
    the active power of every generator.
``profile``
    A profile file (CSV or HDF5, :mod:`gridplan.model.profiles`): the year the ``timeseries``
    analysis runs through.
``snapshot``
    With a profile: the step that sets every profiled element's value for the snapshot
    analyses (``pf``, ``n1``, ...): ``"peak"`` (largest total load), ``"min"``, a step
    number or an ISO time. Applied before the scale factors.
``files``
    The hook for scenario files of other analyses (``files.wind = "farms-2030.toml"``,
    ``files.ev = "fleet.toml"``): gridplan checks that each file exists, puts its digest
    into the task key (a changed file makes its tasks stale) and hands the absolute paths to
    the analyses as ``options["study_scenario"].files``; what a file means is the analysis's own.

Paths are relative to the study file. A scenario never modifies the caller's net: a
changed copy is returned.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandapower as pp

from gridplan.errors import CaseError

SCENARIO_KEYS: dict[str, str] = {
    "description": "one line shown in the summary",
    "load_scale": "factor on load p_mw and q_mvar",
    "sgen_scale": "factor on sgen p_mw and q_mvar",
    "gen_scale": "factor on gen p_mw",
    "profile": "profile file (CSV or HDF5) for timeseries and snapshots",
    "snapshot": "profile step applied to the case: peak, min, a step number or an ISO time",
    "files": "named scenario files for other analyses (wind, ev, ...)",
}


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (``file.h5:/group`` reads ``file.h5``)."""
    p = Path(_file_part(str(path)))
    st = p.stat()
    return _digest(str(p), (st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns))


@lru_cache(maxsize=64)
def _digest(path: str, _stat: tuple[int, ...]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _file_part(text: str) -> str:
    if ":" in text and Path(text.rsplit(":", 1)[0]).suffix.lower() in {".h5", ".hdf5"}:
        return text.rsplit(":", 1)[0]
    return text


@dataclass(frozen=True)
class Scenario:
    """One scenario variant (see the module docstring); paths are absolute."""

    name: str
    description: str = ""
    load_scale: float = 1.0
    sgen_scale: float = 1.0
    gen_scale: float = 1.0
    profile: str | None = None
    snapshot: str | int | None = None
    files: dict[str, str] = field(default_factory=dict)

    def definition(self) -> dict[str, Any]:
        """JSON-able definition with the digest of every file: what enters the task key."""
        d: dict[str, Any] = {
            "load_scale": self.load_scale,
            "sgen_scale": self.sgen_scale,
            "gen_scale": self.gen_scale,
        }
        if self.profile is not None:
            d["profile"] = {"path": self.profile, "sha256": file_digest(self.profile)}
        if self.snapshot is not None:
            d["snapshot"] = self.snapshot
        if self.files:
            d["files"] = {
                k: {"path": v, "sha256": file_digest(v)} for k, v in sorted(self.files.items())
            }
        return d

    def to_json(self) -> dict[str, Any]:
        """Plain definition (paths, no digests) for the study snapshot."""
        d: dict[str, Any] = {"description": self.description}
        for k in ("load_scale", "sgen_scale", "gen_scale"):
            if getattr(self, k) != 1.0:
                d[k] = getattr(self, k)
        if self.profile is not None:
            d["profile"] = self.profile
        if self.snapshot is not None:
            d["snapshot"] = self.snapshot
        if self.files:
            d["files"] = dict(self.files)
        return d

    @property
    def changes_net(self) -> bool:
        """True when applying the scenario changes element values."""
        return self.snapshot is not None or any(
            getattr(self, k) != 1.0 for k in ("load_scale", "sgen_scale", "gen_scale")
        )

    def apply(self, net: pp.pandapowerNet) -> pp.pandapowerNet:
        """``net`` with the scenario applied (a copy; ``net`` itself when nothing changes)."""
        if not self.changes_net:
            return net
        out = copy.deepcopy(net)
        if self.snapshot is not None:
            _apply_snapshot(out, self)
        for table, cols, factor in (
            ("load", ("p_mw", "q_mvar"), self.load_scale),
            ("sgen", ("p_mw", "q_mvar"), self.sgen_scale),
            ("gen", ("p_mw",), self.gen_scale),
        ):
            if factor != 1.0 and len(out[table]):
                for c in cols:
                    out[table][c] = out[table][c].astype(float) * factor
        return out


def _apply_snapshot(net: pp.pandapowerNet, sc: Scenario) -> None:
    from gridplan.model import profiles as prof

    profiles = prof.read_profiles(sc.profile)
    prof.validate(profiles, net, allow_negative_loads=True)
    snap = sc.snapshot
    if snap in ("peak", "min"):
        load = profiles.tables.get(("load", "p_mw"))
        if load is None:
            raise CaseError(
                f"scenario {sc.name}: snapshot = {snap!r} needs load p_mw profiles in "
                f"{sc.profile}, got none"
            )
        total = load.to_numpy(dtype=float).sum(axis=1)
        step = int(np.argmax(total) if snap == "peak" else np.argmin(total))
    elif isinstance(snap, int):
        if not 0 <= snap < profiles.n_steps:
            raise CaseError(
                f"scenario {sc.name}: snapshot must be a step in 0..{profiles.n_steps - 1}, "
                f"got {snap} instead"
            )
        step = snap
    else:
        try:
            step = int(profiles.index.get_loc(np.datetime64(str(snap))))
        except (KeyError, ValueError, TypeError):
            raise CaseError(
                f"scenario {sc.name}: snapshot {snap!r} is not a time of {sc.profile}"
            ) from None
    for (element, column), df in profiles.tables.items():
        net[element].loc[df.columns, column] = df.iloc[step].to_numpy(dtype=float)


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def parse_scenario(name: str, table: Any, base: Path, where: str) -> Scenario:
    """A :class:`Scenario` from its study-file table; :class:`CaseError` on any bad entry."""
    at = f"{where}: scenarios.{name}"
    if not _NAME.match(name):
        raise CaseError(f"{at}: a scenario name must be letters, digits, '.', '_' or '-'")
    if not isinstance(table, dict):
        raise CaseError(f"{at} must be a table, got {table!r} instead")
    unknown = sorted(set(table) - set(SCENARIO_KEYS))
    if unknown:
        raise CaseError(
            f"{at}: unknown key(s) {', '.join(unknown)}; known: {', '.join(SCENARIO_KEYS)}"
        )
    kw: dict[str, Any] = {"name": name, "description": str(table.get("description", ""))}
    for k in ("load_scale", "sgen_scale", "gen_scale"):
        if k in table:
            v = table[k]
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise CaseError(f"{at}.{k} must be a number, got {v!r} instead")
            if not (math.isfinite(v) and v > 0):
                raise CaseError(f"{at}.{k} must be a finite number > 0, got {v} instead")
            kw[k] = float(v)

    def path_of(key: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise CaseError(f"{at}.{key} must be a file path, got {value!r} instead")
        group = ""
        text = value
        if _file_part(value) != value:
            text, group = value.rsplit(":", 1)
            group = ":" + group
        p = Path(text)
        p = p if p.is_absolute() else base / p
        if not p.is_file():
            raise CaseError(f"{at}.{key}: {p}: no such file")
        return str(p.resolve()) + group

    if "profile" in table:
        kw["profile"] = path_of("profile", table["profile"])
    if "snapshot" in table:
        snap = table["snapshot"]
        if "profile" not in kw:
            raise CaseError(f"{at}.snapshot needs a profile file in the same scenario")
        if isinstance(snap, bool) or not isinstance(snap, str | int):
            raise CaseError(
                f"{at}.snapshot must be 'peak', 'min', a step number or an ISO time, "
                f"got {snap!r} instead"
            )
        kw["snapshot"] = snap
    if "files" in table:
        files = table["files"]
        if not isinstance(files, dict):
            raise CaseError(f"{at}.files must be a table (files.wind = '...'), got {files!r}")
        kw["files"] = {str(k): path_of(f"files.{k}", v) for k, v in files.items()}
    return Scenario(**kw)
