"""AC N-1 results equal pandapower ``runpp`` with the element out of service.

Tolerances (issue 4): |d vm_pu| <= 1e-6 and |d loading_percent| <= 1e-3 on every bus and branch.
Both solvers stop on a mismatch below 1e-8 pu (ours at 1e-9); the solutions then agree to
~1e-9 pu, so these bounds are loose enough to be stable and tight enough to catch any
modelling difference (a wrong shunt or tap shows up at 1e-3 pu and more).
"""

from __future__ import annotations

import numpy as np
import pandapower.networks as pn
import pytest
from n1_reference import branch_specs, compare, runpp_outages

from gridplan.model.contingency_model import compile_contingency_model
from gridplan.studies.n1 import n1_states

VM_TOL = 1e-6
LD_TOL = 1e-3


@pytest.mark.parametrize("case", ["case118", "case300"])
def test_every_branch_outage_matches_runpp(case):
    net = getattr(pn, case)()
    specs = branch_specs(net)
    status, vm, ld = n1_states(net, specs)
    refs = runpp_outages(net, specs)
    worst_vm, worst_ld, n_cmp = compare(net, specs, status, vm, ld, refs)
    # pandapower converges on all but a handful of these outages (19 of case300's); we compare
    # every one it solves, and the ones it cannot solve are reported diverged by us as well
    assert n_cmp >= 0.9 * len(specs)
    failed = [j for j, r in enumerate(refs) if r is None]
    assert [status[j] for j in failed] == ["diverged"] * len(failed)
    assert worst_vm <= VM_TOL
    assert worst_ld <= LD_TOL


@pytest.mark.slow
@pytest.mark.pure_slow
@pytest.mark.parametrize("case", ["case1354pegase", "case2869pegase"])
def test_sampled_branch_outages_large_cases_match_runpp(case):
    # big: 200 random outages each, ~1 min per case (pandapower's runpp is the slow side)
    net = getattr(pn, case)()
    specs = branch_specs(net)
    rng = np.random.default_rng(4)
    pick = rng.choice(len(specs), 200, replace=False)
    specs = [specs[i] for i in sorted(pick)]
    model = compile_contingency_model(net)
    status, vm, ld = n1_states(net, specs, model=model)
    refs = runpp_outages(net, specs)
    worst_vm, worst_ld, n_cmp = compare(net, specs, status, vm, ld, refs)
    assert n_cmp >= 180
    assert worst_vm <= VM_TOL
    assert worst_ld <= LD_TOL
