"""Wind integration: ``gridplan.wind.power(...)`` and the other wind studies.

The public entry points; the studies live in :mod:`gridplan.studies.wind`, input reading in
:mod:`gridplan.model.wind`, the numerics in :mod:`gridplan.core.wind_power` and friends.
"""

from gridplan.model.wind import (
    Farm,
    TurbineType,
    WindSeries,
    read_farms,
    read_wind,
    resolve_turbine,
    synthetic_wind,
    turbine_library,
)
from gridplan.studies.wind.credit import CreditResult, credit, write_credit
from gridplan.studies.wind.curtailment import YearResult, write_year, year
from gridplan.studies.wind.hosting import HostingResult, hosting, wind_case, write_hosting
from gridplan.studies.wind.power import WindPowerResult, power, write_power

__all__ = [
    "CreditResult",
    "Farm",
    "HostingResult",
    "TurbineType",
    "WindPowerResult",
    "WindSeries",
    "YearResult",
    "credit",
    "hosting",
    "power",
    "read_farms",
    "read_wind",
    "resolve_turbine",
    "synthetic_wind",
    "turbine_library",
    "wind_case",
    "write_credit",
    "write_hosting",
    "write_power",
    "write_year",
    "year",
]
