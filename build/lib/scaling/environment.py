"""env.json: where a run ran (host, versions, threads, CUDA, CPU and its bf16 capability, git commit, SLURM job)."""
from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from pathlib import Path


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
