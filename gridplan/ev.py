"""EV charging studies: ``gridplan.ev.run_profile(...)``, ``run_impact``, ``run_hosting``.

The public entry point next to the ``gridplan ev`` commands; the studies live in
:mod:`gridplan.studies.ev`, the scenario format in :mod:`gridplan.model.ev_scenario`
(``docs/ev.md``), the numerics in :mod:`gridplan.core.ev_fleet` and
:mod:`gridplan.core.ev_policies`.

Example::

    import gridplan.ev as ev

    sc, net, _ = ev.load_scenario_and_case("ev-tianjin-ecocity")
    prof = ev.run_profile(sc, net=net, days=28, seed=1)
    prof.summary, prof.cf, prof.profile("valley")
"""

from gridplan.core.ev_policies import POLICIES, TouParams
from gridplan.model.ev_scenario import Scenario, bundled_scenarios, read_scenario
from gridplan.studies.ev.api import load_scenario_and_case
from gridplan.studies.ev.profile import ProfileResult, run_profile, write_profile

__all__ = [
    "POLICIES",
    "ProfileResult",
    "Scenario",
    "TouParams",
    "bundled_scenarios",
    "load_scenario_and_case",
    "read_scenario",
    "run_profile",
    "write_profile",
]
