"""Planning targets from the documents gridplan grew from (``seeds/*.toml``).

Every figure keeps the name of the document it came from (a trailing comment in the TOML is
not data, so sources are recovered by :func:`figures_with_sources`).
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

SEED_FILE = "plan-targets.toml"


def _seed_path() -> Path:
    src = Path(__file__).resolve().parent.parent / "seeds" / SEED_FILE
    if src.is_file():
        return src
    return Path(str(resources.files("gridplan._seeds").joinpath(SEED_FILE)))


@cache
def load() -> dict[str, Any]:
    """All seed figures as a nested dict (TOML tables)."""
    return tomllib.loads(_seed_path().read_text(encoding="utf-8"))


def get(path: str) -> Any:
    """One figure by dotted path, e.g. ``get("reliability_targets.urban_min_percent")``."""
    node: Any = load()
    for part in path.split("."):
        node = node[part]
    return node


@cache
def figures_with_sources() -> dict[str, tuple[Any, str]]:
    """Dotted path -> (value, source document name) for every scalar figure with a source."""
    out: dict[str, tuple[Any, str]] = {}
    section = ""
    for line in _seed_path().read_text(encoding="utf-8").splitlines():
        head = re.match(r"^\[([A-Za-z0-9_.]+)\]\s*$", line.strip())
        if head:
            section = head.group(1)
            continue
        m = re.match(r"^([A-Za-z0-9_]+)\s*=\s*([^#]+?)\s*#\s*(.*)$", line)
        if not m or not section:
            continue
        src = re.search(r"(\d{3}_[0-9a-f]+\.txt|\d{3}_\.\.\.)", m.group(3))
        value = tomllib.loads(f"v = {m.group(2)}")["v"]
        out[f"{section}.{m.group(1)}"] = (value, src.group(1) if src else m.group(3).strip())
    return out
