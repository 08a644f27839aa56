"""gridplan: grid-planning studies on pandapower cases.

The public API, one import away::

    import gridplan

    net = gridplan.load_case("case118")
    pf = gridplan.run_powerflow(net)  # PowerFlowResult
    n1 = gridplan.run_n1(net, mode="ac")  # N1Result
    ts = gridplan.run_timeseries(net, profiles, out="ts.h5")  # TimeSeriesResult
    rel = gridplan.run_reliability(gridplan.load_case("rural-feeder"))  # ReliabilityResult
    adq = gridplan.run_adequacy(net)  # AdequacyResult
    gridplan.read_table("ts.h5", "timeseries/steps")
    gridplan.validate(net)  # every problem found in the net, as a list

Every study function leaves the net unmodified and returns a result object of tables in
pandapower's units; each has a ``write_*`` companion in its study module writing a
:class:`ResultWriter` file. Names are imported on first use (module ``__getattr__``), so
``import gridplan`` loads neither pandapower nor scipy.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("gridplan")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

from gridplan.errors import (
    BatchError,
    CaseError,
    ConvergenceError,
    GridplanError,
    OutputError,
)

#: public name -> (module, attribute), imported on first access
_LAZY: dict[str, tuple[str, str]] = {
    # cases
    "load_case": ("gridplan.model.cases", "load_case"),
    # studies and their results
    "run_powerflow": ("gridplan.studies.powerflow", "run_powerflow"),
    "PowerFlowResult": ("gridplan.studies.powerflow", "PowerFlowResult"),
    "run_n1": ("gridplan.studies.n1", "run_n1"),
    "N1Result": ("gridplan.studies.n1", "N1Result"),
    "run_timeseries": ("gridplan.studies.timeseries", "run"),
    "TimeSeriesResult": ("gridplan.studies.timeseries", "TimeSeriesResult"),
    "run_reliability": ("gridplan.studies.reliability", "run_reliability"),
    "ReliabilityResult": ("gridplan.studies.reliability", "ReliabilityResult"),
    "run_adequacy": ("gridplan.studies.adequacy", "run_adequacy"),
    "AdequacyResult": ("gridplan.studies.adequacy", "AdequacyResult"),
    # result files
    "read_table": ("gridplan.results.reader", "read_table"),
    "ResultWriter": ("gridplan.results.writer", "ResultWriter"),
    # checks
    "validate": ("gridplan.model.validate", "validate"),
}

__all__ = [
    "AdequacyResult",
    "BatchError",
    "CaseError",
    "ConvergenceError",
    "GridplanError",
    "N1Result",
    "OutputError",
    "PowerFlowResult",
    "ReliabilityResult",
    "ResultWriter",
    "TimeSeriesResult",
    "__version__",
    "load_case",
    "read_table",
    "run_adequacy",
    "run_n1",
    "run_powerflow",
    "run_reliability",
    "run_timeseries",
    "validate",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'gridplan' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # static checkers and IDEs see the real names
    from gridplan.model.cases import load_case
    from gridplan.model.validate import validate
    from gridplan.results.reader import read_table
    from gridplan.results.writer import ResultWriter
    from gridplan.studies.adequacy import AdequacyResult, run_adequacy
    from gridplan.studies.n1 import N1Result, run_n1
    from gridplan.studies.powerflow import PowerFlowResult, run_powerflow
    from gridplan.studies.reliability import ReliabilityResult, run_reliability
    from gridplan.studies.timeseries import TimeSeriesResult
    from gridplan.studies.timeseries import run as run_timeseries
