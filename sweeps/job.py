"""What a job runs: one run config through `scaling.run.run`, single process or one rank of a
multi-process job. Checkpointable: on preemption or timeout submitit requeues the same call, and the
run resumes from its last checkpoint."""
from __future__ import annotations

import os

import submitit

from sweeps.packing import run_packed


def _init_distributed():
    """Ranks from SLURM (through submitit) when the job has several tasks; none otherwise."""
    from scaling.distributed import init_from_env

    if os.environ.get("SUBMITIT_EXECUTOR") and submitit.JobEnvironment().num_tasks > 1:
        submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
    return init_from_env()


def _tqdm_write():
    from tqdm.auto import tqdm

    return tqdm.write


class RunJob(submitit.helpers.Checkpointable):
    """One job runs one or more runs (`runs_per_job` in the profile): a fresh process and a scheduling cycle
    cost seconds, so tiny runs share them; `runs_per_gpu` > 1 runs that many of them at once, each in its own
    process on the job's device. A requeued job skips runs already done. `progress`: each run's bars and log
    lines (an inline sweep in a terminal, the quickstart); off in cluster jobs, whose logs are files."""

    def __init__(self, progress: bool = False):
        self.progress = progress

    def __call__(self, cfgs: list[dict], runs_dir: str, cache_dir: str | None, data_dir: str | None,
                 at_once: int = 1) -> list[str]:
        from scaling.config import from_dict
        from scaling.distributed import shutdown
        from scaling.run import run

        if at_once > 1 and len(cfgs) > 1:
            out, failures = run_packed(cfgs, runs_dir, cache_dir, data_dir, at_once, progress=self.progress)
            if failures and len(cfgs) == len(failures):
                raise failures[0]
            return out
        d = _init_distributed()
        out, failures = [], []
        try:
            for cfg in cfgs:
                try:
                    log = _tqdm_write() if self.progress else (lambda *_: None)
                    out.append(str(run(from_dict(cfg), runs_dir, cache_dir, data_dir, progress=self.progress, dist=d,
                                       log=log)))
                except Exception as e:  # noqa: BLE001 - recorded in the run dir; go on with the chunk
                    failures.append(e)
        finally:
            shutdown()
        if failures and len(cfgs) == 1:
            raise failures[0]
        return out
