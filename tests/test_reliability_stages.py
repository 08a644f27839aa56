"""The reliability model in stages: each returns its arrays and the problems it found."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandapower as pp
import pytest

from gridplan.errors import CaseError
from gridplan.model.reliability_data import (
    ReliabilityDefaults,
    build_reliability_model,
    failure_events,
    load_points,
    supply_tree,
    switching_devices,
    ties,
)

sys.path.insert(0, str(Path(__file__).parent))
from test_reliability import two_feeders


def test_stages_of_the_hand_worked_two_feeders():
    # two_feeders: 7 buses, 6 lines (each 0.1 f/yr), breakers S-A and S-D, disconnectors,
    # a fuse on lateral A-LA, one open tie C-D (0.5 h), loads LA, LB, C, D
    net = two_feeders()
    d = ReliabilityDefaults()
    devices, problems = switching_devices(net, d)
    assert problems == []
    assert list(devices.device) == [
        "breaker",
        "disconnector",
        "disconnector",
        "fuse",
        "breaker",
        "tie",
    ]
    tree, problems = supply_tree(net, devices)
    assert problems == [] and tree.visited.all()
    assert len(tree.edges) == 6  # 7 buses, one supply point: a spanning tree
    tie_set, problems = ties(net, devices, tree)
    assert problems == [] and tie_set.label == ["switch 5"] and tie_set.switch_time_h == [0.5]
    assert math.isinf(tie_set.capacity_mva[0])  # a bus-bus switch: no thermal limit
    edges, problems = failure_events(net, d, devices, tree)
    assert problems == []
    assert sorted(edges.ev_label) == [f"line {i}" for i in range(6)]
    assert edges.ev_rate == pytest.approx([0.1] * 6)
    lps, problems = load_points(net, d, tree, edges)
    assert problems == [] and list(lps.name) == ["LA", "LB", "C", "D"]
    assert list(lps.customers) == [100, 50, 20, 10]
    # the stages assembled are the model
    m = build_reliability_model(net)
    assert m.network.n_node == edges.n_node and list(m.lp_name) == list(lps.name)


def test_every_stage_reports_its_problems_in_one_error():
    net = two_feeders()
    net.switch.loc[0, "device"] = "magic"  # switching devices
    net.line.loc[2, "repair_time_h"] = -4.0  # failure events
    net.load.loc[0, "customers"] = -1  # load points
    net.switch.loc[net.switch.device == "tie", "closed"] = True  # supply tree: a loop
    pp.create_load(net, pp.create_bus(net, 10.0), p_mw=1.0)  # supply tree: unsupplied
    d = ReliabilityDefaults()
    devices, problems = switching_devices(net, d)
    assert len(problems) == 1 and "magic" in problems[0]
    tree, problems = supply_tree(net, devices)
    assert len(problems) == 2
    assert "not radially operated" in problems[0] and "not supplied" in problems[1]
    edges, problems = failure_events(net, d, devices, tree)
    assert problems == ["line.repair_time_h must be >= 0, got negative values at [2]"]
    _, problems = load_points(net, d, tree, edges)
    assert problems == ["load.customers must be >= 0, got negative values at [0]"]
    with pytest.raises(CaseError) as err:
        build_reliability_model(net)
    msg = str(err.value)
    for part in ("magic", "not radially operated", "not supplied", "repair_time_h", "customers"):
        assert part in msg
    assert "device='tie'" in err.value.hint
