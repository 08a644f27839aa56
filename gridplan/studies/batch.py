"""The default study over a set of cases, one result file per case, resumable.

Each case gets ``<out_dir>/<case>.h5`` written atomically; a file that is already there is
skipped (so a batch that was interrupted resumes where it stopped). A failed case is reported
and the batch goes on; :class:`BatchError` at the end lists the failures.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandapower as pp
import pandas as pd

from gridplan.errors import BatchError, GridplanError
from gridplan.model.case_hash import case_sha256
from gridplan.model.cases import bundled_cases, case_name, load_case
from gridplan.results import ResultWriter
from gridplan.studies.powerflow import run_powerflow, write_powerflow

# A study step: (net, writer) -> summary columns for the batch table. Steps run in order.
Step = Callable[[pp.pandapowerNet, ResultWriter], dict[str, Any]]


def _powerflow_step(net: pp.pandapowerNet, writer: ResultWriter) -> dict[str, Any]:
    result = run_powerflow(net)
    write_powerflow(writer, result)
    s = result.summary.iloc[0]
    return {
        "pf_iterations": int(s.iterations),
        "p_loss_mw": float(s.p_loss_mw),
        "vm_min_pu": float(s.vm_min_pu),
        "vm_max_pu": float(s.vm_max_pu),
        "line_loading_max_percent": float(s.get("line_loading_max_percent", float("nan"))),
    }


def _n1_step(net: pp.pandapowerNet, writer: ResultWriter) -> dict[str, Any]:
    from gridplan.studies.n1 import n1_violation_sink, run_n1, write_n1

    # violations stream to the file so memory does not grow with the number of outages
    result = run_n1(
        net, mode="ac", case_name=str(net.name), violation_sink=n1_violation_sink(writer)
    )
    write_n1(writer, result)
    counts = result.status_counts()
    return {
        "n1_outages": len(result.outages),
        "n1_islanded": counts.get("islanded", 0),
        "n1_diverged": counts.get("diverged", 0),
        "n1_violations": result.n_violations,
    }


def _reliability_step(net: pp.pandapowerNet, writer: ResultWriter) -> dict[str, Any]:
    """Distribution reliability vs. the plan's targets, for cases carrying reliability data."""
    if "customers" not in net.load:
        return {}
    from gridplan.studies.reliability import run_reliability, write_reliability

    result = run_reliability(net, case_name=str(net.name))
    write_reliability(writer, result)
    verdict = result.verdict.loc["system"]
    return {
        "asai_percent": float(verdict["asai_percent"]),
        "target_percent": float(verdict["target_percent"]),
        "reliability_margin_min_per_year": float(verdict["margin_min_per_year"]),
        "reliability_passed": bool(verdict["passed"]),
    }


STEPS: dict[str, Step] = {
    "powerflow": _powerflow_step,
    "n1": _n1_step,
    "reliability": _reliability_step,
}
DEFAULT_STEPS: tuple[str, ...] = ("powerflow", "n1", "reliability")


@dataclass
class BatchResult:
    """Per-case outcome: ``table`` has one row per case (``done``, ``skipped``, ``failed``)."""

    table: pd.DataFrame
    failed: dict[str, str] = field(default_factory=dict)


def run_case(spec: str, out_dir: Path, steps: Sequence[str] = DEFAULT_STEPS) -> dict[str, Any]:
    """Run the study steps on one case and write ``out_dir/<case>.h5``; returns its summary row."""
    net = load_case(spec)
    name = case_name(spec)
    row: dict[str, Any] = {"case": name, "status": "done", "buses": len(net.bus)}
    with ResultWriter(
        out_dir / f"{name}.h5",
        case_name=name,
        case_sha256=case_sha256(net),
        attrs={"studies": ",".join(steps)},
    ) as writer:
        for step in steps:
            row.update(STEPS[step](net, writer))
    return row


def _run_one(spec: str, out_dir: Path, steps: Sequence[str]) -> dict[str, Any]:
    try:
        return run_case(spec, out_dir, steps)
    except GridplanError as exc:
        return {"case": case_name(spec), "status": "failed", "error": str(exc)}


def run_batch(
    specs: Iterable[str] | None,
    out_dir: str | os.PathLike[str],
    *,
    steps: Sequence[str] = DEFAULT_STEPS,
    resume: bool = True,
    jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> BatchResult:
    """Run the default study on ``specs`` (all bundled cases when None) into ``out_dir``.

    Raises :class:`BatchError` (after every case was tried) when some cases failed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise GridplanError(
            f"unknown study step(s) {', '.join(unknown)}; known: {', '.join(STEPS)}"
        )
    todo = list(specs) if specs else list(bundled_cases())
    rows: list[dict[str, Any]] = []
    pending = []
    for spec in todo:
        if resume and (out / f"{case_name(spec)}.h5").is_file():
            rows.append({"case": case_name(spec), "status": "skipped (result file exists)"})
        else:
            pending.append(spec)
    if jobs > 1 and len(pending) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_run_one, s, out, tuple(steps)): s for s in pending}
            for fut in as_completed(futures):
                rows.append(fut.result())
                if progress:
                    progress(futures[fut])
    else:
        for spec in pending:
            rows.append(_run_one(spec, out, steps))
            if progress:
                progress(spec)
    table = pd.DataFrame(rows).set_index("case")
    failed = {r["case"]: r["error"] for r in rows if r.get("status") == "failed"}
    result = BatchResult(table, failed)
    pd.DataFrame(rows).to_csv(out / "batch-summary.csv", index=False)
    if failed:
        raise BatchError(
            f"{len(failed)} of {len(todo)} cases failed: "
            + "; ".join(f"{k}: {v}" for k, v in failed.items()),
            failed=failed,
            hint="fix the cases and run again; finished cases are skipped",
        )
    return result
