"""Imports flow one way (cli -> studies -> model/results -> core -> _ext), checked on the source.

Studies orchestrate: their numerics live in ``gridplan.core`` and the model, so no study module
imports scipy or a kernel (``gridplan.kernels``, ``gridplan._ext``) itself; the core works on
arrays only (no pandas, pandapower, h5py or click).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gridplan

PKG = Path(gridplan.__file__).parent


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _offenders(folder: str, banned: tuple[str, ...]) -> list[str]:
    out = []
    for path in sorted((PKG / folder).rglob("*.py")):
        for name in sorted(_imports(path)):
            if any(name == b or name.startswith(b + ".") for b in banned):
                out.append(f"{path.relative_to(PKG)}: {name}")
    return out


@pytest.mark.parametrize(
    "folder,banned",
    [
        ("studies", ("scipy", "gridplan.kernels", "gridplan._ext")),
        ("core", ("pandas", "pandapower", "h5py", "click")),
    ],
)
def test_layer_imports(folder, banned):
    assert (PKG / folder).is_dir()
    assert _offenders(folder, banned) == []


def test_the_check_sees_an_offending_import(tmp_path):
    # the rule itself: a module importing scipy.sparse is caught
    mod = tmp_path / "m.py"
    mod.write_text("import numpy as np\nfrom scipy.sparse import csr_matrix\n")
    assert "scipy.sparse" in _imports(mod)
