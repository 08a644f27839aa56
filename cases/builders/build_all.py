"""Rebuild every bundled case: ``python -m cases.builders.build_all`` from the repository root.

Each builder checks its operating point (AC power flow with pandapower defaults, voltages
0.95-1.05 pu, no line or transformer above 100 %) before writing ``cases/<name>.json``.
"""

from __future__ import annotations

import importlib

from cases.builders._common import write_case

#: case name -> builder module (each has ``build() -> pandapowerNet``)
BUILDERS = {
    "uhv-backbone": "cases.builders.uhv_backbone",
    "tianjin-ecocity": "cases.builders.tianjin_ecocity",
    "rural-feeder": "cases.builders.rural_feeder",
    "wind-test-centre": "cases.builders.wind_test_centre",
}


def main() -> None:
    """Build and write all bundled cases."""
    for module in BUILDERS.values():
        write_case(importlib.import_module(module).build())


if __name__ == "__main__":
    main()
