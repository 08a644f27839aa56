"""Profile files: CSV and HDF5 round trips, and one clear error for every kind of bad input."""

from __future__ import annotations

import numpy as np
import pandapower.networks as pn
import pandas as pd
import pytest

import gridplan.timeseries as ts
from gridplan.errors import CaseError
from gridplan.model import profiles as prof


@pytest.fixture(scope="module")
def net():
    return pn.mv_oberrhein()


def _csv(tmp_path, text: str):
    p = tmp_path / "p.csv"
    p.write_text(text)
    return p


def test_csv_columns_name_element_index_and_quantity(tmp_path, net):
    p = _csv(
        tmp_path,
        "time,load.0.p_mw,load.0.q_mvar,sgen.5.p_mw\n"
        "2025-01-01T00:00,0.1,0.02,0.0\n"
        "2025-01-01T00:15,0.2,0.04,0.3\n",
    )
    pr = prof.read_profiles(p)
    assert pr.duration_h == 0.25  # 15-minute steps
    assert pr.tables[("load", "p_mw")].loc[:, 0].tolist() == [0.1, 0.2]
    assert pr.tables[("sgen", "p_mw")].columns.tolist() == [5]
    prof.validate(pr, net)


def test_hdf5_round_trip_keeps_every_value(tmp_path, net):
    pr = ts.synthetic(net, 30, seed=4)
    path = tmp_path / "profiles.h5"
    ts.write_h5(path, pr)
    back = prof.read_profiles(path)
    assert back.index.equals(pr.index)
    for key, df in pr.tables.items():
        pd.testing.assert_frame_equal(back.tables[key], df, check_names=False, check_freq=False)
    back2 = prof.read_profiles(f"{path}:/profiles")
    assert back2.n_steps == 30


def test_unknown_element_is_named(tmp_path, net):
    p = _csv(
        tmp_path,
        "time,load.0.p_mw,load.99999.p_mw\n2025-01-01T00:00,0.1,0.1\n2025-01-01T01:00,0.1,0.1\n",
    )
    with pytest.raises(CaseError, match=r"p\.csv: load\.p_mw names load \[99999\] which the case"):
        prof.validate(prof.read_profiles(p), net)


def test_gap_in_timestamps(tmp_path):
    p = _csv(
        tmp_path,
        "time,load.0.p_mw\n2025-01-01T00:00,1\n2025-01-01T01:00,1\n"
        "2025-01-01T02:00,1\n2025-01-01T05:00,1\n",
    )
    with pytest.raises(CaseError, match=r"time steps must be regular \(1 h\), got 1 gap"):
        prof.read_profiles(p)


def test_duplicated_timestamps(tmp_path):
    p = _csv(
        tmp_path,
        "time,load.0.p_mw\n2025-01-01T00:00,1\n2025-01-01T01:00,1\n"
        "2025-01-01T01:00,1\n2025-01-01T02:00,1\n",
    )
    with pytest.raises(CaseError, match=r"timestamps must be unique, got 1 duplicated"):
        prof.read_profiles(p)


def test_negative_load_refused_unless_allowed(tmp_path, net):
    p = _csv(
        tmp_path,
        "time,load.0.p_mw,load.1.p_mw\n2025-01-01T00:00,0.1,-0.5\n2025-01-01T01:00,0.1,0.2\n",
    )
    pr = prof.read_profiles(p)
    with pytest.raises(CaseError, match=r"load p_mw must be >= 0, got -0\.5 for load 1"):
        prof.validate(pr, net)
    prof.validate(pr, net, allow_negative_loads=True)


def test_every_problem_is_reported_in_one_message(tmp_path):
    p = _csv(
        tmp_path,
        "time,load.0.p_mw,bogus.1.p_mw,load.x.p_mw,gen.2.q_mvar\n"
        "2025-01-01T00:00,,1,1,1\n2025-01-01T00:00,1,1,1,1\n",
    )
    with pytest.raises(CaseError) as err:
        prof.read_profiles(p)
    msg = str(err.value)
    assert "\n" not in msg
    for part in (
        "element type 'bogus' must be one of",
        "column 'load.x.p_mw' must be named",
        "gen column 'q_mvar' must be one of p_mw",
        "missing/invalid",
        "timestamps must be unique",
    ):
        assert part in msg


def test_missing_file_and_wrong_suffix(tmp_path):
    with pytest.raises(CaseError, match="must exist"):
        prof.read_profiles(tmp_path / "nope.csv")
    bad = tmp_path / "p.xlsx"
    bad.write_text("x")
    with pytest.raises(CaseError, match=r"must be \.csv, \.h5 or \.hdf5"):
        prof.read_profiles(bad)


def test_profile_only_p_keeps_case_q_like_pandapower_constcontrol(net):
    pr = prof.from_frames({"load.p_mw": pd.DataFrame({0: [0.5, 0.6]}, index=pd.RangeIndex(2))})
    assert pr.duration_h == 1.0
    res = ts.run(net, pr)
    assert res.steps["converged"].all() and np.isfinite(res.steps["p_loss_mw"]).all()
