"""Runs every call in this process, one after another (tests, notebooks, debugging)."""
from __future__ import annotations

from sweeps.executors.base import Executor


class InlineExecutor(Executor):
    name = "inline"

    def submit(self, fn, calls: list[tuple]) -> list[str]:
        ids = []
        for i, args in enumerate(calls):
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - the run directory records the failure; go on with the sweep
                pass
            ids.append(f"inline-{i}")
        return ids
