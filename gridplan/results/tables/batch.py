"""``/task`` of batch task files, ``/batch`` of ``index.h5`` (``gridplan run``, docs/batch.md)."""

from gridplan.results.schema import Column, Group, Table

_TASK = Column("task", "str", "", "task id: case/scenario/analysis")

TABLES = (
    Group(
        "task",
        "batch task record: which (case, scenario, analysis) the file holds, and its outcome",
        notes="""Every file `gridplan run` writes for a task has this group beside the analysis's
own groups (`/powerflow`, `/contingency`, ...). `complete` is written last, just before the
file is renamed to its final name: a file without it is partial and is computed again. A file
is reused only while its `key` equals the key of the task as it stands (case data, scenario
with its files, analysis options, gridplan version). `status` is `done`, `not_applicable`
(`reason` says why; the analysis wrote nothing) or `failed` (`reason` holds the error; the
next run tries again).""",
        attrs=(
            Column("id", "str", "", "case/scenario/analysis"),
            Column("study", "str", "", "study name"),
            Column("case", "str", "", "case name, unique within the study"),
            Column(
                "case_spec", "str", "", "the case as given: a bundled or pandapower name, or a path"
            ),
            Column(
                "case_signature",
                "str",
                "",
                "JSON: the case file's size, inode, modification and change times (or the "
                "pandapower version of a pandapower.networks case); while it is unchanged, "
                "the case is not read again to check the key",
            ),
            Column("scenario", "str", "", "scenario name"),
            Column("analysis", "str", "", "analysis name in the study"),
            Column("kind", "str", "", "analysis in the registry (pf, n1, reliability, ...)"),
            Column("options", "str", "", "JSON: analysis options, defaults filled in"),
            Column("scenario_def", "str", "", "JSON: the scenario's definition"),
            Column(
                "key",
                "str",
                "",
                "SHA-256 over case_sha256, scenario (with file digests), analysis, options and "
                "gridplan version",
            ),
            Column("status", "str", "", "done, not_applicable or failed"),
            Column("reason", "str", "", "why not applicable, or the error of a failed task"),
            Column("figures", "str", "", "JSON: the task's key figures (name -> value)"),
            Column("elapsed_s", "float64", "s", "wall time of the task"),
            Column("run_id", "str", "", "identifier of the run that wrote the file"),
            Column(
                "chunks", "int64", "", "chunks the work was split into over workers (N-1 split)"
            ),
            Column("complete", "int64", "", "1: the file is whole (written last)"),
        ),
    ),
    Group(
        "batch",
        "index.h5 of a batch folder: summary of every task and links to the task files",
        notes="""`index.h5` sits at the top of a batch folder. `/tasks/<case>/<scenario>/<analysis>`
is an HDF5 external link to the root of that task's file (relative path: move the folder as a
whole), so `h5py.File("index.h5")["tasks/case118/base/pf/powerflow/bus"]` reads a task's table.
`gridplan batch merge DIR` rebuilds the index from the task files.""",
        attrs=(
            Column("study", "str", "", "study name"),
            Column("study_source", "str", "", "the study file"),
            Column("n_tasks", "int64", "", "tasks of the study"),
            Column("n_done", "int64", "", "tasks done"),
            Column("n_not_applicable", "int64", "", "tasks whose analysis does not apply"),
            Column("n_failed", "int64", "", "tasks that failed"),
            Column("n_partial", "int64", "", "task files without their completion mark"),
            Column("n_missing", "int64", "", "tasks without a file"),
            Column("indexed_utc", "str", "", "when the index was written, ISO 8601, UTC"),
        ),
    ),
    Table(
        "batch/summary",
        "one row per task of the study, as its file says",
        index=Column("row", "int64", "", "row number (study order)"),
        columns=(
            Column("task_id", "str", "", "case/scenario/analysis"),
            Column("case", "str", "", "case name"),
            Column("scenario", "str", "", "scenario name"),
            Column("analysis", "str", "", "analysis name"),
            Column("kind", "str", "", "analysis in the registry"),
            Column(
                "status", "str", "", "done, not_applicable, failed, partial (no mark) or missing"
            ),
            Column("reason", "str", "", "why not applicable, or the error"),
            Column("elapsed_s", "float64", "s", "wall time of the task"),
            Column("created_utc", "str", "", "when the task file was written"),
            Column("file", "str", "", "task file, relative to the folder"),
            Column("task_key", "str", "", "the task's key (see /task)"),
            Column("case_sha256", "str", "", "SHA-256 of the case's input tables"),
        ),
    ),
    Table(
        "batch/figures",
        "the key figures of every task, one row per (task, figure); units from the names",
        index=Column("row", "int64", "", "row number"),
        columns=(
            _TASK,
            Column("figure", "str", "", "name, with pandapower's unit suffix (p_loss_mw ...)"),
            Column("value", "float64", "", "the value (bools as 0/1; NaN for a text)"),
            Column("text", "str", "", "the value of a non-numeric figure, else empty"),
        ),
    ),
)
