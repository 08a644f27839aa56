"""Root attributes every result file carries."""

from gridplan.results.schema import Column, Group

TABLES = (
    Group(
        "/",
        "file root: what wrote the file, from which case",
        attrs=(
            Column("gridplan_version", "str", "", "gridplan version that wrote the file"),
            Column("schema_version", "int64", "", "layout version of this document"),
            Column("created_utc", "str", "", "creation time, ISO 8601, UTC"),
            Column("command", "str", "", "the command line that produced the file"),
            Column(
                "case_name", "str", "", "case name (file stem, bundled or pandapower.networks name)"
            ),
            Column(
                "case_sha256",
                "str",
                "",
                "SHA-256 of the case's input tables (gridplan.model.case_hash; results excluded)",
            ),
            Column("pandapower_version", "str", "", "pandapower version used"),
        ),
    ),
)
