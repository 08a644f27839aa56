"""The /contingency group reads the same for every scan: count attributes, violation units."""

from __future__ import annotations

import h5py
import numpy as np

from gridplan.results import ResultWriter, read_table
from gridplan.results.schema import table
from gridplan.studies.n1 import n1_violation_sink, run_n1, write_n1

# case118 is lightly loaded (worst post-outage loading ~5 %): tight limits give both kinds
LIMITS = dict(max_loading_percent=2.0, vm_min_pu=0.97, vm_max_pu=1.04)


def test_status_counts_are_written_when_zero(net118, model118, tmp_path):
    # case118's branch outages all solve (9 islanded, the rest converged): n_diverged and
    # n_not_simulated are 0, and still in the file
    res = run_n1(net118, model=model118, **LIMITS)
    assert set(res.outages.status) == {"converged", "islanded"}
    out = tmp_path / "n1.h5"
    with ResultWriter(out, case_name="case118") as w:
        write_n1(w, res)
    with h5py.File(out) as f:
        attrs = f["contingency"].attrs
        assert attrs["n_diverged"] == 0 and attrs["n_not_simulated"] == 0
        assert attrs["n_islanded"] == 9
        total = sum(int(attrs[f"n_{s}"]) for s in ("converged", "islanded", "diverged"))
        assert total + int(attrs["n_not_simulated"]) == attrs["n_outages"] == 186


def test_violation_rows_carry_their_unit(net118, model118, tmp_path):
    res = run_n1(net118, model=model118, **LIMITS)
    viol = res.violations
    assert set(viol.quantity) == {"loading_percent", "vm_pu"}  # both kinds occur
    expect = viol.quantity.astype(str).map({"loading_percent": "%", "vm_pu": "pu"})
    assert (viol.unit.astype(str) == expect).all()
    # the same, streamed to a file block by block and read back
    out = tmp_path / "n1.h5"
    with ResultWriter(out, case_name="case118") as w:
        streamed = run_n1(net118, model=model118, violation_sink=n1_violation_sink(w), **LIMITS)
        write_n1(w, streamed)
    got = read_table(out, "contingency/violations")
    assert len(got) == len(viol)
    assert list(got.columns) == list(viol.columns)
    units = got.unit.to_numpy(dtype=str)
    quantity = got.quantity.to_numpy(dtype=str)
    assert np.array_equal(units == "%", quantity == "loading_percent")
    assert np.array_equal(units == "pu", quantity == "vm_pu")
    # the declared schema knows the column
    assert table("contingency/violations").column("unit").dtype == "str"
