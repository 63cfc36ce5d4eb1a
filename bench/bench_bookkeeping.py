"""Bookkeeping cost of a sweep against its number of runs: a grid of a few model shapes (4 presets x 2 SID
widths) crossed with learning rates and seeds, at --small runs and at --runs runs. Prints, for each size:

- the dry run as a user types it (`gr-scaling sweep submit GRID --dry-run`, a fresh process: imports included),
- then over synthetic finished records of every run (status done, config/params/metrics JSON, per-user outcomes of
  --users users drawn from a known law): `sweep status`, `sweep collect` (CSV + Parquet), `analysis.load_runs`
  and `gr-scaling report` (bootstrap fits over the grid's axes, --n-boot resamples),

each in seconds and per run, and the large/small ratio. Records are synthetic (nothing trains): this measures
the harness's own cost, which must grow with what differs between runs (shapes, data configs), not with runs.

    python bench/bench_bookkeeping.py [--runs 10000] [--small 20] [--users 200] [--n-boot 100]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PRESETS = ["tiny", "small", "grid", "medium"]
WIDTHS = [64, 128]
LRS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]


def write_grid(path: Path, runs: int) -> None:
    seeds = max(1, runs // (len(PRESETS) * len(WIDTHS) * len(LRS)))
    path.write_text(yaml.safe_dump({"name": path.stem, "base": {
        "data.max_items": 1000, "data.min_sequence": 5, "train.max_steps": 100, "eval.test_users": 200},
        "product": {"model.preset": PRESETS, "tokenizer.width": WIDTHS, "train.lr": LRS, "seed": list(range(seeds))}}))


def fake_records(grid_path: Path, runs_dir: Path, users: int) -> int:
    """A finished record for every run of the grid, as scaling.run writes them (not timed)."""
    from scaling.record import STATUS_DONE, run_dir_for, write_json, write_status
    from scaling.record.files import write_outcomes
    from sweeps.grid import load_grid

    rng = np.random.default_rng(0)
    grid = load_grid(grid_path)
    for cfg in grid.runs:
        d = run_dir_for(cfg, runs_dir)
        d.mkdir(parents=True, exist_ok=True)
        size = 2e5 * 4 ** PRESETS.index(cfg.model.preset)
        p = 0.06 - 0.04 * (size / 2e5) ** -0.5
        outcomes = {}
        for s in ("valid", "test"):
            hit = rng.random(users) < p
            rank = np.where(hit, rng.integers(0, 10, users), 10)
            outcomes[s] = {"user": np.arange(users), "rank": rank, "popular_rank": np.full(users, 10),
                           "target_train_count": rng.integers(1, 50, users)}
        write_outcomes(d / "outcomes.npz", outcomes)
        write_json(d / "config.json", cfg.to_dict())
        write_json(d / "params.json", {"n_rs": size, "n_rs_non_embedding": size, "n_llm": 22_713_216,
                                       "n_qt": 3 * cfg.tokenizer.width * 384})
        write_json(d / "metrics.json", {f"{s}/{m}": float((outcomes[s]["rank"] < 10).mean())
                                        for s in ("valid", "test") for m in ("recall@10", "ndcg@10", "recall@5",
                                                                              "ndcg@5")}
                   | {f"{s}/popular/recall@10": 0.0 for s in ("valid", "test")} | {"steps": 100})
        write_json(d / "timing.json", {"wall_s": 1.0, "train_examples_per_s": 1000.0})
        write_status(d, STATUS_DONE)
    return len(grid.runs)


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def cli(*args) -> float:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "scaling.app", *args], capture_output=True, text=True, env=env, cwd=REPO)
    if r.returncode:
        raise SystemExit(f"gr-scaling {' '.join(args)} failed: {r.stderr.strip()[-500:]}")
    return time.perf_counter() - t


def measure(n: int, tmp: Path, users: int, n_boot: int) -> dict:
    import sweeps
    from analysis.load import load_runs
    from analysis.report import write_report
    from scaling.app.sweep import collect

    grid = tmp / f"bk{n}.yaml"
    write_grid(grid, n)
    runs = tmp / f"runs{n}"
    out = {"dry run (CLI)": cli("sweep", "submit", str(grid), "--runs-dir", str(runs), "--dry-run")}
    out["runs"] = fake_records(grid, runs, users)
    paths = sweeps.Paths(str(runs))
    out["status"] = timed(lambda: sweeps.status(str(grid), paths))
    out["collect"] = timed(lambda: collect(str(grid), paths))
    out["load_runs"] = timed(lambda: load_runs(runs))
    out["report"] = timed(lambda: write_report(runs, tmp / f"report{n}", n_boot=n_boot))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--small", type=int, default=20)
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--n-boot", type=int, default=100)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-bookkeeping-"))
    small, large = (measure(n, tmp, args.users, args.n_boot) for n in (args.small, args.runs))
    print(f"bookkeeping of a grid of 8 model shapes x learning rates x seeds ({tmp}); synthetic records of "
          f"{args.users} users a set")
    print(f"{'':16} {small['runs']:>7} runs {'per run':>10} {large['runs']:>7} runs {'per run':>10} {'ratio':>7}")
    for k in ("dry run (CLI)", "status", "collect", "load_runs", "report"):
        print(f"{k:16} {small[k]:>10.2f} s {small[k] / small['runs'] * 1e3:>7.2f} ms {large[k]:>10.2f} s "
              f"{large[k] / large['runs'] * 1e3:>7.2f} ms {large[k] / small[k]:>7.1f}x")
    extra = (large["dry run (CLI)"] - small["dry run (CLI)"]) / (large["runs"] - small["runs"])
    print(f"dry run: {extra * 1e3:.2f} ms per extra run on top of {small['dry run (CLI)']:.1f} s for {small['runs']} "
          f"runs (imports, data, one meta-device model per shape)")
    print(json.dumps({"small": small, "large": large}))


if __name__ == "__main__":
    main()
