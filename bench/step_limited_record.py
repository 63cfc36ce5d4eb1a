"""A step-limited record of an unfinished run (issue #14: a trained-out run that a working session cannot finish).

    python bench/step_limited_record.py RUN_DIR [--runs-dir DIR] [--data-dir DIR] [--cache-dir DIR]

Makes RUN's config with `train.max_steps` = the step of RUN's last checkpoint, starts it from a copy of that
checkpoint, so the run only does its final validation and test decode of the best checkpoint so far, and writes an
ordinary record (its budget reads "N steps"; `resumed_from` in metrics.json says where it started). That record is
the one a run with that step limit makes: the learning rate is constant after warmup and nothing before the limit
depends on it. RUN itself is left as it is and resumes as before. Prints the new run directory; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scaling import config  # noqa: E402
from scaling.errors import GRError  # noqa: E402
from scaling.run import run, run_dir_for  # noqa: E402


def step_limited(run_dir: Path, runs_dir: Path, data_dir: str | None, cache_dir: str | None) -> Path:
    progress = run_dir / "ckpt" / "progress.json"
    if not (run_dir / "ckpt" / "last.pt").is_file() or not progress.is_file():
        raise GRError(f"{run_dir}: no checkpoint with ckpt/progress.json to take a step-limited record from")
    step = int(json.loads(progress.read_text())["step"])
    cfg = config.from_record(run_dir, [f"train.max_steps={step}"])
    out = run_dir_for(cfg, runs_dir)
    if out.resolve() == run_dir.resolve():
        raise GRError(f"{run_dir}: already limited to step {step}; resume it instead")
    if not (out / "ckpt" / "last.pt").is_file():
        (out / "ckpt").mkdir(parents=True, exist_ok=True)
        for f in ("last.pt", "best.pt"):
            if (run_dir / "ckpt" / f).is_file():
                shutil.copy2(run_dir / "ckpt" / f, out / "ckpt" / f)
    print(f"{run_dir.name} at step {step} -> {out}")
    return run(cfg, runs_dir, cache_dir, data_dir, progress=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--runs-dir", type=Path, default=None, help="where the new run goes (default: beside RUN)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--cache-dir", default=None)
    a = ap.parse_args()
    try:
        print(step_limited(a.run_dir, a.runs_dir or a.run_dir.parent, a.data_dir, a.cache_dir))
    except GRError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
