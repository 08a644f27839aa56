"""Click parameter types: every command-line value is checked here, once, when it is parsed.

A bad value becomes a click usage error, which :func:`gridplan.cli._common.run_cli` prints as
one line (``error: --top: must be an integer >= 1, got 0 instead``) with exit code 2.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


class Number(click.ParamType):
    """A finite float (NaN and infinity refused), optionally bounded."""

    name = "number"

    def __init__(
        self,
        min: float | None = None,
        max: float | None = None,
        *,
        min_open: bool = False,
        max_open: bool = False,
    ) -> None:
        self.min, self.max, self.min_open, self.max_open = min, max, min_open, max_open

    def _what(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f"{'>' if self.min_open else '>='} {self.min:g}")
        if self.max is not None:
            parts.append(f"{'<' if self.max_open else '<='} {self.max:g}")
        return "a finite number" + (" " + " and ".join(parts) if parts else "")

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"must be {self._what()}, got {value!r} instead", param, ctx)
        low_bad = self.min is not None and (x <= self.min if self.min_open else x < self.min)
        high_bad = self.max is not None and (x >= self.max if self.max_open else x > self.max)
        if not math.isfinite(x) or low_bad or high_bad:
            self.fail(f"must be {self._what()}, got {value} instead", param, ctx)
        return x


class Integer(click.ParamType):
    """An integer with a lower bound."""

    name = "integer"

    def __init__(self, min: int) -> None:
        self.min = min

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            x = int(value)
        except (TypeError, ValueError):
            self.fail(f"must be an integer >= {self.min}, got {value!r} instead", param, ctx)
        if x < self.min:
            self.fail(f"must be an integer >= {self.min}, got {x} instead", param, ctx)
        return x


def writable_problem(path: Path, *, folder: bool = False) -> str | None:
    """Why gridplan could not write ``path`` (a file, or a folder with ``folder``), or None.

    The folder that will hold it must be a folder that exists and is writable, or one that can
    be created below the nearest existing folder. ``os.access`` answers for the real user and
    reports a read-only file system (``EROFS``) even to root, who may write anywhere else.
    """
    target = path.absolute()
    if target.exists() and target.is_dir() != folder:
        return f"{path} is a {'file' if target.is_file() else 'folder'}, not a " + (
            "folder" if folder else "file"
        )
    parent = target if folder else target.parent
    probe = parent
    while not probe.exists():
        if probe.is_symlink():
            return f"{probe} is a broken symbolic link"
        probe = probe.parent
    if not probe.is_dir():
        return f"cannot create folder {parent}: {probe} is a file"
    if not os.access(probe, os.W_OK | os.X_OK):
        try:
            read_only = bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        why = "is on a read-only file system" if read_only else "is not writable"
        return f"folder {probe} {why}"
    return None


class OutPath(click.Path):
    """An output file (or, with ``folder=True``, folder) gridplan must be able to write.

    Checked when parsed, so a study never runs for an hour to fail at writing its result.
    """

    def __init__(self, *, folder: bool = False) -> None:
        super().__init__(file_okay=not folder, dir_okay=folder, path_type=Path)
        self.folder = folder

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = Path(os.fsdecode(value))
        problem = writable_problem(path, folder=self.folder)
        if problem:
            self.fail(f"cannot write there: {problem}", param, ctx)
        return path


def require_order(low: float, high: float, low_name: str, high_name: str) -> None:
    """Refuse a band whose lower limit is not below its upper one."""
    if not low < high:
        raise click.UsageError(f"{low_name} must be below {high_name}, got {low:g} >= {high:g}")


#: shared instances
FINITE = Number()
POSITIVE = Number(0.0, min_open=True)
NON_NEGATIVE = Number(0.0)
COUNT = Integer(1)
COUNT0 = Integer(0)


def worsen_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--worsen-loading`` and ``--worsen-vm``: the margins of the new-or-worsened rule
    (:mod:`gridplan.core.violation_rule`), shared by ``n1`` and ``wind hosting``."""
    f = click.option(
        "--worsen-vm",
        default=0.005,
        type=NON_NEGATIVE,
        show_default=True,
        help="Change (pu) of an already violated voltage that counts as worsened.",
    )(f)
    return click.option(
        "--worsen-loading",
        default=1.0,
        type=NON_NEGATIVE,
        show_default=True,
        help="Growth (percentage points) of an already overloaded branch that counts as worsened.",
    )(f)
