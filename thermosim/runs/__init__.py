"""Runs and sweeps: spec → netlist → ngspice → :class:`~.result.Result`; sweep grids, executors, cache."""
