"""Default tolerances of the test suite, in one place, with the reason for each."""

# pandapower solves to 1e-8 pu power mismatch; the same solver state read back through HDF5 and
# recomputed by our kernel differs only by rounding.
SAME_SOLUTION_VM_PU = 1e-9
SAME_SOLUTION_VA_DEGREE = 1e-9
SAME_SOLUTION_LOADING_PERCENT = 1e-9

# Cython kernel vs numpy twin: identical formulas, but numpy 2 multiplies complex arrays with FMA
# SIMD loops; branch flows are differences of nearly cancelling terms (series admittances up to
# ~1e4 pu), so rounding shows at ~1e-12 pu. Compared in pu and kA.
KERNEL_TWIN_ABS = 1e-10

# Two independent converged solutions of the same case (tolerance 1e-8 pu mismatch each).
INDEPENDENT_SOLVE_VM_PU = 1e-6
INDEPENDENT_SOLVE_VA_DEGREE = 1e-4
