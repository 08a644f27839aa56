"""Task files of a batch run: what a finished task looks like on disk, and how to verify one.

A batch task (one case, one scenario, one analysis) writes one ordinary gridplan result file
through :class:`gridplan.results.ResultWriter`, which builds it under a hidden temporary name
and renames it only when it is whole. The task's identity and outcome are root attributes
(``task_*``, see :data:`TASK_ATTRS`); ``task_complete`` is set last, just before the rename,
so a file that lacks it (a copy cut short, a file from a crashed older tool) is *partial*
and is computed again. A complete file is trusted only while its ``task_key`` equals the
key of the task as it stands now (case data, scenario, options, gridplan version): anything
else is *stale*.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py

from gridplan.results.writer import ResultWriter

#: root attributes of a task file, with their meaning
TASK_ATTRS: dict[str, str] = {
    "task_id": "case/scenario/analysis",
    "task_case": "case name (unique within the study)",
    "task_case_spec": "the case as given: bundled or pandapower.networks name, or absolute path",
    "task_scenario": "scenario name",
    "task_analysis": "analysis name (a key of the study's [analyses] table)",
    "task_kind": "analysis kind in the registry (pf, n1, reliability, ...)",
    "task_options": "JSON: the analysis options, defaults filled in",
    "task_scenario_def": "JSON: the scenario definition (with file digests)",
    "task_key": "SHA-256 over case_sha256, scenario, analysis, options and gridplan version",
    "task_status": "done, not_applicable or failed",
    "task_reason": "why not applicable, or the error of a failed task",
    "task_figures": "JSON: the task's key figures (name -> number, bool or text)",
    "task_elapsed_s": "wall time of the task, s",
    "task_run_id": "identifier of the run that wrote the file",
    "task_complete": "1, set last: the file is whole",
}

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


def mark_complete(writer: ResultWriter, **task: Any) -> None:
    """Write the ``task_*`` root attributes of an open writer, ``task_complete`` last.

    ``task`` holds the keys of :data:`TASK_ATTRS` without the ``task_`` prefix; dicts are
    stored as JSON. Call it after every table is written, just before the writer commits.
    """
    unknown = sorted(set(task) - {k.removeprefix("task_") for k in TASK_ATTRS})
    if unknown:
        raise ValueError(f"unknown task attribute(s): {', '.join(unknown)}")
    attrs = writer.h5.attrs
    for name, value in task.items():
        if isinstance(value, dict):
            # figures keep the analysis's order; the other dicts are sorted (comparable)
            value = json.dumps(value, sort_keys=name != "figures", allow_nan=True, default=str)
        attrs[f"task_{name}"] = value
    writer.h5.flush()
    attrs["task_complete"] = 1


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def file_state(path: str | os.PathLike[str]) -> tuple[str, TaskRecord | None]:
    """``("missing" | "partial" | "complete", record)`` of the task file at ``path``.

    *partial*: a file is there but it is not a readable HDF5 file or it lacks
    ``task_complete``; the record is None unless the state is *complete*.
    """
    p = Path(path)
    if not p.exists():
        return "missing", None
    try:
        with h5py.File(p, "r") as h5:
            a = dict(h5.attrs)
    except (OSError, ValueError):
        return "partial", None
    if int(a.get("task_complete", 0)) != 1 or "task_key" not in a:
        return "partial", None

    def js(name: str) -> dict[str, Any]:
        try:
            value = json.loads(_text(a.get(name, "{}")) or "{}")
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    return "complete", TaskRecord(
        path=p,
        task_id=_text(a.get("task_id", "")),
        case=_text(a.get("task_case", "")),
        scenario=_text(a.get("task_scenario", "")),
        analysis=_text(a.get("task_analysis", "")),
        kind=_text(a.get("task_kind", "")),
        key=_text(a["task_key"]),
        status=_text(a.get("task_status", "")),
        reason=_text(a.get("task_reason", "")),
        case_sha256=_text(a.get("case_sha256", "")),
        elapsed_s=float(a.get("task_elapsed_s", float("nan"))),
        created_utc=_text(a.get("created_utc", "")),
        run_id=_text(a.get("task_run_id", "")),
        figures=js("task_figures"),
        options=js("task_options"),
        scenario_def=js("task_scenario_def"),
        gridplan_version=_text(a.get("gridplan_version", "")),
    )
