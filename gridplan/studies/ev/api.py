"""Loading a scenario together with its case, shared by the commands and the Python API."""

from __future__ import annotations

from typing import Any

from gridplan.model.ev_scenario import Scenario, read_scenario, scenario_path


def load_scenario_and_case(
    scenario: str, case_spec: str | None = None, no_case: bool = False
) -> tuple[Scenario, Any, str]:
    """Read ``scenario`` against its case (``case_spec``, else the scenario's ``case`` key).

    Returns the checked scenario, the net (None without a case) and the case name.
    """
    import tomllib

    from gridplan.model.cases import case_name, load_case

    spec = case_spec
    if spec is None and not no_case:
        path = scenario_path(scenario)
        try:
            head = tomllib.loads(path.read_text(encoding="utf-8")).get("scenario", {})
        except (OSError, tomllib.TOMLDecodeError):
            head = {}  # read_scenario reports it
        spec = str(head.get("case", "")) or None if isinstance(head, dict) else None
    net = load_case(spec) if spec else None
    sc = read_scenario(scenario, net)
    return sc, net, case_name(spec) if spec else ""
