"""Process group set-up from the environment (torchrun, or SLURM through submitit's exported
RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT): gloo on CPU, nccl on GPU."""
from __future__ import annotations

import os

import torch
import torch.distributed as torch_dist

from scaling.train import Dist


def set_threads() -> int:
    """One intra-op thread pool per rank sized to the CPUs it owns: $OMP_NUM_THREADS, SLURM's cpus-per-task, or the
    machine's cores shared among the local ranks. Oversubscribed OpenMP pools spin and crawl."""
    n = os.environ.get("OMP_NUM_THREADS") or os.environ.get("SLURM_CPUS_PER_TASK")
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    threads = int(n) if n else max(1, (os.cpu_count() or 1) // local)
    torch.set_num_threads(threads)
    return threads


def init_from_env() -> Dist:
    set_threads()
    d = Dist.from_env()
    if d.world_size > 1 and not torch_dist.is_initialized():
        torch_dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        if torch.cuda.is_available():
            torch.cuda.set_device(d.local_rank)
    return d


def shutdown() -> None:
    # Without this, one 2-rank run in eight aborted at exit on CPU (../shared/INFRA.md).
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def world_size_from_env() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))
