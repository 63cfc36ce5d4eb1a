"""Where a run lives: `<runs_dir>/<paradigm>-<config hash>/`, its checkpoints under `ckpt/` (progress.json among
them, written with every checkpoint), and the progress line `sweep status` shows for a running run."""
from __future__ import annotations

import json
from pathlib import Path


def run_dir_for(cfg, runs_dir: str | Path) -> Path:
    from scaling.config import config_hash   # torch-free: the config module needs only yaml

    return Path(runs_dir) / f"{cfg.paradigm}-{config_hash(cfg)}"


def ckpt_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "ckpt"


def progress_line(p: dict) -> str:
    """progress.json as one line: `step 1500 (epoch 1), best ndcg@10 0.0180 @1500, 0/5 bad, 944 ex/s`."""
    limit = f"/{p['max_steps']}" if p.get("max_steps") else ""
    best = f"best {p['metric']} {p['best']:.4f} @{p['best_step']}" if p.get("best") is not None else "not validated yet"
    eta = f", ETA {p['eta_s'] / 60:.0f} min" if p.get("eta_s") is not None else ""
    loss = f", loss {p['last_log']['loss']:.3f}" if p.get("last_log") else ""
    return (f"step {p['step']}{limit} (epoch {p['epoch']}){loss}, {best}, {p['bad_evals']}/{p['patience']} bad, "
            f"{p['examples_per_s']:.0f} ex/s{eta}")


def read_progress(run_dir: Path) -> str:
    """A running run's last checkpoint, as one line ('' before its first validation)."""
    try:
        return progress_line(json.loads((ckpt_dir(run_dir) / "progress.json").read_text()))
    except (OSError, ValueError, KeyError):   # not written yet, or from an older version
        return ""
