"""A run directory's `status` file: its state on the first line, a one-line reason on the second (failures).
Written last, so `done` means every other file of the record is complete."""
from __future__ import annotations

from enum import Enum
from pathlib import Path

from scaling.record.atomic import atomic_write_bytes


class Status(str, Enum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


STATUS_RUNNING, STATUS_DONE, STATUS_FAILED = Status.RUNNING.value, Status.DONE.value, Status.FAILED.value


def write_status(run_dir: Path, status: str, reason: str = "") -> None:
    atomic_write_bytes(Path(run_dir) / "status", (str(Status(status).value) + (f"\n{reason}" if reason else "") + "\n").encode())


def read_status_line(run_dir: Path) -> tuple[str | None, str]:
    """(state, reason) of a run directory: (None, "") before it has a status file; "?" for a file that is not
    UTF-8 text (cut short when copied, say)."""
    p = Path(run_dir) / "status"
    if not p.is_file():
        return None, ""
    try:
        lines = p.read_bytes().decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return "?", ""
    return lines[0].strip(), (lines[1].strip() if len(lines) > 1 else "")


def read_status(run_dir: Path) -> str | None:
    return read_status_line(run_dir)[0]
