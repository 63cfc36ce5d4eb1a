"""Compiled vs eager training: quick.yaml's SID-GR recipe at the tiny, small and grid presets, --steps steps each,
eager and `train.compile=on` alternating (--reps times), fresh run directories over a warm cache. The figure is the
median training examples/s over the log windows after the first (the first holds the compile), from each run's
curves.json, plus the compile's cost (the first window's time against a steady one) and both runs' validation
NDCG@10 on the same users. Prints the CPU and whether it computes bf16 natively.

    python bench/bench_compile.py [--presets tiny,small,grid] [--steps 60] [--reps 2]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def one(preset: str, compiled: bool, steps: int, runs: Path) -> dict:
    from scaling import config
    from scaling.run import run

    quick = yaml.safe_load((REPO / "sweeps" / "grids" / "quick.yaml").read_text())["base"]
    over = [f"{k}={v}" for k, v in {**quick, "model.preset": preset, "train.max_steps": steps,
                                     "train.eval_every": steps, "train.log_every": max(steps // 6, 1),
                                     "eval.valid_users": 100, "eval.test_users": 100}.items()]
    d = run(config.load(overrides=[*over, f"train.compile={'on' if compiled else 'off'}"]), runs, progress=False,
            log=lambda *_: None)
    tr = json.loads((d / "curves.json").read_text())["train"]
    rates = tr["examples_per_s"]
    m = json.loads((d / "metrics.json").read_text())
    return {"preset": preset, "compile": compiled, "steady_examples_per_s": statistics.median(rates[1:]),
            "first_window_x": rates[1] / rates[0] if rates[0] else None, "valid_ndcg@10": m["valid/ndcg@10"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="tiny,small,grid")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args()
    import torch

    tmp = Path(tempfile.mkdtemp(prefix="bench-compile-"))
    rows = []
    for rep in range(args.reps):
        for preset in args.presets.split(","):
            for compiled in (False, True):   # alternating: drift in the machine hits both
                rows.append(one(preset, compiled, args.steps, tmp / f"r{rep}-{int(compiled)}"))
                print(json.dumps(rows[-1]), flush=True)
    from scaling.precision import cpu_name

    cpu = cpu_name()
    print(f"\n{cpu}, {torch.get_num_threads()} threads, torch {torch.__version__}, bf16 native: "
          f"{torch.ops.mkldnn._is_mkldnn_bf16_supported()}; {args.steps} steps, quick.yaml's recipe")
    print(f"{'preset':8} {'eager ex/s':>11} {'compiled ex/s':>14} {'ratio':>6} {'compile window':>15}")
    for preset in args.presets.split(","):
        e = [r["steady_examples_per_s"] for r in rows if r["preset"] == preset and not r["compile"]]
        c = [r["steady_examples_per_s"] for r in rows if r["preset"] == preset and r["compile"]]
        first = [r["first_window_x"] for r in rows if r["preset"] == preset and r["compile"]]
        print(f"{preset:8} {statistics.median(e):>11.0f} {statistics.median(c):>14.0f} "
              f"{statistics.median(c) / statistics.median(e):>6.2f} {statistics.median(first):>13.1f}x slower")


if __name__ == "__main__":
    main()
