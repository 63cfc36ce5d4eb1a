"""What a job runs: one run config through `scaling.run.run`, single process or one rank of a
multi-process job. Checkpointable: on preemption or timeout submitit requeues the same call, and the
run resumes from its last checkpoint."""
from __future__ import annotations

import os

import submitit


def _init_distributed():
    """Ranks from SLURM (through submitit) when the job has several tasks; none otherwise."""
    from scaling.distributed import init_from_env

    if os.environ.get("SUBMITIT_EXECUTOR") and submitit.JobEnvironment().num_tasks > 1:
        submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
    return init_from_env()


class RunJob(submitit.helpers.Checkpointable):
    def __call__(self, cfg: dict, runs_dir: str, cache_dir: str | None, data_dir: str | None) -> str:
        from scaling.config import from_dict
        from scaling.distributed import shutdown
        from scaling.run import run

        d = _init_distributed()
        try:
            return str(run(from_dict(cfg), runs_dir, cache_dir, data_dir, progress=False, dist=d))
        finally:
            shutdown()
