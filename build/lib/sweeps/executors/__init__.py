"""Executors, chosen by name: inline (this process), local (submitit's local processes), slurm
(submitit). One small interface: submit(calls) -> job ids; state(job ids); cancel(job ids)."""
from __future__ import annotations

from pathlib import Path

from scaling.errors import ConfigError
from sweeps.executors.base import Executor
from sweeps.executors.inline import InlineExecutor
from sweeps.executors.submitit_backend import SubmititExecutor

NAMES = ("inline", "local", "slurm")


def make_executor(name: str, folder: Path, profile=None, progress: bool = False, desc: str = "runs") -> Executor:
    if name == "inline":
        return InlineExecutor(progress, desc)
    if name in ("local", "slurm"):
        return SubmititExecutor(name, folder, profile)
    raise ConfigError(f"executor '{name}' is unknown; choose one of {', '.join(NAMES)}")
