"""Closed-form load-point indices of the RBTS Bus 2 base case (independent of gridplan).

Rules of the base case (Allan et al. 1991): fuses at the start of every lateral, a breaker at
the start of every feeder, a disconnector at the upstream end of every other main section, a
normally-open tie at the end of feeders 1/2 and 3/4, switching time 1 h, unlimited transfer
capacity. For a load point supplied from main-feeder node N:

- failure rate = all main sections of its feeder + its own lateral + its own transformer;
- main-section failures are isolated and the load point restored in 1 h (upstream by the
  breaker, downstream over the tie) except the section that *ends* at N: N cannot be separated
  from it (no device at its downstream end), so that failure lasts the 5 h repair;
- lateral failures last 5 h, transformer failures 200 h.

Run ``python hand_calculation.py`` to regenerate expected_load_points.csv.
"""

import csv
import json
from pathlib import Path

here = Path(__file__).parent
d = json.loads((here / "network.json").read_text())
length = {int(k): v for k, v in d["section_length_km"].items()}
lam_km, r_line, t_sw = d["line_failure_rate_per_km_year"], d["line_repair_time_h"], 1.0
lam_t, r_t = d["trafo_failure_rate_per_year"], d["trafo_repair_time_h"]
sec = [dict(zip(d["sections_columns"], s, strict=True)) for s in d["sections"]]
for s in sec:
    s["lam"] = lam_km * length[s["length_type"]]
main = [s for s in sec if not s["to"].startswith("LP")]
rows = []
for lp, _cust, p_avg, _peak, has_trafo, _type in d["load_points"]:
    lat = next(s for s in sec if s["to"] == lp)
    node, feeder = lat["from"], lat["feeder"]
    lam_main = sum(s["lam"] for s in main if s["feeder"] == feeder)
    ending = sum(s["lam"] for s in main if s["to"] == node)
    lam = lam_main + lat["lam"] + (lam_t if has_trafo else 0.0)
    u = (
        lam_main * t_sw
        + ending * (r_line - t_sw)
        + lat["lam"] * r_line
        + (lam_t * r_t if has_trafo else 0.0)
    )
    rows.append([lp, f"{lam:.10g}", f"{u / lam:.10g}", f"{u:.10g}", f"{u * p_avg:.10g}"])
with open(here / "expected_load_points.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(
        [
            "load_point",
            "failure_rate_per_year",
            "outage_duration_h",
            "unavailability_h_per_year",
            "ens_mwh_per_year",
        ]
    )
    w.writerows(rows)
