"""Time-series power flow: ``gridplan.timeseries.run(net, profiles, ...)``.

The public entry point; the study lives in :mod:`gridplan.studies.timeseries`, profile
reading in :mod:`gridplan.model.profiles`.
"""

from gridplan.model.profiles import Profiles, read_profiles, synthetic, write_h5
from gridplan.studies.timeseries import TimeSeriesResult, run

__all__ = ["Profiles", "TimeSeriesResult", "read_profiles", "run", "synthetic", "write_h5"]
