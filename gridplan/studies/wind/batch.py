"""The wind studies as batch steps: ``(net, options, writer) -> key figures``.

Each function runs one analysis on a case with the options of a study file (a mapping; every
key optional), writes its ``/wind/...`` group to the open :class:`~gridplan.results.ResultWriter`
and returns a flat dict of key figures for the batch summary table. Without a ``farms``
option the case's bundled wind scenario (``seeds/<case>.wind.toml``) gives the farms, the wind
regime and the per-analysis defaults (its ``[hosting]``, ``[year]`` and ``[credit]`` tables); a
case without one is skipped (empty dict), as the reliability step skips cases without
reliability data.

Options (all analyses): ``scenario`` (case name or TOML; default: the case's), ``farms`` and
``wind`` (files instead of a scenario; ``synthetic`` for the scenario's regimes), ``seed``.
``hosting``: ``buses``, ``n1``, ``balance``, ``min_stable_percent``, ``power_factor``,
``max_loading_percent``. ``year``: ``n1``, ``balance``, ``load_shape``, ``min_stable_percent``,
``ac_check``. ``credit``: ``load_model``, ``metrics``, ``include_ext_grid``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandapower as pp

from gridplan.errors import CaseError
from gridplan.model.wind import bundled_scenarios, read_scenario

INPUTS = ("scenario", "farms", "wind", "synthetic", "seed")
SECTIONS: dict[str, tuple[str, ...]] = {
    "power": ("density_correction",),
    "hosting": (
        "buses",
        "n1",
        "balance",
        "min_stable_percent",
        "power_factor",
        "absorb_reactive",
        "max_loading_percent",
        "vm_min_pu",
        "vm_max_pu",
        "tol_mw",
        "max_mw",
    ),
    "year": (
        "n1",
        "balance",
        "load_shape",
        "min_stable_percent",
        "max_loading_percent",
        "ac_check",
        "profiles",
    ),
    "credit": ("load_model", "metrics", "peak_mw", "step_mw", "tol_mw", "include_ext_grid"),
}


def _setup(net: pp.pandapowerNet, options: Mapping[str, Any] | None, section: str):  # type: ignore[no-untyped-def]
    """``(inputs, section options)``, or None when the case has no wind scenario."""
    opts = dict(options or {})
    bad = [k for k in opts if k not in INPUTS and k not in SECTIONS]
    if bad:
        raise CaseError(
            f"wind study options: unknown key(s) {', '.join(map(str, bad))}",
            hint="known: " + ", ".join((*INPUTS, *SECTIONS)),
        )
    name = str(getattr(net, "name", "") or "")
    scenario = opts.get("scenario")
    if scenario is None and opts.get("farms") is None:
        if name not in bundled_scenarios():
            return None
        scenario = name
    sec: dict[str, Any] = {}
    if scenario is not None:
        sec.update(read_scenario(scenario).get(section) or {})
    sec.update(opts.get(section) or {})
    bad = [k for k in sec if k not in SECTIONS[section]]
    if bad:
        raise CaseError(
            f"wind {section} options: unknown key(s) {', '.join(map(str, bad))}",
            hint="known: " + ", ".join(SECTIONS[section]),
        )
    inputs = {
        "farms": opts.get("farms"),
        "wind": opts.get("wind"),
        "synthetic": bool(opts.get("synthetic", False)),
        "scenario": scenario,
        "seed": int(opts.get("seed", 0)),
    }
    return inputs, sec


def power_study(
    net: pp.pandapowerNet, options: Mapping[str, Any] | None, writer: Any
) -> dict[str, Any]:
    """Farm output over the year (``/wind/power``); key figures: farms, installed MW, energy,
    capacity factor."""
    from gridplan.studies.wind.power import power, write_power

    got = _setup(net, options, "power")
    if got is None:
        return {}
    inputs, sec = got
    res = power(**inputs, **sec)
    write_power(writer, res)
    return res.summary()


def hosting_study(
    net: pp.pandapowerNet, options: Mapping[str, Any] | None, writer: Any
) -> dict[str, Any]:
    """Hosting capacity per candidate bus (``/wind/hosting``); key figures: buses, smallest,
    median and largest hosting capacity (MW), N-1, run time."""
    from gridplan.studies.wind.hosting import hosting, write_hosting

    got = _setup(net, options, "hosting")
    if got is None:
        return {}
    _, sec = got
    buses = sec.pop("buses", None)
    res = hosting(net, buses, case_name=str(net.name), **sec)
    write_hosting(writer, res)
    return res.summary()


def year_study(
    net: pp.pandapowerNet, options: Mapping[str, Any] | None, writer: Any
) -> dict[str, Any]:
    """Curtailment year (``/wind/year``); key figures: energy available and curtailed, curtailed
    percent, congested hours, share of hours solved without an LP, AC violation hours."""
    from gridplan.studies.wind.curtailment import write_year, year

    got = _setup(net, options, "year")
    if got is None:
        return {}
    inputs, sec = got
    res = year(net, case_name=str(net.name), **inputs, **sec)
    write_year(writer, res)
    s = res.summary
    return {
        "wind_year_available_mwh": s["energy_available_mwh"],
        "wind_year_curtailed_mwh": s["energy_curtailed_mwh"],
        "wind_year_curtailed_percent": s["curtailed_percent"],
        "wind_year_congested_h": s["congested_hours_h"],
        "wind_year_share_without_lp": s["share_without_lp"],
        "wind_year_ac_violation_h": s["ac_violation_hours_h"],
        "wind_year_s": s["elapsed_s"],
    }


def credit_study(
    net: pp.pandapowerNet, options: Mapping[str, Any] | None, writer: Any
) -> dict[str, Any]:
    """Capacity credit (``/wind/credit``); key figures: ELCC and EFC on LOLE and EENS (MW).

    Runs only where the scenario has a ``[credit]`` table (or the options a ``credit`` key):
    a distribution case behind an unlimited infeed has no risk to credit wind against.
    """
    from gridplan.studies.wind.credit import credit, write_credit

    got = _setup(net, options, "credit")
    if got is None:
        return {}
    inputs, sec = got
    has = (options or {}).get("credit") is not None or (
        inputs["scenario"] is not None and "credit" in read_scenario(inputs["scenario"])
    )
    if not has:
        return {}
    metrics = tuple(sec.pop("metrics", ("lole", "eens")))
    res = credit(net, case_name=str(net.name), metrics=metrics, **inputs, **sec)
    write_credit(writer, res)
    return res.summary()


#: name -> study function, for the batch runner's registry
STUDIES = {
    "wind_power": power_study,
    "wind_hosting": hosting_study,
    "wind_year": year_study,
    "wind_credit": credit_study,
}
