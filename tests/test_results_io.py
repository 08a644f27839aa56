"""HDF5 result files: layout, units, atomic writes, reading back, CLI show/export, docs."""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from gridplan.results import ResultWriter, read_table, schema
from gridplan.results.schema import SCHEMA_VERSION, SchemaError


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {"vm_pu": [1.0, 0.98], "name": ["a", "ü"], "in_service": [True, False]},
        index=pd.Index([3, 7], name="bus"),
    )


def test_roundtrip_with_units_and_strings(tmp_path):
    path = tmp_path / "r.h5"
    with ResultWriter(path, case_name="t", command="gridplan test") as w:
        w.write_table("powerflow/bus", _table())
    df = read_table(path, "powerflow/bus")
    pd.testing.assert_frame_equal(df.drop(columns=[]), _table(), check_dtype=False)
    assert df.in_service.dtype == bool
    with h5py.File(path) as h5:
        assert h5["powerflow/bus/vm_pu"].attrs["units"] == "pu"
        assert h5["powerflow/bus/name"].asstr()[1] == "ü"
        assert h5.attrs["command"] == "gridplan test"
        assert h5.attrs["schema_version"] == SCHEMA_VERSION == 2
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
                {"max_loading_percent": np.full(1000, float(k))},
                index=pd.RangeIndex(k * 1000, (k + 1) * 1000, name="outage"),
            )
            w.append_table("contingency/outages", chunk)
    df = read_table(path, "contingency/outages")
    assert len(df) == 5000 and df.max_loading_percent.iloc[-1] == 4.0
    assert df.index[-1] == 4999


@pytest.mark.parametrize(
    ("table", "column", "unit"),
    [
        # the units schema version 1 guessed wrong from the suffix (it wrote 1/yr)
        ("reliability/system", "saidi_h_per_year", "h/yr"),
        ("reliability/load_points", "unavailability_h_per_year", "h/yr"),
        ("reliability/verdict", "margin_min_per_year", "min/yr"),
        ("reliability/what_if", "delta_saidi_min_per_year", "min/yr"),
        ("adequacy/indices", "lole_h_per_year", "h/yr"),
        ("adequacy/indices", "lole_d_per_year", "d/yr"),
        ("adequacy/composite", "lole_ci95_low_h_per_year", "h/yr"),
        ("reliability/system", "saifi_per_year", "1/yr"),
        ("adequacy/indices", "eens_mwh_per_year", "MWh/yr"),
        ("timeseries/steps", "p_loss_mw", "MW"),
    ],
)
def test_declared_units(table, column, unit):
    assert schema.table(table).column(column).unit == unit


def _tables_in(h5: h5py.File) -> list[str]:
    found: list[str] = []
    h5.visititems(lambda n, o: found.append(n) if "columns" in o.attrs else None)
    return found


def _arrays_in(h5: h5py.File) -> list[str]:
    found: list[str] = []
    h5.visititems(
        lambda n, o: (
            found.append(n)
            if isinstance(o, h5py.Dataset) and "columns" not in o.parent.attrs
            else None
        )
    )
    return found


def test_every_unit_bearing_column_is_written_with_its_declared_unit(cli, tmp_path):
    """Files from every study: each dataset's units attribute equals its declaration."""
    runs = {
        "pf.h5": ["pf", "uhv-backbone"],
        "rel.h5": ["reliability", "rural-feeder", "--what-if", "sectionalizer@line:3"],
        "adq.h5": ["adequacy", "case24_ieee_rts", "--composite", "--max-samples", "300"],
        "ts.h5": ["timeseries", "case9", "--synthetic", "24"],
        "n1.h5": ["n1", "case9", "--store-matrix"],
    }
    checked = 0
    for name, args in runs.items():
        path = tmp_path / name
        assert cli(*args, "--out", str(path)).code == 0, args
        with h5py.File(path) as h5:
            for key in h5.attrs:
                schema.attr_of("/", key)
            for t in _tables_in(h5):
                decl = schema.table(t)
                for col in ["index", *h5[t].attrs["columns"]]:
                    expected = decl.column(col).unit
                    if decl.column(col).dtype == "datetime64" and h5[t][col].attrs["units"] == "":
                        continue  # step numbers instead of timestamps
                    assert h5[t][col].attrs["units"] == expected, (name, t, col)
                    checked += 1
            for a in _arrays_in(h5):
                assert h5[a].attrs["units"] == schema.array(a).unit, (name, a)
                checked += 1
    assert checked > 250


def test_undeclared_table_column_and_attribute_are_refused(tmp_path):
    with ResultWriter(tmp_path / "r.h5") as w:
        with pytest.raises(SchemaError, match="column 'ok' is not declared"):
            w.write_table("powerflow/bus", pd.DataFrame({"ok": [1.0]}))
        with pytest.raises(SchemaError, match="'powerflow/nope' is not a declared table"):
            w.write_table("powerflow/nope", pd.DataFrame({"vm_pu": [1.0]}))
        with pytest.raises(SchemaError, match="attribute 'colour' is not declared"):
            w.set_attrs("powerflow", colour="red")
        with pytest.raises(SchemaError, match="not a declared array"):
            w.append_array("contingency/unknown_matrix", np.zeros((2, 2)))


def test_v1_file_units_are_corrected_when_read():
    """A schema-1 reliability file (written by gridplan 0.1) stored h/yr columns as 1/yr."""
    path = Path(__file__).parent / "data" / "results-schema-v1-reliability.h5"
    with h5py.File(path) as h5:
        assert h5.attrs["schema_version"] == 1
        assert h5["reliability/system/saidi_h_per_year"].attrs["units"] == "1/yr"
    df = read_table(path, "reliability/system")
    assert df.attrs["units"]["saidi_h_per_year"] == "h/yr"
    assert df.attrs["units"]["saifi_per_year"] == "1/yr"
    verdict = read_table(path, "reliability/verdict")
    assert verdict.attrs["units"]["margin_min_per_year"] == "min/yr"


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


def test_docs_are_generated_from_the_schema():
    from gridplan.results.docs import DOC_PATH, render

    doc = Path(__file__).resolve().parent.parent / DOC_PATH
    assert doc.read_text() == render(), "run: python -m gridplan.results.docs --write"
    for path in schema.tables():
        assert f"`{path}`" in DOC_PATH.read_text()


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
