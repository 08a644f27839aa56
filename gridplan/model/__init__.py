"""The pandapower boundary: loading cases, validating them, compiling them to arrays."""
