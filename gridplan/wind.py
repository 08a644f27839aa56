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
from gridplan.studies.wind.power import WindPowerResult, power, write_power

__all__ = [
    "Farm",
    "TurbineType",
    "WindPowerResult",
    "WindSeries",
    "power",
    "read_farms",
    "read_wind",
    "resolve_turbine",
    "synthetic_wind",
    "turbine_library",
    "write_power",
]
