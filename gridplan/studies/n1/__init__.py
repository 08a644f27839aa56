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
    correction) estimate every outage. An outage is cleared without further work when the
    estimate converges and every estimated quantity is farther from its limit than its margin,
    on either side (clearly safe or clearly violated), against the plain limit and the
    effective limit of the report rule. Cleared outages keep the estimate (``screened_out``,
    ``iterations`` 2, the mismatch it leaves in ``max_mismatch_pu``), and every table marks
    their values as estimates (``estimate`` in the violations, ``cause_estimate`` /
    ``top{k}_estimate`` in the elements, ``min_vm_estimate`` / ``max_vm_estimate`` in the
    buses); the violation *set* equals ``ac``'s and the values differ by less than the
    margin. The other outages are solved in AC, going on from the estimate (the two steps
    are not spent again) unless it did not contract (then from the base case).

    Converged estimate: contraction ``rho = |dx_2| / |dx_1|`` below ``SCREEN_MAX_RHO`` (0.5)
    and P/Q mismatch left after the second step at most ``SCREEN_MAX_MISMATCH_PU`` (0.01 pu).
    The mismatch check is what keeps a false convergence out: on GBnetwork the outages of
    trafo 346 and 347 (voltage collapse: ``ac`` and pandapower diverge) leave 0.30 and 0.31 pu
    after two steps, with voltages near 0.62 pu; they are solved in AC and reported diverged.

    Margin of a quantity: ``SCREEN_FACTOR`` (2) times its own change in the second step, plus
    ``SCREEN_FLOOR_LOADING_PERCENT`` (1e-4 %) or ``SCREEN_FLOOR_VM_PU`` (1e-5 pu) where that
    change is not zero (a quantity the steps leave exactly unchanged, such as a PV bus's held
    voltage, is exact). The chord iteration converges linearly, so the error left after step 2
    is about ``r / (1 - r)`` times the change step 2 made, ``r`` the local rate; the factor
    covers local rates up to 2/3. This is a measured, not a proven, bound: on single
    quantities the error after two steps reaches many times their own step-2 change (local
    components converge more slowly than the global norm suggests), but not where a quantity
    sits near a limit. Measured recall, every outage of case1354pegase and case2869pegase and
    a 2,000-outage sample of case9241pegase against ``ac``: no cleared outage with a wrong
    violation at factor 2 (clearing 86 %, 86 % and 81 % of the outages), nor at 0.1 (20x
    below the factor used); without factor and floors (margin 0), 2 and 5 cleared outages
    of case2869pegase and case9241pegase had a wrong violation. Tests check the violation
    sets on all three.
    Unit and injection outages (gen, sgen, storage, dcline) are always solved in AC.

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
    SCREEN_MAX_MISMATCH_PU,
    SCREEN_MAX_RHO,
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
    "SCREEN_MAX_MISMATCH_PU",
    "SCREEN_MAX_RHO",
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
