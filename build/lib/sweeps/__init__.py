"""Grids -> runs -> executors (inline, local, slurm via submitit) -> status (the results table: `gr-scaling sweep collect`, scaling.app.sweep).
Knows `scaling` only through its config type and `scaling.run.run`.

Names load on first use (PEP 562), so `sweeps.packing` imports on a machine without submitit."""
from importlib import import_module

_NAMES = {"Grid": "sweeps.grid", "load_grid": "sweeps.grid", "Paths": "sweeps.launcher", "cancel": "sweeps.launcher",
          "status": "sweeps.launcher", "submit": "sweeps.launcher", "wait": "sweeps.launcher"}
__all__ = list(_NAMES)


def __getattr__(name: str):
    if name in _NAMES:
        return getattr(import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'sweeps' has no attribute {name!r}")
