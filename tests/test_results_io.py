"""HDF5 result files: layout, units, atomic writes, reading back, CLI show/export, docs."""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from gridplan.results import ResultWriter, read_table
from gridplan.results.schema import TABLES, unit_of


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {"vm_pu": [1.0, 0.98], "name": ["a", "ü"], "ok": [True, False]},
        index=pd.Index([3, 7], name="bus"),
    )


def test_roundtrip_with_units_and_strings(tmp_path):
    path = tmp_path / "r.h5"
    with ResultWriter(path, case_name="t", command="gridplan test") as w:
        w.write_table("powerflow/bus", _table())
    df = read_table(path, "powerflow/bus")
    pd.testing.assert_frame_equal(df.drop(columns=[]), _table(), check_dtype=False)
    assert df.ok.dtype == bool
    with h5py.File(path) as h5:
        assert h5["powerflow/bus/vm_pu"].attrs["units"] == "pu"
        assert h5["powerflow/bus/name"].asstr()[1] == "ü"
        assert h5.attrs["command"] == "gridplan test"
        assert h5.attrs["schema_version"] == 1
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", h5.attrs["created_utc"])


def test_interrupted_writer_leaves_no_file(tmp_path):
    path = tmp_path / "r.h5"
    with pytest.raises(RuntimeError, match="killed"):
        with ResultWriter(path) as w:
            w.write_table("powerflow/bus", _table())
            raise RuntimeError("killed half-way")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left either


def test_interrupted_rewrite_keeps_previous_file(tmp_path):
    path = tmp_path / "r.h5"
    with ResultWriter(path) as w:
        w.write_table("powerflow/bus", _table())
    with pytest.raises(KeyboardInterrupt):
        with ResultWriter(path) as w:
            w.write_table("powerflow/bus", _table().iloc[:1])
            raise KeyboardInterrupt
    assert len(read_table(path, "powerflow/bus")) == 2


def test_append_streams_rows(tmp_path):
    path = tmp_path / "r.h5"
    with ResultWriter(path) as w:
        for k in range(5):
            chunk = pd.DataFrame(
                {"loading_percent": np.full(1000, float(k))},
                index=pd.RangeIndex(k * 1000, (k + 1) * 1000, name="outage"),
            )
            w.append_table("contingency/outage", chunk)
    df = read_table(path, "contingency/outage")
    assert len(df) == 5000 and df.loading_percent.iloc[-1] == 4.0
    assert df.index[-1] == 4999


def test_unit_suffixes():
    assert unit_of("p_mw") == "MW" and unit_of("ens_mwh_per_year") == "MWh/yr"
    assert unit_of("failure_rate_per_km_year") == "1/(km*yr)" and unit_of("duration_h") == "h"
    assert unit_of("name") == ""


def test_show_and_export(cli, tmp_path):
    path = tmp_path / "r.h5"
    assert cli("pf", "case9", "--out", str(path)).code == 0
    res = cli("results", "show", str(path))
    assert res.code == 0
    assert "/powerflow/bus/vm_pu" in res.out and "[pu]" in res.out
    out_csv = tmp_path / "bus.csv"
    assert cli("results", "export", str(path), "powerflow/bus", "--csv", str(out_csv)).code == 0
    csv = pd.read_csv(out_csv, index_col=0)
    np.testing.assert_allclose(csv.vm_pu, read_table(path, "powerflow/bus").vm_pu, rtol=1e-15)
    res = cli("results", "export", str(path), "powerflow/nope", "--csv", str(out_csv))
    assert res.code == 2 and "no table 'powerflow/nope'" in res.err


def test_docs_describe_every_table():
    doc = (Path(__file__).parents[1] / "docs" / "results-format.md").read_text()
    missing = [t for t in TABLES if f"`{t}`" not in doc]
    assert not missing, f"docs/results-format.md lacks {missing}"


def test_schema_v1_fixture_still_reads():
    """A file written by schema version 1 (case9 power flow) must stay readable."""
    import pandapower as pp
    import pandapower.networks as pn

    path = Path(__file__).parent / "data" / "results-schema-v1.h5"
    bus = read_table(path, "powerflow/bus")
    ref = pn.case9()
    pp.runpp(ref)
    np.testing.assert_allclose(bus.vm_pu, ref.res_bus.vm_pu, atol=1e-9)
    with h5py.File(path) as h5:
        assert h5.attrs["schema_version"] == 1


def test_result_file_mode_follows_umask(tmp_path):
    import os

    path = tmp_path / "r.h5"
    with ResultWriter(path) as w:
        w.write_table("powerflow/bus", _table())
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
