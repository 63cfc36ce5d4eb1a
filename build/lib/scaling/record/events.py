"""events.log: an audit of every start, finish and failure of a run (`<unix time> <event> <host> <pid>`), and
what it tells about a run whose status says running: still in flight here, or orphaned by a killed process."""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from scaling.record.status import STATUS_RUNNING, read_status


def log_event(run_dir: Path, event: str) -> None:
    with open(Path(run_dir) / "events.log", "a") as f:
        f.write(f"{time.time():.3f} {event} {socket.gethostname()} {os.getpid()}\n")


def _last_start(run_dir: Path) -> tuple[str, int] | None:
    """(host, pid) of the latest `start` in events.log, if any."""
    events = Path(run_dir) / "events.log"
    starts = [ln.split() for ln in events.read_text().splitlines() if " start " in ln] if events.is_file() else []
    if not starts or len(starts[-1]) < 4:
        return None
    return starts[-1][2], int(starts[-1][3])


def running_elsewhere(run_dir: Path) -> int | None:
    """The pid of another live process on this host that started this run and has not finished it."""
    if read_status(run_dir) != STATUS_RUNNING:
        return None
    start = _last_start(run_dir)
    if start is None or start[0] != socket.gethostname() or start[1] == os.getpid() or orphaned(run_dir):
        return None
    return start[1]


def orphaned(run_dir: Path) -> str | None:
    """For a run whose status says running: a reason if the process that started it is gone (it ran on
    this host and that pid no longer exists), else None. A killed inline or local sweep leaves such runs;
    resubmission must treat them as failed, not in flight."""
    start = _last_start(run_dir)
    if start is None or start[0] != socket.gethostname():
        return None
    host, pid = start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return f"process {pid} on {host} ended without finishing the run"
    except PermissionError:
        return None
    return None
