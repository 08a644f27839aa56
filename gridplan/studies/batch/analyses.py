"""The registry of analyses a study file can run: name -> :class:`Analysis`.

An analysis is one function ``run(net, options, writer) -> figures``: it computes on ``net``
(the case with the scenario applied; never modify it), writes its tables into the open
task file ``writer`` (a :class:`gridplan.results.ResultWriter`) and returns the task's key
figures, a flat dict of numbers, bools or short texts named with pandapower's unit suffixes
(``p_loss_mw``, ``vm_min_pu``, ``lole_h_per_year``); they go to the summary table.
``options`` is a plain dict: the analysis options from the study file with defaults filled
in, plus entries gridplan adds: ``case_name`` (str), ``study_scenario``
(:class:`gridplan.studies.batch.scenarios.Scenario`: its ``profile`` path, its ``files``
for wind and EV scenario files, ``load_scale`` ...), ``analysis`` (its name in the study) and
``progress``: None, or, when the task runs in the driver's process, an object whose
``total(n)`` announces ``n`` items (outages, steps) and ``update(k)`` reports ``k`` done, for
the progress bar of a long analysis.

``applies(net, options)`` returns None when the analysis applies to the case, else one
sentence saying why not; the task is then recorded *not applicable* with that sentence
(in the summary and in the task file) instead of running.

Adding an analysis (e.g. wind, EV) takes one entry in :data:`ANALYSES`; functions are
named by ``"module:function"`` strings and imported only when a task needs them::

    Analysis(
        "wind",
        run="gridplan.studies.wind:batch_run",
        applies="gridplan.studies.wind:batch_applies",  # optional
        options={"turbine": Opt("E-126/4200", doc="windpowerlib turbine type")},
        description="wind hosting capacity per candidate bus",
    )

``Opt(default)`` declares an option and its type (from the default, ints accepted for
floats); ``choices=`` restricts the values. Unknown options in a study file are refused.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandapower as pp

from gridplan.errors import CaseError
from gridplan.model.outages import TYPES as OUTAGE_TYPES
from gridplan.results import ResultWriter

Figures = dict[str, Any]
RunFn = Callable[[pp.pandapowerNet, dict[str, Any], ResultWriter], Figures]
AppliesFn = Callable[[pp.pandapowerNet, dict[str, Any]], "str | None"]
RESERVED_OPTIONS = ("case_name", "study_scenario", "analysis", "progress")


@dataclass(frozen=True)
class Opt:
    """One analysis option: its default, accepted types and values, one line of doc."""

    default: Any
    doc: str = ""
    choices: tuple[Any, ...] | None = None
    types: tuple[type, ...] | None = None
    path: bool = False  # a file path, relative to the study file; its content enters the key
    keywords: tuple[str, ...] = ()  # values of a path option that are not paths ("rts79")
    validate: Callable[[Any, str], Any] | None = None  # further check: (value, where) -> value

    def check(self, where: str, value: Any) -> Any:
        """``value`` converted to the option's type; :class:`CaseError` if it does not fit."""
        value = self._check_type(where, value)
        return self.validate(value, where) if self.validate is not None else value

    def _check_type(self, where: str, value: Any) -> Any:
        types = self.types or (type(self.default),)
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in types:
            ok = False
        else:
            ok = isinstance(value, types)
        if isinstance(value, list) and ok and self.choices is not None:
            bad = [v for v in value if v not in self.choices]
            if bad:
                raise CaseError(
                    f"{where} must list values among {', '.join(map(str, self.choices))}, "
                    f"got {', '.join(map(str, bad))} instead"
                )
            return value
        if not ok:
            names = " or ".join(t.__name__ for t in types)
            raise CaseError(f"{where} must be {names}, got {value!r} instead")
        if self.choices is not None and value not in self.choices:
            raise CaseError(
                f"{where} must be one of {', '.join(map(str, self.choices))}, got {value!r} instead"
            )
        return value


