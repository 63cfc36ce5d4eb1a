"""Launcher overhead: N tiny SID-GR runs (one training step each) inline in this process, then the
same runs (fresh run directories) as one job array on the local SLURM, one task at a time. Prints
seconds per run for both and the difference = what the launcher adds per run (submit -> finished
record: sbatch, scheduling, a fresh Python process, imports, pickled arguments, status polling).

    bash ../shared/slurm-local/start.sh && python bench/bench_sweep.py [--runs 50]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import yaml

import sweeps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--parallelism", type=int, default=1)
    ap.add_argument("--runs-per-job", type=int, default=1)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    grid = tmp / "tiny.yaml"
    grid.write_text(yaml.safe_dump({"name": "tiny", "base": {
        "data.max_users": 200, "tokenizer.width": 16, "model.preset": "tiny", "train.max_steps": 1,
        "train.eval_every": 1, "eval.valid_users": 20, "eval.beam_size": 10}, "product": {"seed": list(range(args.runs))}}))
    prof = tmp / "profile.yaml"
    prof.write_text(yaml.safe_dump({"partition": "debug", "time_min": 10, "cpus_per_task": 1,
                                    "array_parallelism": args.parallelism, "runs_per_job": args.runs_per_job}))
    from scaling.cache import default_cache_dir
    cache = default_cache_dir()   # shared embedding/SID cache: neither side pays for embedding
    warm = sweeps.Paths(str(tmp / "warm"), str(cache))
    sweeps.submit(str(grid), warm, "inline", dry_run=True, log=lambda *_: None)
    # warm the embedding/SID caches once so neither side pays for them
    from scaling import config
    from scaling.run import run
    run(config.load(overrides=["data.max_users=200", "tokenizer.width=16", "model.preset=tiny", "train.max_steps=1",
                               "train.eval_every=1", "eval.valid_users=20", "seed=999"]), tmp / "warm", cache,
        progress=False, log=lambda *_: None)

    t = time.perf_counter()
    sweeps.submit(str(grid), sweeps.Paths(str(tmp / "inline"), str(cache)), "inline", log=lambda *_: None)
    inline = time.perf_counter() - t
    slurm_paths = sweeps.Paths(str(tmp / "slurm"), str(cache))
    t = time.perf_counter()
    sweeps.submit(str(grid), slurm_paths, "slurm", str(prof), log=lambda *_: None)
    rows = sweeps.wait(str(grid), slurm_paths, timeout_s=3600, poll_s=0.5)
    slurm = time.perf_counter() - t
    done = sum(r["state"] == "done" for r in rows)
    print(f"{args.runs} tiny runs: inline {inline / args.runs:.2f} s/run; local SLURM job array "
          f"(parallelism {args.parallelism}, {args.runs_per_job} runs per job) {slurm / args.runs:.2f} s/run ({done}/{args.runs} done)")
    print(f"launcher overhead: {(slurm * args.parallelism - inline) / args.runs:+.2f} s per run")


if __name__ == "__main__":
    main()
