"""Studies: each takes a pandapower net (never modified) and returns a results object."""
