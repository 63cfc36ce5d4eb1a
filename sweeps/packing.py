"""Several runs at once in one job, each in its own process on the job's device ("packing"): small SID-GR runs
leave a GPU mostly idle, so a profile's `runs_per_gpu` runs that many side by side; on a CPU, `--cpus N` runs N
inline runs at once with the machine's threads split among them. Imports no submitit, so a machine without it
(bench/device_check.sh) can pack too."""
from __future__ import annotations

from pathlib import Path


def _run_one(cfg: dict, runs_dir: str, cache_dir: str | None, data_dir: str | None, threads: int) -> str:
    """One run in a worker process of a packed job (its own process, its own run directory and record)."""
    import torch

    from scaling.config import from_dict
    from scaling.run import run

    torch.set_num_threads(threads)
    return str(run(from_dict(cfg), runs_dir, cache_dir, data_dir, progress=False))


def run_packed(cfgs: list[dict], runs_dir: str, cache_dir: str | None, data_dir: str | None,
               at_once: int, progress: bool = False) -> tuple[list[str], list[Exception]]:
    """Up to `at_once` runs at a time, each in a fresh process (spawned: CUDA cannot be forked) on the job's
    device; the job's CPUs are shared among them. `progress`: one bar over the runs (a worker's own bars would
    interleave), naming each run as it ends."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    from scaling.distributed import set_threads

    threads = max(1, set_threads() // at_once)
    out, failures = [], []
    with ProcessPoolExecutor(max_workers=at_once, mp_context=mp.get_context("spawn")) as pool, \
            tqdm(total=len(cfgs), desc=f"runs ({at_once} at once, {threads} thread{'s' * (threads > 1)} each)",
                 unit="run", disable=not progress) as bar:
        futures = {pool.submit(_run_one, c, runs_dir, cache_dir, data_dir, threads): c for c in cfgs}
        for f in as_completed(futures):
            try:
                out.append(f.result())
                bar.set_postfix_str(f"done {Path(out[-1]).name}")
            except Exception as e:  # noqa: BLE001 - recorded in the run dir; the other runs go on
                failures.append(e)
                bar.write(f"run failed ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); its run "
                          "directory has error.txt")
            bar.update(1)
    return out, failures
