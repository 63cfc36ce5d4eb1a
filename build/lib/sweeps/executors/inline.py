"""Runs every call in this process, one after another (tests, notebooks, debugging)."""
from __future__ import annotations

from sweeps.executors.base import Executor


class InlineExecutor(Executor):
    name = "inline"

    def __init__(self, progress: bool = False, desc: str = "runs"):
        self.progress, self.desc = progress, desc

    def submit(self, fn, calls: list[tuple]) -> list[str]:
        from tqdm.auto import tqdm

        ids = []
        for i, args in enumerate(tqdm(calls, desc=self.desc, unit="job", disable=not self.progress)):
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 - the run directory records the failure; go on with the sweep
                if self.progress:
                    tqdm.write(f"run failed ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
                               "its run directory has error.txt")
            ids.append(f"inline-{i}")
        return ids
