"""Run directory files, written atomically (temp file + rename): a crash never leaves a half-written
record, and `status` is written last, so `done` means every other file is complete."""
from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

from scaling.cache import atomic_write_bytes

STATUS_RUNNING, STATUS_DONE, STATUS_FAILED = "running", "done", "failed"


def write_json(path: Path, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def write_outcomes(path: Path, outcomes: dict) -> None:
    """Per-user outcomes {set: {"user", "rank", "popular_rank"}} as one compressed .npz (atomic):
    `<set>/<field>` arrays of equal length, one row per evaluation user."""
    import io

    import numpy as np

    arrays = {f"{s}/{k}": np.asarray(v) for s, fields in outcomes.items() for k, v in fields.items()}
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def read_json(path: Path):
    return json.loads(Path(path).read_text())


def write_status(run_dir: Path, status: str, reason: str = "") -> None:
    atomic_write_bytes(run_dir / "status", (status + (f"\n{reason}" if reason else "") + "\n").encode())


def log_event(run_dir: Path, event: str) -> None:
    """Append `<unix time> <event> <host> <pid>` to events.log: an audit of every start, finish, failure."""
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
    if read_status(run_dir) != "running":
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


def read_status(run_dir: Path) -> str | None:
    p = Path(run_dir) / "status"
    return p.read_text().split("\n", 1)[0].strip() if p.is_file() else None


def environment(device: str = "auto") -> dict:
    import numpy
    import torch
    import transformers

    from scaling.precision import capability, cpu_name

    repo = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"python": sys.version.split()[0], "platform": platform.platform(), "host": socket.gethostname(),
            "cpus": os.cpu_count(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "transformers": transformers.__version__, "numpy": numpy.__version__,
            "cuda": torch.cuda.is_available(), "git_commit": commit,
            "slurm_job_id": os.environ.get("SLURM_JOB_ID"), "cpu": cpu_name(),
            "bf16": capability(device).describe()}
