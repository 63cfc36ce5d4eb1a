"""SLURM profiles (YAML in slurm/profiles/): where and how a sweep's jobs run."""
from __future__ import annotations

import dataclasses
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from scaling.config import closest_hint, read_yaml_mapping
from scaling.errors import ConfigError
from scaling.shipped import find


@dataclass(frozen=True)
class Profile:
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    time_min: int = 60
    mem_gb: float | None = None
    cpus_per_task: int = 1
    gpus_per_node: int = 0           # sbatch --gpus-per-node
    gpus_per_task: int = 0           # sbatch --gpus-per-task (sites that bind one GPU to each task)
    gres: str | None = None          # sbatch --gres, e.g. "gpu:4" or "gpu:h100:4" (sites without --gpus-*)
    tasks_per_node: int = 1          # > 1: one rank per task, torch DDP over them
    nodes: int = 1                   # > 1: ranks on every node (tasks_per_node x nodes; RANK / LOCAL_RANK from SLURM)
    array_parallelism: int = 16      # at most this many array tasks at once
    runs_per_job: int = 1            # > 1: each array task runs this many runs in sequence (tiny runs)
    runs_per_gpu: int = 1            # > 1: a job runs this many of its runs at once, each its own process
                                     # sharing the job's device (small SID-GR runs leave a GPU mostly idle)
    bf16: bool | None = None         # do the jobs' devices compute bf16 natively (resolves precision `auto`)?
                                     # unset: yes where the profile asks for GPUs (Ampere or newer; say false for
                                     # V100/T4), else this machine's check (a CPU profile's jobs run on its kind)
    setup: list = field(default_factory=list)          # shell lines run before the job (module load, venv)
    additional: dict = field(default_factory=dict)     # any other sbatch option

    @property
    def ranks(self) -> int:
        """Processes a job runs (its world size): every run's global batch must split over them."""
        return self.tasks_per_node * self.nodes

    def bf16_target(self) -> bool | None:
        """`bf16` for scaling.config.from_dict: None lets this machine decide."""
        if self.bf16 is not None:
            return self.bf16
        return True if (self.gpus_per_node or self.gpus_per_task or self.gres) else None

    def submitit_parameters(self) -> dict:
        p = {"timeout_min": self.time_min, "cpus_per_task": self.cpus_per_task, "tasks_per_node": self.tasks_per_node,
             "nodes": self.nodes, "slurm_array_parallelism": self.array_parallelism, "slurm_setup": list(self.setup)}
        for key, name in (("slurm_partition", self.partition), ("slurm_account", self.account),
                          ("slurm_qos", self.qos), ("slurm_constraint", self.constraint)):
            if name:
                p[key] = name
        if self.mem_gb:
            p["mem_gb"] = self.mem_gb
        if self.gpus_per_node:
            p["gpus_per_node"] = self.gpus_per_node
        if self.gpus_per_task:
            p["slurm_gpus_per_task"] = self.gpus_per_task
        if self.gres:
            p["slurm_gres"] = self.gres
        if self.additional:
            p["slurm_additional_parameters"] = dict(self.additional)
        return p


def load_profile(path: str | Path) -> Profile:
    p = find(path, "slurm/profiles/")   # a file of yours, else a shipped profile by repo path or name (`local`)
    data = read_yaml_mapping(p, "profile (profiles live in slurm/profiles/)")
    names = [f.name for f in dataclasses.fields(Profile)]
    for k in data:
        if k not in names:
            raise ConfigError(f"{p}: unknown profile key '{k}'{closest_hint(k, names)}")
    try:
        prof = Profile(**data)
    except TypeError as e:
        raise ConfigError(f"{p}: {e}") from None
    if min(prof.runs_per_job, prof.tasks_per_node, prof.nodes, prof.array_parallelism, prof.runs_per_gpu) < 1:
        raise ConfigError(f"{p}: runs_per_job, runs_per_gpu, tasks_per_node, nodes and array_parallelism must be >= 1")
    if sum(map(bool, (prof.gpus_per_node, prof.gpus_per_task, prof.gres))) > 1:
        raise ConfigError(f"{p}: set one of gpus_per_node, gpus_per_task and gres (each asks SLURM for the GPUs)")
    if prof.runs_per_gpu > 1 and prof.ranks > 1:
        raise ConfigError(f"{p}: runs_per_gpu packs single-process runs; it cannot be combined with tasks_per_node > 1 "
                          "or nodes > 1 (multi-rank jobs)")
    if prof.runs_per_gpu > prof.runs_per_job:
        raise ConfigError(f"{p}: runs_per_gpu ({prof.runs_per_gpu}) > runs_per_job ({prof.runs_per_job}): a job "
                          "holds runs_per_job runs; set runs_per_job to a multiple of runs_per_gpu")
    return prof


def check_partition(profile: Profile, where: str) -> None:
    """Fail at submit, in one line, when the profile names a partition the cluster lacks."""
    if not profile.partition or not shutil.which("sinfo"):
        return
    r = subprocess.run(["sinfo", "-h", "-o", "%R"], capture_output=True, text=True, timeout=30)
    parts = sorted(set(r.stdout.split()))
    if r.returncode == 0 and profile.partition not in parts:
        raise ConfigError(f"{where}: partition '{profile.partition}' does not exist on this cluster "
                          f"(sinfo lists: {', '.join(parts) or 'none'}); fix 'partition' in the profile")
