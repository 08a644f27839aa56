"""Builders of the bundled cases (``python -m cases.builders.build_all``); see docs/cases.md."""
