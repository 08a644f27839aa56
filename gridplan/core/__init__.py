"""Numerical core: functions on numpy/scipy arrays only (no pandas, pandapower, h5py, click)."""
