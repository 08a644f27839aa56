"""Task files of a batch run: what a finished task looks like on disk, and how to verify one.

A batch task (one case, one scenario, one analysis) writes one ordinary gridplan result file
through :class:`gridplan.results.ResultWriter`, which builds it under a hidden temporary name
and renames it only when it is whole. The task's identity and outcome are the attributes of
its ``/task`` group (declared in :mod:`gridplan.results.tables.batch`); ``complete`` is set
last, just before the rename, so a file that lacks it (a copy cut short, a file from an older
tool) is *partial* and is computed again. A complete file is trusted only while its ``key``
equals the key of the task as it stands now (case data, scenario, options, gridplan version):
anything else is *stale*.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py

from gridplan.results.writer import ResultWriter

GROUP = "task"
STATUSES = ("done", "not_applicable", "failed")


@dataclass(frozen=True)
class TaskRecord:
    """What a complete task file says about its task."""

    path: Path
    task_id: str
    case: str
    scenario: str
    analysis: str
    kind: str
    key: str
    status: str
    reason: str
    case_sha256: str
    elapsed_s: float
    created_utc: str
    run_id: str
    figures: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    scenario_def: dict[str, Any] = field(default_factory=dict)
    gridplan_version: str = ""
    case_signature: str = ""


def mark_complete(writer: ResultWriter, **task: Any) -> None:
    """Write the ``/task`` attributes of an open writer, ``complete`` last.

    ``task`` holds attributes declared for ``/task`` (``id``, ``key``, ``status`` ...); dicts
    are stored as JSON. Call it after every table is written, just before the writer commits.
    """
    attrs: dict[str, Any] = {}
    for name, value in task.items():
        if isinstance(value, dict):
            # figures keep the analysis's order; the other dicts are sorted (comparable)
            value = json.dumps(value, sort_keys=name != "figures", allow_nan=True, default=str)
        attrs[name] = value
    writer.set_attrs(GROUP, **attrs)
    writer.h5.flush()
    writer.set_attrs(GROUP, complete=1)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def file_state(path: str | os.PathLike[str]) -> tuple[str, TaskRecord | None]:
    """``("missing" | "partial" | "complete", record)`` of the task file at ``path``.

    *partial*: a file is there but it is not a readable HDF5 file or it lacks the
    completion mark; the record is None unless the state is *complete*.
    """
    p = Path(path)
    if not p.exists():
        return "missing", None
    try:
        with h5py.File(p, "r") as h5:
            root = dict(h5.attrs)
            a = dict(h5[GROUP].attrs) if GROUP in h5 else {}
    except (OSError, ValueError, KeyError):
        return "partial", None
    if int(a.get("complete", 0)) != 1 or "key" not in a:
        return "partial", None

    def js(name: str) -> dict[str, Any]:
        try:
            value = json.loads(_text(a.get(name, "{}")) or "{}")
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    return "complete", TaskRecord(
        path=p,
        task_id=_text(a.get("id", "")),
        case=_text(a.get("case", "")),
        scenario=_text(a.get("scenario", "")),
        analysis=_text(a.get("analysis", "")),
        kind=_text(a.get("kind", "")),
        key=_text(a["key"]),
        status=_text(a.get("status", "")),
        reason=_text(a.get("reason", "")),
        case_sha256=_text(root.get("case_sha256", "")),
        elapsed_s=float(a.get("elapsed_s", float("nan"))),
        created_utc=_text(root.get("created_utc", "")),
        run_id=_text(a.get("run_id", "")),
        figures=js("figures"),
        options=js("options"),
        scenario_def=js("scenario_def"),
        gridplan_version=_text(root.get("gridplan_version", "")),
        case_signature=_text(a.get("case_signature", "")),
    )
