# The branch two-port formula, written once and ``include``d by the kernels that need it
# (branchflow, contingency_ac); numpy twin: gridplan.core.branchflow.end_currents.

cdef inline void end_current(
    double y1r, double y1i, double y2r, double y2i,
    double fr, double fi, double tr, double ti,
    double* ir, double* ii,
) noexcept nogil:
    """Current ``I = y1 V_f + y2 V_t`` (pu) into one end of a branch, real and imaginary
    part: ``(y1, y2) = (yff, yft)`` at the from end, ``(ytf, ytt)`` at the to end."""
    ir[0] = y1r * fr - y1i * fi + y2r * tr - y2i * ti
    ii[0] = y1r * fi + y1i * fr + y2r * ti + y2i * tr
