"""Declarations of the result schema, one module per study (see :mod:`gridplan.results.schema`)."""
