"""`gr-scaling step-limited RUN`: a step-limited record of an unfinished run (issue #14: a trained-out run that a
working session cannot finish).

Makes RUN's config with `train.max_steps` = the step of RUN's last checkpoint, starts it from a copy of that
checkpoint, so the run only does its final validation and test decode of the best checkpoint so far, and writes an
ordinary record (its budget reads "N steps"; `resumed_from` in metrics.json says where it started). That record is
the one a run with that step limit makes: the learning rate is constant after warmup and nothing before the limit
depends on it. RUN itself is left as it is and resumes as before. Prints the new run directory.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from scaling import config
from scaling.errors import GRError
from scaling.record import run_dir_for
from scaling.run import run


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


def command(args) -> None:
    run_dir = Path(args.run_dir)
    print(step_limited(run_dir, Path(args.runs_dir) if args.runs_dir else run_dir.parent, args.data_dir, args.cache_dir))


def register(sub) -> None:
    s = sub.add_parser("step-limited", help="the record a step limit makes, from an unfinished run's checkpoint")
    s.add_argument("run_dir", help="the unfinished run's directory (with ckpt/last.pt and ckpt/progress.json)")
    s.add_argument("--runs-dir", default=None, help="where the new run goes (default: beside RUN)")
    s.add_argument("--data-dir", default=None)
    s.add_argument("--cache-dir", default=None)
    s.set_defaults(fn=command)
