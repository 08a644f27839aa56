"""``load_case(spec)``: one way to turn a case spec into a pandapower net, used everywhere.

A spec is, in this order: a file path (``.json`` pandapower, ``.m``/``.mat`` MATPOWER,
``.raw``/``.xiidm``/``.uct``/``.zip`` (CGMES) via pypowsybl), a bundled case name (``cases/``),
or the name of a ``pandapower.networks`` function (e.g. ``case9241pegase``).
"""

from __future__ import annotations

import difflib
import inspect
import logging
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandapower as pp

from gridplan.errors import CaseError
from gridplan.model.safe_json import read_pandapower_json
from gridplan.model.validate import validate_net

MATPOWER_EXT = {".m", ".mat"}
POWSYBL_EXT = {".raw", ".rawx", ".xiidm", ".iidm", ".uct", ".zip", ".xml"}
KNOWN_EXT = {".json"} | MATPOWER_EXT | POWSYBL_EXT


def cases_dir() -> Path:
    """Folder holding the bundled case files (source tree first, then the installed copy)."""
    env = os.environ.get("GRIDPLAN_CASES_DIR")
    if env:
        return Path(env)
    src = Path(__file__).resolve().parents[2] / "cases"
    if src.is_dir() and any(src.glob("*.json")):
        return src
    return Path(str(resources.files("gridplan._cases")))


def bundled_cases() -> dict[str, Path]:
    """Bundled case name -> JSON file."""
    return {p.stem: p for p in sorted(cases_dir().glob("*.json"))}


@cache
def pandapower_network_names() -> tuple[str, ...]:
    """Functions of ``pandapower.networks`` that build a case without required arguments."""
    import pandapower.networks as pn

    names = []
    for name, fn in inspect.getmembers(pn, inspect.isfunction):
        if name.startswith("_"):
            continue
        try:
            params = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):
            continue
        if all(
            p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params
        ):
            names.append(name)
    return tuple(sorted(names))


def case_name(spec: str | os.PathLike[str]) -> str:
    """Short name of a case spec (file stem or the name itself)."""
    s = str(spec)
    return Path(s).stem if Path(s).suffix.lower() in KNOWN_EXT else s


def _looks_like_path(spec: str) -> bool:
    return (
        os.sep in spec
        or "/" in spec
        or Path(spec).suffix.lower() in KNOWN_EXT
        or Path(spec).suffix != ""
    )


def load_case(spec: str | os.PathLike[str], *, validate: bool = True) -> pp.pandapowerNet:
    """Load a case from a file, a bundled name or a ``pandapower.networks`` name.

    Parameters
    ----------
    spec
        File path, bundled case name or pandapower.networks function name.
    validate
        Check element references (buses etc.) and raise :class:`CaseError` listing every problem.

    Returns
    -------
    pandapowerNet
        A fresh net (never shared with other callers); ``net.name`` is set to the case name
        when the file carries none.
    """
    s = str(spec)
    path = Path(s)
    if path.is_file():
        net = _load_file(path)
    elif s in bundled_cases():
        net = _load_json(bundled_cases()[s])
    elif s in pandapower_network_names():
        import pandapower.networks as pn

        net = _quiet(getattr(pn, s))
    elif _looks_like_path(s):
        if path.is_dir():
            raise CaseError(f"{s}: is a folder, not a case file")
        raise CaseError(f"{s}: no such file")
    else:
        raise CaseError(f"{s}: unknown case", hint=_suggest(s))
    if not getattr(net, "name", ""):
        net.name = case_name(s)
    if validate:
        validate_net(net, source=s)
    return net


def _suggest(name: str) -> str:
    pool = list(bundled_cases()) + list(pandapower_network_names())
    close = difflib.get_close_matches(name, pool, n=4, cutoff=0.6)
    if not close:
        close = [p for p in pool if name.lower() in p.lower()][:4]
    if close:
        return "did you mean " + ", ".join(close) + "? (`gridplan cases list` lists bundled cases)"
    return "give a file path, a bundled case (`gridplan cases list`) or a pandapower.networks name"


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a pandapower function with its INFO/WARNING log chatter silenced."""
    logger = logging.getLogger("pandapower")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return fn(*args, **kwargs)
    finally:
        logger.setLevel(level)


def _load_file(path: Path) -> pp.pandapowerNet:
    ext = path.suffix.lower()
    if ext == ".json":
        return _load_json(path)
    if ext in MATPOWER_EXT:
        return _load_matpower(path)
    if ext in POWSYBL_EXT:
        return _load_powsybl(path)
    raise CaseError(
        f"{path}: unsupported file type {path.suffix!r}",
        hint="supported: .json (pandapower), .m/.mat (MATPOWER), "
        ".raw/.xiidm/.uct/.zip (gridplan[formats])",
    )


def _load_json(path: Path) -> pp.pandapowerNet:
    # checked as data first (gridplan.model.safe_json); pandapower decodes the checked text
    text = read_pandapower_json(path)
    try:
        return _quiet(pp.from_json_string, text)
    except Exception as exc:  # pandapower raises many types for broken content
        raise CaseError(
            f"{path}: cannot build a pandapower net ({type(exc).__name__}: {exc})"
        ) from None


def _load_matpower(path: Path) -> pp.pandapowerNet:
    from pandapower.converter.matpower import from_mpc

    if path.suffix.lower() == ".m":
        try:
            import matpowercaseframes  # noqa: F401
        except ImportError:
            raise CaseError(
                f"{path}: reading MATPOWER .m files needs matpowercaseframes",
                hint="pip install matpowercaseframes (or save the case as .mat)",
            ) from None
    try:
        return _quiet(from_mpc, str(path))
    except Exception as exc:
        raise CaseError(
            f"{path}: cannot read MATPOWER case ({type(exc).__name__}: {exc})"
        ) from None


def _load_powsybl(path: Path) -> pp.pandapowerNet:
    """PSS/E RAW, CGMES, UCTE, XIIDM via pypowsybl.

    pypowsybl reads the file and exports MATPOWER; pandapower reads that. This route reproduces
    pypowsybl's own load flow exactly on the IEEE 14-bus test, where pandapower's XIIDM converter
    (``from_pypowsybl``) currently drops fixed shunts.
    """
    try:
        import pypowsybl.network as pn
    except ImportError:
        raise CaseError(
            f"{path}: reading {path.suffix} files needs pypowsybl",
            hint="pip install 'gridplan[formats]'",
        ) from None
    import tempfile

    from pandapower.converter.matpower import from_mpc

    try:
        network = pn.load(str(path))
        with tempfile.TemporaryDirectory() as tmp:
            mat = Path(tmp) / "case.mat"
            network.save(str(mat), format="MATPOWER")
            net = _quiet(from_mpc, str(mat))
    except Exception as exc:
        raise CaseError(
            f"{path}: cannot convert through pypowsybl ({type(exc).__name__}: {exc})"
        ) from None
    buses = network.get_buses()
    if len(buses) == len(net.bus):  # MATPOWER export numbers buses in pypowsybl's bus order
        net.bus["name"] = buses.index.to_numpy()
    return net
