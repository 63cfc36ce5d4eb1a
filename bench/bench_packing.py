"""CPU packing: the quickstart's SID-GR recommender ladder (quick.yaml's tiny/small/grid/medium, its data and
recipe) run one at a time with every thread (`--cpus 1`, the old way) against N at once with the threads split
(`--cpus N`), alternating, each repetition in fresh run directories over a warm embedding/SID cache. Runs are cut
to --steps training steps and --users evaluation users so a repetition takes minutes; the figures are wall time
and aggregate training examples/s (every run's examples over the wall time), and the ratio.

    python bench/bench_packing.py [--cpus 2] [--steps 60] [--users 100] [--reps 2]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def ladder_grid(path: Path, steps: int, users: int) -> None:
    quick = yaml.safe_load((REPO / "sweeps" / "grids" / "quick.yaml").read_text())
    base = {**quick["base"], "train.max_steps": steps, "train.eval_every": steps, "eval.valid_users": users,
            "eval.test_users": users}
    path.write_text(yaml.safe_dump({"name": path.stem, "base": base, "ladders": [quick["ladders"][0]]}))


def one(grid: Path, runs: Path, cpus: int) -> dict:
    import sweeps

    t = time.perf_counter()
    sweeps.submit(str(grid), sweeps.Paths(str(runs)), "inline", cpus=cpus, log=lambda *_: None)
    wall = time.perf_counter() - t
    timings = [json.loads((d / "timing.json").read_text()) for d in runs.glob("sidgr-*") if (d / "timing.json").is_file()]
    metrics = [json.loads((d / "metrics.json").read_text()) for d in runs.glob("sidgr-*") if (d / "metrics.json").is_file()]
    examples = sum(t["train_s"] * t["train_examples_per_s"] for t in timings)
    return {"cpus": cpus, "runs": len(timings), "wall_s": wall, "examples": examples,
            "aggregate_examples_per_s": examples / wall,
            "per_run_examples_per_s": sorted(round(t["train_examples_per_s"]) for t in timings),
            "test_recall@10": sorted(round(m["test/recall@10"], 4) for m in metrics)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpus", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    import torch

    tmp = Path(tempfile.mkdtemp(prefix="bench-packing-"))
    grid = tmp / "ladder.yaml"
    ladder_grid(grid, args.steps, args.users)
    one(grid, tmp / "warm", 1)   # fills the embedding/SID cache and the data: neither side pays for them
    rows = []
    for rep in range(args.reps):
        for cpus in (1, args.cpus):   # alternating, so drift in the machine hits both
            rows.append(one(grid, tmp / f"r{rep}-c{cpus}", cpus))
            print(json.dumps(rows[-1]))
    from scaling.precision import cpu_name

    cpu = cpu_name()
    print(f"\n{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, bf16 native: "
          f"{torch.ops.mkldnn._is_mkldnn_bf16_supported()}; quick.yaml's SID-GR ladder at {args.steps} steps, "
          f"{args.users} evaluation users")
    print(f"{'mode':24} {'wall s':>8} {'agg ex/s':>9}  per-run ex/s")
    for r in rows:
        mode = "1 at a time, all threads" if r["cpus"] == 1 else f"{r['cpus']} at once, threads split"
        print(f"{mode:24} {r['wall_s']:>8.1f} {r['aggregate_examples_per_s']:>9.0f}  {r['per_run_examples_per_s']}")
    one_, packed = ([r for r in rows if r["cpus"] == c] for c in (1, args.cpus))
    med = lambda rs, k: sorted(r[k] for r in rs)[len(rs) // 2]   # noqa: E731
    print(f"packed/serial: wall {med(packed, 'wall_s') / med(one_, 'wall_s'):.2f}x, aggregate examples/s "
          f"{med(packed, 'aggregate_examples_per_s') / med(one_, 'aggregate_examples_per_s'):.2f}x")


if __name__ == "__main__":
    main()
