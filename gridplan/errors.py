"""The gridplan exception family.

``GridplanError`` -> ``CaseError`` (bad input; also a ``ValueError``), ``ConvergenceError``
(a computation that ran and failed), ``OutputError`` (a result file could not be written,
e.g. disk full), ``BatchError`` (some cases of a batch failed).
The CLI prints ``str(error)`` as one line (plus ``hint`` when set) and exits with ``exit_code``.
"""

from __future__ import annotations

from collections.abc import Sequence


class GridplanError(Exception):
    """Base class of every error gridplan raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class CaseError(GridplanError, ValueError):
    """Bad input: missing/unreadable file, unknown case, invalid element data."""

    exit_code = 2


class ConvergenceError(GridplanError):
    """A power flow (or another iteration) ran and did not converge."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        iterations: int | None = None,
        max_mismatch: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.iterations = iterations
        self.max_mismatch = max_mismatch


class OutputError(GridplanError):
    """A result file could not be written part-way (disk full, file size limit, I/O error);
    nothing was left behind under its name."""

    exit_code = 1


class BatchError(GridplanError):
    """Some cases of a batch failed; ``failed`` maps case spec -> error message."""

    exit_code = 1

    def __init__(self, message: str, *, failed: dict[str, str], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.failed = failed


def utf8_problem(exc: UnicodeDecodeError) -> str:
    """``"line 3: must be UTF-8 text, got byte 0xff instead"`` for a failed decode."""
    data = bytes(exc.object)
    line = data.count(b"\n", 0, exc.start) + 1
    return f"line {line}: must be UTF-8 text, got byte {data[exc.start]:#04x} instead"


def format_problems(where: str, problems: Sequence[str]) -> str:
    """Join several validation problems into one line: ``where: p1; p2; ...``."""
    return f"{where}: " + "; ".join(problems)
