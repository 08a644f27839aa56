"""The pandapower boundary: loading cases, validating them, compiling them to arrays.

:func:`compile_network` (:mod:`gridplan.model.network`) is where every engine starts: the base
case solved once and frozen into a :class:`CompiledNetwork`.
"""

from __future__ import annotations

from typing import Any

# imported on first use: ``import gridplan`` stays fast (no pandapower until needed)
_LAZY = {
    "CompiledNetwork": "gridplan.model.network",
    "RUNPP_OPTIONS": "gridplan.model.network",
    "compile_network": "gridplan.model.network",
    "solve_base_case": "gridplan.model.network",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
