"""pandapower ``runpp`` references for the N-1 tests: the element switched out, default options."""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp


def runpp_outages(net, specs):
    """For each (name, [(type, index), ...]): vm_pu (bus order) and loading per element type.

    Returns a list of ``None`` (pandapower did not converge) or ``(vm, {type: loading})``.
    """
    work = copy.deepcopy(net)
    out = []
    for _, elems in specs:
        for kind, idx in elems:
            work[kind].at[idx, "in_service"] = False
        try:
            pp.runpp(work)
            ref = (
                work.res_bus.vm_pu.to_numpy().copy(),
                {
                    k: work[f"res_{k}"].loading_percent.to_numpy().copy()
                    for k in ("line", "trafo", "trafo3w")
                    if len(work[k])
                },
            )
        except pp.LoadflowNotConverged:
            ref = None
        for kind, idx in elems:
            work[kind].at[idx, "in_service"] = True
        out.append(ref)
    return out


def branch_specs(net):
    return [
        (f"{k} {i}", [(k, int(i))])
        for k in ("line", "trafo")
        for i in net[k].index[net[k].in_service.to_numpy(dtype=bool)]
    ]


def compare(net, specs, status, vm, ld, refs):
    """Largest |d vm_pu| and |d loading_percent| over all converged outages; checks NaN patterns."""
    worst_vm = 0.0
    worst_ld = 0.0
    n_cmp = 0
    for j, ref in enumerate(refs):
        if ref is None:
            continue
        assert status[j] in ("converged", "islanded"), (specs[j][0], status[j])
        vm_ref, ld_ref = ref
        # buses cut off are NaN in pandapower's results and in ours
        assert np.array_equal(np.isnan(vm_ref), np.isnan(vm[j])), specs[j][0]
        ok = ~np.isnan(vm_ref)
        worst_vm = max(worst_vm, float(np.max(np.abs(vm_ref[ok] - vm[j][ok]))))
        out = {(k, i) for k, i in specs[j][1]}
        for k, lr in ld_ref.items():
            mine = ld[k][j]
            idx = net[k].index.to_numpy()
            own = np.array([(k, int(i)) in out for i in idx])
            inserv = net[k].in_service.to_numpy(dtype=bool) & ~own
            both = inserv & np.isfinite(mine) & np.isfinite(lr)
            # ours is NaN only for branches inside the cut-off part, where pandapower has 0/NaN
            gone = inserv & ~np.isfinite(mine)
            assert np.all(~np.isfinite(lr[gone]) | (lr[gone] == 0)), specs[j][0]
            if both.any():
                worst_ld = max(worst_ld, float(np.max(np.abs(lr[both] - mine[both]))))
        n_cmp += 1
    return worst_vm, worst_ld, n_cmp
