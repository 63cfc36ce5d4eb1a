"""RunConfig -> run directory. The only entry point a job calls.

`<runs_dir>/<paradigm>-<config hash>/` holds config.json, params.json, metrics.json, timing.json,
env.json, data.json, status (written last) and ckpt/ (for resume). A finished run is not redone.
"""
from __future__ import annotations

import time
import traceback
from pathlib import Path

from scaling.cache import ArtifactCache
from scaling.config import RunConfig
from scaling.errors import GRError
from scaling.paradigms import get as get_paradigm
from scaling.environment import environment
from scaling.precision import warn_emulated
from scaling.record import (STATUS_DONE, STATUS_FAILED, STATUS_RUNNING, atomic_write_bytes, log_event, read_status,
                            run_dir_for, running_elsewhere, write_json, write_outcomes, write_status)
from scaling.train import Dist


def run(cfg: RunConfig, runs_dir: str | Path = "runs", cache_dir: str | Path | None = None,
        data_dir: str | Path | None = None, progress: bool = True, dist: Dist | None = None, log=print) -> Path:
    dist = (dist or Dist.from_env()).on(cfg.train.device)   # the device, decided once for this process
    out = run_dir_for(cfg, runs_dir)
    if read_status(out) == STATUS_DONE:
        log(f"{out}: already done")
        return out
    other = running_elsewhere(out) if dist.world_size == 1 else None
    if other is not None:   # e.g. a second sweep over the same grid: never two writers in one run directory
        log(f"{out}: already running in process {other} on this host; skipped")
        return out
    out.mkdir(parents=True, exist_ok=True)
    if dist.is_main:
        warn_emulated(cfg, dist.device, log)   # explicit bf16 where the CPU only emulates it: one line, once
        write_json(out / "config.json", cfg.to_dict())
        write_json(out / "env.json", environment(dist.device))
        write_status(out, STATUS_RUNNING)
        log_event(out, "start")
    t0 = time.time()
    try:
        from scaling.skeleton import train_and_record

        bundle = get_paradigm(cfg.paradigm).build(cfg, ArtifactCache(cache_dir), str(data_dir) if data_dir else None,
                       log=log if dist.is_main else (lambda *_: None), device=dist.device, progress=progress)
        result = train_and_record(cfg, bundle, out, dist, progress)
    except BaseException as e:
        if dist.is_main:
            reason = str(e) if isinstance(e, GRError) else f"{type(e).__name__}: {e}"
            atomic_write_bytes(out / "error.txt", traceback.format_exc().encode())
            write_status(out, STATUS_FAILED, reason.splitlines()[0] if reason else type(e).__name__)
            log_event(out, "failed")
        raise
    if dist.is_main:
        result["timing"]["wall_s"] = time.time() - t0
        for name in ("params", "metrics", "timing", "data", "serving", "curves"):
            write_json(out / f"{name}.json", result.get(name) or {})
        write_outcomes(out / "outcomes.npz", result.get("outcomes") or {})
        write_status(out, STATUS_DONE)
        log_event(out, "done")
    return out
