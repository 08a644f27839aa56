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
    """Dotted path -> (value, source document name) for every scalar figure.

    A source abbreviated as ``004_...`` is expanded to the full document name used elsewhere in
    the file; a figure without a comment of its own takes the source of the figure above it.
    """
    text = _seed_path().read_text(encoding="utf-8")
    full_names = sorted(set(re.findall(r"\d{3}_[0-9a-f]{8,}\.txt", text)))

    def expand(src: str) -> str:
        if src.endswith("_..."):
            matches = [n for n in full_names if n.startswith(src[:-3])]
            if len(matches) == 1:
                return matches[0]
        return src

    out: dict[str, tuple[Any, str]] = {}
    section = ""
    last_source = ""
    for line in text.splitlines():
        head = re.match(r"^\[+([A-Za-z0-9_.]+)\]+\s*$", line.strip())
        if head:
            section, last_source = head.group(1), ""
            continue
        if line.lstrip().startswith("#"):
            found = re.search(r"(\d{3}_[0-9a-f]+\.txt|\d{3}_\.\.\.)", line)
            if found and section:
                last_source = expand(found.group(1))
            continue
        m = re.match(r"^([A-Za-z0-9_]+)\s*=\s*([^#]+?)\s*(?:#\s*(.*))?$", line)
        if not m or not section:
            continue
        try:
            value = tomllib.loads(f"v = {m.group(2)}")["v"]
        except tomllib.TOMLDecodeError:
            continue
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        found = re.search(r"(\d{3}_[0-9a-f]+\.txt|\d{3}_\.\.\.)", m.group(3) or "")
        if found:
            last_source = expand(found.group(1))
        if last_source:
            out[f"{section}.{m.group(1)}"] = (value, last_source)
    return out
