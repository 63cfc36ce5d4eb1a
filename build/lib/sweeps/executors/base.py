from __future__ import annotations

from abc import ABC, abstractmethod

ACTIVE = {"PENDING", "RUNNING", "REQUEUED", "CONFIGURING", "COMPLETING", "RESIZING", "SUSPENDED", "UNKNOWN"}


class Executor(ABC):
    name: str

    @abstractmethod
    def submit(self, fn, calls: list[tuple]) -> list[str]:
        """Run fn(*args) for each args tuple; return one job id per call."""

    def state(self, job_ids: list[str]) -> dict[str, str]:
        return {}

    def cancel(self, job_ids: list[str]) -> None:
        pass

    def log_path(self, job_id: str) -> str | None:
        return None
