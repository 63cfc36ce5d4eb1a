"""Grids -> runs -> executors (inline, local, slurm via submitit) -> status -> one results table.
Knows `scaling` only through its config type and `scaling.run.run`."""
from sweeps.grid import Grid, load_grid
from sweeps.launcher import Paths, cancel, collect, status, submit, wait

__all__ = ["Grid", "load_grid", "Paths", "cancel", "collect", "status", "submit", "wait"]
