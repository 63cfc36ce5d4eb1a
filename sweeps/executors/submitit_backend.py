"""local and slurm executors through submitit (local processes, or SLURM job arrays with a
parallelism cap). Arguments travel pickled in submitit's folder, never through a shell command line."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import submitit

from scaling.errors import ConfigError
from sweeps.executors.base import Executor
from sweeps.profile import Profile, check_partition


class SubmititExecutor(Executor):
    def __init__(self, cluster: str, folder: Path, profile: Profile | None = None, profile_path: str = "profile"):
        self.name = cluster
        self.folder = Path(folder)
        self.profile = profile or Profile()
        self.profile_path = profile_path

    def _executor(self):
        ex = submitit.AutoExecutor(folder=str(self.folder / "%j"), cluster=self.name)
        params = self.profile.submitit_parameters()
        if self.name == "local":   # local processes take only the generic parameters
            params = {k: v for k, v in params.items() if not k.startswith("slurm_")}
        ex.update_parameters(**params)
        return ex

    def submit(self, fn, calls: list[tuple]) -> list[str]:
        if not calls:
            return []
        if self.name == "slurm":
            missing = [c for c in ("sbatch", "srun", "sacct") if shutil.which(c) is None]
            if missing:   # else submitit ends in 'RuntimeError: Could not detect "srun"'
                raise ConfigError(f"--executor slurm: no SLURM on this machine ({', '.join(missing)} not on PATH); "
                                  "submit from a cluster login node, or use --executor local or inline here")
            check_partition(self.profile, self.profile_path)
        ex = self._executor()
        try:
            jobs = ex.map_array(fn, *zip(*calls))
        except (subprocess.CalledProcessError, submitit.core.utils.FailedJobError) as e:
            msg = (getattr(e, "stderr", None) or getattr(e, "output", None) or str(e))
            msg = msg.decode() if isinstance(msg, bytes) else str(msg)
            raise ConfigError(f"{self.profile_path}: sbatch refused the job array: {msg.strip().splitlines()[-1]}") from None
        return [j.job_id for j in jobs]

    def _job(self, job_id: str):
        folder = self.folder / "%j"   # submitit's own layout: an array task's files live in <folder>/<array>_<task>/
        if self.name == "slurm":
            return submitit.SlurmJob(folder=folder, job_id=job_id)
        return submitit.LocalJob(folder=folder, job_id=job_id)

    def state(self, job_ids: list[str]) -> dict[str, str]:
        out = {}
        for jid in job_ids:
            try:
                job = self._job(jid)
                job.watcher.update() if hasattr(job, "watcher") else None
                out[jid] = job.state
            except Exception:  # noqa: BLE001 - an unknown job is reported as such, not fatal
                out[jid] = "UNKNOWN"
        return out

    def cancel(self, job_ids: list[str]) -> None:
        if self.name == "slurm" and job_ids:
            subprocess.run(["scancel", *job_ids], check=False)
        else:
            for jid in job_ids:
                try:
                    self._job(jid).cancel(check=False)
                except Exception:  # noqa: BLE001
                    pass

    def log_path(self, job_id: str) -> str | None:
        """Rank 0's stderr, where submitit writes it (`JobPaths`: `%j` is `<array>_<task>` for an array task)."""
        return str(submitit.core.utils.JobPaths(self.folder / "%j", job_id=job_id, task_id=0).stderr)
