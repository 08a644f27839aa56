"""The EV analyses as batch steps: ``fn(net, options, writer) -> dict`` of key figures.

Each reads its scenario against the batch's ``net`` (so the scenario's buses must be that
case's), runs, writes its ``/ev/...`` group through ``writer`` and returns the headline
numbers for the batch summary (keys start with ``ev_``). ``options`` is a mapping:

- every analysis: ``scenario`` (file or bundled name, required), ``seed`` (0),
  ``step_min`` (15), ``policies`` (all four; a list or a comma-separated string);
- ``ev_profile``: ``days`` (7), ``vehicles_table`` (true);
- ``ev_impact``: ``days`` (365), ``max_loading_percent`` (100), ``vm_min_pu`` (0.95),
  ``vm_max_pu`` (1.05), ``base_profiles`` (none: synthetic shapes); it also writes the
  profile it ran to ``/ev/profile`` unless an ``ev_profile`` step already wrote one;
- ``ev_hosting``: ``days`` (7), ``seeds`` (10), ``percentile`` (10), ``targets``
  (``["feeder", "trafo"]``), ``only`` (all targets), and the limits as for ``ev_impact``.

Unknown option names are an error (a misspelled option must not be ignored).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandapower as pp

from gridplan.core.ev_policies import POLICIES
from gridplan.errors import CaseError
from gridplan.model.ev_scenario import read_scenario

_COMMON = {"scenario", "seed", "step_min", "policies"}
_LIMITS = {"max_loading_percent", "vm_min_pu", "vm_max_pu", "base_profiles"}
KNOWN = {
    "ev_profile": _COMMON | {"days", "vehicles_table"},
    "ev_impact": _COMMON | _LIMITS | {"days"},
    "ev_hosting": _COMMON | _LIMITS | {"days", "seeds", "percentile", "targets", "only"},
}


def _options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - KNOWN[name])
    if unknown:
        raise CaseError(
            f"{name}: unknown option(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(KNOWN[name]))}"
        )
    if "scenario" not in options:
        raise CaseError(f"{name}: option 'scenario' (a scenario file or bundled name) is required")
    out = dict(options)
    pol = out.get("policies", POLICIES)
    out["policies"] = [p.strip() for p in pol.split(",")] if isinstance(pol, str) else list(pol)
    return out


def profile_analysis(
    net: pp.pandapowerNet, options: Mapping[str, Any], writer: Any
) -> dict[str, Any]:
    """Charging demand per site and policy (``/ev/profile``); returns ``ev_*`` key figures."""
    from gridplan.studies.ev.profile import key_figures, run_profile, write_profile

    o = _options("ev_profile", options)
    sc = read_scenario(o["scenario"], net)
    r = run_profile(
        sc,
        net=net,
        days=int(o.get("days", 7)),
        seed=int(o.get("seed", 0)),
        step_min=float(o.get("step_min", 15.0)),
        policies=o["policies"],
    )
    write_profile(writer, r, vehicles=bool(o.get("vehicles_table", True)))
    return key_figures(r)


def impact_analysis(
    net: pp.pandapowerNet, options: Mapping[str, Any], writer: Any
) -> dict[str, Any]:
    """Grid impact of every policy (``/ev/profile`` and ``/ev/impact``); key figures."""
    from gridplan.studies.ev.impact import key_figures, run_impact, write_impact
    from gridplan.studies.ev.profile import key_figures as profile_figures
    from gridplan.studies.ev.profile import write_profile

    o = _options("ev_impact", options)
    sc = read_scenario(o["scenario"], net)
    r = run_impact(
        net,
        sc,
        days=int(o.get("days", 365)),
        seed=int(o.get("seed", 0)),
        step_min=float(o.get("step_min", 15.0)),
        policies=o["policies"],
        base_profiles=o.get("base_profiles"),
        max_loading_percent=float(o.get("max_loading_percent", 100.0)),
        vm_min_pu=float(o.get("vm_min_pu", 0.95)),
        vm_max_pu=float(o.get("vm_max_pu", 1.05)),
    )
    if "ev/profile" not in writer.h5:  # an ev_profile step of the same batch wrote its own
        write_profile(writer, r.profile, vehicles=False)
    write_impact(writer, r)
    return {**profile_figures(r.profile), **key_figures(r)}


def hosting_analysis(
    net: pp.pandapowerNet, options: Mapping[str, Any], writer: Any
) -> dict[str, Any]:
    """EV hosting capacity per feeder and transformer (``/ev/hosting``); key figures."""
    from gridplan.studies.ev.hosting import key_figures, run_hosting, write_hosting

    o = _options("ev_hosting", options)
    sc = read_scenario(o["scenario"], net)
    targets = o.get("targets", ("feeder", "trafo"))
    r = run_hosting(
        net,
        sc,
        days=int(o.get("days", 7)),
        seeds=int(o.get("seeds", 10)),
        seed=int(o.get("seed", 0)),
        percentile=float(o.get("percentile", 10.0)),
        step_min=float(o.get("step_min", 15.0)),
        policies=o["policies"],
        kinds=[targets] if isinstance(targets, str) else list(targets),
        only=o.get("only"),
        base_profiles=o.get("base_profiles"),
        max_loading_percent=float(o.get("max_loading_percent", 100.0)),
        vm_min_pu=float(o.get("vm_min_pu", 0.95)),
        vm_max_pu=float(o.get("vm_max_pu", 1.05)),
    )
    write_hosting(writer, r)
    return key_figures(r)


#: analysis name -> function(net, options, writer) -> key figures
ANALYSES: dict[str, Callable[[pp.pandapowerNet, Mapping[str, Any], Any], dict[str, Any]]] = {
    "ev_profile": profile_analysis,
    "ev_impact": impact_analysis,
    "ev_hosting": hosting_analysis,
}
