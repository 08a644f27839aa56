"""Planning targets and bundled study, scenario and EV/wind seed files (data only)."""
