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
    imp = ev.run_impact(net, sc, days=365)         # one AC power flow per step and policy
    imp.summary, imp.trafo, ev.plot_duration(imp, "duration.png")
    host = ev.run_hosting(net, sc, days=7, seeds=10, percentile=10)
    host.results

``ev.ANALYSES`` maps ``ev_profile``, ``ev_impact``, ``ev_hosting`` to batch steps
``fn(net, options, writer) -> dict`` of key figures (:mod:`gridplan.studies.ev.batch`).
"""

from gridplan.core.ev_policies import POLICIES, TouParams
from gridplan.model.ev_scenario import Scenario, bundled_scenarios, read_scenario
from gridplan.studies.ev.api import load_scenario_and_case
from gridplan.studies.ev.batch import ANALYSES
from gridplan.studies.ev.hosting import HostingResult, run_hosting, write_hosting
from gridplan.studies.ev.impact import ImpactResult, run_impact, write_impact
from gridplan.studies.ev.plots import plot_cf, plot_daily, plot_duration
from gridplan.studies.ev.profile import ProfileResult, run_profile, write_profile

__all__ = [
    "ANALYSES",
    "POLICIES",
    "HostingResult",
    "ImpactResult",
    "ProfileResult",
    "Scenario",
    "TouParams",
    "bundled_scenarios",
    "load_scenario_and_case",
    "plot_cf",
    "plot_daily",
    "plot_duration",
    "read_scenario",
    "run_hosting",
    "run_impact",
    "run_profile",
    "write_hosting",
    "write_impact",
    "write_profile",
]
