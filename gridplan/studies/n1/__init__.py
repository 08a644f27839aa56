"""N-1 (and named N-k) contingency scans: ``run_n1(net, ...)`` and ``write_n1(writer, result)``.

The package in parts, one job each: :mod:`.scan` (the scan loop and :func:`n1_states`),
:mod:`.statistics` (the per-outage, per-element and per-bus tables, :class:`N1Result`),
:mod:`.violations` (the long violation table, kept or streamed) and :mod:`.hdf5` (the
``/contingency`` group of a result file). The engines live in :mod:`gridplan.core`
(:mod:`~gridplan.core.contingency` AC, :mod:`~gridplan.core.contingency_dc` DC,
:mod:`~gridplan.core.contingency_running` running statistics), the model and the outage
translation in :mod:`gridplan.model` (:mod:`~gridplan.model.contingency_model`,
:mod:`~gridplan.model.contingency_outages`).

Modes
-----
``ac``
    Every outage solved in full AC to pandapower's tolerance (:class:`ACOutageSolver`: one LU
    of the base case, Woodbury updates per outage, chord iterations, Newton fallback).
``dc``
    Linear post-outage active flows from PTDF/LODF columns computed block-wise from one LU
    of the DC susceptance matrix (never a whole bus-by-branch matrix); reactive flows are
    kept at their base-case values. ``dc`` computes no voltages: its voltage columns are NaN
    and it reports no voltage violations. Outages other than one branch (sets, units, dclines,
    sgen, storage) are solved by compensation in the same linear model
    (:meth:`~gridplan.core.contingency_dc.DCOutageSolver.solve_general`).

Outage kinds
------------
``line``, ``trafo``, ``trafo3w``, ``impedance`` (branches), ``gen`` (unit trip), ``dcline``
(DC bipole block: both converter-end generators), ``sgen`` and ``storage`` (bus injection
changes); see :mod:`gridplan.model.contingency_outages`. The slack takes up the power lost
(``lost_p_mw`` in the outage table). Lines, transformers and impedances are monitored; an
impedance's loading is against its ``sn_mva``.
``screen``
    Two chord steps of the AC engine per outage (the Woodbury linear estimate and one
    correction) estimate every outage; an outage is cleared without further work when every
    estimated quantity is farther from its limit than the screening margin, on either side
    (clearly safe or clearly violated); such outages keep the estimate (``screened_out``,
    ``iterations`` 2), so the violation *set* equals ``ac``'s and the values differ by less
    than the margin. Outages with an estimate inside a margin band are solved in AC. The
    margin: the chord iteration converges linearly, so the error left after step 2 is about
    ``r / (1 - r)`` times the change made by step 2, ``r`` the local rate; an outage is only
    screened when its global rate ``rho = |dx_2| / |dx_1|`` is below ``SCREEN_MAX_RHO``
    (0.5), and each quantity's margin is ``SCREEN_FACTOR`` (2, i.e. local rates up to 2/3)
    times its own step-2 change plus floors ``SCREEN_FLOOR_LOADING_PERCENT`` (0.1 %) and
    ``SCREEN_FLOOR_VM_PU`` (0.001 pu). This is a measured, not a proven, bound: local
    components can converge more slowly than the global norm suggests (seen on
    case1354pegase, hence the per-quantity form and the factor).
    Generator outages are always solved in AC.
    Screening pays only when it clears most outages: the two steps are spent again on every
    outage it cannot clear, and an outage it clears saves the 3-4 further iterations of an
    AC solve. When fewer than ``SCREEN_MIN_CLEARED`` (50 %) of the first ``SCREEN_PROBE``
    (512) outages are cleared (e.g. case1354pegase, and case9241pegase where many quantities
    sit at their limits in the base case), screening stops and the remaining outages go
    straight to AC.
    A test checks on case1354pegase and case2869pegase that ``screen`` and ``ac`` report the
    same violations.

Reporting
---------
``report="changed"`` (default) lists a post-outage violation only when it is new or worsened
against the base case (:mod:`gridplan.core.violation_rule`: margins 1 percentage point of
loading, 0.005 pu of voltage); ``report="all"`` lists every broken limit. The kernels list every
broken plain limit and the rule filters those rows (an effective limit is never stricter than
the plain one), so the rule is the same in every mode; ``screen`` also keeps an estimate that
lies within its margin of an *effective* limit ambiguous, so its rows equal ``ac``'s under either
report. The statistics (worst outage per element and bus) are values, not violations: the
rule does not touch them. The base case's own violations are in ``N1Result.base_violations``.

Statuses: ``converged``, ``islanded`` (solved; load/generation cut off in MW), ``diverged``
(last mismatch reported), ``not_simulated`` (reason given). Failed outages contribute NaN,
never 0, to every statistic.
"""

from gridplan.model.contingency_outages import DEFAULT_ELEMENTS, ELEMENT_TYPES, default_outages
from gridplan.model.outages import OutageSpec
from gridplan.studies.n1.hdf5 import n1_matrix_sink, n1_violation_sink, write_n1
from gridplan.studies.n1.scan import (
    BLOCK,
    MODES,
    OTHER_CHUNK,
    SCREEN_FACTOR,
    SCREEN_FLOOR_LOADING_PERCENT,
    SCREEN_FLOOR_VM_PU,
    SCREEN_MAX_RHO,
    SCREEN_MIN_CLEARED,
    SCREEN_PROBE,
    auto_block,
    n1_states,
    outage_voltages,
    run_n1,
)
from gridplan.studies.n1.statistics import N1Result
from gridplan.studies.n1.violations import (
    VIOLATION_COLUMNS,
    WORST_VIOLATIONS_KEPT,
)

__all__ = [
    "BLOCK",
    "DEFAULT_ELEMENTS",
    "ELEMENT_TYPES",
    "MODES",
    "OTHER_CHUNK",
    "SCREEN_FACTOR",
    "SCREEN_FLOOR_LOADING_PERCENT",
    "SCREEN_FLOOR_VM_PU",
    "SCREEN_MAX_RHO",
    "SCREEN_MIN_CLEARED",
    "SCREEN_PROBE",
    "VIOLATION_COLUMNS",
    "WORST_VIOLATIONS_KEPT",
    "N1Result",
    "OutageSpec",
    "auto_block",
    "default_outages",
    "n1_matrix_sink",
    "n1_states",
    "n1_violation_sink",
    "outage_voltages",
    "run_n1",
    "write_n1",
]
