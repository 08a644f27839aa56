"""N-1 results in HDF5: ``/contingency`` of a :class:`gridplan.results.ResultWriter` file.

Tables ``outages``, ``elements``, ``buses`` and ``violations`` (appended in batches of blocks by
:func:`n1_violation_sink` during the scan), the optional outage-by-element loading matrix
(:func:`n1_matrix_sink`) and the scan's attributes (mode, limits, status counts, timings).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from gridplan.results.writer import ResultWriter
from gridplan.studies.n1.statistics import STATUSES, N1Result
from gridplan.studies.n1.violations import VIOLATION_COLUMNS


def n1_violation_sink(
    writer: ResultWriter, group: str = "contingency"
) -> Callable[[pd.DataFrame], None]:
    """A ``violation_sink`` for :func:`run_n1` appending to ``/<group>/violations``.

    Rows go to the open :class:`gridplan.results.ResultWriter` in batches of finished blocks
    (resizable, chunked, compressed table); :func:`write_n1` then completes the table.
    """
    name = f"{group}/violations"

    def sink(df: pd.DataFrame) -> None:
        writer.append_table(name, df)

    return sink


def _finish_streamed_violations(writer: ResultWriter, name: str, result: N1Result) -> None:
    """Trim a table that Ctrl-C left half-appended to the rows counted, or create it empty."""
    h5 = writer.h5
    n = result.n_violations
    cols = ["index", *VIOLATION_COLUMNS]
    if name in h5 and (n == 0 or any(c not in h5[name] for c in cols)):
        del h5[name]  # only a first append can be incomplete; nothing was counted then
    if name not in h5:
        empty = result.violations.iloc[:0]
        writer.write_table(name, empty)
        return
    grp = h5[name]
    for c in cols:
        if grp[c].shape[0] != n:
            grp[c].resize((n,))
    grp.attrs["n_rows"] = n


def n1_matrix_sink(
    writer: ResultWriter, group: str = "contingency"
) -> Callable[[np.ndarray, np.ndarray], None]:
    """A ``matrix_sink`` for :func:`run_n1` storing the outage-by-element loading matrix.

    ``/<group>/loading_matrix`` (percent, float32, one row per outage in scan order, chunked
    and compressed) and ``/<group>/loading_matrix_outage`` (the outage position of each row).
    """

    def sink(pos: np.ndarray, eld: np.ndarray) -> None:
        # rows in scan order; loading_matrix_outage names each row's outage
        writer.append_array(f"{group}/loading_matrix", eld)
        writer.append_array(
            f"{group}/loading_matrix_outage", pos, chunk_rows=4096, compression_level=None
        )

    return sink


def write_n1(writer: ResultWriter, result: N1Result, group: str = "contingency") -> None:
    """Write ``result`` under ``/contingency`` of an open :class:`gridplan.results.ResultWriter`.

    When ``result.violations_streamed``, the violation rows are already in the file (from
    :func:`n1_violation_sink` on the same writer and group); they are not written again.
    """
    writer.write_table(f"{group}/outages", result.outages)
    writer.write_table(f"{group}/elements", result.elements)
    writer.write_table(f"{group}/buses", result.buses)
    if result.violations_streamed:
        _finish_streamed_violations(writer, f"{group}/violations", result)
    else:
        writer.write_table(f"{group}/violations", result.violations)
    if result.base_violations is not None:
        writer.write_table(f"{group}/base_violations", result.base_violations)
    # every status count, 0 included: a script reading n_diverged never finds it missing
    counts = dict.fromkeys(STATUSES, 0) | result.status_counts()
    writer.set_attrs(
        group,
        mode=result.mode,
        n_outages=len(result.outages),
        interrupted=int(result.interrupted),
        **{f"n_{k}": v for k, v in counts.items()},
        **result.limits,
        **result.rule,
        **{f"time_{k}": v for k, v in result.timings_s.items()},
    )
