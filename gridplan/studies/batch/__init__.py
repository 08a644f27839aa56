"""Batch runs of a study over many cases: study files, tasks, executors, the index.

``gridplan run STUDY.toml`` in Python::

    from gridplan.studies.batch import load_study, run_study
    from gridplan.studies.batch.executors import LocalExecutor

    result = run_study(load_study("study.toml"), "results", LocalExecutor(4))
    result.table        # this run's tasks: status, action, key figures
    result.index.path   # results/index.h5: summary table and links to every task file

Modules: :mod:`.study` (the study file), :mod:`.scenarios`, :mod:`.analyses` (the registry),
:mod:`.worker` (one task on a worker), :mod:`.executors` (local processes, Dask, Slurm/PBS),
:mod:`.engine` (the driver), :mod:`.index` (``index.h5``, merge, status), :mod:`.n1split`
(one N-1 over several workers), :mod:`.slurm` (array-job scripts). See docs/batch.md.
"""

from gridplan.studies.batch.analyses import ANALYSES, Analysis, Opt
from gridplan.studies.batch.engine import BatchResult, run_study
from gridplan.studies.batch.index import merge, status
from gridplan.studies.batch.study import Study, default_study_path, load_study, study_for_cases

__all__ = [
    "ANALYSES",
    "Analysis",
    "BatchResult",
    "Opt",
    "Study",
    "default_study_path",
    "load_study",
    "merge",
    "run_study",
    "status",
    "study_for_cases",
]
