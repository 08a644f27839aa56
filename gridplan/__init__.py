"""gridplan: grid-planning studies on pandapower cases."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gridplan")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

from gridplan.errors import BatchError, CaseError, ConvergenceError, GridplanError, OutputError
from gridplan.model.cases import load_case
from gridplan.model.validate import validate

__all__ = [
    "BatchError",
    "CaseError",
    "ConvergenceError",
    "GridplanError",
    "OutputError",
    "__version__",
    "load_case",
    "validate",
]
