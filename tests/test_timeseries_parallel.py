"""Time series on several threads, and per-step arrays written as whole chunks.

- Threads: every block starts from the base case and its Jacobian, so the blocks are
  independent and the results must be the same bits for any number of threads (not merely
  equal within the solver tolerance). Checked on a distribution case (mv_oberrhein, PV sgens)
  and on a meshed case with PV generators (case118).
- Files: the per-step arrays are float32 (declared in the schema), filtered by gridplan itself
  (HDF5's byte shuffle, then deflate) and stored with ``write_direct_chunk``. Reading them
  back through plain h5py means HDF5's own filters decode what gridplan encoded: the file
  must hold exactly the in-memory float64 results rounded to float32.
"""

from __future__ import annotations

import h5py
import numpy as np
import pandapower.networks as pn
import pandas as pd
import pytest

import gridplan.timeseries as ts
from gridplan.results import ResultWriter, read_table
from gridplan.studies.timeseries import CHUNK_ROWS, default_block_size


def _same(a: ts.TimeSeriesResult, b: ts.TimeSeriesResult) -> None:
    """Bit-identical results (NaN where the other has NaN)."""
    pd.testing.assert_frame_equal(a.steps, b.steps, check_exact=True)
    pd.testing.assert_frame_equal(a.worst, b.worst, check_exact=True)
    np.testing.assert_array_equal(a.vm_pu.to_numpy(), b.vm_pu.to_numpy())
    np.testing.assert_array_equal(a.va_degree.to_numpy(), b.va_degree.to_numpy())
    assert a.loading_percent.keys() == b.loading_percent.keys()
    for el in a.loading_percent:
        np.testing.assert_array_equal(
            a.loading_percent[el].to_numpy(), b.loading_percent[el].to_numpy()
        )


@pytest.fixture(scope="module")
def oberrhein():
    net = pn.mv_oberrhein()
    net.sgen["scaling"] = 1.0  # the case ships its PV with scaling 0
    return net, ts.synthetic(net, 300, seed=7, noise=0.1)


def test_threads_give_bit_identical_results_on_mv_oberrhein(oberrhein):
    net, profiles = oberrhein
    one = ts.run(net, profiles, block_size=64, threads=1)  # 5 blocks
    assert one.summary["threads"] == 1 and one.steps["converged"].all()
    for threads in (2, 3):
        many = ts.run(net, profiles, block_size=64, threads=threads)
        assert many.summary["threads"] == threads
        _same(one, many)


def test_threads_give_bit_identical_results_on_case118_with_pv_generators():
    net = pn.case118()
    profiles = ts.synthetic(net, 150, seed=5, noise=0.1)
    assert ("gen", "p_mw") in profiles.tables  # generator P changes at PV buses
    one = ts.run(net, profiles, block_size=40, threads=1)
    two = ts.run(net, profiles, block_size=40, threads=2)
    assert one.steps["converged"].all()
    _same(one, two)


def test_unconverged_step_is_flagged_the_same_on_every_thread_count():
    net = pn.case118()
    profiles = ts.synthetic(net, 40, seed=0)
    profiles.tables[("load", "p_mw")].iloc[25] *= 40.0  # beyond the loadability limit
    one = ts.run(net, profiles, block_size=8, threads=1)
    two = ts.run(net, profiles, block_size=8, threads=2)
    assert not one.steps["converged"].iloc[25] and one.steps["converged"].sum() == 39
    _same(one, two)


def test_default_blocks_depend_on_the_run_not_on_the_threads():
    # an eighth of the run in whole chunks, 512 at least, the case's memory cap at most
    assert default_block_size(8760, 1354, 1991) == 1024  # case1354pegase: 2**21 / 1991 -> 1024
    assert default_block_size(8760, 180, 200) == 1280  # ceil(8760 / 8) = 1095 -> 5 chunks
    assert default_block_size(100, 180, 200) == 512
    assert default_block_size(10**6, 180, 200) == 2048
    assert default_block_size(8760, 180, 200) % CHUNK_ROWS == 0


@pytest.mark.parametrize("compress", [True, False], ids=["shuffle+deflate", "raw"])
def test_file_holds_the_in_memory_results_as_float32_readable_by_plain_h5py(
    oberrhein, tmp_path, compress
):
    net, _ = oberrhein
    profiles = ts.synthetic(net, 600, seed=1)  # default blocks 512 + 88: whole and edge chunks
    mem = ts.run(net, profiles, threads=2)
    out = tmp_path / "ts.h5"
    ts.run(net, profiles, out=out, threads=2, compress=compress)
    with h5py.File(out, "r") as h5:
        for path, ref in (
            ("timeseries/bus/vm_pu", mem.vm_pu),
            ("timeseries/bus/va_degree", mem.va_degree),
            ("timeseries/line/loading_percent", mem.loading_percent["line"]),
            ("timeseries/trafo/loading_percent", mem.loading_percent["trafo"]),
        ):
            ds = h5[path]
            assert ds.dtype == np.float32 and ds.shape == ref.shape
            assert ds.chunks[0] == CHUNK_ROWS
            # only HDF5's built-in filters: any reader (HDFView, h5dump, MATLAB) opens the file
            dcpl = ds.id.get_create_plist()
            filters = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
            if compress:
                assert filters == [h5py.h5z.FILTER_SHUFFLE, h5py.h5z.FILTER_DEFLATE]
                assert ds.compression == "gzip" and ds.compression_opts == 1
            else:
                assert filters == []
            got = ds[()]
            # exactly the float64 results rounded to float32 (NaN where they are NaN) ...
            np.testing.assert_array_equal(got, ref.to_numpy().astype(np.float32))
            # ... i.e. within float32's relative rounding 2**-24 of them
            np.testing.assert_allclose(got, ref.to_numpy(), rtol=2.0**-24, atol=0)
            # one column over all steps, as a planner reads it
            col = min(3, ds.shape[1] - 1)
            np.testing.assert_array_equal(ds[:, col], got[:, col])
    steps = read_table(out, "timeseries/steps")
    np.testing.assert_array_equal(steps["p_loss_mw"], mem.steps["p_loss_mw"])


@pytest.mark.parametrize("level", [1, 6, None], ids=["deflate1-isal", "deflate6-zlib", "raw"])
def test_append_array_chunks_decode_through_hdf5_for_any_append_pattern(tmp_path, level):
    rng = np.random.default_rng(3)
    width = 37  # chunks of 16 columns: two whole and one edge chunk per chunk row
    data = (1.0 + 1e-3 * rng.standard_normal((203, width))).astype(np.float32)
    data[5, 7] = np.nan
    # aligned (whole chunks), a tail that ends inside a chunk, appends that complete it,
    # one that spans several chunk rows from an unaligned start, and an empty one
    sizes = [32, 20, 12, 0, 70, 1, 68]
    assert sum(sizes) == data.shape[0]
    path = tmp_path / "a.h5"
    with ResultWriter(path) as w:
        n0 = 0
        for m in sizes:
            w.append_array(
                "timeseries/bus/vm_pu",
                data[n0 : n0 + m],
                chunk_rows=16,
                chunk_width=16,
                compression_level=level,
            )
            n0 += m
    with h5py.File(path, "r") as h5:
        ds = h5["timeseries/bus/vm_pu"]
        assert ds.chunks == (16, 16) and ds.maxshape == (None, width)
        assert (ds.compression == "gzip") == (level is not None)
        np.testing.assert_array_equal(ds[()], data)
