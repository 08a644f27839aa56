"""N-1 violations stream to the HDF5 file block by block instead of piling up in memory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridplan.results import ResultWriter, read_table
from gridplan.studies.n1 import (
    WORST_VIOLATIONS_KEPT,
    n1_violation_sink,
    run_n1,
    write_n1,
)
from gridplan.studies.n1 import violations as violations_module

# tight limits so case118 has thousands of violation rows (many blocks of them)
# report all: every broken limit (these tests are about streaming many rows, not the rule)
LIMITS = dict(max_loading_percent=4.0, vm_min_pu=0.95, vm_max_pu=1.05, report="all")
KEY = ["outage", "quantity", "element_type", "element"]


@pytest.fixture(scope="module")
def in_memory(net118, model118):
    return run_n1(net118, model=model118, block=32, **LIMITS)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    # label columns are categoricals in memory and strings in the file
    cat = df.select_dtypes("category").columns
    df = df.astype({c: object for c in cat})
    return df.sort_values(KEY).reset_index(drop=True)


@pytest.mark.parametrize("batch_rows", [None, 100])
def test_streamed_violations_table_equals_in_memory_table(
    net118, model118, in_memory, tmp_path, monkeypatch, batch_rows
):
    # None: the default batch (all rows of case118 in one append); 100: an append every
    # few blocks
    if batch_rows is not None:
        monkeypatch.setattr(violations_module, "STREAM_BATCH_ROWS", batch_rows)
    out = tmp_path / "n1.h5"
    with ResultWriter(out, case_name="case118") as w:
        res = run_n1(
            net118, model=model118, block=32, violation_sink=n1_violation_sink(w), **LIMITS
        )
        write_n1(w, res)
    ref = in_memory.violations
    assert len(ref) > 5 * 2 * WORST_VIOLATIONS_KEPT  # many more rows than kept in memory
    got = read_table(out, "contingency/violations")
    # same rows (exact: the same numbers go through both paths), file order is per block
    assert list(got.columns) == list(ref.columns)
    assert np.array_equal(got.index.to_numpy(), np.arange(len(got)))
    pd.testing.assert_frame_equal(_sorted(got), _sorted(ref), check_exact=True)
    # rows of one outage stay together and in the in-memory order
    rows = pd.Series(got.index.to_numpy(), index=got.outage.to_numpy()).groupby(level=0)
    assert ((rows.max() - rows.min() + 1) == rows.size()).all()
    # units as the in-memory write (docs/results-format.md)
    with ResultWriter(tmp_path / "mem.h5") as w:
        write_n1(w, in_memory)
    assert (
        got.attrs["units"]
        == read_table(tmp_path / "mem.h5", "contingency/violations").attrs["units"]
    )
    # the summaries equal the in-memory ones
    assert res.n_violations == in_memory.n_violations == len(ref)
    assert res.violation_counts == in_memory.violation_counts
    assert res.violation_counts == ref.quantity.value_counts().to_dict()
    assert res.n_violation_outages == in_memory.n_violation_outages == ref.outage.nunique()
    # all other tables unchanged
    pd.testing.assert_frame_equal(res.outages, in_memory.outages)
    pd.testing.assert_frame_equal(res.elements, in_memory.elements)


def test_streamed_rows_are_not_kept_in_memory(net118, model118, in_memory, monkeypatch):
    batch = 200
    monkeypatch.setattr(violations_module, "STREAM_BATCH_ROWS", batch)
    blocks = []

    def sink(df: pd.DataFrame) -> None:
        blocks.append(len(df))

    res = run_n1(net118, model=model118, block=32, violation_sink=sink, **LIMITS)
    # rows arrive in batches: whole blocks gathered until they reach ``batch`` rows (the
    # last batch may be smaller), so no more than a batch and a block (at most 32 outages
    # x (elements + buses) rows) is ever held
    # (the row count moves with the build: case118 holds PV buses at exactly 1.05 pu, which
    # the last bit of rounding puts on either side of the limit)
    assert sum(blocks) == len(in_memory.violations) > 4 * batch
    assert len(blocks) > 1 and min(blocks[:-1]) >= batch
    assert max(blocks) < batch + 32 * (len(res.elements) + len(res.buses))
    # the result keeps only the worst rows per quantity, not the table
    assert res.violations_streamed and not in_memory.violations_streamed
    kept = res.violations
    assert len(kept) <= 2 * WORST_VIOLATIONS_KEPT < len(in_memory.violations)
    # and they are the worst: farthest beyond the limit, per quantity
    full = in_memory.violations
    for q, d in full.groupby("quantity", observed=True):
        excess = np.sort((d.value - d.limit).abs().to_numpy())[::-1][:WORST_VIOLATIONS_KEPT]
        mine = kept[kept.quantity == q]
        assert np.array_equal(np.sort((mine.value - mine.limit).abs().to_numpy())[::-1], excess)


def test_ctrl_c_keeps_streamed_violations_of_finished_outages(
    net118, model118, in_memory, tmp_path
):
    # Ctrl-C after the second block of 32: the file holds exactly the violations of the
    # 64 finished outages
    calls = []

    def progress(n):
        calls.append(n)
        if len(calls) == 2:
            raise KeyboardInterrupt

    out = tmp_path / "n1.h5"
    with ResultWriter(out, case_name="case118") as w:
        res = run_n1(
            net118,
            model=model118,
            block=32,
            progress=progress,
            violation_sink=n1_violation_sink(w),
            **LIMITS,
        )
        write_n1(w, res)
    assert res.interrupted
    done = np.flatnonzero(res.outages.status.to_numpy() != "not_simulated")
    assert done.size == 64
    got = read_table(out, "contingency/violations")
    ref = in_memory.violations[in_memory.violations.outage.isin(done)]
    assert len(ref) > 0
    pd.testing.assert_frame_equal(_sorted(got), _sorted(ref), check_exact=True)
    assert res.n_violations == len(got)
