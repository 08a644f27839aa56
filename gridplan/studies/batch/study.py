"""Study files (TOML): the cases, scenario variants and analyses of a batch run.

``load_study(path)`` reads and checks a study file (format in docs/batch.md) and returns a
:class:`Study`; ``Study.tasks()`` lists its tasks, one per (case, scenario, analysis), in a
fixed order (case by case, then scenario, then analysis) that shards and reruns share.
Every problem is reported as one :class:`CaseError` line naming the file and the entry.
"""

from __future__ import annotations

import glob
import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridplan.errors import CaseError
from gridplan.model.cases import bundled_cases, pandapower_network_names
from gridplan.studies.batch.analyses import RESERVED_OPTIONS, get_analysis
from gridplan.studies.batch.scenarios import Scenario, parse_scenario

STUDY_FORMAT = 1
BUNDLED = ":bundled"  # in ``cases``: every bundled case
DEFAULT_STUDY_FILE = "default-study.toml"
TOP_KEYS = ("name", "description", "cases", "scenarios", "analyses", "cluster", "out_dir")
CLUSTER_KEYS: dict[str, tuple[type, ...]] = {
    "queue": (str,),
    "account": (str,),
    "cores": (int,),
    "processes": (int,),
    "memory": (str,),
    "walltime": (str,),
    "jobs": (int,),
    "interface": (str,),
    "job_extra_directives": (list,),
    "job_script_prologue": (list,),
    "local_directory": (str,),
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class CaseEntry:
    """A case of the study: its unique name (file names) and its spec (name or absolute path)."""

    name: str
    spec: str


@dataclass(frozen=True)
class AnalysisEntry:
    """An analysis of the study: name (file name), registry kind, options, scenario and case
    filters (None: every scenario / case)."""

    name: str
    kind: str
    options: dict[str, Any]
    scenarios: tuple[str, ...] | None = None
    cases: tuple[str, ...] | None = None

    def key_options(self) -> dict[str, Any]:
        """The options that enter the task key (execution-only options left out)."""
        skip = set(get_analysis(self.kind).execution_options)
        return {k: v for k, v in sorted(self.options.items()) if k not in skip}


@dataclass(frozen=True)
class Task:
    """One (case, scenario, analysis) of a study; ``index`` is its place in the study order."""

    index: int
    case: CaseEntry
    scenario: Scenario
    analysis: AnalysisEntry

    @property
    def id(self) -> str:
        """``case/scenario/analysis``: unique within the study, also the file's place."""
        return f"{self.case.name}/{self.scenario.name}/{self.analysis.name}"

    def path(self, out_dir: str | Path) -> Path:
        """Task file: ``OUT/<case>/<scenario>/<analysis>.h5``."""
        return Path(out_dir) / self.case.name / self.scenario.name / f"{self.analysis.name}.h5"


@dataclass
class Study:
    """A checked study: what to run (paths absolute, names unique)."""

    name: str
    source: str
    cases: list[CaseEntry]
    scenarios: dict[str, Scenario]
    analyses: dict[str, AnalysisEntry]
    description: str = ""
    cluster: dict[str, Any] = field(default_factory=dict)
    out_dir: str | None = None

    def tasks(self) -> list[Task]:
        """Every task in study order (case, then scenario, then analysis)."""
        out: list[Task] = []
        for case in self.cases:
            for sc in self.scenarios.values():
                for an in self.analyses.values():
                    if (an.scenarios is None or sc.name in an.scenarios) and (
                        an.cases is None or case.name in an.cases
                    ):
                        out.append(Task(len(out), case, sc, an))
        return out

    # -- the snapshot written next to the results (batch merge/status read it) ----------
    def to_json(self) -> dict[str, Any]:
        """A plain, resolved definition: re-read by :meth:`from_json` without the TOML file."""
        return {
            "format": STUDY_FORMAT,
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "cases": [{"name": c.name, "spec": c.spec} for c in self.cases],
            "scenarios": {k: v.to_json() for k, v in self.scenarios.items()},
            "analyses": {
                k: {
                    "analysis": a.kind,
                    "options": a.options,
                    **({"scenarios": list(a.scenarios)} if a.scenarios is not None else {}),
                    **({"cases": list(a.cases)} if a.cases is not None else {}),
                }
                for k, a in self.analyses.items()
            },
            "cluster": self.cluster,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> Study:
        """The study of a snapshot written by :meth:`to_json`."""
        if data.get("format") != STUDY_FORMAT:
            raise CaseError(
                f"{where}: study snapshot format {data.get('format')!r}, this gridplan "
                f"reads {STUDY_FORMAT}"
            )
        # built as written (paths are absolute): a file removed since then makes its
        # tasks fail or go stale, not the whole folder unreadable
        scenarios = {k: Scenario(name=k, **v) for k, v in data["scenarios"].items()}
        analyses = {
            k: AnalysisEntry(
                k,
                v["analysis"],
                dict(v["options"]),
                tuple(v["scenarios"]) if "scenarios" in v else None,
                tuple(v["cases"]) if "cases" in v else None,
            )
            for k, v in data["analyses"].items()
        }
        return cls(
            name=data["name"],
            source=data.get("source", ""),
            cases=[CaseEntry(c["name"], c["spec"]) for c in data["cases"]],
            scenarios=scenarios,
            analyses=analyses,
            description=data.get("description", ""),
            cluster=dict(data.get("cluster", {})),
        )


# ---------------------------------------------------------------------------------------
def default_study_path() -> Path:
    """The bundled default study (``seeds/default-study.toml``)."""
    src = Path(__file__).resolve().parents[3] / "seeds" / DEFAULT_STUDY_FILE
    if src.is_file():
        return src
    from importlib import resources

    return Path(str(resources.files("gridplan._seeds").joinpath(DEFAULT_STUDY_FILE)))


def load_study(path: str | Path) -> Study:
    """Read and check the study file ``path`` (TOML)."""
    p = Path(path)
    if not p.is_file():
        raise CaseError(f"{p}: no such study file")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CaseError(f"{p}: not a valid TOML study file ({exc})") from None
    return parse_study(data, base=p.resolve().parent, where=str(p), default_name=p.stem)


def study_for_cases(specs: Iterable[str], template: Study | None = None) -> Study:
    """The analyses and scenarios of ``template`` (default: the bundled default study)
    over the case specs given on the command line (paths relative to the current folder)."""
    tpl = template or load_study(default_study_path())
    cases = _cases(list(specs), Path.cwd(), "command line")
    return Study(
        name=tpl.name,
        source=f"{tpl.source} (cases from the command line)",
        cases=cases,
        scenarios=tpl.scenarios,
        analyses=tpl.analyses,
        description=tpl.description,
        cluster=tpl.cluster,
    )


def parse_study(
    data: dict[str, Any], *, base: Path, where: str, default_name: str = "study"
) -> Study:
    """A :class:`Study` from the parsed TOML ``data``; paths are relative to ``base``."""
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise CaseError(
            f"{where}: unknown key(s) {', '.join(unknown)}; a study file has {', '.join(TOP_KEYS)}"
        )
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise CaseError(f"{where}: name must be a text, got {name!r} instead")
    if "cases" not in data:
        raise CaseError(f'{where}: no cases; give e.g. cases = ["{BUNDLED}", "grids/*.json"]')
    raw_cases = data["cases"]
    if not isinstance(raw_cases, list) or not raw_cases:
        raise CaseError(f"{where}: cases must be a non-empty list, got {raw_cases!r} instead")
    cases = _cases(raw_cases, base, where)

    raw_sc = data.get("scenarios", {"base": {}})
    if not isinstance(raw_sc, dict) or not raw_sc:
        raise CaseError(f"{where}: scenarios must be tables [scenarios.NAME], got {raw_sc!r}")
    scenarios = {k: parse_scenario(k, v, base, where) for k, v in raw_sc.items()}

    raw_an = data.get("analyses")
    if not isinstance(raw_an, dict) or not raw_an:
        raise CaseError(
            f"{where}: no analyses; add e.g. [analyses.pf] (known: pf, n1, reliability, ...)"
        )
    analyses = {k: _analysis(k, v, base, where, scenarios) for k, v in raw_an.items()}
    case_names = [c.name for c in cases]
    for k, an in analyses.items():
        unknown = [c for c in an.cases or () if c not in case_names]
        if unknown:
            raise CaseError(
                f"{where}: analyses.{k}.cases: no case {', '.join(unknown)} in this study; "
                f"its cases: {', '.join(case_names)}"
            )
    _check_unique(
        [a.lower() for a in analyses], f"{where}: analyses", "differ only in upper/lower case"
    )
    _check_unique(
        [s.lower() for s in scenarios], f"{where}: scenarios", "differ only in upper/lower case"
    )

    cluster = data.get("cluster", {})
    if not isinstance(cluster, dict):
        raise CaseError(f"{where}: cluster must be a table, got {cluster!r} instead")
    for k, v in cluster.items():
        if k not in CLUSTER_KEYS:
            raise CaseError(f"{where}: cluster.{k}: unknown key; known: {', '.join(CLUSTER_KEYS)}")
        if not isinstance(v, CLUSTER_KEYS[k]) or isinstance(v, bool):
            raise CaseError(
                f"{where}: cluster.{k} must be {CLUSTER_KEYS[k][0].__name__}, got {v!r} instead"
            )
    out_dir = data.get("out_dir")
    if out_dir is not None:
        if not isinstance(out_dir, str) or not out_dir:
            raise CaseError(f"{where}: out_dir must be a folder path, got {out_dir!r} instead")
        out_dir = str(Path(out_dir) if Path(out_dir).is_absolute() else base / out_dir)
    return Study(
        name=name,
        source=where,
        cases=cases,
        scenarios=scenarios,
        analyses=analyses,
        description=str(data.get("description", "")),
        cluster=dict(cluster),
        out_dir=out_dir,
    )


def _check_unique(names: list[str], where: str, what: str) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise CaseError(f"{where}: two entries named {n!r} ({what})")
        seen.add(n)


def _analysis(
    name: str, table: Any, base: Path, where: str, scenarios: dict[str, Scenario]
) -> AnalysisEntry:
    at = f"{where}: analyses.{name}"
    if not _NAME.match(name):
        raise CaseError(f"{at}: an analysis name must be letters, digits, '.', '_' or '-'")
    if not isinstance(table, dict):
        raise CaseError(f"{at} must be a table, got {table!r} instead")
    table = dict(table)
    kind = table.pop("analysis", name)
    reg = get_analysis(str(kind), f"{at}: ")
    only = table.pop("scenarios", None)
    if only is not None:
        if not isinstance(only, list) or not all(isinstance(s, str) for s in only):
            raise CaseError(f"{at}.scenarios must be a list of scenario names, got {only!r}")
        missing = [s for s in only if s not in scenarios]
        if missing:
            raise CaseError(
                f"{at}.scenarios: no scenario {', '.join(missing)}; known: {', '.join(scenarios)}"
            )
    only_cases = table.pop("cases", None)
    if only_cases is not None and (
        not isinstance(only_cases, list) or not all(isinstance(c, str) for c in only_cases)
    ):
        raise CaseError(f"{at}.cases must be a list of case names, got {only_cases!r}")
    options: dict[str, Any] = {}
    for key, opt in reg.options.items():
        if key in table:
            value = opt.check(f"{at}.{key}", table.pop(key))
            if opt.path and value and value not in opt.keywords:
                p = Path(value)
                p = p if p.is_absolute() else base / p
                if not p.is_file():
                    raise CaseError(f"{at}.{key}: {p}: no such file")
                value = str(p.resolve())
            options[key] = value
        else:
            options[key] = opt.default
    if table:
        bad = sorted(table)
        reserved = [b for b in bad if b in RESERVED_OPTIONS]
        raise CaseError(
            f"{at}: unknown option(s) {', '.join(bad)}"
            + (" (reserved names)" if reserved else "")
            + f"; {reg.name} takes {', '.join(reg.options) or 'no options'}"
        )
    return AnalysisEntry(
        name,
        reg.name,
        options,
        tuple(only) if only is not None else None,
        tuple(only_cases) if only_cases is not None else None,
    )


# ---------------------------------------------------------------------------------------
def _has_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _cases(raw: list[Any], base: Path, where: str) -> list[CaseEntry]:
    """Resolve the case list: expand ``:bundled`` and globs, name every case uniquely."""
    bundled = bundled_cases()
    items: list[tuple[str, str | None]] = []  # (spec, explicit name)
    for i, entry in enumerate(raw):
        at = f"{where}: cases[{i}]"
        explicit = None
        if isinstance(entry, dict):
            extra = sorted(set(entry) - {"spec", "name"})
            if extra or "spec" not in entry:
                raise CaseError(f"{at} must be a text or {{spec = ..., name = ...}}, got {entry!r}")
            explicit = entry.get("name")
            if explicit is not None and (
                not isinstance(explicit, str) or not _NAME.match(explicit)
            ):
                raise CaseError(
                    f"{at}.name must be letters, digits, '.', '_' or '-', got {explicit!r}"
                )
            entry = entry["spec"]
        if not isinstance(entry, str) or not entry:
            raise CaseError(f"{at} must be a case spec (text), got {entry!r} instead")
        if entry == BUNDLED:
            if explicit:
                raise CaseError(f"{at}: {BUNDLED} names several cases; it cannot take a name")
            items += [(n, None) for n in bundled]
            continue
        path = Path(entry)
        full = path if path.is_absolute() else base / path
        if _has_glob(entry):
            hits = sorted(glob.glob(str(full), recursive=True))
            hits = [h for h in hits if Path(h).is_file()]
            if not hits:
                raise CaseError(f"{at}: {entry!r} matches no file (relative to {base})")
            if explicit and len(hits) > 1:
                raise CaseError(f"{at}: {entry!r} matches {len(hits)} files; it cannot take a name")
            items += [(str(Path(h).resolve()), explicit) for h in hits]
        elif full.is_file():
            items.append((str(full.resolve()), explicit))
        elif entry in bundled or entry in pandapower_network_names():
            items.append((entry, explicit))
        elif path.suffix or "/" in entry:
            raise CaseError(f"{at}: {full}: no such case file")
        else:
            from gridplan.model.cases import _suggest

            raise CaseError(f"{at}: unknown case {entry!r}", hint=_suggest(entry))
    # the same case listed twice (a glob and a name, two globs) runs once
    seen: set[str] = set()
    unique: list[tuple[str, str | None]] = []
    for spec, name in items:
        if spec not in seen:
            seen.add(spec)
            unique.append((spec, name))
    return _name_cases(unique, where)


def _name_cases(items: list[tuple[str, str | None]], where: str) -> list[CaseEntry]:
    """Unique, file-system-safe case names: file stems, with parent folders added where two
    files share a stem (``x/grid.json``, ``y/grid.json`` -> ``x-grid``, ``y-grid``)."""

    def parts(spec: str) -> list[str]:
        p = Path(spec)
        if p.is_absolute():
            return [_UNSAFE.sub("_", x) for x in (*p.parent.parts[1:], p.stem)]
        return [_UNSAFE.sub("_", spec)]

    names: list[str] = []
    depth = [1] * len(items)
    for _ in range(64):
        names = [
            name if name else "-".join(parts(spec)[-depth[i] :])
            for i, (spec, name) in enumerate(items)
        ]
        groups: dict[str, list[int]] = {}
        for i, n in enumerate(names):
            groups.setdefault(n.lower(), []).append(i)
        clash = [g for g in groups.values() if len(g) > 1]
        if not clash:
            break
        grew = False
        for g in clash:
            for i in g:
                spec, name = items[i]
                if name is None and depth[i] < len(parts(spec)):
                    depth[i] += 1
                    grew = True
        if not grew:
            g = clash[0]
            specs = " and ".join(items[i][0] for i in g)
            raise CaseError(
                f"{where}: cases {specs} would share the result name {names[g[0]]!r}; "
                "give them distinct names (cases = [{spec = '...', name = '...'}])"
            )
    return [CaseEntry(n, spec) for n, (spec, _) in zip(names, items, strict=True)]


def write_snapshot(study: Study, path: Path) -> None:
    """Write the study snapshot (JSON) atomically; shards write the same content."""
    import os
    import tempfile

    text = json.dumps(study.to_json(), indent=1, default=str)  # order = task order
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_snapshot(out_dir: str | Path) -> Study:
    """The study a batch folder was run with (its ``study.json``)."""
    p = Path(out_dir) / "study.json"
    if not p.is_file():
        raise CaseError(
            f"{out_dir}: not a batch folder (no study.json)",
            hint="give the folder a `gridplan run` wrote (its --out-dir)",
        )
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CaseError(f"{p}: unreadable study snapshot ({exc})") from None
    return Study.from_json(data, str(p))
