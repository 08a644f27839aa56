"""Compiled kernels (built from ``ext/*.pyx``). Import through :mod:`gridplan._backend`."""
