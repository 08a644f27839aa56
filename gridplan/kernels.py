"""Every numerical kernel, each bound to its compiled module or its numpy twin.

Use ``from gridplan.kernels import branchflow`` and call ``branchflow.branch_flows(...)``.
Arrays passed in must be C-contiguous and of the documented dtype (see :mod:`gridplan.core`).
"""

from gridplan._backend import load_kernel

branchflow = load_kernel("branchflow", "gridplan.core.branchflow")
timeseries_nr = load_kernel("timeseries_nr", "gridplan.core.timeseries_nr")
contingency_lu = load_kernel("contingency_lu", "gridplan.core.contingency_lu")
contingency_graph = load_kernel("contingency_graph", "gridplan.core.contingency_graph")
contingency_ac = load_kernel("contingency_ac", "gridplan.core.contingency_ac")
contingency_stats = load_kernel("contingency_stats", "gridplan.core.contingency_stats")
ev_kernels = load_kernel("ev_kernels", "gridplan.core.ev_kernels")
