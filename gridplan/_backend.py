"""Chooses, per kernel, the compiled Cython module or its pure numpy twin.

Environment:

- ``GRIDPLAN_PURE_PYTHON=1`` forces every numpy twin.
- ``GRIDPLAN_REQUIRE_EXT=1`` turns a missing compiled module into an ImportError
  (set in CI so a broken build cannot pass silently).

A compiled module that fails to import warns once and the twin is used.
"""

from __future__ import annotations

import importlib
import os
import warnings
from types import ModuleType

_chosen: dict[str, str] = {}
_warned: set[str] = set()


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def load_kernel(name: str, twin: str) -> ModuleType:
    """Return ``gridplan._ext.<name>`` or, when unavailable or disabled, the module ``twin``.

    Parameters
    ----------
    name
        Stem of the Cython source ``ext/<name>.pyx``.
    twin
        Dotted path of the numpy twin module with the same functions and signatures.
    """
    if _flag("GRIDPLAN_PURE_PYTHON"):
        _chosen[name] = "numpy"
        return importlib.import_module(twin)
    try:
        module = importlib.import_module(f"gridplan._ext.{name}")
    except ImportError as exc:
        if _flag("GRIDPLAN_REQUIRE_EXT"):
            raise ImportError(
                f"compiled kernel gridplan._ext.{name} is missing ({exc}); "
                "GRIDPLAN_REQUIRE_EXT=1 forbids the numpy fallback - rebuild with `pip install .`"
            ) from exc
        if name not in _warned:
            _warned.add(name)
            warnings.warn(
                f"compiled kernel gridplan._ext.{name} not available ({exc}); using numpy twin",
                RuntimeWarning,
                stacklevel=2,
            )
        _chosen[name] = "numpy"
        return importlib.import_module(twin)
    _chosen[name] = "cython"
    return module


def backends() -> dict[str, str]:
    """Kernel name -> ``"cython"`` or ``"numpy"`` for every kernel loaded so far."""
    return dict(_chosen)


def describe() -> str:
    """One line saying which backend each bound kernel in :mod:`gridplan.kernels` uses."""
    import gridplan.kernels as kernels

    # read the modules actually bound, not the last load_kernel call (which may be a probe)
    chosen = {
        name: "cython" if mod.__name__.startswith("gridplan._ext.") else "numpy"
        for name, mod in vars(kernels).items()
        if isinstance(mod, ModuleType)
        and mod.__name__.startswith(("gridplan._ext.", "gridplan.core."))
    }
    kinds = set(chosen.values())
    if kinds == {"cython"}:
        head = "cython (compiled extensions)"
    elif kinds == {"numpy"}:
        head = "numpy (pure-Python twins)"
    else:
        head = "mixed"
    detail = ", ".join(f"{k}={v}" for k, v in sorted(chosen.items()))
    return f"{head}: {detail}"
