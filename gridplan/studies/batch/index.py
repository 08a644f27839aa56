"""The batch folder's index: ``index.h5`` and ``batch-summary.csv``, built from task files.

``index.h5`` holds ``/batch/summary`` (one row per task: case, scenario, analysis, status,
reason, run time, file), ``/batch/figures`` (the key figures, long format) and, under
``/tasks/<case>/<scenario>/<analysis>``, an HDF5 external link to the root of every complete
task file, so one ``h5py.File("index.h5")`` reaches every result (links are relative: move
the folder as a whole). Both files are rebuilt from the task files alone, which is what
``gridplan batch merge`` does after array-job shards; they are written atomically.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from gridplan.results import ResultWriter
from gridplan.results.tasks import file_state
from gridplan.studies.batch.study import Study, read_snapshot

INDEX_FILE = "index.h5"
STATES = ("done", "not_applicable", "failed", "partial", "missing")
SUMMARY_CSV = "batch-summary.csv"
SUMMARY_COLUMNS = (
    "case",
    "scenario",
    "analysis",
    "kind",
    "status",
    "reason",
    "elapsed_s",
    "created_utc",
    "file",
    "task_key",
    "case_sha256",
)


@dataclass
class Index:
    """Summary of a batch folder as its task files say."""

    summary: pd.DataFrame  # one row per task of the study (index: task id)
    figures: pd.DataFrame  # long: task, figure, value, text
    path: Path | None = None
    raw: dict[str, dict[str, Any]] = field(default_factory=dict)  # task -> figures as written

    def counts(self) -> dict[str, int]:
        """Tasks per status (done, not_applicable, failed, partial, missing)."""
        return {str(k): int(v) for k, v in self.summary.status.value_counts().items()}


def collect(out_dir: str | Path, study: Study) -> Index:
    """Read every task file of ``study`` in ``out_dir`` (no computation, no case loading)."""
    out = Path(out_dir)
    rows: list[dict[str, Any]] = []
    figs: list[dict[str, Any]] = []
    raws: dict[str, dict[str, Any]] = {}
    for t in study.tasks():
        path = t.path(out)
        state, rec = file_state(path)
        row: dict[str, Any] = {
            "task": t.id,
            "case": t.case.name,
            "scenario": t.scenario.name,
            "analysis": t.analysis.name,
            "kind": t.analysis.kind,
            "status": state if rec is None else rec.status,
            "reason": "" if rec is None else rec.reason,
            "elapsed_s": math.nan if rec is None else rec.elapsed_s,
            "created_utc": "" if rec is None else rec.created_utc,
            "file": str(path.relative_to(out)),
            "task_key": "" if rec is None else rec.key,
            "case_sha256": "" if rec is None else rec.case_sha256,
        }
        rows.append(row)
        if rec is not None:
            raws[t.id] = rec.figures
            for name, value in rec.figures.items():
                number = _number(value)
                figs.append(
                    {
                        "task": t.id,
                        "figure": name,
                        "value": number,
                        "text": "" if number == number or value is None else str(value),
                    }
                )
    summary = pd.DataFrame(rows).set_index("task") if rows else pd.DataFrame()
    figures = pd.DataFrame(figs, columns=["task", "figure", "value", "text"])
    return Index(summary, figures, raw=raws)


def _number(value: Any) -> float:
    if isinstance(value, bool | int | float | np.integer | np.floating):
        return float(value)
    return math.nan


def wide_summary(index: Index) -> pd.DataFrame:
    """One row per task: the summary columns, then one column per key figure
    (``<analysis kind>.<figure>``, so figures of different analyses never mix)."""
    s = index.summary.copy()
    cells: dict[str, dict[str, Any]] = {}
    for task, figures in index.raw.items():
        kind = s.at[task, "kind"]
        for name, value in figures.items():
            cells.setdefault(f"{kind}.{name}", {})[task] = value
    if cells:
        s = s.join(pd.DataFrame(cells, index=s.index))
    return s


def write_index(out_dir: str | Path, study: Study, index: Index | None = None) -> Index:
    """Write ``index.h5`` and ``batch-summary.csv`` of ``out_dir`` (atomically)."""
    out = Path(out_dir)
    index = index or collect(out, study)
    summary = index.summary.reset_index()
    counts = index.counts()
    with ResultWriter(out / INDEX_FILE, case_name="") as w:
        w.set_attrs(
            "batch",
            study=study.name,
            study_source=study.source,
            n_tasks=len(summary),
            **{f"n_{k}": counts.get(k, 0) for k in STATES},
            indexed_utc=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        table = summary.rename(columns={"task": "task_id"})
        table.index = pd.RangeIndex(len(table), name="row")
        w.write_table("batch/summary", table)
        fig = index.figures.copy()
        fig.index = pd.RangeIndex(len(fig), name="row")
        w.write_table("batch/figures", fig)
        for row in summary.itertuples():
            if row.status in ("done", "not_applicable", "failed"):
                w.h5[f"tasks/{row.task}"] = h5py.ExternalLink(row.file, "/")
    _write_csv(out / SUMMARY_CSV, wide_summary(index))
    index.path = out / INDEX_FILE
    return index


def _write_csv(path: Path, df: pd.DataFrame) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        df.to_csv(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def merge(out_dir: str | Path) -> Index:
    """Rebuild the index of a batch folder from its task files (``gridplan batch merge``)."""
    study = read_snapshot(out_dir)
    return write_index(out_dir, study)


def status(out_dir: str | Path, *, check_keys: bool = True) -> pd.DataFrame:
    """Every task of a batch folder with its state: done, not_applicable, failed, stale,
    partial or missing (``gridplan batch status``).

    ``check_keys`` loads each case once and compares its tasks' keys with their files
    (a file whose case, scenario file, options or gridplan version changed is *stale*).
    """
    from gridplan.studies.batch.worker import load_cached, task_key

    study = read_snapshot(out_dir)
    index = collect(out_dir, study)
    s = index.summary.copy()
    if check_keys:
        for t in study.tasks():
            if s.at[t.id, "status"] not in ("done", "not_applicable"):
                continue
            try:
                _net, sha = load_cached(t.case.spec)
                key = task_key(t, sha)
            except Exception as exc:  # the case cannot be read now: say so, keep going
                s.at[t.id, "status"] = "stale"
                s.at[t.id, "reason"] = f"cannot check: {exc}"
                continue
            if key != s.at[t.id, "task_key"]:
                s.at[t.id, "status"] = "stale"
                s.at[t.id, "reason"] = (
                    "the case data changed"
                    if sha != s.at[t.id, "case_sha256"]
                    else "options, a scenario file or the gridplan version changed"
                )
    return s