@dataclass(frozen=True)
class Analysis:
    """A registry entry: what ``analysis = NAME`` runs in a study file."""

    name: str
    run: str | RunFn
    options: Mapping[str, Opt] = field(default_factory=dict)
    applies: str | AppliesFn | None = None
    split: str | None = None  # "module:object" with the SplitSupport protocol (n1split)
    description: str = ""
    #: options that change how the work is spread, not its result: left out of the task key
    execution_options: tuple[str, ...] = ()

    def run_fn(self) -> RunFn:
        """The run function (imported on first use)."""
        return _resolve(self.run)

    def applies_fn(self) -> AppliesFn | None:
        """The applicability check, or None when the analysis applies to every case."""
        return None if self.applies is None else _resolve(self.applies)

    def split_support(self) -> Any:
        """The object splitting this analysis over workers, or None."""
        return None if self.split is None else _resolve(self.split)


def _resolve(ref: Any) -> Any:
    if not isinstance(ref, str):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def _f(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


# ---------------------------------------------------------------------------------------
# pf
def run_pf(net: pp.pandapowerNet, options: dict[str, Any], writer: ResultWriter) -> Figures:
    """AC (or DC) power flow: ``/powerflow`` tables; converged, losses, extreme values."""
    from gridplan.studies.powerflow import run_powerflow, write_powerflow

    result = run_powerflow(net, dc=options["dc"], case_name=options["case_name"])
    write_powerflow(writer, result)
    s = result.summary.iloc[0]
    fig: Figures = {
        "converged": bool(s.converged),
        "iterations": int(s.iterations),
        "p_load_mw": _f(s.p_load_mw),
        "p_loss_mw": _f(s.p_loss_mw),
        "vm_min_pu": _f(s.vm_min_pu),
        "vm_max_pu": _f(s.vm_max_pu),
    }
    for el in ("line", "trafo"):
        fig[f"{el}_loading_max_percent"] = _f(s.get(f"{el}_loading_max_percent", np.nan))
    return fig


# ---------------------------------------------------------------------------------------
# n1
def n1_kwargs(net: pp.pandapowerNet, options: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of :func:`gridplan.studies.n1.run_n1` from the analysis options."""
    kw: dict[str, Any] = {
        "mode": options["mode"],
        "elements": tuple(options["elements"]),
        "max_loading_percent": options["max_loading_percent"],
        "vm_min_pu": options["vm_min_pu"],
        "vm_max_pu": options["vm_max_pu"],
        "report": options["report"],
        "worsen_loading_percent": options["worsen_loading_percent"],
        "worsen_vm_pu": options["worsen_vm_pu"],
        "top": options["top"],
        "case_name": options["case_name"],
        # a batch runs tasks (and the chunks of a split scan) in parallel on its workers,
        # one core each: a task on all cores would share them with the other workers
        "threads": 1,
    }
    if options["outages"]:
        from gridplan.model.outages import read_outages

        kw["outages"] = read_outages(options["outages"], net)
    return kw


def n1_figures(result: Any) -> Figures:
    """Key figures of an :class:`gridplan.studies.n1.N1Result`."""
    counts = result.status_counts()
    el = result.elements["max_loading_percent"].to_numpy(dtype=float)
    vm = result.buses["min_vm_pu"].to_numpy(dtype=float)
    return {
        "outages": len(result.outages),
        **{f"{k}_outages": int(counts.get(k, 0)) for k in ("converged", "islanded", "diverged")},
        "not_simulated_outages": int(counts.get("not_simulated", 0)),
        "violations": int(result.n_violations),
        "violation_outages": int(result.n_violation_outages),
        "worst_loading_percent": float(np.nanmax(el)) if np.isfinite(el).any() else np.nan,
        "worst_vm_min_pu": float(np.nanmin(vm)) if np.isfinite(vm).any() else np.nan,
    }


def run_n1_analysis(
    net: pp.pandapowerNet, options: dict[str, Any], writer: ResultWriter
) -> Figures:
    """N-1 scan in one process: ``/contingency`` tables, violations streamed to the file."""
    from gridplan.studies.n1 import default_outages, n1_violation_sink, run_n1, write_n1

    kw = n1_kwargs(net, options)
    progress = options.get("progress")
    if progress is not None:  # in the driver's process: the outage bar follows the scan
        n = len(kw["outages"]) if "outages" in kw else len(default_outages(net, kw["elements"]))
        progress.total(n)
        kw["progress"] = progress.update
    result = run_n1(net, violation_sink=n1_violation_sink(writer), **kw)
    if result.interrupted:  # run_n1 keeps a Ctrl-C'd scan; a batch task is whole or nothing
        raise KeyboardInterrupt
    write_n1(writer, result)
    return n1_figures(result)


# ---------------------------------------------------------------------------------------
# reliability
def reliability_applies(net: pp.pandapowerNet, options: dict[str, Any]) -> str | None:
    """Reliability needs a radially operated distribution case carrying reliability data."""
    from gridplan.model.reliability_data import build_reliability_model

    why = []
    if "customers" not in net.load:
        why.append("its loads carry no reliability data (load.customers, docs/reliability-data.md)")
    try:
        build_reliability_model(net)
    except CaseError as exc:
        text = str(exc)
        if "not radially operated" in text:
            loops = text.split("closed loops through ", 1)[-1].split(", ")
            more = ", ..." if len(loops) > 3 else ""
            why.insert(0, f"it is meshed (closed loops through {', '.join(loops[:3])}{more})")
        elif not why:
            raise
    if why:
        return (
            "distribution reliability needs a radially operated case with reliability data; "
            + " and ".join(why)
        )
    return None


def run_reliability_analysis(
    net: pp.pandapowerNet, options: dict[str, Any], writer: ResultWriter
) -> Figures:
    """Distribution reliability: ``/reliability`` tables; system indices and the verdict."""
    from gridplan.studies.reliability import run_reliability, write_reliability

    target = options["target_percent"]
    result = run_reliability(
        net,
        case_name=options["case_name"],
        target=None if target == "plan" else float(target),
        method=options["method"],
        years=options["years"],
        seed=options["seed"],
        transfer_check=options["transfer_check"],
    )
    write_reliability(writer, result)
    s = result.system.iloc[0]
    v = result.verdict.loc["system"]
    return {
        "saifi_per_year": _f(s["saifi_per_year"]),
        "saidi_h_per_year": _f(s["saidi_h_per_year"]),
        "ens_mwh_per_year": _f(s["ens_mwh_per_year"]),
        "asai_percent": _f(v["asai_percent"]),
        "target_percent": _f(v["target_percent"]),
        "margin_min_per_year": _f(v["margin_min_per_year"]),
        "passed": bool(v["passed"]),
    }


# ---------------------------------------------------------------------------------------
# adequacy
def adequacy_applies(net: pp.pandapowerNet, options: dict[str, Any]) -> str | None:
    """HL-I adequacy needs the generation that supplies the load inside the case."""
    from gridplan.model.reliability_data import generating_units

    units = generating_units(net, include_ext_grid=options["include_ext_grid"])
    installed = float(np.sum(units.capacity_mw))
    eg = net.ext_grid[net.ext_grid.in_service.astype(bool)]
    cap = eg.max_p_mw.to_numpy(dtype=float) if "max_p_mw" in eg else np.full(len(eg), np.nan)
    unlimited = [int(b) for b, c in zip(eg.bus, cap, strict=True) if not np.isfinite(c)]
    if installed <= 0 and not (options["include_ext_grid"] and unlimited):
        return "generation adequacy needs generating units; the case has no gen/sgen with capacity"
    load = net.load[net.load.in_service.astype(bool)]
    scaling = load.scaling.to_numpy(dtype=float) if "scaling" in load else 1.0
    peak = float(np.sum(load.p_mw.to_numpy(dtype=float) * scaling))
    if not options["include_ext_grid"] and unlimited and installed < peak:
        return (
            f"the load ({peak:.4g} MW peak) is supplied through an external grid of unknown "
            f"capacity (ext_grid at bus {unlimited[0]}) and its own generation is "
            f"{installed:.4g} MW: generation adequacy of the case says nothing; give the "
            "ext_grid max_p_mw and set include_ext_grid = true to count it"
        )
    return None


def run_adequacy_analysis(
    net: pp.pandapowerNet, options: dict[str, Any], writer: ResultWriter
) -> Figures:
    """Generation (HL-I) and optionally composite (HL-II) adequacy: ``/adequacy`` tables."""
    from gridplan.studies.adequacy import run_adequacy, write_adequacy

    result = run_adequacy(
        net,
        case_name=options["case_name"],
        load_model=options["load_model"],
        include_ext_grid=options["include_ext_grid"],
        composite=options["composite"],
        target_cov=options["target_cov"],
        max_samples=options["max_samples"],
        seed=options["seed"],
    )
    write_adequacy(writer, result)
    r = result.indices.iloc[0]
    fig: Figures = {
        "installed_mw": _f(r["installed_mw"]),
        "peak_load_mw": _f(r["peak_load_mw"]),
        "lole_h_per_year": _f(r["lole_h_per_year"]),
        "eens_mwh_per_year": _f(r["eens_mwh_per_year"]),
        "lolf_per_year": _f(r["lolf_per_year"]),
    }
    if not result.composite.empty:
        c = result.composite.iloc[0]
        for col in ("lole_h_per_year", "eens_mwh_per_year"):
            if col in c:
                fig[f"composite_{col}"] = _f(c[col])
    return fig


# ---------------------------------------------------------------------------------------
# timeseries
def timeseries_applies(net: pp.pandapowerNet, options: dict[str, Any]) -> str | None:
    """A time series needs profiles: the scenario's profile file or synthetic steps."""
    if options["study_scenario"].profile is None and options["synthetic_steps"] <= 0:
        return (
            "a time series needs profiles: give the scenario a profile file "
            "(profile = 'year.csv') or the analysis synthetic_steps > 0"
        )
    return None


def run_timeseries_analysis(
    net: pp.pandapowerNet, options: dict[str, Any], writer: ResultWriter
) -> Figures:
    """One AC power flow per profile step, streamed to ``/timeseries``."""
    from gridplan.model import profiles as prof
    from gridplan.studies.timeseries import run

    scenario = options["study_scenario"]
    if scenario.profile is not None:
        profiles = prof.read_profiles(scenario.profile)
    else:
        profiles = prof.synthetic(net, options["synthetic_steps"], seed=options["seed"])
    result = run(
        net,
        profiles,
        writer=writer,
        vm_min_pu=options["vm_min_pu"],
        vm_max_pu=options["vm_max_pu"],
        max_loading_percent=options["max_loading_percent"],
        case_name=options["case_name"],
        threads=1,  # as n1: the batch's workers share the cores (same numbers on any count)
    )
    s = result.summary
    return {
        "steps": int(s["n_steps"]),
        "converged_steps": int(s["n_converged"]),
        "energy_loss_mwh": _f(s["energy_loss_mwh"]),
        "violation_h": _f(s["hours_with_violations"]),
    }


# wind (gridplan.studies.wind.batch) and EV (gridplan.studies.ev.batch): their study functions
# take their own option mappings; these adapters hand them the study file's options
_ANY = (type(None), str, int, float, bool, list, dict)


def _study_options(options: dict[str, Any]) -> dict[str, Any]:
    """The analysis's own options: gridplan's reserved entries and unset (None) ones left out."""
    return {k: v for k, v in options.items() if k not in RESERVED_OPTIONS and v is not None}


def _wind_applies(kind: str) -> AppliesFn:
    def applies(net: pp.pandapowerNet, options: dict[str, Any]) -> str | None:
        from gridplan.model.wind import bundled_scenarios, read_scenario

        if options.get("scenario") is not None or options.get("farms") is not None:
            return None
        name = str(options.get("case_name") or getattr(net, "name", ""))
        if name not in bundled_scenarios():
            return (
                f"no wind scenario for {name} (seeds/<case>.wind.toml); give the analysis "
                "a scenario or a farms file"
            )
        if kind == "credit" and "credit" not in read_scenario(name):
            return f"the wind scenario of {name} has no [credit] table (no risk to credit against)"
        return None

    applies.__doc__ = "Wind studies need farms: a scenario or farms file, or the case's own."
    return applies


def _wind_run(kind: str) -> RunFn:
    def run(net: pp.pandapowerNet, options: dict[str, Any], writer: ResultWriter) -> Figures:
        from gridplan.model.wind import bundled_scenarios
        from gridplan.studies.wind.batch import INPUTS, STUDIES

        own = _study_options(options)
        inputs = {k: own.pop(k) for k in INPUTS if k in own}
        if "scenario" not in inputs and "farms" not in inputs:
            # the case's own scenario, by the name the study gives the case
            name = str(options.get("case_name") or "")
            if name in bundled_scenarios():
                inputs["scenario"] = name
        return STUDIES[f"wind_{kind}"](net, {**inputs, kind: own}, writer)

    run.__doc__ = f"The wind {kind} study of gridplan.studies.wind.batch on one case."
    return run


def _wind_options(kind: str) -> dict[str, Opt]:
    from gridplan.model.wind import bundled_scenarios
    from gridplan.studies.wind.batch import SECTIONS

    names = tuple(bundled_scenarios())
    out = {
        "scenario": Opt(
            None,
            "wind scenario: a bundled case name or a TOML file; default: the case's own",
            types=_ANY,
            path=True,
            keywords=names,
        ),
        "farms": Opt(None, "farms file (TOML/CSV) instead of a scenario", types=_ANY, path=True),
        "wind": Opt(None, "wind speed file (CSV) for the farms file", types=_ANY, path=True),
        "synthetic": Opt(None, "synthetic wind from the scenario's regimes", types=_ANY),
        "seed": Opt(None, "seed of the synthetic wind", types=_ANY),
    }
    for key in SECTIONS[kind]:
        out[key] = Opt(None, f"as `gridplan wind {kind}` (default: the scenario's)", types=_ANY)
    return out


def ev_applies(net: pp.pandapowerNet, options: dict[str, Any]) -> str | None:
    """EV analyses need an EV scenario file for the case."""
    if not options.get("scenario"):
        return "an EV analysis needs an EV scenario (option scenario: a file or bundled name)"
    return None


def _ev_run(name: str) -> RunFn:
    def run(net: pp.pandapowerNet, options: dict[str, Any], writer: ResultWriter) -> Figures:
        from gridplan.studies.ev.batch import ANALYSES as EV

        return EV[name](net, _study_options(options), writer)

    run.__doc__ = f"The EV analysis {name} of gridplan.studies.ev.batch on one case."
    return run


def _ev_options(name: str) -> dict[str, Opt]:
    from gridplan.model.ev_scenario import bundled_scenarios
    from gridplan.studies.ev.batch import KNOWN

    out = {
        key: Opt(None, "see docs/ev.md (default: the EV study's)", types=_ANY)
        for key in sorted(KNOWN[name])
    }
    out["scenario"] = Opt(
        None,
        "EV scenario: a TOML file or a bundled name (seeds/ev-*.toml)",
        types=_ANY,
        path=True,
        keywords=tuple(bundled_scenarios()),
    )
    if "base_profiles" in out:
        out["base_profiles"] = Opt(None, "base-load profile file", types=_ANY, path=True)
    return out


def check_split(value: Any, where: str = "split") -> Any:
    """``"auto"``, ``"never"`` or a number of chunks >= 1."""
    if isinstance(value, bool) or not (
        value in ("auto", "never") or (isinstance(value, int) and value >= 1)
    ):
        raise CaseError(f"{where} must be 'auto', 'never' or a number >= 1, got {value!r} instead")
    return value


# ---------------------------------------------------------------------------------------
_N1_MODES = ("ac", "dc", "screen")
_N1_ELEMENTS = OUTAGE_TYPES  # what `gridplan n1 --elements` takes

ANALYSES: dict[str, Analysis] = {
    a.name: a
    for a in (
        Analysis(
            "pf",
            run_pf,
            {"dc": Opt(False, "DC power flow instead of AC Newton-Raphson")},
            description="power flow: bus and branch results, losses, extreme voltages",
        ),
        Analysis(
            "n1",
            run_n1_analysis,
            {
                "mode": Opt("ac", "ac, dc or screen (see gridplan n1 --help)", _N1_MODES),
                "elements": Opt(
                    ["line", "trafo"], "element types outaged one by one", _N1_ELEMENTS
                ),
                "outages": Opt(
                    "", "outage file (CSV, JSON, .con); empty: every element", path=True
                ),
                "max_loading_percent": Opt(100.0, "branch loading limit, %"),
                "vm_min_pu": Opt(0.9, "lowest voltage allowed, pu"),
                "vm_max_pu": Opt(1.1, "highest voltage allowed, pu"),
                "report": Opt(
                    "changed",
                    "changed (new or worsened violations; base-case ones listed once) or all",
                    ("changed", "all"),
                ),
                "worsen_loading_percent": Opt(1.0, "report changed: worsening margin, %-points"),
                "worsen_vm_pu": Opt(0.005, "report changed: worsening margin, pu"),
                "top": Opt(3, "worst outages kept per element"),
                "split": Opt(
                    "auto",
                    "split the outages over the workers: 'auto' (cases with >= 2000 "
                    "outages when there are >= 2 workers), 'never', or a number of chunks",
                    types=(str, int),
                    validate=check_split,
                ),
            },
            split="gridplan.studies.batch.n1split:N1_SPLIT",
            description="N-1 contingency scan: per-outage status, worst cases, violations",
            execution_options=("split",),
        ),
        Analysis(
            "reliability",
            run_reliability_analysis,
            {
                "method": Opt(
                    "analytical", "analytical, or mc to add a Monte Carlo", ("analytical", "mc")
                ),
                "years": Opt(10000, "Monte Carlo years (method mc)"),
                "seed": Opt(0, "Monte Carlo seed"),
                "target_percent": Opt(
                    "plan",
                    "ASAI target, %; 'plan': the plan's urban/rural targets",
                    types=(str, float),
                ),
                "transfer_check": Opt(
                    "capacity", "capacity or powerflow", ("capacity", "powerflow")
                ),
            },
            applies=reliability_applies,
            description="distribution reliability: SAIFI, SAIDI, ENS, verdict against the targets",
        ),
        Analysis(
            "adequacy",
            run_adequacy_analysis,
            {
                "load_model": Opt(
                    "rts79",
                    "rts79, flat, or a CSV file of hourly load",
                    path=True,
                    keywords=("rts79", "flat"),
                ),
                "include_ext_grid": Opt(False, "count ext_grids with max_p_mw as units"),
                "composite": Opt(False, "add the HL-II Monte Carlo"),
                "target_cov": Opt(0.05, "HL-II stopping coefficient of variation"),
                "max_samples": Opt(100000, "HL-II sample limit"),
                "seed": Opt(0, "HL-II seed"),
            },
            applies=adequacy_applies,
            description="generation adequacy: LOLE, EENS, LOLF (HL-I; HL-II with composite)",
        ),
        Analysis(
            "timeseries",
            run_timeseries_analysis,
            {
                "synthetic_steps": Opt(
                    0, "steps of synthetic demo profiles when the scenario has no profile"
                ),
                "seed": Opt(0, "seed of the synthetic profiles"),
                "vm_min_pu": Opt(0.95, "lowest voltage allowed, pu"),
                "vm_max_pu": Opt(1.05, "highest voltage allowed, pu"),
                "max_loading_percent": Opt(100.0, "branch loading limit, %"),
            },
            applies=timeseries_applies,
            description="time series: one AC power flow per profile step",
        ),
        *(
            Analysis(
                f"wind_{kind}",
                _wind_run(kind),
                _wind_options(kind),
                applies=_wind_applies(kind),
                description=description,
            )
            for kind, description in (
                ("power", "wind farm output over the year (MW)"),
                ("hosting", "wind hosting capacity per candidate bus (N-0 or N-1)"),
                ("year", "wind curtailment over a year (DC least-curtailment dispatch, AC check)"),
                ("credit", "wind capacity credit: ELCC and EFC"),
            )
        ),
        *(
            Analysis(
                name,
                _ev_run(name),
                _ev_options(name),
                applies=ev_applies,
                description=description,
            )
            for name, description in (
                ("ev_profile", "EV charging demand per site and policy, coincidence factor"),
                ("ev_impact", "EV charging through the time-series power flow, per policy"),
                ("ev_hosting", "EV hosting capacity per feeder and transformer, per policy"),
            )
        ),
    )
}


def get_analysis(kind: str, where: str = "") -> Analysis:
    """The registry entry ``kind``; :class:`CaseError` naming the known ones otherwise."""
    try:
        return ANALYSES[kind]
    except KeyError:
        raise CaseError(f"{where}unknown analysis {kind!r}; known: {', '.join(ANALYSES)}") from None


# ---------------------------------------------------------------------------------------
# docs/batch.md's table of analyses and options, generated from this registry
DOC_START = "<!-- analyses:start (python -m gridplan.studies.batch.docs --write docs/batch.md) -->"
DOC_END = "<!-- analyses:end -->"


def options_markdown() -> str:
    """Every registered analysis with its options (default, meaning) as markdown."""
    lines: list[str] = []
    for a in ANALYSES.values():
        lines += [f"**`{a.name}`**: {a.description}.", ""]
        if a.options:
            lines += ["| option | default | meaning |", "|---|---|---|"]
            for k, o in a.options.items():
                default = json.dumps(o.default)
                lines.append(f"| `{k}` | `{default}` | {o.doc} |")
            lines.append("")
    return "\n".join(lines).rstrip("\n")


def options_block() -> str:
    """The generated block with its markers."""
    return f"{DOC_START}\n{options_markdown()}\n{DOC_END}"
